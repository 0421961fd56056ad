"""Cloudflare Radar's traffic anomalies: drops in a country's or a network's traffic that
Radar detects automatically and its team verifies -- documented outages, no series.

A source of its own (not part of ``radar``): its answers are cached under their own name,
so reading them never changes what a Radar report rests on, and a case opts in apart.

Shapes, from cloudflare/cloudflare-python at ``ac1ae1cb4fe55b6b9493500d82d7b5267da3535f``
(generated from Cloudflare's OpenAPI spec by Stainless):

* ``GET /radar/traffic_anomalies`` (``src/cloudflare/resources/radar/traffic_anomalies/
  traffic_anomalies.py``) takes ``asn`` (one, integer), ``location`` (alpha-2),
  ``dateStart``/``dateEnd`` (ISO 8601, both inclusive), ``dateRange``, ``status``
  (``VERIFIED`` | ``UNVERIFIED``), ``limit``, ``offset``, ``format``
  (``types/radar/traffic_anomaly_get_params.py``);
* the answer is Cloudflare's v4 envelope (see ``shutdown.sources.radar``) whose
  ``result`` is ``{"trafficAnomalies": [{"startDate" (string), "status", "type", "uuid",
  "asnDetails"? {"asn" (string), "name", "locations"? {"code", "name"}}, "endDate"?
  (date-time; absent or null: ongoing), "locationDetails"? {"code", "name"},
  "visibleInDataSources"? [strings]}]}`` (``types/radar/traffic_anomaly_get_response.py``);
  Cloudflare's API reference lists a newer optional ``originDetails`` {"name", "origin"}
  (https://developers.cloudflare.com/api/python/resources/radar/subresources/traffic_anomalies).
  No total is returned: pages are asked by ``offset`` until one comes back short.

Not confirmed here (no network): the spelling of ``type`` (read as "the anomaly is about
a location" when ``locationDetails`` is there, about a network when ``asnDetails`` is), and
whether an anomaly's ``startDate`` carries seconds (read as ISO 8601, kept to the minute).
Only ``status=VERIFIED`` anomalies are asked for: an unverified one is a detector's guess.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from shutdown.sources import Request, from_cache
from shutdown.sources.blocks import TidyBuilder
from shutdown.sources.radar import DECLARATION as RADAR, check_envelope, error_message, iso

DECLARATION = {
    "name": "radar_anomalies",
    "title": "Cloudflare Radar traffic anomalies",
    "short": "Radar anomalies",
    "default_url": RADAR["default_url"],
    "auth": RADAR["auth"],                  # the same token and permission as Radar's series
    "min_interval": RADAR["min_interval"],
    "default": False,                       # a case opts in; none does yet
    "order": 61,
    "documents": {"function": "normalize_anomalies", "title": "Cloudflare Radar traffic anomalies"},
    "signals": [],
}

SOURCE = DECLARATION["name"]
PATH = "/radar/traffic_anomalies"
PAGE_LIMIT = 100
MAX_PAGES = 50
STATUS = "VERIFIED"
COLUMNS = ["id", "start_utc", "end_utc", "type", "status", "location", "asn", "asn_name",
           "data_sources", "description", "simulated"]


def params(case, offset: int = 0) -> dict:
    start, end = case.fetch_utc
    return {"location": case.country, "dateStart": iso(start), "dateEnd": iso(end),
            "status": STATUS, "limit": PAGE_LIMIT, "offset": int(offset), "format": "json"}


def check(obj) -> str | None:
    problem = check_envelope(obj)
    if problem:
        return problem
    if not isinstance(obj["result"].get("trafficAnomalies"), list):
        return "unexpected body: 'result.trafficAnomalies' is not a list"
    return None


def plan(case) -> list[Request]:
    return [Request(SOURCE, PATH, params(case), entity_type="country", entity_code=case.country,
                    label=f"traffic anomalies {case.country}", validate=check, explain=error_message)]


def requests(case):
    """The first page, then one more while a page comes back full (offset += limit)."""
    req = plan(case)[0]
    answer, page = (yield req), 1
    while (not answer.missing and len(answer.json()["result"]["trafficAnomalies"]) >= PAGE_LIMIT
           and page < MAX_PAGES):
        answer = yield dataclasses.replace(req, params={**req.params,
                                                        "offset": page * PAGE_LIMIT})
        page += 1
    return []


def normalize(case, cache) -> pd.DataFrame:
    """No series: an empty tidy table (the anomalies are documented outages)."""
    return TidyBuilder().frame()


def parse(payload) -> list[dict]:
    """The anomalies of one answer as plain rows (COLUMNS, ``simulated`` False)."""
    rows = []
    for a in ((payload or {}).get("result") or {}).get("trafficAnomalies") or []:
        if not isinstance(a, dict):
            continue
        asn = a.get("asnDetails") or {}
        loc = a.get("locationDetails") or {}
        where = loc.get("code") or (asn.get("locations") or {}).get("code") or ""
        rows.append({"id": str(a.get("uuid", "")), "start_utc": a.get("startDate"),
                     "end_utc": a.get("endDate"), "type": str(a.get("type") or ""),
                     "status": str(a.get("status") or ""), "location": str(where).upper(),
                     "asn": str(asn.get("asn") or ""), "asn_name": str(asn.get("name") or ""),
                     "data_sources": ",".join(str(x) for x in a.get("visibleInDataSources") or []),
                     "description": (f"{a.get('type') or 'traffic'} anomaly, "
                                     + (f"AS{asn['asn']} {asn.get('name', '')}".strip()
                                        if asn.get("asn") else loc.get("name") or where)),
                     "simulated": False})
    return rows


def normalize_anomalies(case, cache) -> pd.DataFrame:
    """Every cached anomaly of ``case`` (COLUMNS), one row per uuid, ordered by start."""
    rows = []
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if answer.missing:
            continue
        sim = bool(answer.meta.get("simulated", False)) or cache.simulated
        rows += [{**r, "simulated": sim} for r in parse(answer.json())]
    df = pd.DataFrame(rows, columns=COLUMNS).drop_duplicates(subset="id", keep="first")
    for c in ("start_utc", "end_utc"):
        df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
    df["simulated"] = df["simulated"].astype(bool)
    return df.sort_values(["start_utc", "id"], kind="stable").reset_index(drop=True)
