"""OONI API v1 aggregation answers, in the shape OONI's API code gives them.

Shape from ooni/backend (``api/ooniapi/aggregation.py``; the newer service in
``ooniapi/services/oonimeasurements/.../routers/v1/aggregation.py``):
``{"v": 0, "dimension_count": n, "db_stats": {...}, "result": [...]}``; a row
has ``anomaly_count`` (anomaly, not confirmed, not failed), ``confirmed_count``,
``failure_count``, ``ok_count``, ``measurement_count`` and the axis columns
(``measurement_start_day`` as ``"%Y-%m-%dT%H:%M:%SZ"`` for hour grain,
``"%Y-%m-%d"`` for day grain; ``probe_asn`` an integer); rows are ordered by
the axes; a bin without measurements has no row.

It plays the current (FastAPI) service, the collector's default:
``since``/``until`` are dates (a time other than midnight is pydantic's 422
``{"detail": [...]}``, ``date_from_datetime_inexact``); errors are
``{"msg": ..., "v": 0}`` (hour grain over more than 7 days: HTTP 400).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from shutdown.simulation.world import World

_COUNT_COLS = ("anomaly_count", "confirmed_count", "failure_count", "ok_count")
_OUTCOME_INDEX = {"ok": 0, "anomaly": 1, "confirmed": 2, "failure": 3}
_GRAINS = ((7, ("hour", "day", "auto")), (30, ("day", "week", "auto")),
           (365, ("day", "week", "month", "auto")), (9999999, ("day", "week", "month", "year", "auto")))


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _error(msg: str, status: int = 200) -> tuple[int, bytes]:
    return status, _dumps({"msg": msg, "v": 0})


def _date(name: str, value: str):
    """pydantic v2's lax ``date``: a date, or a datetime at exactly midnight; else a 422 item."""
    try:
        t = pd.Timestamp(value)
    except ValueError:
        return None, {"type": "date_from_datetime_parsing", "loc": ["query", name],
                      "msg": "Input should be a valid date or datetime", "input": value}
    if t != t.normalize():
        return None, {"type": "date_from_datetime_inexact", "loc": ["query", name],
                      "msg": "Datetimes provided to dates should have zero time - e.g. be exact dates",
                      "input": value,
                      "url": "https://errors.pydantic.dev/2.14/v/date_from_datetime_inexact"}
    return (t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")), None


def _time_grain(since, until, grain):
    delta = until - since
    if delta <= pd.Timedelta(0):
        raise ValueError("Invalid since and until values")
    for days, allowed in _GRAINS:
        if delta > pd.Timedelta(days=days):
            continue
        if grain not in allowed:
            raise ValueError(f"Choose time_grain between {', '.join(allowed)} for the given time range")
        return allowed[0] if grain == "auto" else grain
    raise ValueError("Unable to resolve time_grain")


def _span(params: dict):
    """(since, until, grain, None), or (None, None, None, error answer) as FastAPI gives it."""
    dates, bad = {}, []
    for name in ("since", "until"):
        if params.get(name):
            dates[name], err = _date(name, str(params[name]))
            if err:
                bad.append(err)
    if bad:
        return None, None, None, (422, _dumps({"detail": bad}))
    since, until = dates.get("since"), dates.get("until")
    if since is None or until is None:
        return None, None, None, _error("the simulator needs since and until", 400)
    try:
        grain = _time_grain(since, until, params.get("time_grain", "auto"))
    except ValueError as exc:
        return None, None, None, _error(str(exc), 400)
    return since, until, grain, None


def aggregation(world: World, params: dict) -> tuple[int, bytes]:
    cc = world.case.country
    axis_x, axis_y = params.get("axis_x"), params.get("axis_y")
    for ax in (axis_x, axis_y):
        if ax and ax not in ("measurement_start_day", "test_name", "probe_asn", "probe_cc"):
            return _error("Invalid axis name")   # the simulator only knows these axes
    if axis_x and axis_x == axis_y:
        return _error("Axis X and Y cannot be the same")
    since, until, grain, err = _span(params)
    if err:
        return err

    ccs = [c for c in (params.get("probe_cc") or "").split(",") if c]
    asns_param = [a for a in (params.get("probe_asn") or "").split(",") if a]
    asns = [int(a[2:]) if a.upper().startswith("AS") else int(a) for a in asns_param]
    tests = [t for t in (params.get("test_name") or "").split(",") if t]

    units = world.ooni_units if (not ccs or cc in ccs) else []
    if asns:
        units = [u for u in units if u in asns]
    hours = world.ooni_hours
    if grain == "hour":
        lo, hi = since.floor("h"), until.floor("h")
        bins = pd.to_datetime(hours, unit="s", utc=True).floor("h")
    else:
        lo, hi = since.floor("D"), until.floor("D")
        bins = pd.to_datetime(hours, unit="s", utc=True).floor("D")
    keep = np.asarray((bins >= lo) & (bins < hi))

    # counts[unit][test, outcome, hour] -> one (4, bins) array per non-time group key
    fmt = "%Y-%m-%dT%H:%M:%SZ" if grain == "hour" else "%Y-%m-%d"
    labels = pd.DatetimeIndex(bins[keep])
    if grain != "hour":
        uniq, inverse = np.unique(labels.tz_convert(None).values, return_inverse=True)
        labels = pd.DatetimeIndex(uniq).tz_localize("UTC")
    axes = [a for a in (axis_x, axis_y) if a]
    groups: dict = {}
    for unit in units:
        counts = world.ooni_counts[unit]
        for ti, test in enumerate(world.ooni_tests):
            if tests and test not in tests:
                continue
            c = counts[ti][:, keep]
            if grain != "hour":
                summed = np.zeros((4, len(labels)), dtype="int64")
                for o in range(4):
                    np.add.at(summed[o], inverse, c[o])
                c = summed
            gk = tuple((a, test) if a == "test_name" else
                       (a, unit if unit is not None else 0) if a == "probe_asn" else
                       (a, cc) for a in axes if a != "measurement_start_day")
            cur = groups.get(gk)
            groups[gk] = c.copy() if cur is None else cur + c
    time_axis = "measurement_start_day" in axes
    order = ("measurement_start_day", "probe_cc", "probe_asn", "test_name")
    rows, acc = [], None
    names = [lab.strftime(fmt) for lab in labels]
    for gk in sorted(groups, key=lambda k: tuple(v for _, v in k)):
        c = groups[gk]
        acc = c.sum(axis=1) if acc is None else acc + c.sum(axis=1)
        if not time_axis:
            if c.sum():
                rows.append((None, gk, c.sum(axis=1)))
            continue
        tot = c.sum(axis=0)
        rows.extend((j, gk, c[:, j]) for j in np.nonzero(tot)[0])
    rows.sort(key=lambda r: ((r[0] if r[0] is not None else -1),
                             tuple(v for _, v in r[1])))
    out_rows = []
    for j, gk, c in rows:
        row = {"anomaly_count": int(c[1]), "confirmed_count": int(c[2]),
               "failure_count": int(c[3]), "ok_count": int(c[0]), "measurement_count": int(c.sum())}
        ax = dict(gk)
        if j is not None:
            ax["measurement_start_day"] = names[j]
        for name in order:
            if name in ax:
                row[name] = ax[name]
        out_rows.append(row)
    rows = out_rows
    tot = acc if acc is not None else np.zeros(4, dtype="int64")
    dims = int(bool(axis_x)) + int(bool(axis_y))
    if dims == 0:
        result = {"anomaly_count": int(tot[1]), "confirmed_count": int(tot[2]),
                  "failure_count": int(tot[3]), "ok_count": int(tot[0]),
                  "measurement_count": int(tot.sum())}
    else:
        result = rows
    n = sum(r["measurement_count"] for r in rows) if dims else result["measurement_count"]
    body = {"v": 0, "dimension_count": dims,
            "db_stats": {"row_count": n, "bytes": n * 120, "total_row_count": n,
                         "elapsed_seconds": 0.0},
            "result": result}
    return 200, _dumps(body)


def site_aggregation(world: World, params: dict) -> tuple[int, bytes]:
    """``domain=a,b&axis_x=measurement_start_day&axis_y=domain`` for web_connectivity:
    rows per (time bin, domain) with measurements, ordered by the axes (the FastAPI
    router groups by axis_x then axis_y: ooni/backend
    ooniapi/services/oonimeasurements/.../routers/v1/aggregation.py, commit 32d8349d)."""
    if params.get("probe_asn"):
        return _error("the simulator has per-domain results per country only", 400)
    cc = world.case.country
    ccs = [c for c in (params.get("probe_cc") or "").split(",") if c]
    tests = [t for t in (params.get("test_name") or "").split(",") if t]
    doms = [d.lower() for d in (params.get("domain") or "").split(",") if d]
    since, until, grain, err = _span(params)
    if err:
        return err
    rows = []
    if (not ccs or cc in ccs) and (not tests or "web_connectivity" in tests):
        step = "h" if grain == "hour" else "D"
        fmt = "%Y-%m-%dT%H:%M:%SZ" if grain == "hour" else "%Y-%m-%d"
        bins = pd.to_datetime(world.ooni_hours, unit="s", utc=True).floor(step)
        keep = np.asarray((bins >= since.floor(step)) & (bins < until.floor(step)))
        labels = pd.DatetimeIndex(bins[keep])
        uniq, inverse = np.unique(labels.tz_convert(None).values, return_inverse=True)
        names = pd.DatetimeIndex(uniq).tz_localize("UTC").strftime(fmt)
        for dom in sorted(world.site_counts):
            if doms and dom not in doms:
                continue
            c = world.site_counts[dom][:, keep]
            summed = np.zeros((4, len(uniq)), dtype="int64")
            for o in range(4):
                np.add.at(summed[o], inverse, c[o])
            for j in np.nonzero(summed.sum(axis=0))[0]:
                v = summed[:, j]
                rows.append({"anomaly_count": int(v[1]), "confirmed_count": int(v[2]),
                             "failure_count": int(v[3]), "ok_count": int(v[0]),
                             "measurement_count": int(v.sum()),
                             "measurement_start_day": names[j], "domain": dom})
    rows.sort(key=lambda r: (r["measurement_start_day"], r["domain"]))
    n = sum(r["measurement_count"] for r in rows)
    body = {"v": 0, "dimension_count": 2,
            "db_stats": {"row_count": n, "bytes": n * 120, "total_row_count": n,
                         "elapsed_seconds": 0.0},
            "result": rows}
    return 200, _dumps(body)


def render(world: World, path: str, params: dict) -> tuple[int, bytes]:
    if path.rstrip("/") == "/api/v1/aggregation":
        if params.get("domain") or "domain" in (params.get("axis_x"), params.get("axis_y")):
            return site_aggregation(world, params)
        return aggregation(world, params)
    raise ValueError(f"the simulator does not know OONI path {path!r}")
