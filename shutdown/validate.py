"""Checks shared by every file a user writes (case, timeline, scenario): known keys,
sane ranges, names safe to use as file names. Each failure is an InputError naming
the file, the item and the field.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
import re

from shutdown.errors import InputError

# Names that become file names (case names, event ids): lower-case, no path separators.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
NAME_RULE = "use lower-case letters, digits, '.', '_' or '-' (starting with a letter or digit)"

# Dates the tool handles: measurement data exist from the 1990s; timestamps are pandas
# nanoseconds (1677..2262), so anything outside this window is a typo, not a case.
FIRST_DATE = dt.date(1990, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)


def closest(key: str, known) -> str | None:
    m = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
    return m[0] if m else None


def unknown_keys(block: dict, known, path, where: str | None = None) -> None:
    """Refuse a key the format does not define (a typo would silently keep the default)."""
    for k in block:
        if k not in known:
            near = closest(k, known)
            hint = f"did you mean {near!r}?" if near else f"known: {', '.join(sorted(known))}"
            raise InputError(f"unknown field; {hint}", path=path, where=where, field=k)


def check_name(name, path, where: str | None, fieldname: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise InputError(f"{name!r} is not a valid name: {NAME_RULE}", path=path, where=where,
                         field=fieldname)
    return name


def check_date(d: dt.date, path, where: str | None, fieldname: str) -> dt.date:
    if not FIRST_DATE <= d <= LAST_DATE:
        raise InputError(f"{d} is outside {FIRST_DATE}..{LAST_DATE}", path=path, where=where,
                         field=fieldname)
    return d


def finite_number(val, path, where, fieldname, lo=None, hi=None) -> float:
    """A real, finite number (not a bool) within [lo, hi]."""
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
        raise InputError(f"expected a finite number, got {val!r}", path=path, where=where,
                         field=fieldname)
    if (lo is not None and val < lo) or (hi is not None and val > hi):
        rng = f"between {lo} and {hi}" if hi is not None and lo is not None else (
            f">= {lo}" if lo is not None else f"<= {hi}")
        raise InputError(f"expected a number {rng}, got {val!r}", path=path, where=where,
                         field=fieldname)
    return float(val)


def whole_number(val, path, where, fieldname, lo: int, hi: int) -> int:
    if isinstance(val, bool) or not isinstance(val, int) or not lo <= val <= hi:
        raise InputError(f"expected a whole number between {lo} and {hi}, got {val!r}",
                         path=path, where=where, field=fieldname)
    return val
