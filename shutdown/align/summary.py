"""After alignment: one row per event (``summarize``), the independent sources behind
it, what a case's expectations ask (``expectation_results``), and the reverse direction,
outages nobody documented (``unexplained``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown import verdict as _verdict
from shutdown.align.common import (CONFIRMING, HORIZON, PRIMARY, RANK, SUMMARY_COLUMNS,
                                   UNEXPLAINED_COLUMNS, _times)
from shutdown.align.inputs import _expectations, scope_entities
from shutdown.schema import VERDICTS

# -- per-event summary -------------------------------------------------------------------
def _family_best(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per family: its best verdict (closest transition among ties)."""
    if len(rows) == 0:
        return rows
    r = rows.assign(_rank=rows["verdict"].map(RANK).fillna(_verdict.UNKNOWN_RANK),
                    _off=rows["minutes_off"].abs().fillna(np.inf),
                    _fam=rows["family"].fillna(rows["source"].fillna("?")))
    r = r.sort_values(["_rank", "_off", "transition_utc"], kind="stable")
    return r.drop_duplicates("_fam")


def summarize(rows: pd.DataFrame, events=None) -> pd.DataFrame:
    """One row per event: best verdict, independent sources confirming, measured time."""
    recs = []
    ev_by_id = {e.id: e for e in (events or [])}
    order = list(ev_by_id) or list(dict.fromkeys(rows["event"]))
    for eid in order:
        g = rows[rows["event"] == eid]
        ev = ev_by_id.get(eid)
        prim = g[g["role"] == "primary"]
        ctrl = g[g["role"] == "control"]
        via = ""
        if not (prim["verdict"] != "not-measurable").any() and (g["role"] == "proxy").any():
            prim, via = g[g["role"] == "proxy"], "country signals (no regional data)"
        fam = _family_best(prim)
        conf = fam[fam["verdict"].isin(CONFIRMING)]
        if len(fam):
            best = fam.iloc[0]["verdict"]
        else:
            best = "not-measurable"
        contra = sorted(set(g.loc[g["verdict"] == "contradicted", "family"].dropna())
                        | set(ctrl.loc[ctrl["verdict"] == "contradicted", "family"].dropna()))
        t = conf["transition_utc"].dropna()
        rec = {"event": eid, "verdict": best, "n_sources": int(conf["_fam"].nunique()) if len(conf) else 0,
               "sources": ",".join(f"{f}={v}" + (f"({m:+.0f}m)" if pd.notna(m) and m else "")
                                   for f, v, m in zip(fam["_fam"], fam["verdict"], fam["minutes_off"]))
               if len(fam) else "",
               "contradicted_by": ",".join(contra),
               "not_measurable": int((fam["verdict"] == "not-measurable").sum()) if len(fam) else 0,
               "via": via,
               "resolution": ",".join(dict.fromkeys(
                   str(r) for r in fam["resolution"].dropna() if str(r))) if len(fam) else "",
               "evidence": "; ".join(f"{f}: {e}" for f, e in zip(fam["_fam"], fam["evidence"])
                                     if isinstance(e, str) and e) if len(fam) else "",
               "simulated": bool(g["simulated"].any()) if len(g) else False}
        if len(g):
            rec.update(kind=g["kind"].iloc[0], scope=g["scope"].iloc[0],
                       window_start_utc=g["window_start_utc"].iloc[0],
                       window_end_utc=g["window_end_utc"].iloc[0])
        if ev is not None:
            ls, le = ev.local_window
            rec.update(kind=ev.kind, scope=ev.scope, precision=ev.precision, title=ev.title,
                       window_start_utc=ev.window_utc[0], window_end_utc=ev.window_utc[1],
                       window_local=f"{ls:%Y-%m-%d %H:%M}..{le:%Y-%m-%d %H:%M} {ev.tz}")
        if len(t):
            med = pd.Timestamp(np.median(t.astype("int64")), tz="UTC").floor("min")
            tz = ev.tz if ev is not None else "UTC"
            rec.update(_times(med, rec["window_start_utc"], rec["window_end_utc"], tz))
        recs.append(rec)
    out = pd.DataFrame(recs, columns=SUMMARY_COLUMNS)
    out["transition_utc"] = pd.to_datetime(out["transition_utc"], utc=True)
    return out


def independent_sources(rows: pd.DataFrame, event: str, verdicts=CONFIRMING) -> list[str]:
    """Families whose best verdict for ``event`` is one of ``verdicts`` (primary rows; the
    country's proxy rows when the event's own entity had no usable data)."""
    g = rows[rows["event"] == event]
    if (g.loc[g["role"] == "primary", "verdict"] != "not-measurable").any() or not (g["role"] == "proxy").any():
        g = g[g["role"] == "primary"]
    else:
        g = g[g["role"] == "proxy"]
    fam = _family_best(g)
    return sorted(fam.loc[fam["verdict"].isin(verdicts), "_fam"]) if len(fam) else []


def expectation_results(case, summary: pd.DataFrame, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per ``case.expectations`` entry: does the alignment satisfy it?

    ``n_sources`` counts independent sources (families) whose verdict is one of the
    expectation's verdicts (from ``rows`` when given, else from ``summary.sources``).
    """
    recs = []
    for e in case.expectations:
        s = summary[summary["event"] == e.event]
        if not len(s):
            recs.append({"event": e.event, "ok": False, "verdict": None, "n_sources": 0,
                         "required": ",".join(e.verdicts), "min_sources": e.min_sources,
                         "sources": "", "message": f"event {e.event!r} is not in the timeline"})
            continue
        s = s.iloc[0]
        if rows is not None:
            fams = independent_sources(rows, e.event, e.verdicts)
        else:
            fams = [p.split("=")[0] for p in str(s["sources"] or "").split(",")
                    if "=" in p and p.split("=")[1].split("(")[0] in e.verdicts]
        ok = s["verdict"] in e.verdicts and len(fams) >= e.min_sources
        msg = (f"{e.event}: {s['verdict']} by {len(fams)} independent source(s)"
               f" ({', '.join(fams) or 'none'}); required {'/'.join(e.verdicts)} by >= {e.min_sources}")
        recs.append({"event": e.event, "ok": bool(ok), "verdict": s["verdict"],
                     "n_sources": len(fams), "required": ",".join(e.verdicts),
                     "min_sources": e.min_sources, "sources": ",".join(fams), "message": msg})
    return pd.DataFrame(recs, columns=["event", "ok", "verdict", "n_sources", "required",
                                       "min_sources", "sources", "message"])


# -- the reverse direction ---------------------------------------------------------------
def _covers(ev, case, etype, ecode) -> bool:
    ents = scope_entities(ev, case)
    if (etype, str(ecode)) in [(a, str(b)) for a, b in ents]:
        return True
    # a national event touches every network and region of the country
    return ev.scope_type == "national" and etype in ("asn", "region")


def unexplained(events, intervals: pd.DataFrame, case=None, horizon: pd.Timedelta = HORIZON) -> pd.DataFrame:
    """Intervals the data shows that no documented event accounts for.

    An interval is accounted for when it overlaps (within ``horizon``) the window of an
    event whose kind expects that source to move, on an entity the event's scope covers
    -- or, for a restoration, when it ends near the event.
    """
    if isinstance(events, pd.DataFrame) or hasattr(events, "intervals"):
        events, intervals = intervals, events        # accept (intervals, events, case) too
    if hasattr(intervals, "fused"):
        intervals = intervals.fused
    if intervals is None or len(intervals) == 0:
        return pd.DataFrame(columns=UNEXPLAINED_COLUMNS)
    recs = []
    for _, r in intervals.iterrows():            # per interval, not per bin
        explained, nearest, dist = False, None, None
        for ev in events:
            ws, we = ev.window_utc
            d = 0.0 if (r["start_utc"] < we and r["end_utc"] > ws) else min(
                abs((r["start_utc"] - we).total_seconds()), abs((ws - r["end_utc"]).total_seconds())) / 60
            if nearest is None or d < dist:
                nearest, dist = ev.id, d
            if not _covers(ev, case, r["entity_type"], r["entity_code"]):
                continue
            moves = [e for e in _expectations(ev, case) if e.shows in PRIMARY
                     and e.source == r["source"] and (e.signal == r["signal"] or r["source"] == "fused")]
            if r["source"] == "fused":
                moves = [e for e in ev.expected if e.shows in ("down", "up")]
            if not moves:
                continue
            if r["start_utc"] < we + horizon and r["end_utc"] > ws - horizon:
                explained = True
                break
        if not explained:
            recs.append({**{c: r.get(c) for c in UNEXPLAINED_COLUMNS if c in r},
                         "nearest_event": nearest,
                         "minutes_to_nearest": round(dist, 1) if dist is not None else None})
    return pd.DataFrame(recs, columns=UNEXPLAINED_COLUMNS)


def check_verdicts(rows: pd.DataFrame) -> None:
    bad = set(rows["verdict"].dropna()) - set(VERDICTS)
    assert not bad, f"unknown verdicts {bad}"
