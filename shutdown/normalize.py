"""The tidy table of a case, built from the raw cache only (never the network).

In a notebook::

    from shutdown.normalize import load_table
    df = load_table("kz-2022-01")          # cache=... for another cache directory

``load_table`` reads ``tables/<case>.parquet`` when it exists and else builds
it from the cached raw responses. IODA's own outage alerts and events sit
beside it (``tables/<case>.ioda-outages.parquet``, ``load_ioda_outages``).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from shutdown.schema import check_tidy, empty_tidy
from shutdown.store import read_table, simulated_only, write_table

OUTAGES_SUFFIX = ".ioda-outages"


def _case(case):
    from shutdown.case import as_case
    return as_case(case)


def _cache(cache):
    from shutdown.store import as_cache
    return as_cache(cache)


def _modules(case, sources=None) -> dict:
    from shutdown.sources import registry
    out = {}
    for name in sources or case.sources:
        mod = registry.module(name)
        if mod is not None:
            out[name] = mod
    return out


def build_table(case, cache=None, sources=None, modules=None, on_error=None,
                on_note=None) -> pd.DataFrame:
    """Tidy table (schema.TIDY_COLUMNS) of everything cached for ``case``.

    A source whose cache cannot be normalized (e.g. never collected) is left
    out; ``on_error(source, exc)`` hears about it, else a warning is issued.
    Garbage values inside usable answers are gaps; ``on_note(source, text)``
    hears how many.
    """
    from shutdown.http import SourceError      # here: reading a stored table needs no requests
    case, cache = _case(case), _cache(cache)
    modules = modules or _modules(case, sources)
    frames = []
    for name, mod in modules.items():
        try:
            f = mod.normalize(case, cache)
        except (SourceError, ValueError, KeyError, TypeError) as exc:
            if on_error:
                on_error(name, exc)
            else:
                warnings.warn(f"{name}: not in the table: {exc}", stacklevel=2)
            continue
        skipped = f.attrs.get("skipped_values", 0) if f is not None else 0
        if skipped and on_note:
            on_note(name, f"{skipped} unreadable values or records left out as gaps")
        if f is not None and len(f):
            frames.append(check_tidy(f))
    if not frames:
        return empty_tidy()
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["source", "entity_type", "entity_code", "signal", "subtype", "ts_utc"],
                           kind="stable").reset_index(drop=True)


def build_ioda_outages(case, cache=None) -> pd.DataFrame:
    from shutdown.sources import ioda
    return ioda.normalize_outages(_case(case), _cache(cache))


def write_tables(case, cache=None, table: pd.DataFrame | None = None, modules=None,
                 outages: bool | None = None) -> Path:
    """Write the tidy table (and IODA's outage table when IODA is a source); return the tidy path."""
    case, cache = _case(case), _cache(cache)
    if table is None:
        table = build_table(case, cache, modules=modules)
    path = write_table(table, cache.table_path(case.name))
    if outages if outages is not None else "ioda" in case.sources:
        write_table(build_ioda_outages(case, cache), cache.table_path(case.name + OUTAGES_SUFFIX))
    return path


def load_table(case, cache=None, rebuild: bool = False) -> pd.DataFrame:
    """The tidy table of ``case`` (a name, a path or a Case), from ``cache``
    (a directory, a RawCache, or None for the default cache)."""
    case, cache = _case(case), _cache(cache)
    path = cache.table_path(case.name)
    if not rebuild and path.is_file():
        table = check_tidy(read_table(path))
        simulated_only(table, cache, table_path=path)     # a stale table of the other kind
        return table
    table = build_table(case, cache)
    if len(table):
        write_tables(case, cache, table)
    return table


def load_ioda_outages(case, cache=None) -> pd.DataFrame:
    """IODA's own view (schema.IODA_OUTAGE_COLUMNS), for comparison with our detections."""
    case, cache = _case(case), _cache(cache)
    path = cache.table_path(case.name + OUTAGES_SUFFIX)
    if path.is_file():
        return read_table(path)
    return build_ioda_outages(case, cache)
