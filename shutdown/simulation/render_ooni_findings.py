"""OONI Findings answers (``/api/v1/incidents/search``), in the shape
``shutdown.sources.ooni_findings`` cites (ooni/backend ``OONIFindingIncidents``).

One SIMULATED finding per country-level ``service-block`` episode of the scenario: the apps
its OONI signals name (``ooni.telegram`` -> test ``telegram``), the dates it spans as OONI
Explorer writes them (``<date>T00:00:00Z``: Explorer takes dates only), the title saying it
is simulated. Rendered from the scenario's episodes, not from any OONI record.
"""
from __future__ import annotations

import json
import zlib

import pandas as pd

from shutdown.simulation.world import World

ISO = "%Y-%m-%dT%H:%M:%S.%fZ"          # ooni/backend common/routers.py ISO_FORMAT_DATETIME
APPS = {"telegram": "Telegram", "whatsapp": "WhatsApp", "signal": "Signal",
        "facebook_messenger": "Facebook Messenger", "tor": "Tor", "vanilla_tor": "Tor",
        "torsf": "Tor Snowflake", "psiphon": "Psiphon", "riseupvpn": "RiseupVPN"}
THEME = {"telegram": "im", "whatsapp": "im", "signal": "im", "facebook_messenger": "im",
         "tor": "circumvention", "vanilla_tor": "circumvention", "torsf": "circumvention",
         "psiphon": "circumvention", "riseupvpn": "circumvention"}


def _day(t: pd.Timestamp) -> str:
    return t.tz_convert("UTC").floor("D").strftime(ISO)


def findings(world: World) -> list[dict]:
    out = []
    for ep in world.scenario.episodes:
        ccs = sorted(c for t, c in ep.entities if t == "country")
        tests = [s.signal for s in ep.signals if s.source == "ooni" and s.signal in APPS]
        if ep.type != "service-block" or not ccs or not tests:
            continue
        last = ep.end - pd.Timedelta(seconds=1)        # an end at midnight closes the day before
        apps = list(dict.fromkeys(APPS[t] for t in tests))
        fid = str(100000000000 + zlib.crc32(f"{ep.id}|{ccs}".encode()) % 900000000000)
        out.append({
            "id": fid, "email_address": "",
            "title": f"SIMULATED: blocking of {', '.join(apps)} in {', '.join(ccs)}",
            "short_description": f"SIMULATED from scenario episode {ep.id}; not an OONI finding",
            "slug": f"{ep.start:%Y}-simulated-{ep.id}", "start_time": _day(ep.start),
            "create_time": pd.Timestamp(world.fetched_epoch, unit="s", tz="UTC").strftime(ISO),
            "update_time": pd.Timestamp(world.fetched_epoch, unit="s", tz="UTC").strftime(ISO),
            "end_time": _day(last) if ep.end.timestamp() <= world.fetched_epoch else None,
            "reported_by": "SIMULATED", "creator_account_id": "", "published": True,
            "event_type": "incident", "ASNs": [], "CCs": ccs,
            "themes": sorted({THEME[t] for t in tests}), "tags": ["simulated"],
            "test_names": tests, "domains": [], "links": [], "mine": False})
    return out


def render(world: World, path: str, params: dict) -> tuple[int, bytes]:
    if path != "/api/v1/incidents/search":
        return 404, b'{"detail":"Not Found"}'
    want = params.get("country_code")
    rows = [f for f in findings(world) if not want or str(want).upper() in f["CCs"]]
    return 200, json.dumps({"incidents": rows}, separators=(",", ":")).encode()
