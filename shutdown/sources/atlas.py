"""RIPE Atlas v2: probes in the country, their built-in results, their connection events.

What is asked of the API (all GET, all JSON, paths appended to the base URL)::

    /api/v2/probes/?country_code=KZ&page_size=500          probe listing, paginated
        {count, next, previous, results: [{id, asn_v4, asn_v6, country_code, is_anchor,
         status: {id, name, since}, status_since, first_connected, last_connected,
         tags: [{name, slug}], ...}]}; ``next`` links to the following page.
    /api/v2/measurements/<msm>/results?start=&stop=&probe_ids=a,b,c
        a JSON list of results, one object per probe run (``prb_id``, ``timestamp``,
        ``type``, ...), for the built-in measurements below.

Built-in measurements used (every probe runs them, nobody has to schedule them):

* 1001 -- ping to k.root-servers.net (193.0.14.129), every 240 s;
* 5001 -- traceroute to k.root-servers.net, every 1800 s;
* 7000 -- probe connection events: ``{"prb_id", "timestamp", "event": "connect" |
  "disconnect", ...}`` as seen by the RIPE Atlas controllers. The v2 reference
  lists no per-probe connection-history endpoint (``/probes/archive/`` holds daily
  status snapshots, not changes), so these events are the history. Where a probe
  has no event in the window its state comes from ``status``/``status.since``.

The results windows are cut into UTC days and the probe ids into batches of
``PROBE_BATCH`` so each request stays small (a day of ping results for 50 probes
is a few MB) and an interrupted run resumes at the next missing day/batch.

Why the requests go through ``shutdown.http.Fetcher`` and not through
cousteau's own ``AtlasRequest.get()``: cousteau builds its URL as
``"https://" + server + path`` (a host with a port such as ``127.0.0.1:8443``
works, a plain-http mirror or a base path does not), has no retry or backoff,
and folds every failure into ``(False, message)``. The Fetcher gives the raw
cache, provenance, retries on 429/5xx/timeouts and one clear error per source.
cousteau is still what builds each request: ``ProbeRequest`` the listing path
and filters, ``AtlasResultsRequest`` the results path and its start/stop/probe_ids
parameters, and ``cousteau_server()`` turns our base URL into the ``server``
argument cousteau expects, so a user can reproduce any request with cousteau.

The API key is optional (``SHUTDOWN_ATLAS_KEY`` or ``RIPE_ATLAS_KEY``); it goes
into the ``Authorization: Key ...`` header the way cousteau sends it, never into
a URL parameter, so it never reaches the cache, provenance or a log line.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
from ripe.atlas.cousteau import AtlasResultsRequest, ProbeRequest

from shutdown.http import MAX_PAGES, SourceError
from shutdown.schema import empty_tidy
from shutdown.sources import Expect, Request, cached, from_cache, walk
from shutdown.sources.atlas_reduce import _probe_id
from shutdown.sources.atlas_reduce import (  # noqa: F401  (re-exported for detection/plots)
    BIN, UNIT, ResultArrays, active_in_window, body_result_arrays, connection_bins, infrastructure_tags,
    is_infrastructure, probe_bins, probe_frame, probes_in_region, result_reachable, tidy_from_bins,
)

SOURCE = "atlas"
PROBES_PATH = ProbeRequest.url                      # "/api/v2/probes/"
PAGE_SIZE = 500                                     # large pages: a country fits in one or few
PROBE_BATCH = 50                                    # probe ids per results request
KEY_ENV = ("SHUTDOWN_ATLAS_KEY", "RIPE_ATLAS_KEY")  # first one set wins
_LABELS = {"probes_reporting": "RIPE Atlas: probes reporting", "probes_reachable": "RIPE Atlas: probes online",
           "probes_connected": "RIPE Atlas: probes connected"}
# How each signal is judged (shutdown/sources/registry.py: kind, Trials). Probes reaching
# the Internet of those reporting are trials (per probe class), falling in a cut; 20% of a
# country's probes failing together is beyond single-probe churn (floor). The counts are
# levels: a count below ATLAS_MIN_PROBES expected is too few probes to call a zero a cut.
_KIND = {
    "probes_reachable": {"kind": "trials", "floor": 0.20, "trials": {
        "metric": "reachable_share", "moves": "down", "unit": "probes", "what": "reaching the Internet",
        "share_unit": "share of reporting probes", "of": "probes_reporting", "pooled": True},
        # what it witnesses of an event (shutdown.expect), per probe class: end-user probes
        # share their users' access; anchors and data-centre probes may keep theirs
        "witnesses": {"access": {"subtype": "end-user", "why": "home probes lose their uplink"},
                      "infrastructure": {"subtype": "infrastructure",
                                         "why": "data-centre probes and anchors may keep connectivity"},
                      "probes-online": {"subtype": "end-user", "why": "probes still reach the Internet"}}},
    "probes_reporting": {"kind": "level", "floor": 0.30, "min_expected": "ATLAS_MIN_PROBES"},
    "probes_connected": {"kind": "level", "floor": 0.30, "min_expected": "ATLAS_MIN_PROBES"},
}
DECLARATION = {
    "name": SOURCE, "title": "RIPE Atlas", "short": "Atlas", "order": 3,
    "default_url": "https://atlas.ripe.net",
    # anonymous access works; a key (cousteau's header, request.py) only raises limits
    "auth": {"env": KEY_ENV, "header": "Authorization", "scheme": "Key", "required": False,
             "how": "create a key at atlas.ripe.net > My Atlas > API keys, then export RIPE_ATLAS_KEY=<key>"},
    "min_interval": 0.0,
    # per bin; subtype = "infrastructure" (anchors, datacentre tags) | "end-user"
    "signals": [{"signal": sig, "unit": UNIT, "meaning": meaning,
                 "role": "volume" if sig == "probes_reporting" else "probes", "label": _LABELS[sig],
                 "name": sig.replace("_", " "), "short": "probes" if sig == "probes_reachable" else sig,
                 **_KIND[sig]}
                for sig, meaning in [
                    ("probes_reporting", "probes with at least one built-in result in the bin"),
                    ("probes_reachable", "probes with a successful ping/traceroute in the bin"),
                    ("probes_connected", "probes connected to the RIPE Atlas controllers")]],
    # the overview's panel (shutdown.plot.panels): per probe class the share of probes online;
    # titled by how the share could be made (without probes_reporting: a share of baseline)
    "panels": [{"title": "RIPE Atlas: probes reachable, share of baseline",
                "title_when": {"probes_reachable/probes_reporting":
                               "RIPE Atlas: share of probes online (reaching their targets)"},
                "missing": "no RIPE Atlas probe data for {code}",
                "series": [{"signal": "probes_reachable", "subtype": c, "label": f"{c} probes",
                            "transform": "trial_share"} for c in ("end-user", "infrastructure")]}],
    # per network and region vs country: the end-user probes (what a network's users see)
    "network_series": [{"signal": "probes_reachable", "subtype": "end-user",
                        "label": "Atlas end-user probes online (share)", "transform": "trial_share"}],
    "region_panels": [{"signal": "probes_reachable", "subtype": "end-user"}],
}

# Built-in measurement id -> (kind, target). 1001/5001 are the IPv4 ping
# (every 240 s, dst 193.0.14.129) and traceroute (every 1800 s) to
# k.root-servers.net that every probe runs; 7000 is the stream of probe
# connect/disconnect events. One target keeps the volume down (a day of 1001
# alone is ~360 results per probe); another root's pair could be added here.
MEASUREMENTS = {
    1001: ("ping", "k.root-servers.net"),
    5001: ("traceroute", "k.root-servers.net"),
    7000: ("connection", "RIPE Atlas controllers"),
}
REACHABILITY_MSMS = (1001, 5001)
CONNECTION_MSM = 7000


# -- requests ------------------------------------------------------------------------
def probe_listing_request(case) -> Request:
    """First page of the probe listing for the case's country (``next`` gives the rest)."""
    path, params = _split(ProbeRequest(country_code=case.country, page_size=PAGE_SIZE).atlas_url)
    return Request(SOURCE, path, params, "country", case.country,
                   f"probes in {case.country} (page 1)", validate=_check_listing)


def results_request(case, msm_id: int, since: pd.Timestamp, until: pd.Timestamp,
                    probe_ids) -> Request:
    """Results of one measurement for some probes over ``[since, until)``."""
    ids = sorted(int(i) for i in probe_ids)
    # cousteau reads naive datetimes as UTC (calendar.timegm); stop is inclusive upstream.
    req = AtlasResultsRequest(msm_id=msm_id, probe_ids=ids,
                              start=_naive_utc(since),
                              stop=_naive_utc(until - pd.Timedelta(seconds=1)))
    params = {k: str(v) for k, v in req.http_method_args["params"].items()}
    kind, _ = MEASUREMENTS.get(msm_id, ("results", ""))
    label = (f"{kind} msm {msm_id} {since:%Y-%m-%d} probes {ids[0]}..{ids[-1]} "
             f"({len(ids)})")
    return Request(SOURCE, req.url_path, params, "country", case.country, label,
                   validate=_check_results)


def plan(case, probes=None) -> list[Request]:
    """Every request for ``case``.

    Without ``probes`` only the probe listing is known (the results requests
    need probe ids). With ``probes`` -- the listing's probe objects, or plain
    probe ids -- the built-in results and connection events for those probes
    follow, per UTC day and per batch of ``PROBE_BATCH`` probes. Probe objects
    are filtered to those that can have been connected during the window.
    """
    out = [probe_listing_request(case)]
    if probes is None:
        return out
    start, end = case.fetch_utc
    ids = []
    for p in probes:
        if isinstance(p, dict):
            if active_in_window(p, start, end):
                ids.append(int(p["id"]))
        else:
            ids.append(int(p))
    ids = sorted(set(ids))
    if not ids:
        return out
    batches = [ids[i:i + PROBE_BATCH] for i in range(0, len(ids), PROBE_BATCH)]
    for since, until in utc_days(start, end):
        for msm in (*REACHABILITY_MSMS, CONNECTION_MSM):
            for batch in batches:
                out.append(results_request(case, msm, since, until, batch))
    return out


def request_kind(req: Request) -> str:
    """"probes", "ping", "traceroute" or "connection": what payload a request gets."""
    if req.path.startswith(PROBES_PATH):
        return "probes"
    return MEASUREMENTS.get(request_msm(req), ("results", ""))[0]


def request_msm(req: Request) -> int | None:
    parts = req.path.strip("/").split("/")
    if len(parts) >= 4 and parts[:3] == ["api", "v2", "measurements"] and parts[3].isdigit():
        return int(parts[3])
    return None


def utc_days(start: pd.Timestamp, end: pd.Timestamp):
    """``[since, until)`` UTC days covering ``[start, end)``, aligned to midnight
    so two cases sharing days share cache entries."""
    t = pd.Timestamp(start).tz_convert("UTC").floor("D")
    end = pd.Timestamp(end).tz_convert("UTC")
    out = []
    while t < end:
        out.append((t, t + pd.Timedelta(days=1)))
        t += pd.Timedelta(days=1)
    return out


# -- cousteau's notion of a server (the API key: the declaration's auth, sent by the driver) --
def cousteau_server(base_url: str) -> str:
    """The ``server`` argument for cousteau (``host[:port]``) matching ``base_url``.

    cousteau always prefixes ``https://`` and appends the API path directly to
    the server, so only an https base URL without a path can be expressed.
    """
    parts = urlsplit(base_url)
    if parts.scheme != "https" or parts.path.strip("/"):
        raise ValueError(f"cousteau can only talk to https://host[:port]; got {base_url!r}")
    return parts.netloc


# -- the request sequence ------------------------------------------------------------
def requests(case):
    """Every request for ``case`` (see ``shutdown.sources``): the probe listing page by
    page (following ``next``), then the built-in results and connection events of
    the probes it lists (``plan``). The API key travels in the driver's header
    (the declaration's ``auth``), never in a parameter."""
    probes = yield from listing(case)
    todo = plan(case, probes)[1:]
    yield Expect(len(todo))
    for req in todo:
        yield req
    return []


def listing(case):
    """The probe listing's pages in order, following ``next``; returns every probe object."""
    first = probe_listing_request(case)
    path, params, probes, page = first.path, dict(first.params), [], 1
    seen = set()
    while True:
        key = (path, tuple(sorted(params.items())))
        if key in seen:
            raise SourceError(SOURCE, path, "probe listing pages loop (a 'next' link points back)")
        if len(seen) >= MAX_PAGES:
            raise SourceError(SOURCE, path, f"probe listing goes on past {MAX_PAGES} pages of "
                              f"{PAGE_SIZE}; stopped there (no country has that many probes)")
        seen.add(key)
        obj = (yield dataclasses.replace(first, path=path, params=params,
                                         label=f"probes in {case.country} (page {page})")).json()
        probes.extend(obj["results"])
        nxt = obj.get("next")
        if not nxt:
            return probes
        path, params = _next_page(nxt)
        page += 1


def _next_page(url: str) -> tuple[str, dict]:
    """Path and parameters of a ``next`` link. The host and any path before the
    listing's are dropped (as cousteau's ``build_next_url`` drops the host), so a
    mirror's or simulator's pages stay on our base URL."""
    parts = urlsplit(url)
    if not parts.path.endswith(PROBES_PATH):
        raise SourceError(SOURCE, url, f"unexpected 'next' link (not under {PROBES_PATH})")
    return PROBES_PATH, dict(parse_qsl(parts.query, keep_blank_values=True))


def _check_listing(obj):
    if not isinstance(obj, dict) or not isinstance(obj.get("results"), list):
        return ("expected a probe listing {count, next, previous, results: [...]}, got "
                + _shape(obj))
    if any(not isinstance(p, dict) or "id" not in p for p in obj["results"]):
        return "probe listing has an entry without an 'id'"
    bad = next((p["id"] for p in obj["results"] if _probe_id(p["id"]) < 0), None)
    if bad is not None or any(p["id"] is None for p in obj["results"]):
        return f"probe listing: field 'id': expected a positive probe number, got {str(bad)[:30]!r}"
    nxt = obj.get("next")
    if nxt is not None and not isinstance(nxt, str):
        return f"probe listing 'next' is not a link: {nxt!r}"[:200]
    return None


def _check_results(obj):
    if not isinstance(obj, list):
        return "expected a JSON list of measurement results, got " + _shape(obj)
    if any(not isinstance(r, dict) for r in obj):
        return "measurement results list holds a non-object entry"
    return None


def _shape(obj) -> str:
    if isinstance(obj, dict):
        return "an object with keys " + ", ".join(sorted(map(str, obj))[:8])
    return type(obj).__name__


# -- normalize -------------------------------------------------------------------------
def load_probes(case, cache) -> list[dict]:
    """All probe objects of the cached listing (every page): ``listing`` answered
    from the cache (SourceError when a page is missing or unusable)."""
    return walk(listing(case), cached(cache, SOURCE))


@dataclass
class CachedResults:
    """The cached results of a case's planned requests, and which are missing."""
    by_msm: dict            # msm id -> list: ResultArrays per response for 1001/5001, event dicts for 7000
    missing: list           # planned Requests not in the cache
    complete_days: dict     # msm id -> set of UTC day starts whose every batch is cached

    def complete(self, msms) -> set:
        """UTC days for which every batch of every one of ``msms`` is cached."""
        sets = [self.complete_days.get(m, set()) for m in msms]
        return set.intersection(*sets) if sets else set()


def load_results(case, cache, strict: bool = True) -> CachedResults:
    """Cached results of the requests ``requests(case)`` makes after the listing (walked
    through the cache). ``strict``: a response missing from the cache is an error
    (collect did not finish)."""
    by_msm: dict[int, list] = {m: [] for m in MEASUREMENTS}
    missing, days_all, days_missing = [], {}, {}
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if request_kind(req) == "probes":
            continue
        msm = request_msm(req)
        day = pd.Timestamp(int(req.params["start"]), unit="s", tz="UTC")
        days_all.setdefault(msm, set()).add(day)
        if answer.missing:
            missing.append(req)
            days_missing.setdefault(msm, set()).add(day)
            continue
        try:
            if msm in REACHABILITY_MSMS:
                # reduced at once to arrays: a case has ~10^5-10^6 results
                arrays, obj = body_result_arrays(answer.body)
            else:
                arrays, obj = None, answer.json()
        except ValueError:
            raise SourceError(SOURCE, answer.meta.get("url", req.path), "cached results are not JSON") from None
        problem = _check_results(obj) if obj is not None else None
        if problem:
            raise SourceError(SOURCE, answer.meta.get("url", req.path), problem)
        by_msm.setdefault(msm, []).extend([arrays] if arrays is not None else obj)
    if missing and strict:
        raise SourceError(SOURCE, missing[0].path,
                          f"{len(missing)} planned response(s) not in the cache (first: "
                          f"{missing[0].label}); run `shutdown collect` for this case")
    complete = {m: d - days_missing.get(m, set()) for m, d in days_all.items()}
    return CachedResults(by_msm, missing, complete)


def probe_metadata(case, cache) -> pd.DataFrame:
    """Probe metadata frame (see ``atlas_reduce.probe_frame``) of the probes the
    case uses: listed for the country and possibly connected during the window."""
    start, end = case.fetch_utc
    return probe_frame([p for p in load_probes(case, cache) if active_in_window(p, start, end)])


def probe_table(case, cache, strict: bool = True) -> pd.DataFrame:
    """Per probe and hour with results: probe_id, asn, is_infrastructure, ts_utc, reachable."""
    start, end = case.fetch_utc
    probes = load_probes(case, cache)
    meta = probe_frame([p for p in probes if active_in_window(p, start, end)])
    res = load_results(case, cache, strict=strict)
    return probe_bins(_reachability_rows(res), meta, start, end)


def normalize(case, cache) -> pd.DataFrame:
    """Tidy table: probes_reporting / probes_reachable / probes_connected per hour,
    for the country, each case network with probes and each case region with a
    circle (``center``, ``radius_km``) holding probes, per probe class.

    Reads the cache only. Nothing cached yet -> an empty table. Hours of a UTC
    day whose responses are not all cached (an interrupted collect) get no rows
    rather than zeros: a missing response must not look like probes going dark.
    """
    start, end = case.fetch_utc
    try:
        probes = load_probes(case, cache)
    except SourceError as exc:
        if "not in the cache" in exc.problem:
            return empty_tidy()
        raise
    meta = probe_frame([p for p in probes if active_in_window(p, start, end)])
    res = load_results(case, cache, strict=False)
    rows = _reachability_rows(res)
    bins = probe_bins(rows, meta, start, end)
    conn = connection_bins(meta, res.by_msm.get(CONNECTION_MSM, []), start, end)
    tidy = tidy_from_bins(case, meta, bins, conn, simulated=cache.simulated)
    if res.missing and not tidy.empty:
        day = tidy["ts_utc"].dt.floor("D")
        keep_reach = day.isin(res.complete(REACHABILITY_MSMS))
        keep_conn = day.isin(res.complete((CONNECTION_MSM,)))
        keep = keep_reach.where(tidy["signal"] != "probes_connected", keep_conn)
        tidy = tidy[keep.astype(bool)].reset_index(drop=True)
    # results without a readable probe id or time were left out: build_table says how many
    tidy.attrs["skipped_values"] = int(((rows.prb_id < 0) | ~np.isfinite(rows.timestamp)).sum())
    return tidy


def _reachability_rows(res: CachedResults) -> ResultArrays:
    return ResultArrays.concat(a for m in REACHABILITY_MSMS for a in res.by_msm.get(m, []))


def _split(path_and_query: str) -> tuple[str, dict]:
    parts = urlsplit(path_and_query)
    return parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))


def _naive_utc(ts: pd.Timestamp) -> dt.datetime:
    return pd.Timestamp(ts).tz_convert("UTC").tz_localize(None).to_pydatetime()


# -- ``shutdown doctor``: the fields the parsers read, with the types they expect -------
_NULL = type(None)
DOCTOR_LISTING = {"count": int, "next": (str, _NULL), "results": list}
DOCTOR_PROBE = {"id": int, "asn_v4": (int, _NULL), "asn_v6": (int, _NULL), "country_code": (str, _NULL),
                "is_anchor": bool, "status": dict, "status_since": (int, _NULL),
                "first_connected": (int, _NULL), "geometry": (dict, _NULL), "tags": list}
DOCTOR_STATUS = {"id": int, "name": str}
DOCTOR_PING = {"type": str, "prb_id": int, "timestamp": int, "rcvd": (int, str), "dst_addr": str}


@dataclass
class _Country:
    """What the request builders read of a case."""
    country: str


def doctor_check(c, client, url: str, country: str) -> None:
    """One probe page of ``country``, then one page of built-in ping results (msm 1001) of a
    probe on it."""
    from shutdown.doctor import answered, fields, kind, said, yesterday
    status, obj = client.get(url + PROBES_PATH, {"country_code": country, "page_size": 5})
    if not answered(c, status, obj):
        return
    c.problems += fields(obj, DOCTOR_LISTING, "probes")
    probes = obj.get("results") if isinstance(obj, dict) else None
    if not isinstance(probes, list) or not probes:
        c.note = c.note or "no probe listed: results not checked"
        return
    for p in probes[:3]:
        c.problems += fields(p, DOCTOR_PROBE, "probes.results[]")
        if isinstance(p, dict) and isinstance(p.get("status"), dict):
            c.problems += fields(p["status"], DOCTOR_STATUS, "probes.results[].status")
    if c.problems or not isinstance(probes[0].get("id"), int):
        return
    since, _ = yesterday()
    req = results_request(_Country(country), 1001, since, since + pd.Timedelta(hours=1),
                          [probes[0]["id"]])
    status, res = client.get(url + req.path, req.params)
    if status != 200:
        c.problems.append(f"results: HTTP {status}: {said(res, 'error')}")
    elif not isinstance(res, list):
        c.problems.append(f"results: expected a list, got {kind(res)}")
    else:
        if not res:
            c.note = "no ping result in that hour to check the result fields on"
        for r in res[:3]:
            c.problems += fields(r, DOCTOR_PING, "results[]")
