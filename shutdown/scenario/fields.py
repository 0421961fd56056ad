"""Checks of one field of a scenario file, shared by the file's reader (``load``) and
the episodes' (``episodes``): each returns the value or raises an ``InputError``
naming the file, the item and the field."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from shutdown.errors import InputError
from shutdown.schema import ENTITY_TYPES
from shutdown.validate import FIRST_DATE, LAST_DATE, check_date


def table_list(raw, key, path):
    val = raw.get(key, [])
    if not isinstance(val, list):
        raise InputError(f"expected an array of tables [[{key}]]", path=path, field=key)
    return val


def entity_ref(s: str, path, where, fieldname) -> tuple[str, str]:
    etype, sep, code = s.partition(":")
    if not sep or etype not in ENTITY_TYPES or not code.strip():
        raise InputError(f"expected \"country:XX\", \"asn:N\" or \"region:Name\", got {s!r}",
                         path=path, where=where, field=fieldname)
    code = code.strip()
    if etype == "country":
        code = code.upper()
        if len(code) != 2 or not code.isalpha():
            raise InputError(f"expected a two-letter country code, got {code!r}", path=path,
                             where=where, field=fieldname)
    if etype == "asn":
        code = code.upper().removeprefix("AS")
        if not code.isdigit():
            raise InputError(f"expected an AS number, got {s!r}", path=path, where=where,
                             field=fieldname)
    return etype, code


def documents(block, path, where) -> tuple[str, ...]:
    docs = block.get("documents", [])
    if not isinstance(docs, list) or not all(
            isinstance(d, str) and d.count("@") == 1 and d.split("@")[1] in ("start", "end")
            for d in docs):
        raise InputError("expected a list like [\"kz-02-messengers@start\"] (event id @ start|end)",
                         path=path, where=where, field="documents")
    return tuple(docs)


def utc(val, path, where, fieldname) -> pd.Timestamp:
    """A UTC instant from a TOML offset datetime or an ISO string with a zone, in the
    dates the tool handles."""
    ts = utc_any(val, path, where, fieldname)
    check_date(ts.date(), path, where, fieldname)
    return ts


def utc_any(val, path, where, fieldname) -> pd.Timestamp:
    if isinstance(val, dt.datetime):
        if val.tzinfo is not None and not FIRST_DATE <= val.date() <= LAST_DATE:
            check_date(val.date(), path, where, fieldname)
        if val.tzinfo is None:
            raise InputError("give the time zone (e.g. 2022-01-05T11:15:00Z); a local time is ambiguous",
                             path=path, where=where, field=fieldname)
        return pd.Timestamp(val).tz_convert("UTC")
    if isinstance(val, str):
        try:
            ts = pd.Timestamp(val)
        except (ValueError, TypeError, OverflowError):
            ts = None
        if ts is None or ts is pd.NaT:
            raise InputError(f"not a date-time: {val!r}", path=path, where=where, field=fieldname)
        if ts.tzinfo is None:
            raise InputError("give the time zone (e.g. \"2022-01-05T11:15:00Z\")", path=path,
                             where=where, field=fieldname)
        return ts.tz_convert("UTC")
    raise InputError(f"expected a UTC date-time such as 2022-01-05T11:15:00Z, got {val!r}",
                     path=path, where=where, field=fieldname)
