"""Live documenters: outages a source documents itself (Cloudflare Radar's Outage Center and
traffic anomalies, OONI Findings, Tor Metrics' possible censorship events), read through the
same machinery as every collection and turned into ``Documented`` records.

Each is a source module (``shutdown/sources/``: its requests, its declaration's
``documents``); asking goes through ``collect.fetched`` (the source's Fetcher: cache first,
retries, pace, credentials, redaction) into the raw cache with provenance, and reading walks
the same requests through the cache (``sources.from_cache``). ``--demo`` answers them from
the simulator (``simulation/render_<source>.py``) into a SIMULATED cache beside the case's
demo cache (``<demo cache>/documenters``), so the case's own demo cache -- what its report
and ``check`` rest on -- is never touched.

A live documenter needs a country and a window: ``--from``/``--to`` (UTC days widened by a
day each side, so every local day of the span is asked for), else the case's fetch window
(the same requests ``shutdown collect`` made, so the collected cache answers them).
"""
from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass

import pandas as pd

from shutdown.errors import InputError

DOCUMENTERS_DIR = "documenters"


@dataclass(frozen=True)
class Window:
    """What a documenting source's ``requests`` read of a case: its country and fetch span."""
    name: str
    country: str
    fetch_utc: tuple
    networks: tuple = ()


def window(country: str | None, start: dt.date | None, end: dt.date | None, case=None,
           what: str = "a live documenter"):
    """The case (its fetch window) or a Window over ``start``..``end``; refuses, in one line,
    a missing country or window."""
    cc = country or (case.country if case is not None else None)
    if not cc:
        raise InputError(f"{what} needs a country: give --country CC (or a case)",
                         field="--country")
    if start is None and end is None:
        if case is None:
            raise InputError(f"{what} needs a window: give --from YYYY-MM-DD and --to "
                             "YYYY-MM-DD (or a case, whose window is used)", field="--from")
        return case if cc == case.country else Window(case.name, cc, case.fetch_utc)
    if start is None or end is None:
        raise InputError(f"{what} needs both ends of its window: give --from and --to",
                         field="--from" if start is None else "--to")
    if end < start:
        raise InputError(f"--to {end} is before --from {start}", field="--to")
    lo = pd.Timestamp(start - dt.timedelta(days=1), tz="UTC")
    hi = pd.Timestamp(end + dt.timedelta(days=2), tz="UTC")
    return Window(f"{cc.lower()}-{start:%Y%m%d}-{end:%Y%m%d}", cc.upper(), (lo, hi))


def case_of(spec) -> object | None:
    """The case behind ``spec`` when it is a case (name or file) or a timeline a case uses."""
    from pathlib import Path

    from shutdown.case import load_case
    from shutdown.documented import LIVE
    from shutdown.documented.fromtimeline import _top_keys, case_for
    text = str(spec)
    if text in LIVE:
        return None
    p = Path(text)
    try:
        if p.suffix == ".toml" and p.exists():
            return case_for(p) if "events" in _top_keys(p) else load_case(p)
        if not p.exists() and p.suffix.lower() not in (".xlsx", ".xlsm", ".csv"):
            return load_case(text)
    except InputError:
        return None
    return None


def _source_error(exc) -> InputError:
    return InputError(f"{exc.source}: {exc.url}: {exc.problem} (the cache keeps what was "
                      "fetched; rerun later, or use --demo offline)")


def fetch(source: str, gen, *, cache=None, urls: dict | None = None, refresh: bool = False):
    """Answer ``gen`` (a source's request generator) through the source's Fetcher into the
    measured cache ``cache``; returns the RawCache. A failure is one line."""
    from shutdown.collect import fetched, fetcher_for
    from shutdown.http import SourceError
    from shutdown.sources import walk
    from shutdown.store import as_cache
    cache = as_cache(cache)
    cache.claim(simulated=False, write=False)      # measured data never into a simulated cache
    with cache.lock("collect"):
        fetcher = fetcher_for(source, cache, (urls or {}).get(source), refresh=refresh)
        try:
            walk(gen, fetched(fetcher))
        except SourceError as exc:
            raise _source_error(exc) from None
    return cache


def demo(source: str, gen, case, *, cache=None, seed: int = 0):
    """Answer ``gen`` from the simulator of ``case``'s scenario into ``<demo cache>/documenters``
    (SIMULATED); returns that RawCache. Deterministic: answers are rendered again each run."""
    from shutdown.scenario import load_scenario
    from shutdown.simulation.run import demo_cache
    from shutdown.simulation.world import World
    from shutdown.sources import Answer, walk
    from shutdown.store import RawCache
    if case is None:
        raise InputError("--demo needs a case (its simulator scenario): give a case or its "
                         "timeline as the other documenter, or --case NAME", field="--demo")
    root = demo_cache(case, seed=seed, cache_root=cache) / DOCUMENTERS_DIR
    sc = load_scenario(case.scenario)
    renderer = importlib.import_module(f"shutdown.simulation.render_{source}")
    world = World(sc, case, seed)
    out = RawCache(root)
    with out.lock("simulate"):
        out.claim(simulated=True, scenario=sc.name)

        def answer(req):
            from urllib.parse import urlencode

            from shutdown.config import default_url
            status, body = renderer.render(world, req.path, req.params)
            query = urlencode(sorted((k, str(v)) for k, v in req.params.items()))
            out.put(source, req.path, req.params, body, url=f"{default_url(source)}{req.path}?{query}",
                    status=status, fetched_utc=sc.fetched_utc, simulated=True, scenario=sc.name,
                    extra={"seed": int(seed)})
            return Answer(status, body)
        walk(gen, answer)
    return out


def answered(source: str, gen_of, win, *, cache=None, demo_: bool = False, case=None,
             urls=None, refresh: bool = False):
    """The RawCache holding ``source``'s answers for ``win`` (``gen_of(win)``: its requests),
    fetched live or rendered for the demo."""
    if demo_:
        return demo(source, gen_of(win), case, cache=cache)
    return fetch(source, gen_of(win), cache=cache, urls=urls, refresh=refresh)


def options(country, start, end, *, cache=None, demo: bool = False, urls=None,
            refresh: bool = False, case=None, what: str = "a live documenter") -> dict:
    """The window and the keyword arguments every live reader takes."""
    return {"win": window(country, start, end, case, what), "cache": cache, "demo_": demo,
            "case": case, "urls": dict(urls or {}), "refresh": refresh}


def command_options(*specs, cache=None, demo: bool = False, urls=None, case=None) -> dict:
    """What ``shutdown documented`` and ``shutdown match`` pass to ``documented.read`` for a
    live documenter: ``--cache``, ``--demo``, ``--url NAME=URL`` (parsed once, checked) and
    the case: ``--case``, else the first of ``specs`` that is a case or a case's timeline."""
    from shutdown.documented import LIVE
    if not any(str(s) in LIVE for s in specs):
        return {}
    from shutdown.config import parse_url_options
    if case is not None:
        from shutdown.case import load_case
        case = load_case(case)
    else:
        case = next((c for c in map(case_of, specs) if c is not None), None)
    return {"cache": cache, "demo": demo, "urls": parse_url_options(urls), "case": case}


def utc_minute(v) -> dt.datetime | None:
    """A naive UTC datetime to the minute from an ISO 8601 text (None when empty)."""
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT or str(v) == "":
        return None
    t = pd.Timestamp(v)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.floor("min").tz_localize(None).to_pydatetime()


def label(title: str, simulated: bool) -> str:
    return f"{title} (SIMULATED)" if simulated else title
