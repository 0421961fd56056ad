"""Scoring detections against a known truth (the simulator's ground truth).

Truth rows (``shutdown.simulation.truth``) and detected intervals are compared
per *series key* -- entity, source, signal, subtype and direction -- after
joining touching pieces on both sides into runs (the truth splits an outage where
its depth changes; the detector where it crosses full/partial). Names are
reconciled where the detector derives a signal:

* OONI app tests: truth ``(test, "anomaly", up)`` <-> detected anomaly share
  ``(test, "", up)``;
* OONI volume: truth ``measurements/all`` <-> detected ``measurements/all``
  (per-test volumes fall with it and count as the same truth);
* Atlas: truth ``probes_reachable/<class>`` <-> the reachable share of that class.

Figures: ``recall`` (truth rows -- episode pieces -- with an overlapping detection,
among those on a series the table holds and could judge), median absolute start
and end errors in minutes (from each truth boundary to the nearest detected
boundary of the same series: a full -> partial step is a boundary too),
``false_runs`` (detected runs overlapping no truth row of their series),
``false_runs_entity`` (... no truth row of their entity at all: the truth lists the
signals an episode was written for, while a cut also moves others), and
``false_episodes``: fused
outages (two independent sources agree) that overlap no truth episode of that
entity at all -- what a reader would take for an outage that never happened.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

KEY = ["entity_type", "entity_code", "source", "signal", "subtype", "direction"]


def _truth_keys(truth: pd.DataFrame) -> pd.DataFrame:
    t = truth.copy()
    for c in KEY:
        t[c] = t[c].astype(str)
    # a rising trials share (a test's anomaly share) is one series per signal, subtype ""
    up_test = t["source"].isin(_sources(lambda spec: spec.shape == "outcomes" and not spec.items)) \
        & (t["direction"] == "up")
    t.loc[up_test, "subtype"] = ""
    return t


def _detected_keys(iv: pd.DataFrame) -> pd.DataFrame:
    d = iv.copy()
    for c in KEY:
        d[c] = d[c].astype(str)
    # the volume a trials group totals over (OONI measurements per test) is scored as one
    # ("all"); raw counts (Atlas reporting, connected) are scored under their own names
    for source, spec, _ in _groups():
        if spec.total:
            d.loc[(d["source"] == source) & (d["signal"] == spec.total), "subtype"] = "all"
    return d


def _groups():
    from shutdown.sources import registry
    return registry.trial_groups()


def _sources(test) -> list[str]:
    return sorted({source for source, spec, _ in _groups() if test(spec)})


def _rising_metrics() -> list[str]:
    return sorted({spec.metric for _, spec, _ in _groups() if spec.moves == "up"})


def runs(df: pd.DataFrame, cols=KEY) -> pd.DataFrame:
    """Touching or overlapping intervals of one key joined into runs."""
    if len(df) == 0:
        return pd.DataFrame(columns=cols + ["start_utc", "end_utc"])
    out = []
    for k, g in df.sort_values("start_utc").groupby(cols, sort=False):
        cur = None
        for a, b in zip(g["start_utc"], g["end_utc"]):
            if cur is not None and a <= cur[1]:
                cur[1] = max(cur[1], b)
            else:
                if cur is not None:
                    out.append((*k, *cur))
                cur = [a, b]
        out.append((*k, *cur))
    return pd.DataFrame(out, columns=cols + ["start_utc", "end_utc"])


def score(intervals: pd.DataFrame, truth: pd.DataFrame, fused: pd.DataFrame | None = None,
          window=None, series: pd.DataFrame | None = None) -> dict:
    """Compare detections with truth; see the module docstring for the figures.

    ``series`` (``Detection.series``): truth rows on series the table does not hold,
    or could not judge (no baseline), are counted as unmeasurable, not as misses.
    """
    t = _truth_keys(truth)
    if window is not None:
        t = t[(t["end_utc"] > window[0]) & (t["start_utc"] < window[1])]
    t = t.reset_index(drop=True)
    d = _detected_keys(intervals) if len(intervals) else pd.DataFrame(columns=KEY + ["start_utc", "end_utc"])
    tkey = list(zip(*[t[c] for c in KEY])) if len(t) else []
    measurable = np.ones(len(t), bool)
    if series is not None:
        sr = series[series["status"] == "ok"].copy()
        sr["direction"] = np.where(sr["metric"].isin(_rising_metrics()), "up", "down")
        sr = _detected_keys(sr)
        have = set(zip(*[sr[c] for c in KEY])) if len(sr) else set()
        measurable = np.array([k in have for k in tkey], bool)
    dgroups = {k: g for k, g in d.groupby(KEY, sort=False)} if len(d) else {}
    found = np.zeros(len(t), bool)
    start_err, end_err = np.full(len(t), np.nan), np.full(len(t), np.nan)
    d_hit = pd.Series(False, index=d.index)
    for i, k in enumerate(tkey):
        g = dgroups.get(k)
        if g is None:
            continue
        a, b = t.at[i, "start_utc"], t.at[i, "end_utc"]
        ov = g[(g["start_utc"] < b) & (g["end_utc"] > a)]
        if not len(ov):
            continue
        found[i] = True
        d_hit[ov.index] = True
        # the detected boundary nearest to each truth boundary (pieces of one run share
        # boundaries: a full -> partial step is a boundary too)
        bounds = pd.concat([g["start_utc"], g["end_utc"]])
        start_err[i] = (bounds - a).abs().min().total_seconds() / 60
        end_err[i] = (bounds - b).abs().min().total_seconds() / 60
    # runs of detections that overlap no truth row of their key
    dr = runs(d)
    tr = runs(t)
    tgroups = {k: g for k, g in tr.groupby(KEY, sort=False)} if len(tr) else {}
    false = []
    for _, r in dr.iterrows():
        g = tgroups.get(tuple(r[c] for c in KEY))
        if g is None or not ((g["start_utc"] < r["end_utc"]) & (g["end_utc"] > r["start_utc"])).any():
            false.append(r)
    false = pd.DataFrame(false, columns=dr.columns)
    # lenient: no truth row at all on that entity then (the truth names the signals an
    # episode was written for; a cut also moves signals it does not list)
    ent = {}
    for _, r in t.iterrows():
        ent.setdefault((r["entity_type"], r["entity_code"]), []).append((r["start_utc"], r["end_utc"]))
    false_entity = false[[not any(a < r["end_utc"] and b > r["start_utc"]
                                  for a, b in ent.get((r["entity_type"], r["entity_code"]), []))
                          for _, r in false.iterrows()]] if len(false) else false
    m = measurable
    ep = t.assign(_found=found, _meas=m)
    by_ep = ep[ep["_meas"]].groupby("episode")["_found"].any() if m.any() else pd.Series(dtype=bool)
    unmeasurable_eps = sorted(set(ep["episode"]) - set(by_ep.index))
    false_eps = []
    if fused is not None and len(fused):
        for _, f in fused.iterrows():
            te = t[(t["entity_type"] == str(f["entity_type"])) & (t["entity_code"] == str(f["entity_code"]))
                   & (t["start_utc"] < f["end_utc"]) & (t["end_utc"] > f["start_utc"])]
            if te.empty:
                false_eps.append((f["entity_type"], f["entity_code"], f["start_utc"], f["end_utc"]))
    ok = found & m
    per_source = {}
    for src in sorted(set(t["source"])):
        sm = ok & (t["source"] == src).to_numpy()
        per_source[src] = {
            "found": int(sm.sum()), "measurable": int((m & (t["source"] == src).to_numpy()).sum()),
            "median_start_error_min": float(np.nanmedian(start_err[sm])) if sm.any() else float("nan"),
            "median_end_error_min": float(np.nanmedian(end_err[sm])) if sm.any() else float("nan")}
    return {
        "truth_rows": int(len(t)), "measurable_rows": int(m.sum()), "found_rows": int(ok.sum()),
        "recall": float(ok.sum() / m.sum()) if m.any() else float("nan"),
        "episodes": int(len(by_ep)), "episodes_found": int(by_ep.sum()),
        "missed_episodes": sorted(by_ep.index[~by_ep.to_numpy()]) if len(by_ep) else [],
        "unmeasurable_episodes": unmeasurable_eps,
        "median_start_error_min": float(np.nanmedian(start_err[ok])) if ok.any() else float("nan"),
        "median_end_error_min": float(np.nanmedian(end_err[ok])) if ok.any() else float("nan"),
        "per_source": per_source,
        "detected_runs": int(len(dr)), "false_runs": int(len(false)),
        "false_runs_entity": int(len(false_entity)),
        "false_episodes": false_eps,
        "missed": t.loc[m & ~found, KEY + ["start_utc", "end_utc", "depth", "episode"]],
        "false": false,
    }


def summary_line(name: str, s: dict) -> str:
    src = "; ".join(f"{k} {v['found']}/{v['measurable']} start {v['median_start_error_min']:.0f}"
                    f"/end {v['median_end_error_min']:.0f} min" for k, v in s["per_source"].items())
    return (f"{name}: episodes found {s['episodes_found']}/{s['episodes']} (unmeasurable: "
            f"{len(s['unmeasurable_episodes'])}); truth rows found {s['found_rows']}/"
            f"{s['measurable_rows']} measurable (recall {s['recall']:.2f}); median error start "
            f"{s['median_start_error_min']:.0f} min, end {s['median_end_error_min']:.0f} min "
            f"[{src}]; false runs {s['false_runs']} of {s['detected_runs']} (on an entity with no "
            f"truth then: {s['false_runs_entity']}); false fused "
            f"episodes {len(s['false_episodes'])}")


# -- verdicts against the truth ------------------------------------------------------------
# A confirmation may miss the truth by up to this much and still be right: one bin of the
# coarsest non-pooled signal (IODA gtr, 30 minutes).
VERDICT_TOLERANCE = pd.Timedelta(minutes=30)
VERDICT_COLUMNS = ["event", "truth_utc", "window_start_utc", "window_end_utc", "verdict",
                   "outcome", "minutes_error", "resolution"]


def score_verdicts(summary: pd.DataFrame, documented: dict) -> pd.DataFrame:
    """Each documented event the truth stands behind, judged by its verdict.

    ``summary``: one row per event (``align.summarize``: event, window_start_utc,
    window_end_utc, verdict, transition_utc, resolution); ``documented``: event id ->
    the true UTC time of the change it documents (``Scenario.documented()``).
    ``outcome``: *right* (confirmed with the truth inside the window, or earlier / later
    on the side where the truth lies), *WRONG* (confirmed with the truth outside the
    window, or the wrong side), *insufficient* (insufficient-evidence or not-measurable:
    no claim), *missed* (not-observed, contradicted).
    """
    recs = []
    s = summary.set_index("event") if len(summary) else summary
    for eid, t in documented.items():
        if eid not in s.index:
            continue
        r = s.loc[eid]
        t = pd.Timestamp(t)
        ws, we, v = r["window_start_utc"], r["window_end_utc"], r["verdict"]
        tol = VERDICT_TOLERANCE
        if v == "confirmed":
            ok = ws - tol <= t <= we + tol
        elif v == "confirmed-earlier":
            ok = t < ws + tol
        elif v == "confirmed-later":
            ok = t > we - tol
        else:
            ok = None
        outcome = ("right" if ok else "WRONG") if ok is not None else (
            "insufficient" if v in ("insufficient-evidence", "not-measurable") else "missed")
        tr = r.get("transition_utc")
        err = round((pd.Timestamp(tr) - t).total_seconds() / 60, 1) if ok is not None and pd.notna(tr) else None
        recs.append({"event": eid, "truth_utc": t, "window_start_utc": ws, "window_end_utc": we,
                     "verdict": v, "outcome": outcome, "minutes_error": err,
                     "resolution": r.get("resolution", "")})
    return pd.DataFrame(recs, columns=VERDICT_COLUMNS)


def verdict_line(name: str, v: pd.DataFrame) -> str:
    n = v["outcome"].value_counts()
    return (f"{name}: verdicts vs truth: {n.get('right', 0)} right, {n.get('WRONG', 0)} WRONG, "
            f"{n.get('insufficient', 0)} insufficient, {n.get('missed', 0)} missed "
            f"(of {len(v)} documented changes the truth stands behind)")
