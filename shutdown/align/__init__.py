"""Alignment: the documented timeline against the detected intervals.

The only module where the report and the measurements meet. For every event,
each source expected to show it (``Event.expected``, from
``expect.expected_for``) is looked up on the entity the event's scope
names -- national -> the country, ``region:X`` -> region X, ``network:N`` -> AS N,
``service:a,b`` -> OONI's app tests for a and b -- and judged:

confirmed          a matching transition inside the event's window
confirmed-earlier  ... before the window (within ``HORIZON``), minutes_off < 0
confirmed-later    ... after the window (within ``HORIZON``), minutes_off > 0
not-observed       the source has data and saw no such transition
contradicted       the source shows the opposite (still down through a documented
                   restoration; a transition where the event says nothing changes)
not-measurable     no data, no baseline, or the source cannot see this kind of event

A *transition* is what the event kind implies: a shutdown is the start of a
down interval (or a partial cut deepening to full), a restoration the end of one
(or full easing to partial), a restriction the start of an OONI anomaly rise.

Plain functions, plain DataFrames::

    rows = align(events, detection, case=case)   # one row per event x source series
    summary = summarize(rows, events)            # one row per event
    extra = unexplained(events, detection.intervals, case)   # outages nobody documented
    expectation_results(case, summary)           # what `shutdown check` asks
"""
from __future__ import annotations

import pandas as pd

from shutdown.align.common import (ALIGN_COLUMNS, CONFIRMING, DAY, HORIZON, PRIMARY, RANK,  # noqa: F401
                                   SUMMARY_COLUMNS, UNEXPLAINED_COLUMNS, Judged, _thresholds_of, _times)
from shutdown.align.inputs import (_count_metric, _expectations, _Lookup, _parts,  # noqa: F401
                                   _service_source, _title, scope_entities, service_tests)
from shutdown.align.levels import _interval_evidence, _judge, _minutes_label  # noqa: F401
from shutdown.align.summary import (check_verdicts, expectation_results,  # noqa: F401
                                    independent_sources, summarize, unexplained)
from shutdown.align.trials import _judge_counts, _judge_sites  # noqa: F401
from shutdown.detect import evidence as _ev
from shutdown.detect.fusion import family
from shutdown.verdict import Verdict

# -- alignment ---------------------------------------------------------------------------
def align(events, detection, case=None, horizon: pd.Timedelta = HORIZON) -> pd.DataFrame:
    """One row per (event, expected source series). ``detection`` is a
    ``detect.Detection`` (best: it knows which series had data) or an intervals frame;
    alignment never runs detection itself (``pipeline.analyse`` wires the two)."""
    intervals, series, det = _parts(detection)
    iv_all = intervals if intervals is not None else pd.DataFrame()
    sim_any = bool(len(iv_all) and iv_all["simulated"].any()) or bool(
        series is not None and len(series) and series["simulated"].any())
    win = getattr(det, "window", ()) if det is not None else ()
    look = _Lookup(series, iv_all, det)
    recs = []
    for ev in events:
        ws, we = ev.window_utc
        base = {"event": ev.id, "kind": ev.kind, "scope": ev.scope,
                "window_start_utc": ws, "window_end_utc": we}
        exps = _expectations(ev, case)
        if not exps:
            recs.append(Judged.of({**base, "expects": "", "role": "none", "verdict": "not-measurable",
                                   "reason": f"a {ev.kind} event has no measurable signature",
                                   "simulated": sim_any}))
            continue
        if ev.scope_type == "service":
            for v in ev.scope_values:
                if not service_tests(v):
                    src = _service_source(case)
                    title = _title(src) or "no source"
                    recs.append(Judged.of({**base, "expects": "anomaly-up", "role": "primary",
                                           "source": src, "verdict": "not-measurable",
                                           "reason": f"{title} has no app test for {v!r}",
                                           "simulated": sim_any}))
        shows = {e.shows for e in exps}
        main = "up" if "up" in shows else ("anomaly-up" if "anomaly-up" in shows else "down")
        ctx = dict(base=base, ev=ev, main=main, look=look, det=det,
                   win=win, horizon=horizon, sim_any=sim_any)
        if ev.scope_type == "sites":
            for exp in exps:
                if exp.shows == "listed-vs-control":
                    recs.append(_judge_sites(ev, exp, det, case, base, sim_any))
            exps = [e for e in exps if e.shows != "listed-vs-control"]
        for etype, ecode in scope_entities(ev, case):
            got = [r for exp in exps for r in _judge_entity(exp, etype, ecode, **ctx)]
            recs += got
            if etype == "region" and case is not None and not any(
                    r.get("role") == "primary" and r.verdict != Verdict.NOT_MEASURABLE for r in got):
                # No usable data for the region: the country's signals stand in, labelled
                # "proxy" (a regional event moves the national signal only by its share).
                for exp in exps:
                    if exp.shows == "no-change":
                        continue
                    for r in _judge_entity(exp, "country", case.country, **ctx):
                        recs.append(r.with_(role="proxy", reason=(
                            f"no usable data for region {ecode}; the country's signal stands in"
                            + (f" ({r.get('reason')})" if r.get("reason") else ""))))
    out = pd.DataFrame([r.row() for r in recs], columns=ALIGN_COLUMNS)
    out["simulated"] = out["simulated"].fillna(sim_any).astype(bool)
    out["transition_utc"] = pd.to_datetime(out["transition_utc"], utc=True)
    return out


def _judge_entity(exp, etype, ecode, *, base, ev, main, look, det, win, horizon,
                  sim_any) -> list[Judged]:
    """Rows for one expectation on one entity: one per matching series, judged by the
    engine of the signal's kind (a trials share by its counts, a level by its intervals)."""
    return [Judged.of(r) for r in _entity_rows(exp, etype, ecode, base=base, ev=ev, main=main,
                                                look=look, det=det, win=win, horizon=horizon,
                                                sim_any=sim_any)]


def _entity_rows(exp, etype, ecode, *, base, ev, main, look, det, win, horizon,
                 sim_any) -> list[dict]:
    ws, we = ev.window_utc
    role = "control" if exp.shows == "no-change" else "primary"
    row0 = {**base, "expects": exp.shows, "role": role, "source": exp.source,
            "signal": exp.signal, "subtype": exp.subtype or "",
            "entity_type": etype, "entity_code": ecode, "family": family(exp.source, exp.signal)}
    cands = look.candidates(exp, etype, ecode)
    if len(cands) == 0:
        return [{**row0, "verdict": "not-measurable", "simulated": sim_any,
                 "reason": f"no {exp.source} {exp.signal} data for {etype} {ecode}"}]
    out = []
    for _, c in cands.iterrows():
        row = {**row0, "subtype": c.get("subtype", ""), "metric": c.get("metric", ""),
               "simulated": bool(c.get("simulated", sim_any))}
        sid = _ev.series_id(c)
        if _count_metric(exp.source, c.get("signal"), c.get("metric")) and det is not None and sid in getattr(det, "counts", {}) \
                and not (win and (we <= win[0] or ws >= win[1])):
            row.update(_judge_counts(exp.shows, main, det, look, sid, ws, we, horizon, ev.tz).fields)
            if exp.shows == "may-not-show" and row["verdict"] == "not-measurable" and exp.why:
                row["reason"] = f"{row['reason']}: {exp.why}"
            out.append(row)
            continue
        status = c.get("status", "ok")
        if status != "ok":
            out.append({**row, "verdict": "not-measurable", "reason": c.get("reason", status) or status})
            continue
        if win and (we <= win[0] or ws >= win[1]):
            out.append({**row, "verdict": "not-measurable",
                        "reason": "the event lies outside the analysed window"})
            continue
        if look.has_data(c, ws - horizon, we + horizon) is False:
            out.append({**row, "verdict": "not-measurable", "reason": "no data around the event window"})
            continue
        bm = c.get("bin_minutes")
        if bm == bm and bm and pd.Timedelta(minutes=float(bm)) > (we - ws):
            # one bin spans more than the whole window (Tor's daily users against a night):
            # the series cannot say what happened inside it, for or against
            res = _minutes_label(bm)
            out.append({**row, "verdict": "insufficient-evidence", "resolution": res,
                        "reason": f"judged at {res} bins, too coarse to place an event whose window "
                                  f"is {(we - ws).total_seconds() / 3600:g} h"})
            continue
        iv = look.intervals(c, etype, ecode)
        verdict, t, hit, reason = _judge(exp.shows, iv, ws, we, horizon, main, _thresholds_of(det))
        if exp.shows == "may-not-show" and verdict == "not-measurable":
            reason = f"{reason}: {exp.why}" if exp.why else reason
        row.update(verdict=verdict, reason=reason)
        if t is not None:
            row.update(_times(t, ws, we, ev.tz))
        if hit is not None:
            row.update(depth=float(hit["depth"]), interval_kind=hit["kind"])
            row.update(_interval_evidence(hit, c.get("bin_minutes")))
        elif c.get("bin_minutes") == c.get("bin_minutes") and c.get("bin_minutes"):
            row.update(resolution=_minutes_label(c.get("bin_minutes")),
                       evidence=f"{_minutes_label(c.get('bin_minutes'))} bins: {reason or verdict}")
        out.append(row)
    return out
