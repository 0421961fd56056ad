"""OONI per-domain web_connectivity outcomes: what a whitelist claim is measured by.

One aggregation request per 7-day chunk for the case's country, for every domain
``Case.site_domains()`` names (the sites a ``sites:`` event lists, and the case's
``control_sites``)::

    GET /api/v1/aggregation?probe_cc=KZ&test_name=web_connectivity&domain=a.kz,b.kz
        &since=..&until=..&axis_x=measurement_start_day&axis_y=domain&time_grain=hour

``domain`` is a comma-separated filter and ``domain`` a valid axis in both OONI
services (ooni/backend commit 32d8349d: FastAPI
``ooniapi/services/oonimeasurements/src/oonimeasurements/routers/v1/aggregation.py``,
``validate_axis_name`` and ``domain IN :domains``; legacy ``api/ooniapi/aggregation.py``
``param_domain_m``). Rows are per (hour, domain) with the same counts as every
aggregation row. Requests and parsing reuse ``ooni.py`` (time format, chunking,
validation, the hourly grid). Tidy rows: ``signal = "site"``, ``subtype =
"<domain>/<outcome>"``, country entity.

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
"""
from __future__ import annotations

import pandas as pd

from shutdown.schema import OONI_OUTCOMES, SIGNALS, SITE_SIGNAL
from shutdown.sources import Request
from shutdown.sources.blocks import TidyBuilder
from shutdown.sources.windows import chunks

SOURCE = "ooni"


def plan(case) -> list[Request]:
    from shutdown.sources import ooni
    domains = case.site_domains() if hasattr(case, "site_domains") else ()
    if not domains:
        return []
    start, end = case.fetch_utc
    reqs = []
    for since, until in chunks(start, end, ooni.CHUNK):
        params = {"probe_cc": case.country, "test_name": "web_connectivity",
                  "domain": ",".join(domains), "since": ooni._when(since),
                  "until": ooni._when(until), "axis_x": "measurement_start_day",
                  "axis_y": "domain", "time_grain": "hour"}
        reqs.append(Request(SOURCE, ooni.PATH, params, entity_type="country",
                            entity_code=case.country,
                            label=f"sites country/{case.country} {since:%Y-%m-%d}..{until:%Y-%m-%d}"))
    return reqs


def normalize(case, cache, out: TidyBuilder | None = None) -> pd.DataFrame | None:
    """Tidy rows per domain and outcome on the full hourly grid of each fetched chunk;
    added to ``out`` when given (one table with the other OONI rows), else returned."""
    from shutdown.sources import ooni
    own = out is None
    out = TidyBuilder() if own else out
    unit = SIGNALS[(SOURCE, SITE_SIGNAL)][0]
    for req in plan(case):
        hit = cache.get(SOURCE, req.path, req.params)
        if hit is None:
            continue
        sim = bool(hit.meta.get("simulated", False)) or cache.simulated
        hours = ooni._hours(req.params)
        rows = hit.json().get("result") or []
        for dom in req.params["domain"].split(","):
            mine = {"result": [r for r in rows if str(r.get("domain", "")).lower() == dom]}
            grid = ooni.hourly_counts(mine, hours)
            for j, outcome in enumerate(OONI_OUTCOMES, start=1):
                out.add(source=SOURCE, entity_type="country", entity_code=case.country,
                        signal=SITE_SIGNAL, subtype=f"{dom}/{outcome}", unit=unit, ts=hours,
                        values=grid[0, :, j], simulated=sim)
    return out.frame() if own else None
