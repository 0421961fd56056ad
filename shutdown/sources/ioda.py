"""IODA v2: raw signals per entity, plus IODA's own outage alerts and events.

Upstream shapes, from IODA's API code (InetIntel/ioda-api: src/Response/Envelope.php,
src/Controller/SignalsController.php, src/Controller/OutagesController.php,
src/TimeSeries/TimeSeriesNormalizer.php, src/Entity/Outages*Normalizer.php):

* every answer is an envelope ``{"type", "metadata", "requestParameters", "error",
  "perf", "data", "copyright"}``; parameter errors are HTTP 400 with ``error``
  set and ``data`` null.
* ``GET /signals/raw/{country|region|asn}/{code}?from=&until=&datasource=[&sourceParams=]``
  (epoch seconds): ``data`` is one list per requested entity, each a list of
  series ``{"entityType", "entityCode", "entityName", "entityFqid", "datasource",
  "subtype", "from", "until", "step", "nativeStep", "values"}``; value ``i`` is
  the bin starting at ``from + i*step`` (``from`` rounded down to the step);
  ``null`` is a gap. An entity without data is an empty list: ``data: [[]]``.
  Without ``maxPoints`` the step is the datasource's native step.
* a backend failure is **HTTP 200, ``error: null``, ``data: []``**
  (SignalsController::lookup sets the error, then ``setData([])`` clears it):
  such an answer is cached as provisional, asked again next run and named in
  the summary (``silent_failure``).
* ``datasource=gtr`` answers one series per Google product listed in
  ``sourceParams`` (``subtype``), only ``WEB_SEARCH`` without it
  (InfluxService::buildGTRFluxQueries), and only for countries.
* datasources whose series IODA merges by appending (``gtr-sarima``,
  ``ping-slash24-loss``/``-latency``, ``mozilla``, ``upstream-delay-*``) may
  answer per-bin lists of ``{..labels.., "agg_values": {metric: value}}``
  (InfluxV2Backend): such a series has no single value per bin and is left
  out, said once per datasource (``nested_datasources``).
* ``GET /outages/alerts?entityType=&entityCode=&from=&until=&limit=&page=``:
  ``data`` is a list of ``{"datasource", "entity": {"type", "code", "name",
  "attrs"}, "time", "level", "condition", "value", "historyValue", "method"}``;
  ``limit`` defaults to 500, ``page`` (0-based, needs ``limit``) pages on.
* ``GET /outages/events?...`` (default ``format=codf``): ``data`` is a list of
  ``{"location": "country/KZ", "location_name", "start", "duration",
  "uncertainty", "method", "datasource", "status", "fraction", "score",
  "overlaps_window"}``. An event still open at ``until`` is closed there with
  ``overlaps_window: true`` (OutagesEventsService::buildEvents): its end is
  unknown, not ``start + duration``.
* ``GET /entities/query?entityType=region&relatedTo=country/KZ`` (EntitiesController,
  envelope type ``entities.lookup``; also ``search``, ``limit``, ``page``):
  ``data`` is a list of entities ``{"code", "name", "type", "subnames", "attrs"}``
  (MetadataEntity + MetadataEntityNormalizer: ``type`` is the type's name,
  ``attrs`` a key/value object such as ``fqid``, ``country_code``). IODA numbers
  regions; a case region without an ``ioda`` code is looked up here by name.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from shutdown.schema import IODA_OUTAGE_COLUMNS  # noqa: F401  (re-exported)
from shutdown.sources import Expect, Gap, Request, from_cache
from shutdown.sources.blocks import TidyBuilder, numbers
from shutdown.sources.ioda_outages import _outage_frame, parse_alerts, parse_events  # noqa: F401
from shutdown.sources.windows import any_bin_within, chunks, epoch

SOURCE = "ioda"
DATASOURCES = ("bgp", "ping-slash24", "merit-nt", "gtr")
# Google products asked of gtr (``sourceParams``); without it IODA answers WEB_SEARCH only.
GTR_PRODUCTS = ("WEB_SEARCH", "YOUTUBE")
# datasource -> (unit, meaning, role, figure label, name after "IODA", alignment chart's short name)
_SIGNALS = {
    "bgp": ("visible /24 prefixes", "routed address space seen by BGP collectors", "routing", "IODA BGP",
            "BGP", "BGP"),
    "ping-slash24": ("responsive /24 blocks", "IODA active probing", "connectivity", "IODA active probing",
                     "active probing", "probing"),
    "merit-nt": ("unique source IPs", "Merit network telescope (unsolicited traffic)", "connectivity",
                 "IODA telescope", "telescope", "telescope"),
    "gtr": ("normalized traffic", "Google Transparency Report traffic; subtype = product", "traffic",
            "Google traffic (IODA)", "Google traffic", "Google"),
}
# The smallest relative drop detection may call an outage, per datasource:
#   bgp          routed space barely moves (IODA's BGP alert sits close to its history),
#                so a 10% loss of visible /24s is already a routing event.
#   ping-slash24 active probing: a few % of blocks flap every hour; 20% is a real loss.
#   merit-nt     telescope counts are bursty (scanning campaigns): ask for 30%.
#   gtr          Google traffic follows the daily cycle closely: 15% off the cycle,
#                sustained for the minimum duration, catches the national dip of a
#                throttled mobile network; its own noise (4 sigma) raises the bar
#                where the series is noisier.
FLOORS = {"bgp": 0.10, "ping-slash24": 0.20, "merit-nt": 0.30, "gtr": 0.15}
# What each datasource witnesses of an event (shutdown.expect: the table says how it moves).
# Active probing pings the country's address blocks from IODA's vantage points outside it
# (IODA, "Active Probing", ioda.inetintel.cc.gatech.edu/help): it also sees sites hosted in
# the country become unreachable from abroad. BGP and the telescope see other things.
WITNESSES = {
    "bgp": {"routes": "a shutdown can keep prefixes announced (Kazakh routes stayed visible)"},
    "ping-slash24": {"access": "active probing loses replies when access is cut",
                     "hosts-online": "blocking a service does not take hosts offline",
                     "reached-from-abroad": "probes from abroad stop getting replies from the "
                                            "country's address blocks"},
    "merit-nt": {"access": "telescope sees less unsolicited traffic from cut networks"},
    "gtr": {"access": "Google traffic falls when users are offline"},
}
DECLARATION = {
    "name": SOURCE, "title": "IODA", "order": 1,
    # the official UI's base URL (InetIntel/ioda-ui assets/js/Ioda/data/ActionCommons.js)
    "default_url": "https://api.ioda.inetintel.cc.gatech.edu/v2",
    "auth": None, "min_interval": 0.0,               # no limiter in IODA's application code
    # its own outage events: a second documented timeline (shutdown.documenters)
    "documents": {"function": "documented_events", "title": "IODA outage events"},
    # each IODA datasource is its own way of measuring: its own family in fusion
    "signals": [{"signal": ds, "unit": _SIGNALS[ds][0], "meaning": _SIGNALS[ds][1],
                 "role": _SIGNALS[ds][2], "label": _SIGNALS[ds][3], "name": _SIGNALS[ds][4],
                 "short": _SIGNALS[ds][5], "family": f"ioda/{ds}", "kind": "level", "floor": FLOORS[ds],
                 "witnesses": WITNESSES[ds]}
                for ds in DATASOURCES],
    # the overview's panel (shutdown.plot.panels): the country's probing, telescope and BGP
    # (gtr is drawn in the region figure)
    "panels": [{"title": "IODA, country: share of baseline (1 = normal)", "missing": "no IODA data for {code}",
                "series": [{"signal": ds, "label": label, "transform": "level_ratio"}
                           for ds, label in (("ping-slash24", "active probing"), ("merit-nt", "telescope"),
                                             ("bgp", "BGP"))]}],
    # per network: probing and BGP as shares of their baseline
    "network_series": [{"signal": "ping-slash24", "label": "IODA active probing (× baseline)",
                        "transform": "level_ratio"},
                       {"signal": "bgp", "label": "IODA BGP (× baseline)", "transform": "level_ratio"}],
    # region vs country: each datasource (Google's web search where gtr has several products)
    "region_panels": [{"signal": "ping-slash24"}, {"signal": "merit-nt"},
                      {"signal": "gtr", "subtype": "WEB_SEARCH"}, {"signal": "bgp"}],
}
CHUNK = pd.Timedelta(days=7)        # one signals request covers at most this much
PAGE_LIMIT = 500                    # IODA's default page size for alerts/events
MAX_PAGES = 50                      # a runaway guard: 25 000 alerts per entity is plenty


# -- what to ask -------------------------------------------------------------------
ENTITIES_PATH = "/entities/query"


def entities(case, region_codes: dict | None = None) -> list[tuple[str, str, str]]:
    """(entity_type, IODA code, the case's code) for the country, ASNs and regions.

    A region is asked when its IODA code is known: given in the case
    (``ioda = "..."`` in ``[[regions]]``) or resolved by name through
    ``/entities/query`` (``region_codes``: case region name -> IODA code, see
    ``resolve_regions``). IODA numbers regions; the tidy table names them.
    """
    region_codes = region_codes or {}
    out = [("country", case.country, case.country)]
    out += [("asn", str(n.asn), str(n.asn)) for n in case.networks]
    for r in case.regions:
        code = r.codes.get("ioda") or region_codes.get(r.name)
        if code:
            out.append(("region", str(code), r.name))
    return out


def entities_params(country: str) -> dict:
    return {"entityType": "region", "relatedTo": f"country/{country.upper()}"}


def entities_request(case) -> Request | None:
    """The region lookup, needed when a case region has no ``ioda`` code."""
    if all(r.codes.get("ioda") for r in case.regions):
        return None
    return regions_request(case.country)


def regions_request(country: str) -> Request:
    """IODA's regions of ``country`` (``/entities/query``)."""
    return Request(SOURCE, ENTITIES_PATH, entities_params(country), entity_type="country",
                   entity_code=country.upper(), label=f"IODA regions of {country.upper()}",
                   validate=check_envelope)


def plan(case, region_codes: dict | None = None) -> list[Request]:
    """Every first-page request for ``case``.

    Two stages, like RIPE Atlas's listing then results: without ``region_codes``
    the region lookup comes first (when a region needs it) and only regions
    with an ``ioda`` code in the case are asked; with ``region_codes`` (from
    ``resolve_regions`` on that lookup's answer) the resolved regions follow
    too. Then: signals per entity, datasource and 7-day chunk, then outage
    alerts and events per entity over the whole window."""
    start, end = case.fetch_utc
    reqs = []
    lookup = entities_request(case)
    if lookup is not None:
        reqs.append(lookup)
    for etype, code, name in entities(case, region_codes):
        for ds in DATASOURCES:
            for since, until in chunks(start, end, CHUNK):
                reqs.append(Request(
                    SOURCE, f"/signals/raw/{etype}/{code}", signals_params(since, until, ds),
                    entity_type=etype, entity_code=name,
                    label=f"{ds} {etype}/{name} {since:%Y-%m-%d}..{until:%Y-%m-%d}",
                    validate=check_signals, provisional=silent_failure))
    for etype, code, name in entities(case, region_codes):
        for kind in ("alerts", "events"):
            reqs.append(Request(
                SOURCE, f"/outages/{kind}",
                {"entityType": etype, "entityCode": code, "from": epoch(start),
                 "until": epoch(end), "limit": PAGE_LIMIT},
                entity_type=etype, entity_code=name, label=f"{kind} {etype}/{name}",
                validate=check_envelope))
    return reqs


def signals_params(since, until, datasource: str) -> dict:
    """Parameters of one ``/signals/raw`` request (native step: no ``maxPoints``)."""
    p = {"from": epoch(since), "until": epoch(until), "datasource": datasource}
    if datasource in ("gtr", "gtr-norm"):
        p["sourceParams"] = ",".join(GTR_PRODUCTS)
    return p


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
            problem = series_numbers(s)
            if problem:
                return f"unexpected body: series {str(s.get('datasource'))[:40]!r}: {problem}"
    return None


# The numbers that place a series' bins: a step of a second to a week, a start in
# IODA's years (its data begin in 2011; before 2000 or after 2100 is garbage).
MAX_STEP, MIN_FROM, MAX_FROM = 7 * 86400, 946_684_800, 4_102_444_800


def _whole(v) -> int | None:
    """``v`` as an int when it is a whole JSON number (not a bool, not 1e300), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or abs(v) > 2 ** 53:
        return None
    return int(v) if v == int(v) else None


def series_numbers(s: dict) -> str | None:
    """What is wrong with a series' ``step``, ``from`` or ``values`` (field named), or None."""
    step = _whole(s.get("step") or s.get("nativeStep"))
    if step is None or not 1 <= step <= MAX_STEP:
        return f"field 'step': expected whole seconds in 1..{MAX_STEP}, got {str(s.get('step'))[:30]!r}"
    start = _whole(s.get("from"))
    if start is None or not MIN_FROM <= start <= MAX_FROM:
        return f"field 'from': expected epoch seconds (2000..2100), got {str(s.get('from'))[:30]!r}"
    if s.get("values") is not None and not isinstance(s.get("values"), list):
        return f"field 'values': expected a list, got {type(s.get('values')).__name__}"
    if len(s.get("values") or ()) * step > 20 * 366 * 86400:
        return "field 'values': more bins than 20 years of steps"
    return None


def silent_failure(obj) -> str | None:
    """IODA's backend-failure answer to ``/signals/raw`` (HTTP 200, ``error``
    null, ``data: []``): a reason, else None. An entity without data is ``[[]]``."""
    if isinstance(obj, dict) and obj.get("error") is None and obj.get("data") == []:
        return "IODA answered data: [] (its backend failed; an entity without data is [[]])"
    return None


def nested_datasources(payload) -> list[str]:
    """Datasources of series whose bins are lists (per-frame ``agg_values`` objects)."""
    out = []
    for group in payload.get("data") or []:
        for s in group or []:
            if isinstance(s, dict) and any(isinstance(v, (list, dict)) for v in s.get("values") or []):
                out.append(str(s.get("datasource") or "?"))
    return list(dict.fromkeys(out))


# -- the request sequence ------------------------------------------------------------
def requests(case):
    """Every request for ``case``, answered by a driver (see ``shutdown.sources``).

    Regions without an ``ioda`` code are first looked up by name (its answer
    decides the region codes); a region that cannot be resolved, or a failed
    lookup, is left out with a note and the country and networks are still
    asked. A signals chunk answered with IODA's silent failure is cached
    provisional and noted as a ``Gap`` (the run is incomplete; the next run asks
    again). Alerts and events are paged while a page comes back full.
    """
    from shutdown.http import SourceError, SourceUnreachable
    notes, codes = [], {}
    lookup = entities_request(case)
    if lookup is not None:
        try:
            found = (yield lookup).json()
        except SourceUnreachable:
            raise
        except SourceError as exc:      # the lookup failed (or is not cached): regions go, the rest stays
            notes.append(f"region lookup failed ({exc.url}: {exc.problem}); "
                         "collecting country and network data without regions")
        else:
            codes, said = match_regions(case, _sorted(parse_entities(found)))
            notes += said
    rest = [r for r in plan(case, codes) if r.path != ENTITIES_PATH]
    yield Expect(len(rest))
    nested = {}
    for req in rest:
        if not req.path.startswith("/signals/"):
            yield from pages(req)
            continue
        answer = yield req
        if answer.missing:              # normalizing: a chunk the cache lacks
            continue
        obj = answer.json()
        if silent_failure(obj):
            notes.append(Gap(f"{req.label}: no data, IODA's silent backend failure "
                             "(HTTP 200, data: []); asked again next run"))
        elif any_bin_within(_placed(obj), int(req.params["from"]), int(req.params["until"])) is False:
            notes.append(Gap(f"{req.label}: every series IODA answered lies outside the asked "
                             "window; nothing kept"))
        for ds in nested_datasources(obj):
            nested.setdefault(ds, req.label)
    notes += [f"{ds}: values are per-frame objects (agg_values), not one series; left out "
              f"(first seen: {label})" for ds, label in nested.items()]
    return notes


def _placed(obj):
    """(from, step, bins) of each series whose numbers are usable."""
    return [(_whole(s["from"]), _whole(s.get("step") or s.get("nativeStep")), len(s["values"]))
            for g in obj.get("data") or [] for s in g or []
            if isinstance(s, dict) and isinstance(s.get("values"), list) and not series_numbers(s)]


def pages(req: Request):
    """An alerts/events request and its follow-up pages, while a page comes back full
    (and is there: normalizing stops at a page the cache lacks)."""
    answer, page = (yield req), 1
    while (not answer.missing and len(answer.json().get("data") or []) >= int(req.params.get("limit", PAGE_LIMIT))
           and page < MAX_PAGES):
        answer = yield dataclasses.replace(req, params=page_params(req.params, page))
        page += 1


# -- parsing (pure: payload in, DataFrame out) -------------------------------------
def _flat_values(values) -> list | None:
    """``values`` as a flat list; None when the bins are nested (lists of per-frame
    ``agg_values`` objects: no single value per bin). Anything else that is not a
    number stays, for ``blocks.numbers`` to turn into a counted gap."""
    if values is None:
        return []
    if any(isinstance(v, (list, dict)) for v in values):
        return None
    return list(values)


def iter_series(payload, builder=None):
    """Each series of a ``/signals/raw`` envelope as
    ``(entity_type, entity_code, datasource, subtype, ts_utc, values)``; nested
    series (see ``nested_datasources``) are skipped; other garbage values are gaps,
    counted in ``builder`` (blocks.numbers)."""
    for group in payload.get("data") or []:
        for s in group or []:
            if not isinstance(s, dict):
                continue
            vals = _flat_values(s.get("values") if isinstance(s.get("values"), list) else None)
            if not vals:
                continue
            if series_numbers(s):           # garbage step or start (refused before caching)
                if builder is not None:
                    builder.skipped += len(vals)
                continue
            step, start = _whole(s.get("step") or s.get("nativeStep")), _whole(s["from"])
            ts = pd.to_datetime(start + step * np.arange(len(vals)), unit="s", utc=True)
            values = numbers(vals, builder)
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


# -- normalizing (cache in, tidy table out) ----------------------------------------
def _simulated(cache, answer) -> bool:
    return bool(answer.meta.get("simulated", False)) or cache.simulated


def normalize(case, cache) -> pd.DataFrame:
    """The tidy table of every cached signals response of ``case`` (its ``requests``
    walked through the cache); regions named as in the case."""
    out = TidyBuilder()
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if answer.missing or not req.path.startswith("/signals/"):
            continue
        sim = _simulated(cache, answer)
        lo = pd.Timestamp(req.params["from"], unit="s", tz="UTC")
        hi = pd.Timestamp(req.params["until"], unit="s", tz="UTC")
        for _, _, ds, subtype, ts, values in iter_series(answer.json(), out):
            keep = (ts >= lo) & (ts < hi)      # IODA rounds ``from`` down to the step
            out.add(source=SOURCE, entity_type=req.entity_type, entity_code=req.entity_code,
                    signal=ds, subtype=subtype, unit=_SIGNALS[ds][0] if ds in _SIGNALS else ds,
                    ts=ts[keep], values=values[keep], simulated=sim)
    return out.frame()


def normalize_outages(case, cache) -> pd.DataFrame:
    """IODA's own alerts and events for ``case`` (IODA_OUTAGE_COLUMNS), regions named as in the case."""
    names, frames = {}, []
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if answer.missing or not req.path.startswith("/outages/"):
            continue
        names[(req.params["entityType"], str(req.params["entityCode"]))] = req.entity_code
        payload = answer.json()
        df = (parse_events(payload, req.params.get("until")) if req.path.endswith("events")
              else parse_alerts(payload))
        df["simulated"] = _simulated(cache, answer)
        frames.append(df)
    if not frames:
        return _outage_frame([])
    out = pd.concat(frames, ignore_index=True)
    out["entity_code"] = [names.get((t, c), c) for t, c in zip(out["entity_type"], out["entity_code"])]
    out = out.drop_duplicates().sort_values(["kind", "entity_type", "entity_code", "start_utc"], kind="stable")
    return _outage_frame(out.to_dict("records"))


def documented_events(case, cache) -> pd.DataFrame:
    """IODA's own outage events for the case's country, one row per event and datasource
    (id, start_utc, end_utc, datasource, score, description, simulated; end NaT while
    open): the entries ``shutdown.documenters`` holds against the report and the data.
    Alerts (threshold crossings, no end) and the events of networks and regions are left
    out: the comparison is with the report's events and the country's fused detection."""
    out = normalize_outages(case, cache)
    ev = out[(out["kind"] == "event") & (out["entity_type"] == "country")
             & (out["entity_code"] == case.country) & out["start_utc"].notna()]
    ev = ev.sort_values(["start_utc", "datasource"], kind="stable").reset_index(drop=True)
    names = [_SIGNALS[d][3] if d in _SIGNALS else f"IODA {d}" for d in ev["datasource"]]
    return pd.DataFrame({
        "id": [f"ioda-{d}-{t:%Y%m%dT%H%M}" for d, t in zip(ev["datasource"], ev["start_utc"])],
        "start_utc": ev["start_utc"], "end_utc": ev["end_utc"], "datasource": ev["datasource"],
        "score": ev["score"],
        "description": [f"{n} event" + ("" if pd.isna(sc) else f", score {sc:g}")
                        for n, sc in zip(names, ev["score"])],
        "simulated": ev["simulated"].astype(bool)})


# -- finding region codes ----------------------------------------------------------
def parse_entities(payload) -> pd.DataFrame:
    """``/entities/query`` data (``[{"code", "name", "type", "attrs"}, ...]``) as code/name/type rows."""
    rows = [{"code": str(e.get("code", "")), "name": str(e.get("name", "")), "type": str(e.get("type", ""))}
            for e in payload.get("data") or [] if isinstance(e, dict)]
    return pd.DataFrame(rows, columns=["code", "name", "type"])


def region_codes(country: str, answer) -> pd.DataFrame:
    """IODA's regions of ``country`` (code, name), sorted by name. ``answer`` is a
    driver's answerer (Request -> Answer; this module asks, it does no I/O), from
    Python: ``region_codes("KZ", collect.fetched(collect.fetcher_for("ioda")))``.
    The same lookup ``requests`` asks first to resolve case regions by name (under
    the same cache key); the code can also be pinned in the case (``ioda = "<code>"``)."""
    return _sorted(parse_entities(answer(regions_request(country)).json()))


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["name", "code"], kind="stable").reset_index(drop=True)


def match_regions(case, table: pd.DataFrame) -> tuple[dict, list[str]]:
    """Case regions without an ``ioda`` code -> IODA code, by name, with a note
    naming every candidate.

    The name asked is the region's ``ioda_name`` when given, else its ``name``;
    it must equal exactly one IODA region name (case-insensitive). Candidates
    are the IODA regions whose names contain, or are contained in, either
    name (e.g. "Almaty", the oblast, and "Almaty City"): the note lists them
    all, so a bind to the wrong one shows. Several equal names, or none, leave
    the region out with a note saying how to pin it (``ioda_name`` or ``ioda``
    in the case's ``[[regions]]``).
    """
    codes, notes = {}, []
    if table is None or table.empty:
        table = pd.DataFrame(columns=["code", "name", "type"])
    table = table[table["type"].isin(["region", ""])] if "type" in table else table
    folded = table["name"].astype(str).str.casefold()

    def listing(rows) -> str:
        return ", ".join(f"{n!r} (code {c})" for n, c in zip(rows["name"], rows["code"]))

    for r in case.regions:
        if r.codes.get("ioda"):
            continue
        want = r.codes.get("ioda_name") or r.name
        keys = {want.casefold(), r.name.casefold()}
        exact = table[folded == want.casefold()]
        near = table[folded.map(lambda n: bool(n) and any(k in n or n in k for k in keys))]
        pin = (f"pin it in the case's [[regions]] entry for {r.name!r} with "
               f"ioda_name = \"<IODA name>\" or ioda = \"<code>\"")
        if len(exact) == 1:
            codes[r.name] = str(exact["code"].iloc[0])
            others = near[near["code"].astype(str) != codes[r.name]]
            if len(others):
                how = "the case's ioda_name" if r.codes.get("ioda_name") else "its name"
                notes.append(f"region {r.name!r}: IODA region {exact['name'].iloc[0]!r} (code "
                             f"{codes[r.name]}) chosen by {how}; other candidates: {listing(others)}")
            continue
        if len(exact) > 1:
            notes.append(f"IODA region {want!r} is ambiguous in {case.country}: {listing(exact)}; {pin}; "
                         "collecting country and network data without it")
            continue
        pool = near if len(near) else table
        more = f" and {len(pool) - 12} more" if len(pool) > 12 else ""
        what = "similar names" if len(near) else f"IODA's regions of {case.country}"
        notes.append(f"no IODA region of {case.country} is named {want!r} ({what}: "
                     f"{listing(pool[:12]) or 'none'}{more}); {pin}; collecting country and network data without it")
    return codes, notes


def resolve_regions(case, cache) -> tuple[dict, list[str]]:
    """IODA codes of the case regions that have none, from the cached region lookup
    (``requests`` asks it): ``({region name: code}, notes)``. A missing answer
    just means no region rows."""
    req = entities_request(case)
    if req is None:
        return {}, []
    hit = cache.get(SOURCE, req.path, req.params) if cache is not None else None
    if hit is None:
        return {}, [f"the region lookup of {case.country} is not in the cache"]
    payload = hit.json()
    if check_envelope(payload):
        return {}, [f"cached region lookup is unusable: {check_envelope(payload)}"]
    return match_regions(case, _sorted(parse_entities(payload)))


# -- ``shutdown doctor``: the fields the parsers read, with the types they expect ------
DOCTOR_ENVELOPE = {"type": str, "metadata": dict, "requestParameters": dict, "error": type(None),
                   "data": list}
DOCTOR_SERIES = {"entityType": str, "entityCode": str, "datasource": str, "subtype": str,
                 "from": int, "step": int, "values": list}


def doctor_check(c, client, url: str, country: str) -> None:
    """Three hours of one signal (bgp) of ``country``: envelope and series fields."""
    from shutdown.doctor import answered, fields, is_type, yesterday
    day, _ = yesterday()
    status, obj = client.get(url + f"/signals/raw/country/{country}",
                             signals_params(day, day + pd.Timedelta(hours=3), "bgp"))
    if not answered(c, status, obj):
        return
    c.problems += fields(obj, DOCTOR_ENVELOPE, "envelope")
    if c.problems:
        return
    if silent_failure(obj):
        c.problems.append("data is [] (IODA's backend failed; an entity without data is [[]])")
        return
    if not all(isinstance(g, list) for g in obj["data"]):
        c.problems.append("data[]: expected a list of lists of series")
    series = [s for group in obj["data"] if isinstance(group, list) for s in group]
    if not series:
        c.note = "no series to check the series fields on"
    for s in series[:3]:
        c.problems += fields(s, DOCTOR_SERIES, "data[][]")
        vals = s.get("values") if isinstance(s, dict) else None
        if isinstance(vals, list) and any(not (v is None or is_type(v, (int, float))) for v in vals):
            c.problems.append("data[][].values: expected numbers or null")
