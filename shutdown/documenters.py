"""Other documenters of the same outages, held against the report and against the data.

A source may document outages of its own (Cloudflare Radar's Outage Center: curated
entries with a start, an end, a scope and a cause). Its declaration names the
function that reads them from the cache (``DECLARATION["documents"]``). They are a
second documented timeline, never read by detection; here, where claims meet
claims and measurements, each entry is compared

* with the report: its start with the window of the report's shutdown event it
  overlaps (or the nearest within two days), its end with the window of the report's
  restoration event nearest to it -- inside the window is "agrees", else "N min
  earlier/later" than the window (a report's day-precision window is wide: agreeing
  with it says no more than that);
* with the data: its start and end with the detected outage on which independent
  sources agree (the fused view) for the same country, if one overlaps it.

Report shutdown events that no entry overlaps are listed as "not documented by ...".
"""
from __future__ import annotations

import pandas as pd

COLUMNS = ["documenter", "entry", "start_utc", "end_utc", "report_event", "start_vs_report",
           "end_event", "end_vs_report", "start_vs_data", "end_vs_data", "description", "simulated"]
NEAR = pd.Timedelta(days=2)
START_KINDS = ("shutdown",)
END_KINDS = ("restoration",)


def documented(case, cache) -> list[tuple[str, pd.DataFrame]]:
    """[(documenter title, entries)] for the case's sources that document outages."""
    from shutdown.sources import registry
    out = []
    for name in case.sources:
        src = registry.get(name)
        how = src.documents
        if not how:
            continue
        df = getattr(src.module, how["function"])(case, cache)
        if df is not None and len(df):
            out.append((how.get("title", src.title), df))
    return out


def _minutes(t: pd.Timestamp, window: tuple) -> float:
    """0 inside the window, else signed minutes from it (negative: before it opens)."""
    a, b = window
    if t < a:
        return (t - a).total_seconds() / 60
    if t > b:
        return (t - b).total_seconds() / 60
    return 0.0


def _say(m: float, what: str, same: str) -> str:
    """``same`` when ``m`` is 0, else how many minutes earlier or later than ``what``."""
    return same if m == 0 else f"{abs(m):.0f} min {'earlier' if m < 0 else 'later'} than {what}"


def _vs_window(t, ev) -> str:
    return _say(_minutes(t, ev.window_utc), f"{ev.id}'s window", f"agrees (inside {ev.id}'s window)")


def _vs_time(t, ref, what) -> str:
    return _say((t - ref).total_seconds() / 60, what, f"agrees with {what}")


def _nearest(events, kinds, t: pd.Timestamp):
    cands = [e for e in events if e.kind in kinds]
    if not cands:
        return None
    best = min(cands, key=lambda e: abs(_minutes(t, e.window_utc)))
    return best if abs(_minutes(t, best.window_utc)) <= NEAR.total_seconds() / 60 else None


def compare(events, entries: pd.DataFrame, fused: pd.DataFrame, case, documenter: str) -> pd.DataFrame:
    """One row per entry (and per report shutdown event no entry overlaps): COLUMNS."""
    rows, matched = [], set()
    country = fused[(fused["entity_type"] == "country") & (fused["entity_code"] == case.country)] \
        if fused is not None and len(fused) else pd.DataFrame(columns=["start_utc", "end_utc"])
    for r in entries.to_dict("records"):
        s, e = pd.Timestamp(r["start_utc"]), r.get("end_utc")
        e = None if e is None or pd.isna(e) else pd.Timestamp(e)
        ev = _nearest(events, START_KINDS, s)
        over = [x for x in events if x.kind in START_KINDS and x.window_utc[0] < (e or s) and x.window_utc[1] > s]
        matched.update(x.id for x in over)
        end_ev = _nearest(events, END_KINDS, e) if e is not None else None
        det = country[(country["start_utc"] < (e or s + pd.Timedelta(minutes=1))) & (country["end_utc"] > s)]
        d0 = det["start_utc"].min() if len(det) else None
        d1 = det["end_utc"].max() if len(det) else None
        rows.append({
            "documenter": documenter, "entry": str(r.get("id", "")), "start_utc": s, "end_utc": e,
            "report_event": ev.id if ev else "",
            "start_vs_report": _vs_window(s, ev) if ev else "no report shutdown within 2 days",
            "end_event": end_ev.id if end_ev else "",
            "end_vs_report": ("still open" if e is None else _vs_window(e, end_ev) if end_ev
                              else "no report restoration within 2 days"),
            "start_vs_data": "no detected outage overlaps it" if d0 is None else
            _vs_time(s, d0, "the detected start"),
            "end_vs_data": "" if d1 is None or e is None else _vs_time(e, d1, "the detected end"),
            "description": str(r.get("description", "")),
            "simulated": bool(r.get("simulated", False)),
        })
    for ev in events:
        if ev.kind in START_KINDS and ev.scope == "national" and ev.id not in matched:
            rows.append({**{c: "" for c in COLUMNS}, "documenter": documenter, "report_event": ev.id,
                         "start_utc": ev.window_utc[0], "end_utc": ev.window_utc[1],
                         "start_vs_report": f"not documented by {documenter}", "simulated": False})
    return pd.DataFrame(rows, columns=COLUMNS)
