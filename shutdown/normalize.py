"""The tidy table of a case, built from the raw cache only (never the network).

In a notebook::

    from shutdown.normalize import load_table
    df = load_table("kz-2022-01")          # cache=... for another cache directory

``load_table`` reads ``tables/<case>.parquet`` when it exists and else builds
it from the cached raw responses. Outages a source documents itself (IODA's
events, Radar's Outage Center) are not in it: ``shutdown.documenters`` reads them.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from shutdown.schema import check_tidy, empty_tidy
from shutdown.store import read_table, simulated_only, write_table

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


def write_tables(case, cache=None, table: pd.DataFrame | None = None, modules=None) -> Path:
    """Write the tidy table; return its path."""
    case, cache = _case(case), _cache(cache)
    if table is None:
        table = build_table(case, cache, modules=modules)
    return write_table(table, cache.table_path(case.name))


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
