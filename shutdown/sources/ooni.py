"""OONI API v1: hourly measurement counts through the aggregation endpoint.

Upstream shapes, from OONI's API code and its tests (ooni/backend:
api/ooniapi/aggregation.py, api/ooniapi/urlparams.py,
api/tests/integ/test_aggregation.py):

* ``GET /api/v1/aggregation?probe_cc=KZ[&probe_asn=AS9198][&test_name=a,b]
  &since=2022-01-01T18:00:00&until=...&axis_x=measurement_start_day
  &time_grain=hour[&axis_y=test_name]``; ``since`` is inclusive, ``until``
  exclusive; ``probe_asn`` takes ``AS9198`` or ``9198``.
* answer ``{"v": 0, "dimension_count": n, "result": [...], "db_stats": {...}}``;
  each result row has ``anomaly_count``, ``confirmed_count``, ``failure_count``,
  ``ok_count``, ``measurement_count`` and the axis columns. With hour grain,
  ``measurement_start_day`` is ``"2021-07-09T00:00:00Z"`` (day grain: ``"2021-07-09"``).
* hours without a measurement are absent (not zero).
* hour grain is refused for ranges longer than 7 days: HTTP 400 with
  ``{"error": "Choose time_grain between ...", "v": 0}``; a bad parameter comes
  back as HTTP 200 with ``{"error": ..., "v": 0}``. Both end the source.

Per entity (the country, and each ASN within it) and 7-day chunk, two requests:
the volume over all tests (``signal="measurements", subtype="all"``) and the
five tests of interest split by ``axis_y=test_name`` (``signal=<test>``,
``subtype`` = ok|anomaly|confirmed|failure, plus ``signal="measurements",
subtype=<test>``). Per-domain results are requested by ``ooni_sites`` (``requests``
lists both). OONI is rate limited: the fetcher keeps ``MIN_INTERVAL`` seconds
between requests.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.schema import OONI_OUTCOMES, OONI_TESTS, SIGNALS
from shutdown.sources import Request
from shutdown.sources.blocks import TidyBuilder
from shutdown.sources.windows import chunks

SOURCE = "ooni"
PATH = "/api/v1/aggregation"
CHUNK = pd.Timedelta(days=7)         # upstream refuses hour grain beyond 7 days
MIN_INTERVAL = 1.0                   # seconds between requests: be gentle with OONI
COUNT_FIELDS = {o: f"{o}_count" for o in OONI_OUTCOMES}


def _when(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S")


def entities(case) -> list[tuple[str, str]]:
    """OONI knows countries and networks; it has no regions."""
    return [("country", case.country)] + [("asn", str(n.asn)) for n in case.networks]


def plan(case) -> list[Request]:
    start, end = case.fetch_utc
    tests = ",".join(sorted(OONI_TESTS))
    reqs = []
    for etype, code in entities(case):
        base = {"probe_cc": case.country}
        if etype == "asn":
            base["probe_asn"] = f"AS{code}"
        for since, until in chunks(start, end, CHUNK):
            win = {"since": _when(since), "until": _when(until),
                   "axis_x": "measurement_start_day", "time_grain": "hour"}
            span = f"{since:%Y-%m-%d}..{until:%Y-%m-%d}"
            reqs.append(Request(SOURCE, PATH, {**base, **win}, entity_type=etype,
                                entity_code=code, label=f"volume {etype}/{code} {span}"))
            reqs.append(Request(SOURCE, PATH, {**base, **win, "test_name": tests, "axis_y": "test_name"},
                                entity_type=etype, entity_code=code,
                                label=f"tests {etype}/{code} {span}"))
    return reqs


def check_aggregation(obj) -> str | None:
    """None when ``obj`` is a usable aggregation answer, else what is wrong."""
    if not isinstance(obj, dict):
        return f"unexpected body: expected a JSON object, got {type(obj).__name__}"
    if obj.get("error"):
        return f"OONI error: {obj['error']}"
    if "result" not in obj:
        return "unexpected body: aggregation answer without 'result'"
    if not isinstance(obj["result"], list):
        return "unexpected body: 'result' is not a list (was an axis dropped?)"
    for row in obj["result"]:
        if not isinstance(row, dict) or "measurement_start_day" not in row or "measurement_count" not in row:
            return "unexpected body: a result row lacks 'measurement_start_day' or 'measurement_count'"
    return None


def requests(case) -> list[Request]:
    """Everything the OONI collector fetches: ``plan`` and the per-domain requests
    (``ooni_sites``)."""
    from shutdown.sources import ooni_sites
    return plan(case) + ooni_sites.plan(case)


def collect(case, fetcher, progress=None) -> None:
    for req in requests(case):
        fetcher.get_json(req.path, req.params, validate=check_aggregation)
        if progress is not None:
            if hasattr(progress, "set_postfix_str"):
                progress.set_postfix_str(req.label, refresh=False)
            progress.update(1)


def parse_aggregation(payload) -> pd.DataFrame:
    """Result rows as a frame: ts_utc, the count columns, and test_name/probe_asn when present."""
    rows = payload.get("result") or []
    df = pd.DataFrame(rows)
    cols = ["measurement_count", *COUNT_FIELDS.values()]
    if df.empty:
        return pd.DataFrame({"ts_utc": pd.Series(dtype="datetime64[ns, UTC]"),
                             **{c: pd.Series(dtype="float64") for c in cols}})
    df["ts_utc"] = pd.to_datetime(df["measurement_start_day"], utc=True).astype("datetime64[ns, UTC]")
    for c in cols:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64") if c in df else 0.0
    keep = ["ts_utc", *cols] + [c for c in ("test_name", "probe_asn", "probe_cc") if c in df]
    return df[keep]


def _hours(params) -> pd.DatetimeIndex:
    lo = pd.Timestamp(params["since"], tz="UTC")
    hi = pd.Timestamp(params["until"], tz="UTC")
    return pd.date_range(lo.ceil("h"), hi, freq="h", inclusive="left")


def hourly_counts(payload, hours: pd.DatetimeIndex, tests=None) -> np.ndarray:
    """Counts on a full hourly grid: shape (len(tests) or 1, len(hours), 5), the last
    axis being measurement, ok, anomaly, confirmed, failure. Hours OONI left out are
    zero; rows outside ``hours`` (or of other tests) are ignored."""
    keys = list(tests) if tests else [None]
    grid = np.zeros((len(keys), len(hours), 1 + len(COUNT_FIELDS)))
    rows = payload.get("result") or []
    if not rows or not len(hours):
        return grid
    ts = pd.to_datetime([r["measurement_start_day"] for r in rows], utc=True, format="ISO8601")
    idx = ((ts - hours[0]) // pd.Timedelta(hours=1)).to_numpy()
    where = {k: i for i, k in enumerate(keys)}
    k = np.array([where.get(r.get("test_name") if tests else None, -1) for r in rows])
    ok = (idx >= 0) & (idx < len(hours)) & (k >= 0)
    fields = ["measurement_count", *COUNT_FIELDS.values()]
    vals = np.array([[r.get(f) or 0 for f in fields] for r in rows], dtype="float64")
    np.add.at(grid, (k[ok], idx[ok]), vals[ok])
    return grid


def normalize(case, cache) -> pd.DataFrame:
    """Tidy rows for every cached aggregation answer; hours missing from a
    fetched chunk are zero measurements (that is how OONI reports them)."""
    out = TidyBuilder()
    unit = SIGNALS[(SOURCE, "measurements")][0]
    for req in plan(case):
        hit = cache.get(SOURCE, req.path, req.params)
        if hit is None:
            continue
        sim = bool(hit.meta.get("simulated", False)) or cache.simulated
        hours = _hours(req.params)
        label = dict(source=SOURCE, entity_type=req.entity_type, entity_code=req.entity_code,
                     unit=unit, ts=hours, simulated=sim)
        tests = req.params["test_name"].split(",") if "test_name" in req.params else None
        grid = hourly_counts(hit.json(), hours, tests)
        if tests is None:
            out.add(signal="measurements", subtype="all", values=grid[0, :, 0], **label)
            continue
        for i, test in enumerate(tests):
            out.add(signal="measurements", subtype=test, values=grid[i, :, 0], **label)
            for j, outcome in enumerate(COUNT_FIELDS, start=1):
                out.add(signal=test, subtype=outcome, values=grid[i, :, j], **label)
    from shutdown.sources import ooni_sites
    ooni_sites.normalize(case, cache, out)
    return out.frame()
