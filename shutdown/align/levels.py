"""Level signals (``kind = "level"``) judged against an event: the transitions of the
intervals detection found (a fall from normal, a return to it), inside, before or after
the event's window, with the interval's strength as evidence."""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.detect import thresholds

# -- transitions -------------------------------------------------------------------------
def _transitions(iv: pd.DataFrame, shows: str, step: float) -> pd.Series:
    """Times of the transitions an expectation looks for, in one series' intervals."""
    if len(iv) == 0:
        return pd.Series(dtype="datetime64[ns, UTC]")
    if shows in ("down", "may-not-show"):
        d = iv[iv["direction"] == "down"]
        if "depth_from" in d:      # a fall: from normal, or a piece deeper than the one before
            ok = (d["start_from"] == "normal") | (d["depth"] - d["depth_from"] >= step)
        else:
            ok = (d["start_from"] == "normal") | ((d["kind"] == "full") & (d["start_from"] == "partial"))
        return d.loc[ok & ~d["censored_start"].astype(bool), "start_utc"]
    if shows == "anomaly-up":
        d = iv[iv["direction"] == "up"]
        return d.loc[~d["censored_start"].astype(bool), "start_utc"]
    if shows == "up":
        d = iv[iv["direction"] == "down"]
        if "depth_to" in d:        # a return: to normal, or to a shallower piece
            ok = (d["end_to"] == "normal") | (d["depth"] - d["depth_to"] >= step)
        else:
            ok = (d["end_to"] == "normal") | ((d["kind"] == "full") & (d["end_to"] == "partial"))
        return d.loc[ok & ~d["censored_end"].astype(bool), "end_utc"]
    # no-change: any start or end
    starts = iv.loc[~iv["censored_start"].astype(bool), "start_utc"]
    ends = iv.loc[~iv["censored_end"].astype(bool), "end_utc"]
    return pd.concat([starts, ends])


def _down_during(iv, a, b) -> bool:
    d = iv[iv["direction"] == "down"]
    return bool(((d["start_utc"] <= a) & (d["end_utc"] >= b)).any())


def _judge(shows: str, iv: pd.DataFrame, ws, we, horizon, main: str = "down",
           th=thresholds.DEFAULT):
    """(verdict, transition time or None, matching interval row or None, reason).

    ``main`` is the direction of the event as a whole; a "may-not-show" source is
    looked at in that direction (a restoration is a return, even on BGP).
    """
    look = main if shows == "may-not-show" else shows
    tr = _transitions(iv, look, th.MIN_STEP).sort_values()
    # a transition at t means "by the bin starting at t": one exactly at the window's end
    # happened inside it
    if shows == "no-change":
        inside = tr[(tr >= ws) & (tr <= we)]
        if len(inside):
            t = inside.iloc[0]
            return "contradicted", t, _row_at(iv, t), "a transition where the event says nothing changes"
        return "confirmed", None, None, "stayed as it was, as expected for this kind of event"
    inside = tr[(tr >= ws) & (tr <= we)]
    which = "end" if look == "up" else "start"
    if len(inside):
        t = inside.iloc[0]
        return "confirmed", t, _row_at(iv, t, which), ""
    before = tr[(tr >= ws - horizon) & (tr < ws)]
    after = tr[(tr > we) & (tr < we + horizon)]
    if look == "down" and len(before):
        # only when the source is still down as the window opens: an earlier outage that
        # ended before it is another event
        d = iv[(iv["direction"] == "down") & (iv["start_utc"] <= ws) & (iv["end_utc"] > ws)]
        if not len(d):
            before = before.iloc[0:0]
    cands = [(abs((t - ws).total_seconds()), "confirmed-earlier", t) for t in before] + \
            [(abs((t - we).total_seconds()), "confirmed-later", t) for t in after]
    if cands:
        _, verdict, t = min(cands, key=lambda c: c[0])
        return verdict, t, _row_at(iv, t, which), ""
    if shows == "may-not-show":
        return "not-measurable", None, None, "this source can miss this kind of event"
    if look == "up":
        if _down_during(iv, ws, we):
            return "contradicted", None, None, "still down through the whole window"
        rev = _transitions(iv, "down", th.MIN_STEP)
        rev = rev[(rev >= ws) & (rev <= we)]
        if len(rev):
            return "contradicted", rev.iloc[0], _row_at(iv, rev.iloc[0], "start"), "went down instead"
        return "not-observed", None, None, "no outage ended around the window"
    return "not-observed", None, None, "normal behaviour around the window"


def _row_at(iv, t, which: str = "start"):
    """The interval piece a transition belongs to: the one starting at t for a fall,
    the one ending at t for a return."""
    first, other = ("start_utc", "end_utc") if which == "start" else ("end_utc", "start_utc")
    for col in (first, other):
        m = iv[col] == t
        if m.any():
            return iv[m].iloc[0]
    return None


# -- evidence ----------------------------------------------------------------------------
def _minutes_label(m) -> str:
    m = float(m)
    return f"{m / 60:g} h" if m >= 60 else f"{m:g} min"


def _interval_evidence(hit, bin_minutes) -> dict:
    """A detected interval's strength: level before (normal = 1) and inside, bins, and its
    depth in units of the baseline's noise (z)."""
    sigma = float(hit.get("sigma", np.nan)) if "sigma" in hit else np.nan
    z = float(hit["depth"]) / sigma if sigma and sigma == sigma and sigma > 0 else np.nan
    nb = int(hit["n_bins"]) if "n_bins" in hit and hit["n_bins"] == hit["n_bins"] else None
    res = _minutes_label(bin_minutes) if bin_minutes == bin_minutes and bin_minutes else ""
    metric = hit.get("metric", "value")
    before = float(hit["baseline"]) if metric != "value" and "baseline" in hit else 1.0
    after = float(hit["level"]) if "level" in hit else np.nan
    what = "share" if metric != "value" else "of normal"
    ev = (f"{res} bins: {after:.0%} {what} over {nb} bins (normal {before:.0%}), "
          f"depth {float(hit['depth']):.2f} = {z:.0f} sigma" if z == z else
          f"{res} bins: depth {float(hit['depth']):.2f} over {nb} bins")
    return {"resolution": res, "n_before": None, "share_before": before, "n_after": nb,
            "share_after": after, "statistic": f"z={z:.1f}" if z == z else "", "p_value": None,
            "evidence": ev}
