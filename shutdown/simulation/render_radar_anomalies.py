"""Cloudflare Radar traffic anomalies (``/radar/traffic_anomalies``), in the shape
``shutdown.sources.radar_anomalies`` cites (cloudflare-python
``types/radar/traffic_anomaly_get_response.py``), in Cloudflare's v4 envelope.

SIMULATED: one verified LOCATION anomaly per Outage Center entry the Radar renderer makes
(runs of country-level cuts holding a full cut), and one AS anomaly per network-level
``cut`` or ``throttling`` episode of depth >= ``DEPTH`` on a network of the case that no
country-level episode covers. Rendered from the scenario's episodes, not from Cloudflare's.
"""
from __future__ import annotations

import json
import uuid


from shutdown.simulation import render_radar
from shutdown.simulation.world import World

DEPTH = 0.5


def _uuid(*parts) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "simulated:" + "|".join(map(str, parts))))


def anomalies(world: World) -> list[dict]:
    cc = world.case.country
    country = world.scenario.entity("country", cc)
    cname = country.name if country and country.name else cc
    out = []
    for a in render_radar.annotations(world):
        x = {"startDate": a["startDate"], "status": "VERIFIED", "type": "LOCATION",
             "uuid": _uuid(cc, a["startDate"]), "locationDetails": {"code": cc, "name": cname},
             "visibleInDataSources": ["SIMULATED"]}
        if a.get("endDate"):
            x["endDate"] = a["endDate"]
        out.append(x)
    names = {str(n.asn): n.name for n in world.case.networks}
    for ep in world.scenario.episodes:
        if ep.type not in ("cut", "throttling") or ep.depth < DEPTH or ep.touches("country", cc):
            continue
        for t, code in ep.entities:
            if t != "asn" or code not in names:
                continue
            x = {"startDate": ep.start.strftime("%Y-%m-%dT%H:%M:%SZ"), "status": "VERIFIED",
                 "type": "AS", "uuid": _uuid(code, ep.id),
                 "asnDetails": {"asn": code, "name": names[code],
                                "locations": {"code": cc, "name": cname}},
                 "visibleInDataSources": ["SIMULATED"]}
            if ep.end.timestamp() <= world.fetched_epoch:
                x["endDate"] = ep.end.strftime("%Y-%m-%dT%H:%M:%SZ")
            out.append(x)
    return sorted(out, key=lambda a: (a["startDate"], a["uuid"]))


def render(world: World, path: str, params: dict) -> tuple[int, bytes]:
    if path != "/radar/traffic_anomalies":
        return render_radar._fail(404, 7003, "No route for the URI")
    lo, hi = render_radar._epoch(params.get("dateStart")), render_radar._epoch(params.get("dateEnd"))
    try:
        limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
    except (TypeError, ValueError):
        return render_radar._fail(400, 2001, "Input validation error: limit and offset must be integers")
    rows = []
    for a in anomalies(world):
        s = render_radar._epoch(a["startDate"])
        e = render_radar._epoch(a["endDate"]) if a.get("endDate") else None
        where = (a.get("locationDetails") or (a.get("asnDetails") or {}).get("locations") or {}).get("code")
        if (hi is not None and s > hi) or (lo is not None and e is not None and e < lo):
            continue
        if params.get("location") and str(params["location"]).upper() != where:
            continue
        if params.get("asn") and str(params["asn"]) != (a.get("asnDetails") or {}).get("asn"):
            continue
        if params.get("status") and params["status"] != a["status"]:
            continue
        rows.append(a)
    body = {"success": True, "errors": [], "messages": [],
            "result": {"trafficAnomalies": rows[offset:offset + limit]}}
    return 200, json.dumps(body, separators=(",", ":")).encode()
