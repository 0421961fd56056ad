"""Detection: from the tidy measurement table to outage intervals.

Reads only the measurements -- never the documented timeline (alignment is where
the two meet). Plain data in and out::

    from shutdown import detect
    iv = detect.detect(tidy, window=(start, end))           # intervals, one per row
    res = detect.run(tidy, window=(start, end), baseline=(b0, start), tz="Asia/Almaty")
    res.intervals, res.series, res.fused, res.notes
    store.write_dataset(tables, "ds/")                      # one Parquet file per source and entity
    res = detect.run_dataset("ds/", window, scheduler=None)  # the same, on Dask (detect/cluster.py)
    dets = detect.run_datasets([("ds1/", w1, b1, tz1), ...])  # many small ones, each its own window

Stages (one module each): ``series`` splits the table into series and derives
the OONI anomaly share and the Atlas reachable share; ``baseline`` learns normal
behaviour before the window (daily profile, weekly factor where it matters,
robust noise); ``intervals`` applies hysteresis, minimum duration and the
full/partial split; ``fusion`` finds when independent sources agree (``fuse``).
``thresholds`` holds every number, with its reason.

Interval columns: ``schema.INTERVAL_COLUMNS`` plus ``metric`` (value |
anomaly_share | reachable_share), ``baseline`` (median expected value over the
interval), ``n_bins``, ``start_from`` / ``end_to`` (normal | full | partial:
what precedes and follows the piece), ``censored_start`` / ``censored_end``
(the outage runs past the window or the data), ``enter`` and ``sigma`` (the
threshold used and the baseline noise). For ``direction="down"``, ``depth`` is
the fraction of normal lost and ``level`` what remains; for ``direction="up"``
(OONI anomaly share), ``depth`` is the rise of the share above its baseline and
``level`` the share itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shutdown.errors import InputError
from shutdown.schema import TIDY_COLUMNS
from shutdown.detect import baseline as _baseline
from shutdown.detect import evidence as _evidence
from shutdown.detect import intervals as _intervals
from shutdown.detect import series as _series
from shutdown.detect import thresholds as _thresholds
from shutdown.detect.fusion import FUSED_COLUMNS, family, fuse

__all__ = ["run", "run_groups", "run_dataset", "run_datasets", "detect", "profile", "coverage", "fuse", "family", "expected_values",
           "Detection", "thresholds", "FUSED_COLUMNS", "SERIES_COLUMNS"]

SERIES_COLUMNS = ["source", "entity_type", "entity_code", "signal", "subtype", "metric",
                  "bin_minutes", "n_baseline", "n_window", "status", "reason", "enter",
                  "sigma", "simulated"]
REASONS = {
    "ok": "",
    "no-baseline": "too little data before the window to learn normal behaviour",
    "zero-baseline": "the signal is zero (or nearly) before the window: nothing to lose",
    "no-data": "no value inside the window",
    "too-small": "too few measurements or probes to tell a drop from chance",
}


@dataclass
class Detection:
    intervals: pd.DataFrame
    series: pd.DataFrame          # one row per series: coverage and whether it was judged
    fused: pd.DataFrame
    notes: list = field(default_factory=list)
    window: tuple = ()
    baseline: tuple = ()
    rows: dict = field(default_factory=dict, repr=False)
    series_set: object = field(default=None, repr=False)
    fit: object = field(default=None, repr=False)
    # count-based signals judged by statistics (detect/evidence.py): changes with their
    # evidence, per-series resolution and status, and the raw counts by series id
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    counts: dict = field(default_factory=dict, repr=False)
    # the thresholds this detection used (alignment judges count evidence with the same)
    thresholds: _thresholds.Thresholds = field(default=_thresholds.DEFAULT, repr=False)

    @property
    def simulated(self) -> bool:
        return bool(len(self.series) and self.series["simulated"].any())


def _ts(x, what) -> pd.Timestamp:
    try:
        t = pd.Timestamp(x)
    except (ValueError, TypeError):
        raise InputError(f"{what}: not a time: {x!r}") from None
    if t is pd.NaT:
        raise InputError(f"{what}: missing time")
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _window(window, baseline, tidy_min):
    if window is None or len(window) != 2:
        raise InputError("window: expected (start, end) in UTC")
    w0, w1 = _ts(window[0], "window start"), _ts(window[1], "window end")
    if w1 <= w0:
        raise InputError(f"window: end {w1} is not after start {w0}")
    if baseline is None:
        b0 = tidy_min if tidy_min is not None and tidy_min < w0 else w0
        b = (b0, w0)
    else:
        if len(baseline) != 2:
            raise InputError("baseline: expected (start, end) in UTC")
        b = (_ts(baseline[0], "baseline start"), _ts(baseline[1], "baseline end"))
        if b[1] < b[0]:
            raise InputError(f"baseline: end {b[1]} is before start {b[0]}")
    return (w0, w1), b


def _tz_offset_ns(tz, at: pd.Timestamp) -> int:
    if not tz:
        return 0
    try:
        off = at.tz_convert(tz).utcoffset()
    except Exception:
        raise InputError(f"unknown time zone {tz!r}") from None
    return int(off.total_seconds() * 10**9)


def run(tidy: pd.DataFrame, window, baseline=None, tz: str | None = None,
        thresholds: dict | None = None) -> Detection:
    """Detect outages in ``window`` (UTC start, end), learning normal from ``baseline``
    (default: everything in the table before the window). ``tz`` (IANA) only decides
    which local weekday a bin falls on, for the weekly cycle. ``thresholds``: a
    ``thresholds.Thresholds``, or a dict replacing some of the defaults for this run,
    e.g. ``{"K_NOISE": 5.0}`` (an unknown name is an error). The values are passed down
    as a value: runs with different thresholds may run at the same time."""
    return _run(tidy, window, baseline, tz, _thresholds.resolve(thresholds))


def _run(tidy, window, baseline, tz, th, keep_rows: bool | None = None) -> Detection:
    _series.check_columns(tidy)
    s = _series.build(tidy, th)
    tmin = pd.Timestamp(s.min_ts(), tz="UTC") if len(s.ts) else None
    (w0, w1), (b0, b1) = _window(window, baseline, tmin)
    fit = _baseline.fit(s, b0.value, b1.value, _tz_offset_ns(tz, w0), th=th)
    iv, rows = _intervals.find(s, fit, w0.value, w1.value, keep_rows=keep_rows, th=th)
    ser = _coverage(s, fit, w0.value, w1.value, th)
    ch, ev, counts = _evidence.changes(tidy, (w0, w1), (b0, b1), _tz_offset_ns(tz, w0), th=th)
    notes = list(s.notes) + _notes(ser, (b0, b1), empty=len(tidy) == 0, evidence=ev)
    return Detection(intervals=iv, series=ser, fused=fuse(iv), notes=notes,
                     window=(w0, w1), baseline=(b0, b1), rows=rows, series_set=s, fit=fit,
                     changes=ch, evidence=ev, counts=counts, thresholds=th)


def _notes(ser: pd.DataFrame, baseline, empty: bool, evidence: pd.DataFrame | None = None) -> list[str]:
    b0, b1 = baseline
    notes = ["the table is empty: nothing to detect"] if empty else []
    small = int((ser["status"] == "too-small").sum())
    bad = int((ser["status"] == "no-baseline").sum())
    if small:
        ev = evidence if evidence is not None else pd.DataFrame({"status": []})
        notes.append(f"{small} series are too small for the per-bin detector (few OONI "
                     "measurements or Atlas probes); see --view series. Count series are judged "
                     f"by pooled statistics instead (hour / 6 h / day): {int((ev['status'] == 'ok').sum())} "
                     f"judged, {int((ev['status'] != 'ok').sum())} with too few tests or probes "
                     "even pooled (insufficient evidence); see --view evidence")
    if bad:
        notes.append(f"{bad} series have too little data before the window "
                     f"({b0:%Y-%m-%d %H:%M} to {b1:%Y-%m-%d %H:%M} UTC) to learn a baseline; "
                     "they are not judged (not measurable)")
    return notes


def run_groups(groups, window, baseline, tz: str | None = None,
               thresholds: dict | None = None) -> Detection:
    """``run`` over a table given as groups of whole entities (DataFrames), one group in
    memory at a time, so memory stays that of the largest group however many entities
    there are. The intervals, series and fused view are those ``run`` gives on the whole
    table; the per-bin detail (``rows``, ``series_set``, ``fit``, for
    ``expected_values``) is not kept. ``baseline`` is required: no group alone knows
    where the table starts."""
    if baseline is None:
        raise InputError("baseline: required when detecting group by group")
    th = _thresholds.resolve(thresholds)
    parts = [_run_part(g, window, baseline, tz, th) for g in groups]
    return _combine(parts, window, baseline, tz, th)


def run_dataset(path, window, baseline=None, tz: str | None = None,
                thresholds: dict | None = None, scheduler=None) -> Detection:
    """``run`` over a partitioned dataset (``store.write_dataset``: one Parquet file per
    source and entity), on Dask (``detect/cluster.py``): each partition is judged whole by a
    worker, with the memory of one partition. ``scheduler``: a running cluster's address (or
    a ``distributed.Client``); default ``$SHUTDOWN_SCHEDULER``, else a cluster on this
    machine, one worker per core. ``baseline`` defaults to everything before the window,
    from the files' statistics. As ``run_groups``, the per-bin detail is not kept."""
    from shutdown import store
    from shutdown.detect import cluster
    files = store.dataset_files(path)
    if baseline is None:
        t0, _ = store.dataset_time_range(path)
        w0 = _ts(window[0], "window start") if window is not None and len(window) == 2 else None
        baseline = (t0 if t0 is not None and w0 is not None and pd.Timestamp(t0) < w0 else w0, w0)
    _window(window, baseline, None)          # bad input fails here, not in a worker
    th = _thresholds.resolve(thresholds)
    parts = cluster.detect_parts(_run_part, files, window, baseline, tz, th, scheduler)
    return _combine(parts, window, baseline, tz, th)


def run_datasets(jobs, thresholds: dict | None = None, scheduler=None) -> list[Detection]:
    """``run`` of several datasets (``store.write_dataset``), each read and judged whole
    with its own window, baseline and time zone (``jobs``: (path, window, baseline, tz)
    each: a survey's records), keeping the detail ``run`` keeps (alignment reads it). Batches
    of datasets are Dask tasks, on ``scheduler`` (default ``$SHUTDOWN_SCHEDULER``); with no
    cluster named and fewer than ``cluster.LOCAL_CLUSTER_ROWS`` rows in all, the same tasks
    run in this process (a LocalCluster would cost more to start than it saves). The
    Detections are those ``run`` gives on each dataset's table (tests/test_detect_groups.py)."""
    from shutdown import store
    from shutdown.detect import cluster
    todo = []
    for path, window, baseline, tz in jobs:
        if baseline is None:
            raise InputError("baseline: required for each dataset", path=path)
        _window(window, baseline, None)          # bad input fails here, not in a worker
        _tz_offset_ns(tz, _ts(window[0], "window start"))
        todo.append((store.dataset_files(path), window, baseline, tz))
    return cluster.judge_datasets(_run, todo, _thresholds.resolve(thresholds), scheduler)


def _run_part(tidy, window, baseline, tz, th) -> tuple:
    d = _run(tidy, window, baseline, tz, th, keep_rows=False)      # a group's rows are not kept
    return (d.intervals, d.series, d.series_set.notes, d.window, d.baseline, d.changes,
            d.evidence, d.counts)


def _combine(parts, window, baseline, tz, th) -> Detection:
    if not parts:
        return _run(pd.DataFrame(columns=TIDY_COLUMNS), window, baseline, tz, th)
    iv, ser = _cat(p[0] for p in parts), _cat(p[1] for p in parts)
    extra = _merge_notes(n for p in parts for n in p[2])
    w, b = parts[0][3], parts[0][4]
    ch, ev = _cat(p[5] for p in parts), _cat(p[6] for p in parts)
    counts = {k: v for p in parts for k, v in p[7].items()}
    return Detection(intervals=iv, series=ser, fused=fuse(iv),
                     notes=extra + _notes(ser, b, False, evidence=ev), window=w, baseline=b,
                     changes=ch, evidence=ev, counts=counts, thresholds=th)


def _cat(frames) -> pd.DataFrame:
    """The parts' frames as one; empty parts are left out (their text columns are object,
    which would turn the others' strings into objects): the dtypes of the whole table's."""
    frames = list(frames)
    full = [f for f in frames if len(f)]
    return pd.concat(full, ignore_index=True) if full else frames[0]


def _merge_notes(notes) -> list[str]:
    """The parts' notes as one table's: notes that differ only in a count ("3 rows
    without a value ...") are one note with the counts summed; others appear once."""
    import re
    out: dict = {}
    for n in notes:
        m = re.fullmatch(r"(\D*?)(\d+)(\D.*)", n)
        key = (m.group(1), m.group(3)) if m else (n, None)
        out[key] = out.get(key, 0) + (int(m.group(2)) if m else 0)
    return [a if b is None else f"{a}{k}{b}" for (a, b), k in out.items()]


def detect(tidy: pd.DataFrame, window, baseline=None, tz: str | None = None,
           thresholds: dict | None = None) -> pd.DataFrame:
    """The intervals only (see ``run``)."""
    return run(tidy, window, baseline, tz, thresholds).intervals


def _coverage(s, fit, w0, w1, th) -> pd.DataFrame:
    keys = s.keys
    n = len(keys)
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SERIES_COLUMNS})
    n_window = s.n_values(*s.bounds(w0, w1))
    status = fit.status.copy()
    status[(status == "ok") & (n_window == 0)] = "no-data"
    enter, _ = _intervals.thresholds_for(keys, fit.sigma, th)
    out = keys[["source", "entity_type", "entity_code", "signal", "subtype", "metric"]].copy()
    out["bin_minutes"] = keys["bin_ns"].to_numpy() / 60e9
    out["n_baseline"] = fit.n_bins
    out["n_window"] = n_window
    out["status"] = status
    out["reason"] = [REASONS[x] for x in status]
    out["enter"] = enter
    out["sigma"] = fit.sigma
    out["simulated"] = keys["simulated"].to_numpy(dtype=bool)
    return out[SERIES_COLUMNS].reset_index(drop=True)


def coverage(tidy: pd.DataFrame, window, baseline=None, tz: str | None = None) -> pd.DataFrame:
    """Per series: baseline and window coverage, and whether it can be judged."""
    return run(tidy, window, baseline, tz).series


def profile(tidy: pd.DataFrame, window_start, baseline_start=None, tz: str | None = None):
    """The learnt normal behaviour per series (daily profile or flat level, noise): what
    the ``baseline`` module fits, as a frame (named apart from the module)."""
    s = _series.build(tidy)
    w0 = _ts(window_start, "window start")
    b0 = _ts(baseline_start, "baseline start") if baseline_start is not None else (
        pd.Timestamp(s.min_ts(), tz="UTC") if len(s.ts) else w0)
    fit = _baseline.fit(s, b0.value, w0.value, _tz_offset_ns(tz, w0))
    return _baseline.profile_frame(s, fit)


def expected_values(det: Detection) -> pd.DataFrame:
    """Per window bin of every judged series: value, expected, deviation, state, kind.

    For plots ("normal" band against the measurement) and for checking a detection.
    """
    r, s = det.rows, det.series_set
    if not r or len(r["key"]) == 0:
        return pd.DataFrame(columns=["source", "entity_type", "entity_code", "signal", "subtype",
                                     "metric", "ts_utc", "value", "expected", "deviation",
                                     "down", "full"])
    meta = s.keys.iloc[r["key"]].reset_index(drop=True)
    out = meta[["source", "entity_type", "entity_code", "signal", "subtype", "metric"]].copy()
    out["ts_utc"] = pd.to_datetime(r["ts"], utc=True)
    out["value"] = r["value"]
    out["expected"] = det.fit.expected(r["key"], r["ts"])
    out["deviation"] = r["dev"]
    out["down"] = r["state"] == 1
    out["full"] = (r["state"] == 1) & (r["full"] == 1)
    return out
