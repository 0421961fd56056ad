"""IODA v2 answers, in the shape IODA's API code gives them.

Shapes from InetIntel/ioda-api: ``src/Response/Envelope.php`` (``type``,
``metadata`` {requestTime, responseTime}, ``requestParameters``, ``error``,
``perf``, ``data``, ``copyright``), ``src/TimeSeries/TimeSeriesNormalizer.php``
(series fields), ``src/Service/SignalsService.php`` (``from`` rounded down to
the step; the step is the datasource's native step unless ``maxPoints`` asks
for fewer points), ``src/Service/DatasourceService.php`` (native steps: bgp and
merit-nt 300 s, ping-slash24 600 s, gtr 1800 s).

Region lookup (``/entities/query``, ``src/Controller/EntitiesController.php``,
envelope type ``entities.lookup``; entities as ``src/Entity/MetadataEntity.php``
and ``MetadataEntityNormalizer.php`` give them: ``code``, ``name``, ``type``,
``subnames``, ``attrs``): the scenario's regions (and the case's), numbered by a
stable hash of country and name -- IODA's real numbers are not known here.

IODA's own outage alerts and events are its *detections*, not measurements:
the simulator answers them with an empty list rather than inventing IODA's
detector.
"""
from __future__ import annotations

import json
import zlib

import numpy as np
import pandas as pd

from shutdown.simulation.world import COUNT_SIGNALS, NATIVE_STEP, World, ioda_slice

COPYRIGHT = "This data is Copyright (c) 2021-2025 Georgia Tech Research Corporation. All Rights Reserved."
ALLOWED_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800,
                 604800, 1209600, 2419200, 31536000, 63072000, 315360000)


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _envelope(world: World, kind: str, params: dict, data) -> dict:
    when = pd.Timestamp(world.scenario.fetched_utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return {"type": kind, "metadata": {"requestTime": when, "responseTime": when},
            "requestParameters": params, "error": None, "perf": None, "data": data,
            "copyright": COPYRIGHT}


def _int_or_none(v):
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def region_code(country: str, name: str) -> str:
    """The simulated IODA number of a region (stable across runs). Made up: IODA's
    NetAcuity ids are not public for every country; 99xxxx stays clear of the
    4-digit ids seen live (4107 is Izmir, TR)."""
    return str(990000 + zlib.crc32(f"{country.upper()}|{name}".encode()) % 10000)


def regions(world: World) -> list[tuple[str, str]]:
    """(IODA code, name) of the simulated country's regions: the scenario's, then
    the names the case asks IODA for (``ioda_name``, else the region's name)."""
    names = [e.name or e.code for e in world.scenario.entities if e.entity_type == "region"]
    names += [r.codes.get("ioda_name") or r.name for r in world.case.regions]
    cc = world.case.country
    return [(region_code(cc, n), n) for n in dict.fromkeys(names)]


def _case_code(world: World, etype: str, code: str) -> tuple[str, str]:
    """IODA's entity code -> (the case's code, display name)."""
    case = world.case
    if etype == "region":
        for r in case.regions:
            if r.codes.get("ioda") == code:
                return r.name, r.name
        for c, name in regions(world):
            if c == code:
                for r in case.regions:          # the name the case asked IODA for
                    if r.codes.get("ioda_name") == name:
                        return r.name, name
                ent = next((e for e in world.scenario.entities if e.entity_type == "region"
                            and (e.name or e.code) == name), None)
                return (ent.code if ent else name), name
        return code, code
    if etype == "asn":
        return code, case.network_name(code)
    ent = world.scenario.entity("country", code)
    return code, (ent.name if ent and ent.name else code)


def _step(frm: int, until: int, max_points, native: int) -> int:
    """SignalsService::calculateStep: the smallest allowed step giving <= maxPoints."""
    if not max_points:
        return native
    step = native
    for s in ALLOWED_STEPS:
        if s < native:
            continue
        step = s
        if (until - frm) / s <= max_points:
            break
    return step


def signals(world: World, path: str, params: dict) -> tuple[int, bytes]:
    parts = path.strip("/").split("/")          # signals/raw/<type>/<code>
    etype, ioda_code = parts[2], parts[3]
    frm, until = _int_or_none(params.get("from")), _int_or_none(params.get("until"))
    ds_param = params.get("datasource") or None
    max_points = _int_or_none(params.get("maxPoints"))
    req = {"from": frm, "until": until, "datasource": ds_param,
           "sourceParams": params.get("sourceParams"), "maxPoints": max_points}
    if frm is None or until is None:
        env = _envelope(world, "signals", req, None)
        env["error"] = "Missing required request parameter 'from'" if frm is None else \
            "Missing required request parameter 'until'"
        return 400, _dumps(env)
    if frm > until:
        env = _envelope(world, "signals", req, None)
        env["error"] = f"from ({frm}) must be earlier than until ({until})"
        return 400, _dumps(env)
    code, name = _case_code(world, etype, ioda_code)
    cc = world.case.country
    # TimeSeriesNormalizer rewrites geo fqids to read "provider"
    fqid = {"country": f"geo.provider.AS.{ioda_code}",
            "region": f"geo.provider.AS.{cc}.{ioda_code}"}.get(etype, f"{etype}.{ioda_code}")
    series = []
    for ds in ([ds_param] if ds_param else list(NATIVE_STEP)):
        if ds not in NATIVE_STEP or not world.ioda_has(etype, ds):
            continue
        for sub in (gtr_products(params) if ds == "gtr" else [""]):
            start, native, vals = ioda_slice(world, etype, code, ds, sub, frm, until)
            step = _step(frm, until, max_points, native)
            if step != native:
                start, vals = _downsample(start, native, vals, step, until, ds)
            series.append({"entityType": etype, "entityCode": ioda_code, "entityName": name,
                           "entityFqid": fqid, "datasource": ds, "subtype": sub, "from": start, "until": until,
                           "step": step, "nativeStep": native, "values": vals})
    return 200, _dumps(_envelope(world, "signals", req, [series]))


def gtr_products(params: dict) -> list[str]:
    """The products a gtr request asks for (``sourceParams``; InfluxService maps
    SEARCH/MAIL to WEB_SEARCH/GMAIL); only WEB_SEARCH without it."""
    alias = {"SEARCH": "WEB_SEARCH", "MAIL": "GMAIL"}
    given = [p.strip().upper() for p in str(params.get("sourceParams") or "").split(",") if p.strip()]
    return list(dict.fromkeys(alias.get(p, p) for p in given)) or ["WEB_SEARCH"]


def _downsample(start, native, vals, step, until, ds):
    """Average ``native`` bins into ``step`` bins (gaps stay gaps)."""
    new_start = (start // step) * step
    k = step // native
    out = []
    t = new_start
    while t < until:
        i0 = (t - start) // native
        chunk = [v for v in vals[max(i0, 0):max(i0 + k, 0)] if v is not None]
        if chunk:
            m = float(np.mean(chunk))
            out.append(int(round(m)) if ds in COUNT_SIGNALS else round(m, 4))
        else:
            out.append(None)
        t += step
    return new_start, out


def outages(world: World, path: str, params: dict) -> tuple[int, bytes]:
    kind = "outages.alerts" if path.rstrip("/").endswith("alerts") else "outages.events"
    # OutagesController declares from/until and the filters as strings, limit/page as integers.
    req = {k: (None if params.get(k) is None else str(params.get(k)))
           for k in ("from", "until", "datasource", "limit", "page", "relatedTo", "entityType",
                     "entityCode", "ignoreMethods")}
    req["limit"] = _int_or_none(req["limit"]) or 500
    req["page"] = _int_or_none(req["page"])
    req["extendWindow"] = _int_or_none(params.get("extendWindow")) or 0
    return 200, _dumps(_envelope(world, kind, req, []))


def entities(world: World, path: str, params: dict) -> tuple[int, bytes]:
    """``/entities/query``: the simulated regions (only ``entityType=region`` lists any).
    Every simulated region answers under its made-up code, so an ``ioda_name`` the
    case asks for is listed too (e.g. "Almaty City" beside the scenario's "Almaty")."""
    req = {"relatedTo": params.get("relatedTo"), "search": params.get("search"),
           "limit": _int_or_none(params.get("limit")), "page": _int_or_none(params.get("page")),
           "entityType": params.get("entityType"), "entityCode": params.get("entityCode")}
    cc = world.case.country
    country = world.scenario.entity("country", cc)
    cname = country.name if country and country.name else cc
    related = str(params.get("relatedTo") or "")
    data = []
    if params.get("entityType") == "region" and related in ("", f"country/{cc}"):
        search = str(params.get("search") or "").casefold()
        for code, name in regions(world):
            if search and search not in name.casefold():
                continue
            data.append({"code": code, "name": name, "type": "region", "subnames": [],
                         "attrs": {"fqid": f"geo.netacuity.AS.{cc}.{code}", "country_code": cc,
                                   "country_name": cname}})
    return 200, _dumps(_envelope(world, "entities.lookup", req, data))


def render(world: World, path: str, params: dict) -> tuple[int, bytes]:
    if path.rstrip("/") == "/entities/query":
        return entities(world, path, params)
    if path.startswith("/signals/raw/"):
        return signals(world, path, params)
    if path.startswith("/outages/"):
        return outages(world, path, params)
    raise ValueError(f"the simulator does not know IODA path {path!r}")
