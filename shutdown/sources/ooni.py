"""OONI API v1: hourly measurement counts through the aggregation endpoint.

Two services answer ``GET /api/v1/aggregation`` today (ooni/backend):

* the FastAPI service behind ``https://api.ooni.org`` (the default here):
  ``ooniapi/services/oonimeasurements/src/oonimeasurements/routers/v1/aggregation.py``;
* the legacy Flask app, most likely still behind ``https://api.ooni.io``
  (``--url ooni=URL`` / ``$SHUTDOWN_OONI_URL``): ``api/ooniapi/aggregation.py``.

What both accept, and so what is asked:

* ``since``/``until`` as dates ``YYYY-MM-DD``: the FastAPI service types them
  as ``date`` (a time other than midnight is a 422 ``date_from_datetime_inexact``)
  and truncates to 00:00 UTC; the legacy app parses any date. Requests therefore
  cover whole UTC days and are trimmed to the case window after parsing.
* hour grain only over at most 7 days (both services' time-grain ranges).
* ``axis_x=measurement_start_day&time_grain=hour&axis_y=probe_asn``: every
  network of the country in one request (a measurement has exactly one
  ``probe_asn``, so the country's count is the sum of its rows). Rows carry
  ``probe_asn`` as an int, ``measurement_start_day`` as ``"2022-01-05T13:00:00Z"``,
  the five counts; an hour without a measurement has no row.

Errors (each ends the source with OONI's own message, see ``error_message``):
FastAPI ``{"msg": ..., "v": 0}`` (HTTP 200 or 400), ``{"detail": "..."}`` (400)
and pydantic's 422 ``{"detail": [{"loc": [...], "msg": ...}, ...]}``; legacy
``{"error": ..., "v": 0}`` (HTTP 200 or 400). The quota (FastAPI: 40 s of
server time per hour per IP; legacy: per day) answers 429 without
``Retry-After``: the fetcher waits ``QUOTA_WAIT`` and says so.

Per 7-day chunk of whole days: one request for the volume of all tests and one
per test of interest (``test_name=<test>``), each split by ``probe_asn``:
``signal="measurements", subtype="all"|<test>`` and ``signal=<test>``,
``subtype`` = ok|anomaly|confirmed|failure, for the country and each case network.
Per-domain and circumvention results: ``ooni_targeted`` (``requests`` lists
everything).
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from shutdown.schema import (OONI_CIRCUMVENTION_TESTS, OONI_MESSENGER_TESTS, OONI_OUTCOMES, OONI_TESTS,
                             SITE_SIGNAL)
from shutdown.sources import Request, from_cache, ooni_api, ooni_targeted
from shutdown.sources.blocks import TidyBuilder
from shutdown.sources.ooni_api import (  # noqa: F401  (the API helpers, re-exported)
    COUNT_FIELDS, FIELDS, HOUR_GRAIN_DAYS, PATH, aggregation_params, check_aggregation, day_chunks,
    error_message, hourly_counts, parse_aggregation, whole_days, window,
)

SOURCE = "ooni"
MIN_INTERVAL = 1.0                   # seconds between requests: be gentle with OONI
QUOTA_WAIT = 900.0                   # a 429 without Retry-After: 4 such waits renew the hourly window
# How each signal is judged (shutdown/sources/registry.py: kind, Trials). A test's tests are
# trials, k = anomaly + confirmed of all outcomes (OONI's aggregation counts are disjoint:
# ooni/backend api/ooniapi/aggregation.py), rising when an app is blocked; the share series
# detection finds intervals on divides by the test's measurement count where the table has it.
TEST_TRIALS = {"kind": "trials", "trials": {
    "metric": "anomaly_share", "moves": "up", "unit": "tests", "what": "anomalous",
    "share_unit": "share of measurements anomalous", "outcomes": OONI_OUTCOMES,
    "hits": ("anomaly", "confirmed"), "total": "measurements"}}
_KIND = {
    # hourly measurement counts are small and Poisson-like: only deep drops (floor); judged
    # on 3-bin sums, and below 15 expected measurements in three hours near-zero sums happen
    # by chance often enough across dozens of series to invent outages (volunteer probes come
    # and go together: counts are over-dispersed, P(0) well above Poisson's)
    "measurements": {"kind": "level", "floor": 0.50, "min_expected": 15.0, "pooled": True},
    # a domain's web_connectivity tests: accessible = ok of all outcomes, falling when the
    # domain is blocked; judged by pooled statistics only (whitelist events)
    SITE_SIGNAL: {"kind": "trials", "trials": {
        "metric": "accessible_share", "moves": "down", "unit": "tests", "what": "accessible",
        "share_unit": "share of tests accessible", "outcomes": OONI_OUTCOMES, "hits": ("ok",),
        "items": True, "intervals": False},
        # its per-outcome counts also pass as levels (small counts: 3-bin sums)
        "pooled": True},
}
# What each signal witnesses of an event (shutdown.expect: the table says how it moves).
# OONI scores a Tor, Snowflake or Psiphon test that cannot bootstrap as an anomaly
# (ooni/backend fastpath/fastpath/core.py score_tor, score_vanilla_tor, score_torsf,
# score_psiphon, commit 32d8349d); riseupvpn is not scored at all since 2023-10-17.
_RISEUP = "riseupvpn"
WITNESSES = {
    # probes inside cannot upload; it comes after the other access signals in alignment
    "measurements": {"access": {"subtype": "all", "rank": 1,
                                "why": "probes inside cannot upload: volume falls"}},
    **{t: {"app": "blocked apps fail OONI's app tests"} for t in OONI_MESSENGER_TESTS},
    **{t: {"circumvention": "a blocked tool cannot bootstrap: OONI scores the test an anomaly"}
       for t in OONI_CIRCUMVENTION_TESTS if t != _RISEUP},
    _RISEUP: {"circumvention-unscored": "OONI stopped scoring riseupvpn on 2023-10-17 (ooni/backend "
                                        "issue #745; fastpath core.py score_riseupvpn): its tests "
                                        "read ok whatever happened"},
    SITE_SIGNAL: {"sites": "listed sites answer while the control set stays blocked (few probes can "
                           "upload: results kept and sent later)"},
}
DECLARATION = {
    "name": SOURCE, "title": "OONI", "order": 2,
    # OONI's current (FastAPI) service; the legacy Flask one is https://api.ooni.io
    # (ooni/devops tf/environments/prod: api.ooni.org -> ALB -> oonimeasurements).
    "default_url": "https://api.ooni.org",
    "auth": None, "min_interval": MIN_INTERVAL,
    # measurement volume, and the outcomes of each test (a service seen from inside)
    "signals": [{"signal": sig, "unit": ooni_api.UNIT, "meaning": meaning,
                 "role": "volume" if sig == "measurements" else "service", "label": f"OONI {sig}",
                 # the alignment chart's row: "OONI volume", "OONI telegram"
                 "short": "volume" if sig == "measurements" else sig, **_KIND.get(sig, TEST_TRIALS),
                 "witnesses": WITNESSES.get(sig, {})}
                for sig, meaning in [
                    ("measurements", "OONI measurement volume; subtype 'all' or a test name"),
                    # per-test outcome counts: signal = test name, subtype = ok|anomaly|confirmed|failure
                    *((t, f"OONI {t} outcomes" if t == "web_connectivity" else f"OONI {t} test outcomes")
                      for t in OONI_TESTS),
                    *((t, f"OONI {t} test outcomes (circumvention)") for t in OONI_CIRCUMVENTION_TESTS),
                    (SITE_SIGNAL, "OONI web_connectivity outcomes of one domain; "
                                  "subtype = <domain>/<outcome>")]],
    # the overview's panels (shutdown.plot.panels): the volume uploaded, and the messenger
    # tests pooled into one anomaly share
    "panels": [{"title": "OONI: measurements uploaded per bin", "missing": "no OONI measurement volume for {code}",
                "series": [{"signal": "measurements", "subtype": "all", "label": "OONI measurements",
                            "transform": "none"}]},
               {"title": "OONI messenger tests (Telegram, WhatsApp, Signal, Messenger): anomaly share",
                "missing": "no OONI messenger tests for {code}", "ylim": [0, 1.05],
                "series": [{"signals": list(OONI_MESSENGER_TESTS), "label": "pooled anomaly share",
                            "transform": "trial_share", "style": 1}]}],
    # the services its app tests see: a timeline scope's name -> OONI test names
    "services": {"whatsapp": "whatsapp", "telegram": "telegram", "signal": "signal",
                 "facebook": "facebook_messenger", "messenger": "facebook_messenger",
                 "facebook_messenger": "facebook_messenger",
                 "tor": ("tor", "vanilla_tor", "torsf"), "vanilla_tor": "vanilla_tor",
                 "torsf": "torsf", "psiphon": "psiphon", "riseupvpn": "riseupvpn"},
    # per network, OONI is too sparse to read hour by hour: it stays in the overview.
    # Region vs country: the volume of all tests (where a collector gives regions)
    "region_panels": [{"signal": "measurements", "subtype": "all"}],
}


def plan(case) -> list[Request]:
    start, end = case.fetch_utc
    reqs = []
    for since, until in day_chunks(start, end):
        span = f"{since:%Y-%m-%d}..{until:%Y-%m-%d}"
        for test in (None, *sorted(OONI_TESTS)):
            params = aggregation_params(since, until, probe_cc=case.country, axis_y="probe_asn",
                                        test_name=test)
            reqs.append(Request(SOURCE, PATH, params, entity_type="country", entity_code=case.country,
                                label=f"{test or 'all tests'} by network {case.country} {span}"))
    return reqs


def requests(case):
    """Everything the OONI collector asks (see ``shutdown.sources``): ``plan``, then
    the per-domain and the circumvention requests (``ooni_targeted``); none
    depends on an earlier answer. Each answer is checked for both services'
    error shapes before it is cached."""
    for req in plan(case) + ooni_targeted.plan(case):
        yield dataclasses.replace(req, validate=check_aggregation, explain=error_message)
    return []


def normalize(case, cache) -> pd.DataFrame:
    """Tidy rows of the country and each case network from every cached answer,
    on the case's hourly grid; hours missing from a fetched chunk are zero
    measurements (that is how OONI reports them). The answers are those of its
    ``requests`` walked through the cache; the per-domain and circumvention ones
    go to ``ooni_targeted``."""
    out, targeted = TidyBuilder(), []
    unit = ooni_api.UNIT
    start, end = case.fetch_utc
    grid = pd.date_range(pd.Timestamp(start).tz_convert("UTC").ceil("h"), end, freq="h", inclusive="left")
    asns = [int(n.asn) for n in case.networks]
    entities = [("country", case.country)] + [("asn", str(a)) for a in asns]
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if answer.missing:
            continue
        if req.params.get("axis_y") in ooni_targeted.AXES:
            targeted.append((req, answer))
            continue
        sim = bool(answer.meta.get("simulated", False)) or cache.simulated
        lo, hi = window(req.params)
        hours = grid[(grid >= lo) & (grid < hi)]
        counts = hourly_counts(answer.json(), hours, asns, out)
        test = req.params.get("test_name")
        for k, (etype, code) in enumerate(entities):
            label = dict(source=SOURCE, entity_type=etype, entity_code=code, unit=unit, ts=hours,
                         simulated=sim)
            out.add(signal="measurements", subtype=test or "all", values=counts[k, :, 0], **label)
            if test:
                for j, outcome in enumerate(COUNT_FIELDS, start=1):
                    out.add(signal=test, subtype=outcome, values=counts[k, :, j], **label)
    ooni_targeted.add_rows(case, cache, targeted, out)
    return out.frame()


# -- ``shutdown doctor``: the fields the parser reads, with the types it expects --------
DOCTOR_ANSWER = {"v": int, "dimension_count": int, "result": list}
DOCTOR_ROW = {"measurement_start_day": str, "measurement_count": int, "ok_count": int,
              "anomaly_count": int, "confirmed_count": int, "failure_count": int, "probe_asn": int}


def doctor_check(c, client, url: str, country: str) -> None:
    """One aggregation (a day, hour grain, split by ``probe_asn``, web_connectivity)."""
    from shutdown.doctor import answered, fields, yesterday
    since, until = yesterday()
    params = aggregation_params(since, until, probe_cc=country, axis_y="probe_asn",
                                test_name="web_connectivity")
    status, obj = client.get(url + PATH, params)
    if not answered(c, status, obj, error_message(obj)):
        return
    c.problems += fields(obj, DOCTOR_ANSWER, "answer")
    rows = obj.get("result") if isinstance(obj, dict) else None
    if isinstance(rows, list):
        if not rows:
            c.note = "no rows to check the row fields on"
        for r in rows[:3]:
            c.problems += fields(r, DOCTOR_ROW, "result[]")
