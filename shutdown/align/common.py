"""What every part of alignment shares: its constants, output columns, and the time of a
transition against an event's window."""
from __future__ import annotations

import pandas as pd

from shutdown import verdict as _verdict
from shutdown.detect import thresholds

# How far outside its window an event may still be matched. A report that gives a day
# can be off by a day (local vs UTC date, news reported the next morning); further
# away, a transition is more likely another event than this one.
HORIZON = pd.Timedelta(hours=24)

PRIMARY = ("down", "up", "anomaly-up", "may-not-show", "listed-vs-control")
CONFIRMING = _verdict.CONFIRMING
# Event verdict = best verdict among its primary rows, in this order. Data that saw
# nothing (not-observed) says more than data too thin to say (insufficient-evidence).
RANK = _verdict.RANK
DAY = pd.Timedelta(days=1)

ALIGN_COLUMNS = ["event", "kind", "scope", "window_start_utc", "window_end_utc", "expects",
                 "role", "source", "signal", "subtype", "metric", "entity_type", "entity_code",
                 "family", "verdict", "transition_utc", "transition_local", "minutes_off",
                 "minutes_from_window_start", "depth", "interval_kind", "reason",
                 "resolution", "uncertain_from", "uncertain_to", "n_before", "share_before",
                 "n_after", "share_after", "statistic", "p_value", "evidence", "simulated"]
SUMMARY_COLUMNS = ["event", "kind", "scope", "precision", "window_start_utc", "window_end_utc",
                   "window_local", "verdict", "n_sources", "sources", "transition_utc",
                   "transition_local", "minutes_off", "contradicted_by", "not_measurable",
                   "via", "resolution", "evidence", "title", "simulated"]
UNEXPLAINED_COLUMNS = ["source", "entity_type", "entity_code", "signal", "subtype",
                       "start_utc", "end_utc", "depth", "kind", "direction", "nearest_event",
                       "minutes_to_nearest", "simulated"]




def _thresholds_of(det):
    """The thresholds detection used (a Detection carries them), else the defaults."""
    return getattr(det, "thresholds", None) or thresholds.DEFAULT


def _times(t, ws, we, tz) -> dict:
    t = pd.Timestamp(t)
    off = 0.0 if ws <= t <= we else ((t - ws).total_seconds() / 60 if t < ws
                                    else (t - we).total_seconds() / 60)
    return {"transition_utc": t,
            "transition_local": t.tz_convert(tz).isoformat(timespec="minutes"),
            "minutes_off": round(off, 1),
            "minutes_from_window_start": round((t - ws).total_seconds() / 60, 1)}
