"""Score detected outage intervals against a simulation's ground truth.

Plain data in and out: the intervals ``shutdown.detect`` finds (columns of
``schema.INTERVAL_COLUMNS``) and the truth rows of ``load_ground_truth``. A truth
row is matched by intervals of the same source, entity, signal and subtype
going the same way (an OONI service block: any rising interval of that test),
within ``tolerance`` of the truth window.

Contiguous episodes (cut, partial return, cut) are separate truth rows; a
detector may merge them into one interval. So each truth row reports how much
of it detected intervals cover, and the start/end errors of the first and last
interval overlapping it -- read them together.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SCORE_COLUMNS = ["episode", "entity_type", "entity_code", "source", "signal", "subtype",
                 "direction", "kind", "depth", "start_utc", "end_utc", "detected", "covered",
                 "det_start_utc", "det_end_utc", "start_error_min", "end_error_min", "det_depth", "measurable"]


def _key_match(iv: pd.DataFrame, t) -> pd.Series:
    sel = ((iv["source"] == t.source) & (iv["entity_type"] == t.entity_type)
           & (iv["entity_code"] == t.entity_code) & (iv["signal"] == t.signal))
    if "direction" in iv:
        sel &= iv["direction"] == t.direction
    if t.direction != "up":                # a rising OONI share may carry no subtype
        sel &= iv["subtype"].fillna("") == t.subtype
    return sel


def score(intervals: pd.DataFrame, truth: pd.DataFrame, tolerance="1h",
          min_cover: float = 0.5, tidy: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per truth row: detected (covered >= ``min_cover``), covered
    fraction, the matched span and its start/end errors in minutes (detected
    minus true; negative = early), and the deepest matched depth. With the tidy
    table, ``measurable`` says whether the series exists at all (a region's
    RIPE Atlas probes, say, may not be a series): a miss there is no detector fault."""
    tol = pd.Timedelta(tolerance)
    have = None
    if tidy is not None:
        have = set(zip(tidy["source"], tidy["entity_type"], tidy["entity_code"], tidy["signal"]))
    rows = []
    for t in truth.itertuples(index=False):
        iv = intervals[_key_match(intervals, t)]
        iv = iv[(iv["end_utc"] > t.start_utc - tol) & (iv["start_utc"] < t.end_utc + tol)]
        span = (t.end_utc - t.start_utc).total_seconds()
        cover = 0.0
        if len(iv) and span > 0:
            a = iv["start_utc"].clip(lower=t.start_utc)
            b = iv["end_utc"].clip(upper=t.end_utc)
            cover = float((b - a).dt.total_seconds().clip(lower=0).sum()) / span
        rec = {"episode": t.episode, "entity_type": t.entity_type, "entity_code": t.entity_code,
               "source": t.source, "signal": t.signal, "subtype": t.subtype,
               "direction": t.direction, "kind": t.kind, "depth": t.depth,
               "start_utc": t.start_utc, "end_utc": t.end_utc, "detected": cover >= min_cover,
               "covered": min(cover, 1.0), "det_start_utc": pd.NaT, "det_end_utc": pd.NaT,
               "start_error_min": np.nan, "end_error_min": np.nan, "det_depth": np.nan,
               "measurable": (None if have is None else
                              (t.source, t.entity_type, t.entity_code, t.signal) in have)}
        if len(iv):
            s, e = iv["start_utc"].min(), iv["end_utc"].max()
            rec.update(det_start_utc=s, det_end_utc=e,
                       start_error_min=(s - t.start_utc).total_seconds() / 60,
                       end_error_min=(e - t.end_utc).total_seconds() / 60,
                       det_depth=float(iv["depth"].max()))
        rows.append(rec)
    out = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    for c in ("start_utc", "end_utc", "det_start_utc", "det_end_utc"):
        out[c] = pd.to_datetime(out[c], utc=True)
    return out


def false_positives(intervals: pd.DataFrame, truth: pd.DataFrame, tolerance="1h") -> pd.DataFrame:
    """Detected intervals on a series that has truth rows but overlapping none of them."""
    tol = pd.Timedelta(tolerance)
    keep = []
    for i, iv in enumerate(intervals.itertuples(index=False)):
        same = truth[(truth["source"] == iv.source) & (truth["entity_type"] == iv.entity_type)
                     & (truth["entity_code"] == iv.entity_code) & (truth["signal"] == iv.signal)]
        if getattr(iv, "direction", "down") != "up":
            same = same[same["subtype"] == (iv.subtype or "")]
        if not len(same):
            continue                          # a series without truth: nothing to judge
        hit = (same["end_utc"] > iv.start_utc - tol) & (same["start_utc"] < iv.end_utc + tol)
        if not hit.any():
            keep.append(i)
    return intervals.iloc[keep].reset_index(drop=True)


def summary(scored: pd.DataFrame, fps: pd.DataFrame | None = None) -> dict:
    """Recall, median absolute start/end errors (minutes) of detected rows, false positives."""
    det = scored[scored["detected"]]
    judged = scored[scored["measurable"] != False]          # noqa: E712 (None = unknown)
    return {"truth_rows": int(len(scored)), "measurable": int(len(judged)), "detected": int(len(det)),
            "recall": float(len(det) / len(judged)) if len(judged) else float("nan"),
            "median_abs_start_error_min": float(det["start_error_min"].abs().median()) if len(det) else float("nan"),
            "median_abs_end_error_min": float(det["end_error_min"].abs().median()) if len(det) else float("nan"),
            "false_positives": int(len(fps)) if fps is not None else None}
