"""Cloudflare Radar answers, in the shapes ``shutdown.sources.radar`` cites.

Envelope ``{"success", "errors", "messages", "result"}`` (cloudflare/api-schemas
``common.yaml``); time series ``result = {"meta", "serie_0": {"timestamps",
"values"}}`` with values as strings and MIN0_MAX scaling per request
(cloudflare-python ``types/radar/netflow_timeseries_response.py``); the Outage
Center ``result = {"annotations": [...]}`` paged by ``limit``/``offset``
(``types/radar/annotations/outage_get_response.py``).

What Radar's series do: scenario files name no Radar signal yet, so traffic
follows the episodes acting on IODA's traffic and reachability signals of the
same entity (``ioda.gtr``, ``ioda.merit-nt``, ``ioda.ping-slash24``) -- and any
episode naming ``radar.<signal>`` once scenarios may. The normal shape (daily
cycle, noise) is the entity's ``gtr`` behaviour, at level 1.

The Outage Center holds one annotation per run of back-to-back country-level
``cut`` episodes that contains a full cut: a SIMULATED stand-in for Cloudflare's
curated entry, saying so in its description. It is rendered from the scenario's
episodes, not from any Cloudflare record.
"""
from __future__ import annotations

import json
import math
import re
import zlib

import numpy as np
import pandas as pd

from shutdown.simulation.world import World, daily_cycle, remaining

STEP = {"15m": 900, "1h": 3600, "1d": 86400, "1w": 604800}
INTERVAL_NAME = {"15m": "FIFTEEN_MINUTES", "1h": "ONE_HOUR", "1d": "ONE_DAY", "1w": "ONE_WEEK"}
PROXY_SIGNALS = ("gtr", "merit-nt", "ping-slash24")   # IODA signals a Radar series follows
SIGNAL_OF_PATH = {"/radar/http/timeseries": "http_requests", "/radar/netflows/timeseries": "netflows"}
UNIT = {"http_requests": "requests", "netflows": "bytes"}
FULL_DEPTH = 0.9


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _iso(epoch: float) -> str:
    return pd.Timestamp(int(epoch), unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _ok(result) -> bytes:
    return _dumps({"success": True, "errors": [], "messages": [], "result": result})


def _fail(status: int, code: int, message: str) -> tuple[int, bytes]:
    return status, _dumps({"success": False, "errors": [{"code": code, "message": message}],
                           "messages": [], "result": None})


def _epoch(value) -> int | None:
    try:
        t = pd.Timestamp(str(value))
    except (TypeError, ValueError):
        return None
    if t is pd.NaT:
        return None
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return int(t.timestamp())


def _entity(params: dict) -> tuple[str, str] | None:
    if params.get("location"):
        return "country", str(params["location"]).upper()
    if params.get("asn"):
        return "asn", str(params["asn"]).upper().removeprefix("AS")
    return None


def _episodes(world: World, etype: str, code: str, signal: str):
    eps = world.episodes_for({(etype, code)}, "radar", signal)
    for s in PROXY_SIGNALS:
        eps += world.episodes_for({(etype, code)}, "ioda", s)
    return list({ep.id: ep for ep in eps}.values())


def series(world: World, etype: str, code: str, signal: str, step: int):
    """(bin starts, traffic level) over the world's span, before MIN0_MAX scaling."""
    starts = np.arange((world.start // step) * step, world.end, step, dtype="float64")
    p = world.scenario.normal(etype, code).ioda["gtr"]
    rng = world.rng("radar", etype, code, signal, step)
    z = np.convolve(rng.standard_normal(len(starts) + 4), np.ones(5) / math.sqrt(5), mode="valid")
    v = daily_cycle(starts, p["daily"], p["peak_utc"]) * (1.0 + p["noise"] * z)
    eps = _episodes(world, etype, code, signal)
    # Several episodes of one entity may overlap (a network's own throttling inside a
    # national cut): the least traffic left wins.
    left = np.ones(len(starts))
    for ep in eps:
        left = np.minimum(left, remaining([ep], starts, step))
    return starts, np.clip(v * left, 0, None)


def timeseries(world: World, path: str, params: dict) -> tuple[int, bytes]:
    signal = SIGNAL_OF_PATH[path]
    ent = _entity(params)
    lo, hi = _epoch(params.get("dateStart")), _epoch(params.get("dateEnd"))
    interval = str(params.get("aggInterval") or "1h")
    if ent is None:
        return _fail(400, 2001, "Input validation error: location or asn is required here")
    if lo is None or hi is None or lo >= hi:
        return _fail(400, 2001, "Input validation error: dateStart must be before dateEnd")
    if interval not in STEP:
        return _fail(400, 2001, f"Input validation error: aggInterval {interval!r}")
    step = STEP[interval]
    starts, level = series(world, *ent, signal, step)
    inside = (starts >= (lo // 900) * 900) & (starts < hi)        # dates floored to 15 minutes
    t, v = starts[inside], level[inside]
    peak = float(np.max(v)) if len(v) else 0.0
    scaled = v / peak if peak > 0 else v
    meta = {"aggInterval": INTERVAL_NAME[interval],
            "confidenceInfo": {"annotations": [], "level": 5},
            "dateRange": [{"startTime": _iso(lo), "endTime": _iso(hi)}],
            "lastUpdated": _iso(world.fetched_epoch),
            "normalization": str(params.get("normalization") or "MIN0_MAX"),
            "units": [{"name": "*", "value": UNIT[signal]}]}
    return 200, _ok({"meta": meta, "serie_0": {"timestamps": [_iso(x) for x in t],
                                               "values": [f"{x:.6f}" for x in scaled]}})


def _urls(ep) -> list[str]:
    return [m.group(0) for s in ep.sources for m in re.finditer(r"https?://\S+", s)]


def annotations(world: World) -> list[dict]:
    """The simulated Outage Center of the case's country (see the module docstring)."""
    cc = world.case.country
    cuts = sorted((ep for ep in world.scenario.episodes
                   if ep.type == "cut" and ep.touches("country", cc)), key=lambda e: e.start)
    runs = []
    for ep in cuts:
        if runs and ep.start <= runs[-1][-1].end:
            runs[-1].append(ep)
        else:
            runs.append([ep])
    out = []
    names = {str(n.asn): n.name for n in world.case.networks}
    country = world.scenario.entity("country", cc)
    cname = country.name if country and country.name else cc
    for run in runs:
        if not any(ep.depth >= FULL_DEPTH for ep in run):
            continue
        start, end = run[0].start, max(ep.end for ep in run)
        asns = sorted({int(c) for ep in run for t, c in ep.entities if t == "asn"})
        ann = {"id": str(900000 + zlib.crc32(f"{cc}|{start}".encode()) % 100000),
               "asns": asns,
               "asnsDetails": [{"asn": str(a), "name": names.get(str(a), f"AS{a}"),
                                "locations": {"code": cc, "name": cname}} for a in asns],
               "dataSource": "ALL", "eventType": "OUTAGE", "locations": [cc],
               "locationsDetails": [{"code": cc, "name": cname}], "origins": [], "originsDetails": [],
               "outage": {"outageCause": "GOVERNMENT_DIRECTED", "outageType": "NATIONWIDE"},
               "startDate": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "description": ("SIMULATED: nationwide shutdown rendered from scenario episodes "
                               + ", ".join(ep.id for ep in run) + "; not a Cloudflare annotation")}
        if end.timestamp() <= world.fetched_epoch:       # still going at fetch time: no endDate
            ann["endDate"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
        urls = [u for ep in run for u in _urls(ep)]
        if urls:
            ann["linkedUrl"] = urls[0]
        out.append(ann)
    return out


def outages(world: World, params: dict) -> tuple[int, bytes]:
    lo, hi = _epoch(params.get("dateStart")), _epoch(params.get("dateEnd"))
    try:
        limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
    except (TypeError, ValueError):
        return _fail(400, 2001, "Input validation error: limit and offset must be integers")
    rows = []
    for a in annotations(world):
        s = _epoch(a["startDate"])
        e = _epoch(a.get("endDate")) if a.get("endDate") else None
        if hi is not None and s > hi:
            continue
        if lo is not None and e is not None and e < lo:
            continue
        if params.get("location") and str(params["location"]).upper() not in a["locations"]:
            continue
        if params.get("asn") and int(params["asn"]) not in a["asns"]:
            continue
        rows.append(a)
    return 200, _ok({"annotations": rows[offset:offset + limit]})


def render(world: World, path: str, params: dict) -> tuple[int, bytes]:
    """(HTTP status, body) of one Radar request."""
    if path in SIGNAL_OF_PATH:
        return timeseries(world, path, params)
    if path == "/radar/annotations/outages":
        return outages(world, params)
    return _fail(404, 7003, "No route for the URI")


def truth_rows(scenario) -> list[dict]:
    """Ground-truth rows of Radar's series: every episode they follow (see ``_episodes``),
    on the countries and networks it names (Radar has no regions)."""
    from shutdown.scenario import effect_keys
    from shutdown.simulation.truth import truth_row
    rows = []
    for ep in scenario.episodes:
        follows = {(t, c) for t, c, src, sig, _ in effect_keys(ep)
                   if (src == "ioda" and sig in PROXY_SIGNALS) or src == "radar"}
        for etype, code in sorted(follows):
            if etype in ("country", "asn"):
                rows += [truth_row(ep, etype, code, "radar", sig, "", "down") for sig in UNIT]
    return rows
