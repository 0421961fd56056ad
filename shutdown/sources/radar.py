"""Cloudflare Radar: HTTP and NetFlow traffic per country and network, and the Outage Center.

Where each shape comes from (SDK files are generated from Cloudflare's OpenAPI
spec by Stainless; cloudflare/cloudflare-python at commit
``ac1ae1cb4fe55b6b9493500d82d7b5267da3535f`` (June 2025), cloudflare/cloudflare-go
at ``16ae7fd5a181613e433d3cd61f672f043e3bc42a`` (January 2026),
cloudflare/api-schemas at ``2ac8369e9b63dccacee1a2284e95bb819f05b307``):

* every answer is Cloudflare's v4 envelope ``{"success", "errors", "messages",
  "result"}``; a failure has ``success: false``, ``errors`` a list of ``{"code",
  "message"}`` and ``result`` null (api-schemas ``common.yaml``:
  ``api-response-common``, ``api-response-common-failure``, ``messages``); the
  SDK reads ``result`` (``src/cloudflare/_wrappers.py``: ``ResultWrapper``).
  Radar's own codes: 2001 input validation (HTTP 400), 2002 query above max
  cost (422), 1015 too many requests (429), 7003 not found (404), 2000 internal
  (500) (https://developers.cloudflare.com/radar/get-started/error-codes/).
* ``GET /radar/http/timeseries`` and ``GET /radar/netflows/timeseries``
  (``src/cloudflare/resources/radar/http/http.py``,
  ``src/cloudflare/resources/radar/netflows/netflows.py``) take ``location``
  (alpha-2), ``asn``, ``dateStart``/``dateEnd`` (ISO 8601; ``dateEnd``
  inclusive), ``aggInterval`` (15m, 1h, 1d, 1w), ``normalization``
  (``PERCENTAGE_CHANGE`` | ``MIN0_MAX``), ``format``, ``name`` (labels the
  series) (``src/cloudflare/types/radar/http_timeseries_params.py``,
  ``netflow_timeseries_params.py``). ``result`` is ``{"meta": {"aggInterval",
  "confidenceInfo": {"annotations": [...], "level"}, "dateRange": [{"startTime",
  "endTime"}], "lastUpdated", "normalization", "units": [{"name", "value"}]},
  "serie_0": {"timestamps": [ISO strings], "values": [numbers as strings]}}``
  (``netflow_timeseries_response.py``; ``http_timeseries_response.py`` at
  ``b762e8560`` names ``serie_0`` and types ``values`` as ``List[str]``; since
  ``ff73ba2a1`` the SDK types the series keys as arbitrary properties, as
  cloudflare-go ``radar/http.go`` ``HTTPTimeseriesResponse`` does (``meta`` plus
  extra keys), so a series under another key, e.g. one named by ``name``, is
  read too; cloudflare-go ``radar/netflow.go`` still requires ``serie_0`` with
  ``timestamps`` and ``values []string``).
* ``GET /radar/annotations/outages`` (``resources/radar/annotations/outages.py``;
  ``types/radar/annotations/outage_get_params.py``, ``outage_get_response.py``)
  takes ``location``, ``asn`` (one, integer), ``dateStart``/``dateEnd``,
  ``limit``, ``offset``, ``format``; ``result`` is ``{"annotations": [{"id",
  "asns", "asnsDetails", "dataSource", "eventType", "locations",
  "locationsDetails", "origins", "originsDetails" (cloudflare-go
  ``radar/annotationoutage.go``), "outage": {"outageCause", "outageType"}, "startDate",
  "description"?, "endDate"? (absent or null: ongoing), "linkedUrl"?,
  "scope"?}]}``. No total count is returned: pages are asked with ``offset``
  until one comes back shorter than ``limit``.
* ``format``: the SDKs list ``JSON``/``CSV``; Radar's own first-request example
  sends ``format=json``, as asked here.
* Token: ``Authorization: Bearer <token>``; a custom token with permission
  Account > Radar > Read (https://developers.cloudflare.com/radar/get-started/first-request/).

Not confirmed here (no network): the longest range Radar accepts per request at
15-minute grain (docs: "finer intervals are only available for shorter ranges";
too fine a grain for the range is rejected, a too costly query answers 2002),
so requests are cut into ``CHUNK`` pieces; whether a timestamp marks the start
of its bin (read so, as Radar's charts draw it).

``MIN0_MAX`` scales every request's series to its own peak, so two chunks are
on different scales: chunks overlap by ``OVERLAP`` and ``normalize`` rescales
each chunk onto the first by the median ratio over the overlap (exact, since
MIN0_MAX only divides by the peak). The table's values are then shares of the
first chunk's peak: a relative level, never a request count.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from shutdown.sources import Request, from_cache
from shutdown.sources.blocks import MAX_VALUE, TidyBuilder

# What the registry reads. Sources of each value are in the comments.
DECLARATION = {
    "name": "radar",
    "title": "Cloudflare Radar",
    # Radar's API lives under Cloudflare's v4 API
    # (https://developers.cloudflare.com/radar/get-started/first-request/).
    "default_url": "https://api.cloudflare.com/client/v4",
    "auth": {"env": "CLOUDFLARE_API_TOKEN", "header": "Authorization", "scheme": "Bearer",
             "required": True,
             # https://developers.cloudflare.com/radar/get-started/first-request/
             "how": ("create a free token at dash.cloudflare.com > My Profile > API Tokens > "
                     "Create Custom Token with permission Account > Radar > Read, then "
                     "export CLOUDFLARE_API_TOKEN=<token>")},
    # Cloudflare's API allows 1200 requests per 5 minutes per user, all tools of that
    # user together (https://developers.cloudflare.com/fundamentals/api/reference/limits/);
    # 0.5 s keeps one run at half of that.
    "min_interval": 0.5,
    # the Outage Center: curated outages, a second documented timeline (shutdown.documenters)
    "documents": {"function": "normalize_annotations", "title": "Cloudflare Radar Outage Center"},
    "signals": [
        {"signal": "http_requests", "unit": "share of peak (MIN0_MAX)",
         "meaning": "HTTP requests (humans and bots, Radar's default) to sites behind Cloudflare, "
                    "normalized to the peak of the first request's range",
         "role": "traffic",
         # A normalized level has no small-count regime to exclude: every bin is judged.
         "floor": None, "label": "Cloudflare Radar: HTTP requests"},
        {"signal": "netflows", "unit": "share of peak (MIN0_MAX)",
         "meaning": "traffic reaching Cloudflare's edge routers (NetFlow, product=ALL), "
                    "normalized to the peak of the first request's range",
         "role": "traffic",
         "floor": None, "label": "Cloudflare Radar: NetFlows"},
    ],
}

SOURCE = DECLARATION["name"]
TIMESERIES_PATHS = {"http_requests": "/radar/http/timeseries",
                    "netflows": "/radar/netflows/timeseries"}
SIGNAL_OF_PATH = {p: s for s, p in TIMESERIES_PATHS.items()}
OUTAGES_PATH = "/radar/annotations/outages"
AGG_INTERVAL = "15m"                  # Radar's finest grain; IODA's bins are 5-10 min
NORMALIZATION = "MIN0_MAX"
CHUNK = pd.Timedelta(days=7)          # one request covers at most this (see the docstring)
OVERLAP = pd.Timedelta(days=1)        # shared by consecutive chunks, to rescale MIN0_MAX
PAGE_LIMIT = 100                      # annotations per page
MAX_PAGES = 50                        # runaway guard: 5000 annotations for one country
UNITS = {d["signal"]: d["unit"] for d in DECLARATION["signals"]}

ANNOTATION_COLUMNS = ["id", "start_utc", "end_utc", "locations", "asns", "scope", "cause",
                      "outage_type", "event_type", "description", "linked_url", "simulated"]


# -- what to ask -----------------------------------------------------------------------
def iso(ts) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def overlapping_chunks(start, end, size=CHUNK, overlap=OVERLAP) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``(since, until)`` pieces of at most ``size`` covering ``[start, end)``, each
    sharing ``overlap`` with the one before (the last may be shorter)."""
    if size <= overlap:
        raise ValueError("chunk size must exceed the overlap")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    out, t = [], start
    while True:
        u = min(t + size, end)
        out.append((t, u))
        if u >= end:
            return out
        t = u - overlap


def entities(case) -> list[tuple[str, str]]:
    """(entity_type, code) Radar is asked about: the country and the case networks.
    Radar has no regions below the country."""
    return [("country", case.country)] + [("asn", str(n.asn)) for n in case.networks]


def timeseries_params(etype: str, code: str, since, until, signal: str = "http_requests") -> dict:
    p = {"location": code} if etype == "country" else {"asn": str(code)}
    p.update({"dateStart": iso(since), "dateEnd": iso(until), "aggInterval": AGG_INTERVAL,
              "normalization": NORMALIZATION, "format": "json"})
    if signal == "netflows":
        p["product"] = "ALL"          # every product's traffic, not HTTP only (netflow_timeseries_params.py)
    return p


def outages_params(case, offset: int = 0) -> dict:
    start, end = case.fetch_utc
    return {"location": case.country, "dateStart": iso(start), "dateEnd": iso(end),
            "limit": PAGE_LIMIT, "offset": int(offset), "format": "json"}


def plan(case) -> list[Request]:
    """Every first-page request: per entity, signal and overlapping chunk one time
    series, then the Outage Center's first page for the country."""
    start, end = case.fetch_utc
    reqs = []
    for etype, code in entities(case):
        for signal, path in TIMESERIES_PATHS.items():
            for since, until in overlapping_chunks(start, end):
                reqs.append(Request(SOURCE, path, timeseries_params(etype, code, since, until, signal),
                                    entity_type=etype, entity_code=code,
                                    label=f"{signal} {etype}/{code} {since:%Y-%m-%d}..{until:%Y-%m-%d}",
                                    validate=check_timeseries, explain=error_message))
    reqs.append(Request(SOURCE, OUTAGES_PATH, outages_params(case), entity_type="country",
                        entity_code=case.country, label=f"Outage Center {case.country}",
                        validate=check_annotations, explain=error_message))
    return reqs


def page_params(params: dict, page: int) -> dict:
    """Parameters of follow-up page ``page`` (1, 2, ...) of an annotations request."""
    return {**params, "offset": int(params.get("offset", 0)) + page * int(params["limit"])}


# -- checking an answer ----------------------------------------------------------------
def error_message(obj) -> str | None:
    """Cloudflare's own words in a failure envelope (``errors[].code/message``), else None."""
    if not isinstance(obj, dict) or obj.get("success") is not False:
        return None
    parts, errors = [], obj.get("errors") or []
    for e in errors if isinstance(errors, list) else [errors]:
        if isinstance(e, dict):
            code = f"{e['code']} " if e.get("code") is not None else ""
            parts.append(f"{code}{e.get('message') or 'error'}".strip())
        else:
            parts.append(str(e))
    return "; ".join(parts) or "success: false without errors"


def check_envelope(obj) -> str | None:
    if not isinstance(obj, dict):
        return f"unexpected body: expected a Cloudflare envelope (JSON object), got {type(obj).__name__}"
    said = error_message(obj)
    if said is not None:
        return f"Cloudflare error: {said}"
    if obj.get("success") is not True:
        return "unexpected body: envelope without success: true"
    if not isinstance(obj.get("result"), dict):
        return "unexpected body: 'result' is not an object"
    return None


def series_of(result: dict) -> dict | None:
    """The time series in a timeseries ``result``: ``serie_0``, else the first
    other key holding ``timestamps`` (a series labelled by ``name``)."""
    if isinstance(result.get("serie_0"), dict):
        return result["serie_0"]
    for k, v in result.items():
        if k != "meta" and isinstance(v, dict) and "timestamps" in v:
            return v
    return None


def check_timeseries(obj) -> str | None:
    problem = check_envelope(obj)
    if problem:
        return problem
    s = series_of(obj["result"])
    if s is None:
        return "unexpected body: timeseries 'result' holds no series (serie_0)"
    ts, vals = s.get("timestamps"), s.get("values")
    if not isinstance(ts, list) or not isinstance(vals, list) or len(ts) != len(vals):
        return "unexpected body: a series needs 'timestamps' and 'values' lists of equal length"
    if _times(ts).isna().any():
        return "unexpected body: field 'timestamps': a bin time that is not an ISO 8601 time"
    return None


def _times(values) -> pd.DatetimeIndex:
    """ISO 8601 times as UTC; anything else (a number, garbage, a year past 2262) is NaT."""
    return pd.DatetimeIndex(pd.to_datetime([v if isinstance(v, str) else None for v in values],
                                           utc=True, format="ISO8601", errors="coerce"))


def check_annotations(obj) -> str | None:
    problem = check_envelope(obj)
    if problem:
        return problem
    if not isinstance(obj["result"].get("annotations"), list):
        return "unexpected body: 'result.annotations' is not a list"
    return None


# -- the request sequence ------------------------------------------------------------
def requests(case):
    """Every request for ``case`` (see ``shutdown.sources``): ``plan``, the Outage
    Center paged by ``offset`` until a page comes back shorter than ``limit``.
    The token travels in the driver's header (the declaration's ``auth``): without
    one the driver answers from the cache and stops at the first request that
    needs the network, saying how to get one."""
    for req in plan(case):
        if req.path == OUTAGES_PATH:
            yield from pages(req)
        else:
            yield req
    return []


def pages(req: Request):
    """An Outage Center request and its follow-up pages, until a page comes back short
    (or is not there: normalizing stops at a page the cache lacks)."""
    answer, page = (yield req), 1
    while (not answer.missing and len(answer.json()["result"]["annotations"]) >= int(req.params["limit"])
           and page < MAX_PAGES):
        answer = yield dataclasses.replace(req, params=page_params(req.params, page))
        page += 1


# -- parsing (payload in, arrays out) -----------------------------------------------------
def _number(v) -> float:
    """A Radar value (a string such as ``"0.563186"``; a number or null is read too)."""
    if v is None or isinstance(v, bool):
        return np.nan
    try:
        x = float(v)
    except (TypeError, ValueError, OverflowError):
        return np.nan
    return x if 0 <= x <= MAX_VALUE else np.nan      # not finite, negative or 1e300: a gap


def parse_timeseries(payload) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """(bin timestamps UTC, values as float64 with NaN for null) of a timeseries answer."""
    s = series_of((payload or {}).get("result") or {}) or {}
    ts = _times(s.get("timestamps") or [])
    vals = np.array([_number(v) for v in s.get("values") or []], dtype="float64")
    return pd.DatetimeIndex(ts).as_unit("ns"), vals


def stitch(pieces) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Consecutive MIN0_MAX pieces ``[(ts, values), ...]`` on one scale: each piece
    is multiplied by the median ratio (stitched so far / piece) over the bins both
    hold with positive values; a piece sharing no such bin keeps its own scale.
    Where pieces overlap, the later one's (rescaled) values are kept."""
    out = pd.Series(dtype="float64")
    for ts, vals in pieces:
        piece = pd.Series(vals, index=ts, dtype="float64")
        piece = piece[~piece.index.duplicated(keep="last")]
        if len(out):
            common = out.index.intersection(piece.index)
            a, b = out.reindex(common).to_numpy(), piece.reindex(common).to_numpy()
            ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
            if ok.any():
                piece = piece * float(np.median(a[ok] / b[ok]))
            out = pd.concat([out[~out.index.isin(piece.index)], piece]).sort_index()
        else:
            out = piece.sort_index()
    return pd.DatetimeIndex(out.index), out.to_numpy(dtype="float64")


def parse_annotations(payload) -> pd.DataFrame:
    """Outage Center annotations as ANNOTATION_COLUMNS rows (``simulated`` False)."""
    rows = []
    for a in ((payload or {}).get("result") or {}).get("annotations") or []:
        if not isinstance(a, dict):
            continue
        outage = a.get("outage") if isinstance(a.get("outage"), dict) else {}
        rows.append({
            "id": str(a.get("id", "")),
            "start_utc": a.get("startDate"), "end_utc": a.get("endDate"),   # absent/null: ongoing
            "locations": ",".join(str(x) for x in _list(a.get("locations"))),
            "asns": ",".join(str(x) for x in _list(a.get("asns"))),
            "scope": a.get("scope") or "", "cause": outage.get("outageCause") or "",
            "outage_type": outage.get("outageType") or "", "event_type": a.get("eventType") or "",
            "description": a.get("description") or "", "linked_url": a.get("linkedUrl") or "",
            "simulated": False})
    return annotation_frame(rows)


def _list(v) -> list:
    return v if isinstance(v, list) else [] if v in (None, "") else [v]


def annotation_frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=ANNOTATION_COLUMNS)
    for c in ("start_utc", "end_utc"):      # a time that is not one is NaT (never a traceback)
        df[c] = pd.to_datetime(df[c].map(lambda v: v if isinstance(v, (str, pd.Timestamp)) else None),
                               utc=True, format="ISO8601", errors="coerce").astype("datetime64[ns, UTC]")
    df = df[df["start_utc"].notna()].reset_index(drop=True)     # no start: nothing to place
    for c in ANNOTATION_COLUMNS:
        if c not in ("start_utc", "end_utc", "simulated"):
            df[c] = df[c].astype("string")
    df["simulated"] = df["simulated"].astype("bool")
    return df


# -- normalizing (cache in, tables out) ----------------------------------------------------
def _simulated(cache, answer) -> bool:
    return bool(answer.meta.get("simulated", False)) or cache.simulated


def normalize(case, cache) -> pd.DataFrame:
    """The tidy table of every cached time series of ``case`` (its ``requests`` walked
    through the cache), chunks stitched per entity and signal (see ``stitch``)."""
    out = TidyBuilder()
    groups: dict = {}       # (entity type, code, signal) -> ([chunk series], simulated)
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if answer.missing or req.path not in SIGNAL_OF_PATH:
            continue
        pieces, sim = groups.get((req.entity_type, req.entity_code, SIGNAL_OF_PATH[req.path]), ([], False))
        groups[(req.entity_type, req.entity_code, SIGNAL_OF_PATH[req.path])] = (
            pieces + [parse_timeseries(answer.json())], sim or _simulated(cache, answer))
    for (etype, code, signal), (pieces, sim) in groups.items():
        ts, values = stitch(pieces)
        lo, hi = case.fetch_utc
        keep = (ts >= lo) & (ts < hi)
        out.add(source=SOURCE, entity_type=etype, entity_code=code, signal=signal, subtype="",
                unit=UNITS[signal], ts=ts[keep], values=values[keep], simulated=sim)
    return out.frame()


def normalize_annotations(case, cache) -> pd.DataFrame:
    """The Outage Center's annotations for ``case`` (ANNOTATION_COLUMNS), one row per
    annotation id over every cached page, ordered by start: a documented timeline
    kept beside the case's own, never read by detection."""
    frames = []
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if answer.missing or req.path != OUTAGES_PATH:
            continue
        df = parse_annotations(answer.json())
        df["simulated"] = _simulated(cache, answer)
        frames.append(df)
    frames = [f for f in frames if len(f)]
    if not frames:
        return annotation_frame([])
    out = pd.concat(frames, ignore_index=True).drop_duplicates(subset="id", keep="first")
    return annotation_frame(out.sort_values(["start_utc", "id"], kind="stable").to_dict("records"))
