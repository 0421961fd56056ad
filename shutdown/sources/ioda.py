"""IODA v2: raw signals per entity, plus IODA's own outage alerts and events.

Upstream shapes, from IODA's API code (InetIntel/ioda-api: src/Response/Envelope.php,
src/Controller/SignalsController.php, src/Controller/OutagesController.php,
src/TimeSeries/TimeSeriesNormalizer.php, src/Entity/Outages*Normalizer.php):

* every answer is an envelope ``{"type", "metadata", "requestParameters", "error",
  "perf", "data", "copyright"}``; ``error`` can be set on HTTP 200 (a backend
  failure), then ``data`` is null.
* ``GET /signals/raw/{country|region|asn}/{code}?from=&until=&datasource=[&maxPoints=]``
  (epoch seconds): ``data`` is one list per requested entity, each a list of
  series ``{"entityType", "entityCode", "entityName", "entityFqid", "datasource",
  "subtype", "from", "until", "step", "nativeStep", "values"}``; value ``i`` is
  the bin starting at ``from + i*step``; ``null`` is a gap. An entity without
  data is an empty list: ``data: [[]]``. Without ``maxPoints`` the step is the
  datasource's native step. ``datasource=gtr`` answers one series per Google
  product (``subtype``, e.g. ``WEB_SEARCH``).
* ``GET /outages/alerts?entityType=&entityCode=&from=&until=&limit=&page=``:
  ``data`` is a list of ``{"datasource", "entity": {"type", "code", "name",
  "attrs"}, "time", "level", "condition", "value", "historyValue", "method"}``;
  ``limit`` defaults to 500, ``page`` (0-based, needs ``limit``) pages on.
* ``GET /outages/events?...`` (default ``format=codf``): ``data`` is a list of
  ``{"location": "country/KZ", "location_name", "start", "duration",
  "uncertainty", "method", "datasource", "status", "fraction", "score",
  "overlaps_window"}``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from shutdown.schema import IODA_OUTAGE_COLUMNS, SIGNALS
from shutdown.sources import Request
from shutdown.sources.blocks import TidyBuilder
from shutdown.sources.windows import chunks, epoch

SOURCE = "ioda"
DATASOURCES = ("bgp", "ping-slash24", "merit-nt", "gtr")
CHUNK = pd.Timedelta(days=7)        # one signals request covers at most this much
PAGE_LIMIT = 500                    # IODA's default page size for alerts/events
MAX_PAGES = 50                      # a runaway guard: 25 000 alerts per entity is plenty


# -- what to ask -------------------------------------------------------------------
def entities(case) -> list[tuple[str, str, str]]:
    """(entity_type, IODA code, the case's code) for the country, ASNs and coded regions.

    A region is asked only when the case gives its IODA code (``ioda = "..."``
    in ``[[regions]]``); IODA numbers regions, the tidy table names them.
    """
    out = [("country", case.country, case.country)]
    out += [("asn", str(n.asn), str(n.asn)) for n in case.networks]
    out += [("region", r.codes["ioda"], r.name) for r in case.regions if r.codes.get("ioda")]
    return out


def plan(case) -> list[Request]:
    """Every first-page request for ``case``: signals per entity, datasource and
    7-day chunk, then outage alerts and events per entity over the whole window."""
    start, end = case.fetch_utc
    reqs = []
    for etype, code, name in entities(case):
        for ds in DATASOURCES:
            for since, until in chunks(start, end, CHUNK):
                reqs.append(Request(
                    SOURCE, f"/signals/raw/{etype}/{code}",
                    {"from": epoch(since), "until": epoch(until), "datasource": ds},
                    entity_type=etype, entity_code=name,
                    label=f"{ds} {etype}/{name} {since:%Y-%m-%d}..{until:%Y-%m-%d}"))
    for etype, code, name in entities(case):
        for kind in ("alerts", "events"):
            reqs.append(Request(
                SOURCE, f"/outages/{kind}",
                {"entityType": etype, "entityCode": code, "from": epoch(start),
                 "until": epoch(end), "limit": PAGE_LIMIT},
                entity_type=etype, entity_code=name, label=f"{kind} {etype}/{name}"))
    return reqs


def page_params(params: dict, page: int) -> dict:
    """Parameters of follow-up page ``page`` (1, 2, ...) of an alerts/events request."""
    return {**params, "page": page}


# -- checking an answer before it is cached ----------------------------------------
def check_envelope(obj) -> str | None:
    """None when ``obj`` is a usable IODA envelope, else what is wrong."""
    if not isinstance(obj, dict):
        return f"unexpected body: expected an IODA envelope (JSON object), got {type(obj).__name__}"
    if obj.get("error"):
        return f"IODA error: {obj['error']}"
    if "data" not in obj:
        return "unexpected body: IODA envelope without 'data'"
    if not isinstance(obj["data"], list):
        return f"unexpected body: 'data' is {type(obj['data']).__name__}, expected a list"
    return None


def check_signals(obj) -> str | None:
    problem = check_envelope(obj)
    if problem:
        return problem
    for group in obj["data"]:
        if not isinstance(group, list):
            return "unexpected body: signals 'data' must be a list of lists of series"
        for s in group:
            if (not isinstance(s, dict) or "values" not in s or "from" not in s
                    or not (s.get("step") or s.get("nativeStep"))):
                return "unexpected body: a series lacks 'from', 'step' or 'values'"
    return None


# -- fetching ----------------------------------------------------------------------
def collect(case, fetcher, progress=None) -> None:
    """Fetch every planned request (and alerts/events follow-up pages) into the cache."""
    for req in plan(case):
        if req.path.startswith("/signals/"):
            fetcher.get_json(req.path, req.params, validate=check_signals)
        else:
            _pages(fetcher, req)
        if progress is not None:
            if hasattr(progress, "set_postfix_str"):
                progress.set_postfix_str(req.label, refresh=False)
            progress.update(1)


def _pages(fetcher, req):
    obj = fetcher.get_json(req.path, req.params, validate=check_envelope)
    page = 1
    while len(obj.get("data") or []) >= int(req.params.get("limit", PAGE_LIMIT)) and page < MAX_PAGES:
        obj = fetcher.get_json(req.path, page_params(req.params, page), validate=check_envelope)
        page += 1


# -- parsing (pure: payload in, DataFrame out) -------------------------------------
def _flat_values(values) -> list:
    """``values`` as a flat list of numbers/None.

    Besides the usual flat list, accept the nested forms some series take: a
    list of lists (pieces appended across IODA's data eras) is concatenated,
    and a one-element list standing for a bin is unwrapped.
    """
    if values is None:
        return []
    if values and all(isinstance(v, list) for v in values):
        return [x for v in values for x in v]
    # scalars with the odd wrapped bin; a longer list in a bin has no single value: a gap
    return [(v[0] if len(v) == 1 else None) if isinstance(v, list) else v for v in values]


def iter_series(payload):
    """Each series of a ``/signals/raw`` envelope as
    ``(entity_type, entity_code, datasource, subtype, ts_utc, values)``."""
    for group in payload.get("data") or []:
        for s in group or []:
            vals = _flat_values(s.get("values"))
            if not vals:
                continue
            step = int(s.get("step") or s.get("nativeStep") or 0)
            if step <= 0:
                raise ValueError(f"IODA series {s.get('datasource')} has no usable step")
            ts = pd.to_datetime(int(s["from"]) + step * np.arange(len(vals)), unit="s", utc=True)
            values = np.array([np.nan if v is None else v for v in vals], dtype="float64")
            yield (str(s.get("entityType") or ""), str(s.get("entityCode") or ""),
                   str(s.get("datasource") or ""), str(s.get("subtype") or ""), ts, values)


def parse_signals(payload) -> pd.DataFrame:
    """Series of a ``/signals/raw`` envelope as rows.

    Columns: entity_type, entity_code (IODA's), datasource, subtype, ts_utc, value.
    """
    frames = [pd.DataFrame({"entity_type": et, "entity_code": ec, "datasource": ds, "subtype": st,
                            "ts_utc": ts, "value": v})
              for et, ec, ds, st, ts, v in iter_series(payload)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in [
            ("entity_type", "object"), ("entity_code", "object"), ("datasource", "object"),
            ("subtype", "object"), ("ts_utc", "datetime64[ns, UTC]"), ("value", "float64")]})
    return pd.concat(frames, ignore_index=True)


def _ts(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return pd.NaT
    return pd.Timestamp(int(v), unit="s", tz="UTC")


def parse_alerts(payload) -> pd.DataFrame:
    """``/outages/alerts`` data as IODA_OUTAGE_COLUMNS rows (kind "alert"; no end, no score)."""
    rows = []
    for a in payload.get("data") or []:
        ent = a.get("entity") or {}
        rows.append({"kind": "alert", "entity_type": str(ent.get("type") or ""),
                     "entity_code": str(ent.get("code") or ""), "datasource": a.get("datasource") or "",
                     "start_utc": _ts(a.get("time")), "end_utc": pd.NaT,
                     "level": a.get("level") or "", "score": np.nan, "simulated": False})
    return _outage_frame(rows)


def parse_events(payload) -> pd.DataFrame:
    """``/outages/events`` (codf) data as IODA_OUTAGE_COLUMNS rows (kind "event")."""
    rows = []
    for e in payload.get("data") or []:
        etype, _, code = str(e.get("location") or "").partition("/")
        start = _ts(e.get("start"))
        dur = e.get("duration")
        end = start + pd.Timedelta(seconds=int(dur)) if dur is not None and start is not pd.NaT else pd.NaT
        score = e.get("score")
        rows.append({"kind": "event", "entity_type": etype, "entity_code": code,
                     "datasource": e.get("datasource") or "", "start_utc": start, "end_utc": end,
                     "level": "", "score": float(score) if score is not None else np.nan,
                     "simulated": False})
    return _outage_frame(rows)


def _outage_frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=IODA_OUTAGE_COLUMNS)
    for c in ("kind", "entity_type", "entity_code", "datasource", "level"):
        df[c] = df[c].astype("string")
    for c in ("start_utc", "end_utc"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    df["score"] = df["score"].astype("float64")
    df["simulated"] = df["simulated"].astype("bool")
    return df


# -- normalizing (cache in, tidy table out) ----------------------------------------
def _simulated(cache, hit) -> bool:
    return bool(hit.meta.get("simulated", False)) or cache.simulated


def normalize(case, cache) -> pd.DataFrame:
    """The tidy table of every cached signals response of ``case``; regions named as in the case."""
    out = TidyBuilder()
    for req in plan(case):
        if not req.path.startswith("/signals/"):
            continue
        hit = cache.get(SOURCE, req.path, req.params)
        if hit is None:
            continue
        sim = _simulated(cache, hit)
        lo = pd.Timestamp(req.params["from"], unit="s", tz="UTC")
        hi = pd.Timestamp(req.params["until"], unit="s", tz="UTC")
        for _, _, ds, subtype, ts, values in iter_series(hit.json()):
            keep = (ts >= lo) & (ts < hi)      # IODA rounds ``from`` down to the step
            out.add(source=SOURCE, entity_type=req.entity_type, entity_code=req.entity_code,
                    signal=ds, subtype=subtype, unit=SIGNALS.get((SOURCE, ds), (ds, ""))[0],
                    ts=ts[keep], values=values[keep], simulated=sim)
    return out.frame()


def normalize_outages(case, cache) -> pd.DataFrame:
    """IODA's own alerts and events for ``case`` (IODA_OUTAGE_COLUMNS), regions named as in the case."""
    names = {(t, c): n for t, c, n in entities(case)}
    frames = []
    for req in plan(case):
        if not req.path.startswith("/outages/"):
            continue
        parse = parse_alerts if req.path.endswith("alerts") else parse_events
        page, params = 0, req.params
        while page < MAX_PAGES:
            hit = cache.get(SOURCE, req.path, params)
            if hit is None:
                break
            payload = hit.json()
            df = parse(payload)
            df["simulated"] = _simulated(cache, hit)
            frames.append(df)
            if len(payload.get("data") or []) < int(req.params.get("limit", PAGE_LIMIT)):
                break
            page += 1
            params = page_params(req.params, page)
    if not frames:
        return _outage_frame([])
    out = pd.concat(frames, ignore_index=True)
    out["entity_code"] = [names.get((t, c), c) for t, c in zip(out["entity_type"], out["entity_code"])]
    out = out.drop_duplicates().sort_values(["kind", "entity_type", "entity_code", "start_utc"], kind="stable")
    return _outage_frame(out.to_dict("records"))


# -- finding region codes (for case files) -----------------------------------------
def parse_entities(payload) -> pd.DataFrame:
    """``/entities/query`` data (``[{"code", "name", "type", "attrs"}, ...]``) as code/name/type rows."""
    rows = [{"code": str(e.get("code", "")), "name": str(e.get("name", "")), "type": str(e.get("type", ""))}
            for e in payload.get("data") or [] if isinstance(e, dict)]
    return pd.DataFrame(rows, columns=["code", "name", "type"])


def region_codes(country: str, base_url: str | None = None, cache=None, fetcher=None) -> pd.DataFrame:
    """IODA's regions of ``country`` (code, name): put the code of a case's region in
    its ``[[regions]]`` entry as ``ioda = "<code>"``. The answer is cached like any other."""
    if fetcher is None:
        from shutdown.collect import as_cache
        from shutdown.config import base_url as resolve
        from shutdown.http import Fetcher
        fetcher = Fetcher(as_cache(cache), SOURCE, resolve(SOURCE, base_url))
    obj = fetcher.get_json("/entities/query", {"entityType": "region", "relatedTo": f"country/{country.upper()}"},
                           validate=check_envelope)
    return parse_entities(obj).sort_values("name", kind="stable").reset_index(drop=True)
