"""OONI results for two specific claims of a report, beside ``ooni.py``'s tests.

**Per-domain web_connectivity** (a whitelist: which sites answered). One request per
7-day chunk of whole UTC days, for every domain ``Case.site_domains()`` names (the
sites a ``sites:`` event lists, and the case's ``control_sites``)::

    GET /api/v1/aggregation?probe_cc=KZ&test_name=web_connectivity&domain=a.kz,b.kz
        &since=..&until=..&axis_x=measurement_start_day&axis_y=domain&time_grain=hour

``domain`` is a comma-separated filter and a valid axis in both OONI services
(ooni/backend commit 32d8349d: FastAPI
``ooniapi/services/oonimeasurements/src/oonimeasurements/routers/v1/aggregation.py``,
``validate_axis_name`` and ``domain IN :domains``; legacy ``api/ooniapi/aggregation.py``
``param_domain_m``). Tidy rows: ``signal = "site"``, ``subtype = "<domain>/<outcome>"``.

How OONI scores a web_connectivity test whose control (test helper abroad) was
unreachable, which is every test inside a country cut off from the world:
probe-cli's summary (``internal/experiment/webconnectivity/summary.go``, commit
23b4371e) first accepts a successful HTTPS fetch as accessible (blocking=false:
*ok*, whatever the control), and otherwise, with a control failure, leaves
accessible and blocking null; the fastpath then sets accuracy 0 for blocking null
without a fingerprint (``fastpath/fastpath/core.py`` score_web_connectivity), i.e.
``msm_failure``, counted as *failure*, not anomaly (core.py: failure = accuracy <
0.5; the aggregation's ``failure_count``). So under a whitelist the listed sites
read ok and the others failure: the accessible share (ok / all) separates them.

**Circumvention tests** (tor, vanilla_tor, torsf, psiphon, riseupvpn), for the
country: one request per chunk, split by ``axis_y=test_name`` (one request instead
of five spares OONI's quota; the claim needs no per-network split). Tidy rows as for
the other tests: ``signal=<test>``, ``subtype`` ok|anomaly|confirmed|failure, and
``signal="measurements", subtype=<test>``. OONI scores a Tor, Snowflake (torsf) or
Psiphon test that cannot bootstrap as an anomaly (fastpath core.py score_tor,
score_vanilla_tor, score_torsf, score_psiphon); riseupvpn is not scored since
2023-10-17 (score_riseupvpn; backend issue #745), so its tests read ok.

Requests and parsing reuse ``ooni.py`` (whole-day chunks, parameters valid for both
services, the hourly grid).
"""
from __future__ import annotations

import pandas as pd

from shutdown.schema import OONI_CIRCUMVENTION_TESTS, OONI_OUTCOMES, SIGNALS, SITE_SIGNAL
from shutdown.sources import Request
from shutdown.sources import ooni_api
from shutdown.sources.blocks import TidyBuilder

SOURCE = "ooni"
AXES = ("domain", "test_name")       # axis_y of this module's requests (ooni.plan's: probe_asn)


def _chunked(case, label: str, **params) -> list[Request]:
    start, end = case.fetch_utc
    return [Request(SOURCE, ooni_api.PATH,
                    ooni_api.aggregation_params(since, until, probe_cc=case.country, **params),
                    entity_type="country", entity_code=case.country,
                    label=f"{label} {case.country} {since:%Y-%m-%d}..{until:%Y-%m-%d}")
            for since, until in ooni_api.day_chunks(start, end)]


def plan_sites(case) -> list[Request]:
    domains = case.site_domains() if hasattr(case, "site_domains") else ()
    if not domains:
        return []
    return _chunked(case, "sites", axis_y="domain", test_name="web_connectivity",
                    domain=",".join(domains))


def plan_circumvention(case) -> list[Request]:
    return _chunked(case, "circumvention tests", axis_y="test_name",
                    test_name=",".join(OONI_CIRCUMVENTION_TESTS))


def plan(case) -> list[Request]:
    return plan_sites(case) + plan_circumvention(case)


def add_rows(case, cache, answered, out: TidyBuilder) -> None:
    """Tidy rows per domain (and outcome) and per circumvention test, on the case's
    hourly grid, added to ``out`` (``ooni.normalize``'s table) from ``answered``:
    (request, cached Answer) of this module's requests, as OONI's ``requests`` walk
    found them in the cache."""
    unit = SIGNALS[(SOURCE, "measurements")][0]
    start, end = case.fetch_utc
    grid = pd.date_range(pd.Timestamp(start).tz_convert("UTC").ceil("h"), end, freq="h", inclusive="left")
    for req, answer in answered:
        lo, hi = ooni_api.window(req.params)
        hours = grid[(grid >= lo) & (grid < hi)]
        label = dict(source=SOURCE, entity_type="country", entity_code=case.country, unit=unit,
                     ts=hours, simulated=bool(answer.meta.get("simulated", False)) or cache.simulated)
        rows = answer.json().get("result") or []
        axis = req.params["axis_y"]                      # "domain" | "test_name"
        keys = req.params["domain" if axis == "domain" else "test_name"].split(",")
        for key in keys:
            mine = {"result": [r for r in rows if str(r.get(axis, "")).lower() == key]}
            counts = ooni_api.hourly_counts(mine, hours)[0]
            if axis == "test_name":
                out.add(signal="measurements", subtype=key, values=counts[:, 0], **label)
            for j, outcome in enumerate(OONI_OUTCOMES, start=1):
                sig, sub = (SITE_SIGNAL, f"{key}/{outcome}") if axis == "domain" else (key, outcome)
                out.add(signal=sig, subtype=sub, values=counts[:, j], **label)
