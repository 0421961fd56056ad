"""OONI's aggregation API (``GET /api/v1/aggregation``): building requests on whole UTC
days and reading both services' answers and errors. Shared by ``ooni`` (volume and
per-test counts) and ``ooni_targeted`` (per-domain and circumvention counts); what the
two services accept and answer is described, with citations, in ``ooni``'s docstring."""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.schema import OONI_OUTCOMES
from shutdown.sources.blocks import numbers

PATH = "/api/v1/aggregation"
UNIT = "measurements"                # what every OONI row counts
HOUR_GRAIN_DAYS = 7                  # both services refuse hour grain over longer ranges

COUNT_FIELDS = {o: f"{o}_count" for o in OONI_OUTCOMES}
FIELDS = ["measurement_count", *COUNT_FIELDS.values()]


# -- building requests ----------------------------------------------------------------
def whole_days(start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` widened to UTC midnights."""
    lo = pd.Timestamp(start).tz_convert("UTC").floor("D")
    hi = pd.Timestamp(end).tz_convert("UTC").ceil("D")
    return lo, hi


def day_chunks(start, end, days: int = HOUR_GRAIN_DAYS) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Consecutive whole-UTC-day ``(since, until)`` pairs of at most ``days`` covering ``[start, end)``."""
    lo, hi = whole_days(start, end)
    out = []
    while lo < hi:
        out.append((lo, min(lo + pd.Timedelta(days=days), hi)))
        lo = out[-1][1]
    return out


def aggregation_params(since, until, *, probe_cc: str, time_grain: str = "hour",
                       axis_x: str = "measurement_start_day", axis_y: str | None = None,
                       test_name: str | None = None, probe_asn: int | str | None = None,
                       **filters) -> dict:
    """Query parameters of one aggregation request, valid for both OONI services.

    ``since``/``until`` must be UTC midnights (the FastAPI service takes dates
    only) and, for hour grain, at most 7 days apart; else ValueError. ``filters``
    are further OONI parameters (e.g. ``domain``), passed as given.
    """
    since, until = pd.Timestamp(since), pd.Timestamp(until)
    for name, t in (("since", since), ("until", until)):
        if t.tzinfo is None or t != t.tz_convert("UTC").floor("D"):
            raise ValueError(f"OONI {name} must be a UTC midnight, got {t}")
    if until <= since:
        raise ValueError(f"OONI until ({until:%Y-%m-%d}) must be after since ({since:%Y-%m-%d})")
    if time_grain == "hour" and until - since > pd.Timedelta(days=HOUR_GRAIN_DAYS):
        raise ValueError(f"OONI hour grain covers at most {HOUR_GRAIN_DAYS} days")
    p = {"probe_cc": probe_cc, "since": f"{since:%Y-%m-%d}", "until": f"{until:%Y-%m-%d}",
         "axis_x": axis_x, "time_grain": time_grain}
    if axis_y:
        p["axis_y"] = axis_y
    if test_name:
        p["test_name"] = test_name
    if probe_asn is not None:
        p["probe_asn"] = f"AS{str(probe_asn).upper().removeprefix('AS')}"
    p.update({k: v for k, v in filters.items() if v is not None})
    return p


def window(params: dict) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[since, until)`` of a request as UTC timestamps."""
    return pd.Timestamp(params["since"], tz="UTC"), pd.Timestamp(params["until"], tz="UTC")


# -- reading answers --------------------------------------------------------------------
def error_message(obj) -> str | None:
    """OONI's own message in an error body of either service, else None.

    FastAPI: ``{"msg": ...}``, ``{"detail": "..."}``, pydantic's 422
    ``{"detail": [{"loc": [..., "since"], "msg": ..., "input": ...}, ...]}``,
    the 429 ``{"error": "quota exceeded"}``; legacy: ``{"error": ...}``.
    """
    if not isinstance(obj, dict):
        return None
    for key in ("error", "msg"):
        if key in obj and "result" not in obj:
            return str(obj[key]) or f"(empty {key!r})"
    detail = obj.get("detail")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for d in detail:
            if isinstance(d, dict):
                loc = d.get("loc") or []
                where = str(loc[-1]) if loc else "?"
                got = f" (got {d['input']!r})" if "input" in d else ""
                parts.append(f"{where}: {d.get('msg', d.get('type', 'invalid'))}{got}")
            else:
                parts.append(str(d))
        return "; ".join(parts) or "invalid request"
    return None


def check_aggregation(obj) -> str | None:
    """None when ``obj`` is a usable aggregation answer (with at least one axis), else what is wrong."""
    if not isinstance(obj, dict):
        return f"unexpected body: expected a JSON object, got {type(obj).__name__}"
    said = error_message(obj)
    if said is not None:
        return f"OONI error: {said}"
    if "result" not in obj:
        return "unexpected body: aggregation answer without 'result'"
    if not isinstance(obj["result"], list):
        return "unexpected body: 'result' is not a list (was an axis dropped?)"
    for row in obj["result"]:
        if not isinstance(row, dict) or "measurement_start_day" not in row or "measurement_count" not in row:
            return "unexpected body: a result row lacks 'measurement_start_day' or 'measurement_count'"
    return None


def _asn(v):
    """``probe_asn`` of a row as an int (FastAPI and ClickHouse give ints; ``"AS123"`` is read too)."""
    if v is None:
        return None
    try:
        asn = int(str(v).upper().removeprefix("AS"))
    except ValueError:
        return None
    return asn if 0 <= asn < 2 ** 32 else None      # an ASN is 32 bits


def parse_aggregation(payload) -> pd.DataFrame:
    """Result rows as a frame: ts_utc, the count columns, and each axis column
    present (``probe_asn`` as an int). Works on either service's answer."""
    rows = payload.get("result") or []
    if isinstance(rows, dict):              # no axis: one total
        rows = [rows]
    df = pd.DataFrame(rows)
    if df.empty or "measurement_start_day" not in df:
        return pd.DataFrame({"ts_utc": pd.Series(dtype="datetime64[ns, UTC]"),
                             **{c: pd.Series(dtype="float64") for c in FIELDS}})
    # an unreadable time or count is NaT/NaN (not zero): hourly_counts makes it a counted gap
    df["ts_utc"] = pd.to_datetime(df["measurement_start_day"].map(lambda v: v if isinstance(v, str) else None), utc=True,
                                  format="ISO8601", errors="coerce").astype("datetime64[ns, UTC]")
    for c in FIELDS:
        df[c] = (numbers([0 if v is None or v is np.nan else v for v in df[c]])
                 if c in df else 0.0)
    # an outcome counted more often than there were measurements: the row is garbage
    over = np.zeros(len(df), dtype=bool)
    for c in FIELDS[1:]:
        over |= (df[c] > df["measurement_count"]).to_numpy()
    df.loc[over, FIELDS] = np.nan
    if "probe_asn" in df:
        df["probe_asn"] = pd.array([_asn(v) for v in df["probe_asn"]], dtype="Int64")
    keep = ["ts_utc", *FIELDS] + [c for c in ("test_name", "probe_asn", "probe_cc", "domain",
                                              "input", "category_code", "blocking_type") if c in df]
    return df[keep]


def hourly_counts(payload, hours: pd.DatetimeIndex, asns=None, builder=None) -> np.ndarray:
    """Counts on an hourly grid: shape (1 + len(asns), len(hours), 5); row 0 is
    every row (the country), row 1+i the rows of ``asns[i]``; the last axis is
    measurement, ok, anomaly, confirmed, failure. Hours OONI left out are zero;
    rows outside ``hours`` are dropped (the trim to the case window). A row with an
    unreadable count makes its hour a gap (NaN, never zero), one with an unreadable
    time is left out; both are counted in ``builder.skipped`` (blocks.numbers)."""
    asns = [int(a) for a in (asns or [])]
    grid = np.zeros((1 + len(asns), len(hours), len(FIELDS)))
    df = parse_aggregation(payload)
    if df.empty or not len(hours):
        return grid
    vals = df[FIELDS].to_numpy(dtype="float64")
    readable = df["ts_utc"].notna().to_numpy() & ~np.isnan(vals).any(axis=1)
    if builder is not None:
        builder.skipped += int((~readable).sum())
    idx = ((df["ts_utc"] - hours[0]) // pd.Timedelta(hours=1)).fillna(-1).to_numpy(dtype="int64")
    on_grid = (idx >= 0) & (idx < len(hours))
    rows = [np.ones(len(df), dtype=bool)]
    if asns:
        row_asn = (df["probe_asn"].to_numpy(dtype="float64", na_value=np.nan)
                   if "probe_asn" in df else np.full(len(df), np.nan))
        rows += [row_asn == a for a in asns]
    for i, mine in enumerate(rows):
        m = on_grid & mine
        np.add.at(grid[i], idx[m & readable], vals[m & readable])
        grid[i, idx[m & ~readable]] = np.nan      # unknown, not zero
    return grid
