"""OONI Findings: the incidents OONI's team documents (Explorer's "Findings" pages), read
from the incidents API of ooni/backend -- documented events, no series.

Shapes, from ooni/backend at ``32d8349dc5440e75264c84c0ffe97495c7488e84``:

* ``GET /api/v1/incidents/search`` (``ooniapi/services/oonifindings/src/oonifindings/
  routers/v1.py``: ``list_oonifindings``; the router is mounted under ``/api`` in
  ``main.py``) takes ``only_mine`` (bool), ``theme``, ``country_code``, ``asn``, ``domain``
  (each repeatable, OR-ed) and no time range: it answers every published finding that
  matches, ``{"incidents": [OONIFinding]}`` (``OONIFindingIncidents``); an anonymous
  caller sees published findings only.
* ``OONIFinding`` (same file): ``id`` (string), ``title``, ``short_description``, ``slug``,
  ``start_time`` (datetime), ``end_time`` (datetime or null: ongoing), ``create_time``,
  ``update_time``, ``reported_by``, ``email_address`` (empty for anonymous callers),
  ``published``, ``event_type``, ``ASNs`` [int], ``CCs`` [alpha-2], ``themes``, ``tags``,
  ``test_names``, ``domains``, ``links`` [strings], ``mine``, ``creator_account_id``.
  Datetimes are encoded ``"%Y-%m-%dT%H:%M:%S.%fZ"`` (``ooniapi/common/src/common/
  routers.py``: ``ISO_FORMAT_DATETIME`` in ``BaseModel``'s ``json_encoders``); read as any
  ISO 8601 spelling.
* Errors are FastAPI's ``{"detail": ...}`` (``HTTPException``; 422 a list of pydantic items).

OONI Explorer, where findings are written (ooni/explorer at
``d6f8ad8f3b33a404cd157a1a4a79ebeea0663d6a``, ``components/findings/Form.js``), takes start
and end as dates (``type="date"``) and sends them as ``<date>T00:00:00Z``; its new finding
has ``event_type: 'incident'`` (``pages/findings/create.js``) and its themes are
``human_rights``, ``social_media``, ``im``, ``circumvention``, ``news_media``. So a time of
exactly 00:00 UTC is read as a UTC date (day precision), any other as minutes.
"""
from __future__ import annotations

import pandas as pd

from shutdown.sources import Request, from_cache
from shutdown.sources.blocks import TidyBuilder

DECLARATION = {
    "name": "ooni_findings",
    "title": "OONI Findings",
    # OONI's current API host (as shutdown.sources.ooni); the findings service lives there.
    "default_url": "https://api.ooni.org",
    "auth": None,
    "min_interval": 1.0,
    "default": False,                       # a case opts in; none does yet
    "order": 62,
    "documents": {"function": "normalize_findings", "title": "OONI Findings"},
    "signals": [],
}

SOURCE = DECLARATION["name"]
PATH = "/api/v1/incidents/search"
COLUMNS = ["id", "start_utc", "end_utc", "title", "countries", "asns", "domains", "test_names",
           "themes", "tags", "event_type", "slug", "links", "description", "simulated"]


def error_message(obj) -> str | None:
    """FastAPI's own words (``detail``: a string, or pydantic's list of items), else None."""
    if not isinstance(obj, dict) or "detail" not in obj:
        return None
    d = obj["detail"]
    if isinstance(d, list):
        return "; ".join(f"{'.'.join(map(str, i.get('loc', [])))}: {i.get('msg', '')}"
                         if isinstance(i, dict) else str(i) for i in d) or "invalid request"
    return str(d)


def check(obj) -> str | None:
    if not isinstance(obj, dict):
        return f"unexpected body: expected a JSON object, got {type(obj).__name__}"
    said = error_message(obj)
    if said:
        return f"OONI error: {said}"
    if not isinstance(obj.get("incidents"), list):
        return "unexpected body: 'incidents' is not a list"
    return None


def params(case) -> dict:
    # The API takes no time range: the country's findings, all of them (filtered by time
    # when read). One cache entry per country.
    return {"country_code": case.country}


def plan(case) -> list[Request]:
    return [Request(SOURCE, PATH, params(case), entity_type="country", entity_code=case.country,
                    label=f"findings {case.country}", validate=check, explain=error_message)]


def requests(case):
    yield plan(case)[0]
    return []


def normalize(case, cache) -> pd.DataFrame:
    """No series: an empty tidy table (findings are documented events)."""
    return TidyBuilder().frame()


def _strings(v) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else []


def parse(payload) -> list[dict]:
    """The findings of one answer as plain rows (lists kept as lists)."""
    rows = []
    for f in (payload or {}).get("incidents") or []:
        if not isinstance(f, dict) or not f.get("start_time"):
            continue
        rows.append({
            "id": str(f.get("id") or f.get("slug") or ""), "start_utc": str(f["start_time"]),
            "end_utc": str(f["end_time"]) if f.get("end_time") else None,
            "title": str(f.get("title") or ""),
            "countries": [c.upper() for c in _strings(f.get("CCs"))],
            "asns": [int(a) for a in f.get("ASNs") or [] if str(a).isdigit()],
            "domains": _strings(f.get("domains")), "test_names": _strings(f.get("test_names")),
            "themes": _strings(f.get("themes")), "tags": _strings(f.get("tags")),
            "event_type": str(f.get("event_type") or ""), "slug": str(f.get("slug") or ""),
            "links": _strings(f.get("links")),
            "description": str(f.get("short_description") or ""), "simulated": False})
    return rows


def findings(case, cache) -> list[dict]:
    """Every cached finding of ``case``'s country (``simulated`` from the cache entry)."""
    out = []
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if answer.missing:
            continue
        sim = bool(answer.meta.get("simulated", False)) or cache.simulated
        out += [{**r, "simulated": sim} for r in parse(answer.json())]
    return out


def normalize_findings(case, cache) -> pd.DataFrame:
    """The findings touching ``case``'s fetch window, one row each (COLUMNS; lists joined
    by commas), for the overview's lane of other documenters."""
    lo, hi = case.fetch_utc
    rows = []
    for r in findings(case, cache):
        s = pd.Timestamp(r["start_utc"]).tz_convert("UTC") if pd.Timestamp(r["start_utc"]).tzinfo \
            else pd.Timestamp(r["start_utc"]).tz_localize("UTC")
        if s >= hi:
            continue
        rows.append({**r, **{k: ",".join(map(str, r[k])) for k in
                             ("countries", "asns", "domains", "test_names", "themes", "tags", "links")},
                     "description": r["title"]})
    df = pd.DataFrame(rows, columns=COLUMNS).drop_duplicates(subset="id", keep="first")
    for c in ("start_utc", "end_utc"):
        df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
    df = df[df["end_utc"].isna() | (df["end_utc"] > lo)]
    df["simulated"] = df["simulated"].astype(bool)
    return df.sort_values(["start_utc", "id"], kind="stable").reset_index(drop=True)
