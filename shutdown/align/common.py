"""What every part of alignment shares: its constants, output columns, and the time of a
transition against an event's window."""
from __future__ import annotations

import pandas as pd

import functools
from dataclasses import dataclass
from types import MappingProxyType

from shutdown import verdict as _verdict
from shutdown.detect import thresholds
from shutdown.verdict import Verdict

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


@dataclass(frozen=True)
class Judged:
    """One judgement of alignment: a row of ``ALIGN_COLUMNS`` (or, from a judging engine,
    the part of one it decides: verdict, reason, times, evidence), read-only. Every engine
    (levels, trials, a whitelist's sites) returns one, so a misspelt column or an unknown
    verdict fails where it is made, not in a report."""
    fields: MappingProxyType

    @classmethod
    def of(cls, d) -> "Judged":
        if isinstance(d, Judged):
            return d
        bad = sorted(set(d) - set(ALIGN_COLUMNS))
        if bad:
            raise KeyError(f"not alignment columns: {bad}")
        d = dict(d)
        if "verdict" in d:
            d["verdict"] = Verdict(d["verdict"]).value      # ValueError: not a verdict
        return cls(MappingProxyType(d))

    @property
    def verdict(self) -> Verdict | None:
        v = self.fields.get("verdict")
        return None if v is None else Verdict(v)

    def get(self, key, default=None):
        return self.fields.get(key, default)

    def with_(self, **changes) -> "Judged":
        return Judged.of({**self.fields, **changes})

    def row(self) -> dict:
        return dict(self.fields)


def judged(fn):
    """A judging engine's dict result as a ``Judged``."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return Judged.of(fn(*args, **kwargs))
    return wrapper
