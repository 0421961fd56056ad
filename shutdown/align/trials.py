"""Trials signals (``kind = "trials"``: k of n tests or probes) judged against an event
by pooled statistics (detect/evidence.py): the changes in their share near the window, or
the window pooled against the day before or the baseline; and a whitelist's listed sites
against the case's control sites."""
from __future__ import annotations

import pandas as pd

from shutdown.align.common import DAY, _thresholds_of, _times, judged
from shutdown.align.inputs import _trials
from shutdown.detect import evidence as _ev
from shutdown.detect.fusion import family

def _fmt_counts(k, n, unit) -> str:
    return f"{k:.0f}/{n:.0f} {unit} ({k / n:.0%})" if n else f"0 {unit}"


def _count_evidence(e: dict, unit: str, res: str, what: str) -> dict:
    """Row fields from an evidence dict (n/k before and after, lr, p_value)."""
    p = e.get("p_value")
    stat = f"G={e['lr']:.1f}" if e.get("lr") == e.get("lr") and e.get("lr") is not None else ""
    txt = (f"{res}: {_fmt_counts(e['k_before'], e['n_before'], unit)} -> "
           f"{_fmt_counts(e['k_after'], e['n_after'], unit)} {what}"
           + (f", Fisher p={p:.1g}" if p == p and p is not None else ""))
    return {"resolution": res, "n_before": e["n_before"], "share_before": e["share_before"],
            "n_after": e["n_after"], "share_after": e["share_after"], "statistic": stat,
            "p_value": p, "evidence": txt}


@judged
def _judge_thin(shows, det, cs, srow, ws, we, ka, na, rising, win_ev, floor, what) -> dict:
    """A count series too thin for hourly or daily changes (detect/evidence.py status not
    ok): a multi-day event's window pooled against the whole baseline, else
    insufficient-evidence with the window's numbers."""
    th, unit = _thresholds_of(det), cs.unit
    typ = float(srow["typical_n"]) if srow is not None else 0.0
    if (we - ws) >= DAY and shows != "no-change" and srow is not None:
        # pooled over the event's whole window against the whole baseline: the last
        # pooling step, and timing no finer than the window itself
        b0, b1 = det.baseline
        k0, n0 = cs.counts(b0, b1)
        e = _ev.compare(k0, n0, ka, na, rising)
        wev = _count_evidence(e, unit, "window vs baseline", what)
        g = th.EVIDENCE_MIN_GROUP
        moved = (e["share_after"] - e["share_before"]) * (1 if rising else -1)
        if min(n0, na) >= g and e["p_value"] < th.EVIDENCE_ALPHA and \
                moved >= th.EVIDENCE_MIN_SHIFT:
            return {**wev, "verdict": "confirmed", "minutes_off": 0.0,
                    "reason": "pooled over the whole window against the baseline: the share "
                              "moved, at some time the window does not narrow down"}
        if min(n0, na) >= g:
            return {**wev, "verdict": "not-observed",
                    "reason": "pooled over the whole window, no significant change"}
    return {**win_ev, "verdict": "insufficient-evidence",
            "reason": (f"{typ:.1f} {unit} per hour in the baseline: even pooled to a day, "
                       f"fewer than {floor} per bin" if unit == "tests" else
                       f"{typ:.0f} probes report; the floor is {floor}")}


def _nearest_change(ch, ws, we, horizon):
    """(minutes off the window, change) of the change nearest the window whose span
    reaches it (0) or lies within ``horizon`` of it; None when there is none."""
    best = None
    for _, c in (ch.iterrows() if len(ch) else []):
        uf, ut = c["uncertain_from"], c["uncertain_to"]
        if uf < we and ut > ws:
            off = 0.0
        elif ut <= ws:
            off = (ut - ws).total_seconds() / 60
        else:
            off = (uf - we).total_seconds() / 60
        if abs(off) * 60 > horizon.total_seconds():
            continue
        if best is None or abs(off) < abs(best[0]):
            best = (off, c)
    return best


@judged
def _judge_counts(shows, main, det, lookup, sid, ws, we, horizon, tz) -> dict:
    """Verdict of one count series (OONI test or site, Atlas probes) from its pooled
    changes (detect/evidence.py), with the evidence it rests on."""
    cs = det.counts[sid]
    th = _thresholds_of(det)
    srow = lookup.by_series("evidence").get(sid)
    srow = srow.iloc[0] if srow is not None else None
    unit = cs.unit
    spec = _trials(sid[0], sid[3])
    what = spec.what if spec is not None else ""
    floor = th.ATLAS_MIN_PROBES if unit == "probes" else th.EVIDENCE_MIN_N
    look = main if shows == "may-not-show" else shows
    rising = look in ("anomaly-up",) or (look == "up") == (cs.direction == "down")
    # window vs the day before it: the numbers every verdict of this series shows
    kb, nb = cs.counts(ws - DAY, ws)
    ka, na = cs.counts(ws, we)
    res = (srow["resolution"] if srow is not None else "") or "day"
    win_ev = _count_evidence(_ev.compare(kb, nb, ka, na, rising), unit,
                             f"{res} (day before vs window)", what)
    if srow is None or srow["status"] != "ok":
        return _judge_thin(shows, det, cs, srow, ws, we, ka, na, rising, win_ev, floor, what)
    ch = lookup.by_series("changes").get(sid, det.changes.iloc[0:0])
    weak = ch[ch["p_value"] >= th.EVIDENCE_ALPHA] if len(ch) else ch
    ch = ch[ch["p_value"] < th.EVIDENCE_ALPHA] if len(ch) else ch
    width = pd.Timedelta(seconds=_ev.width_of(res))
    if shows == "no-change":
        inside = ch[(ch["uncertain_from"] < we) & (ch["uncertain_to"] > ws)] if len(ch) else ch
        if len(inside):
            c = inside.iloc[0]
            return {**_count_evidence(c, unit, res, what), **_times(c["transition_utc"], ws, we, tz),
                    "uncertain_from": c["uncertain_from"], "uncertain_to": c["uncertain_to"],
                    "verdict": "contradicted",
                    "reason": "a significant change where the event says nothing changes"}
        return {**win_ev, "verdict": "confirmed",
                "reason": "no significant change, as expected for this kind of event"}
    edge = "start" if (look == "anomaly-up" or (look == "down") == (cs.direction == "down")) else "end"
    ch = ch[ch["edge"] == edge] if len(ch) else ch
    best = _nearest_change(ch, ws, we, horizon)
    if best is None:
        if shows == "may-not-show":
            return {**win_ev, "verdict": "not-measurable",
                    "reason": "this source can miss this kind of event"}
        if na < floor:
            return {**win_ev, "verdict": "insufficient-evidence",
                    "reason": f"{na:.0f} {unit} in the event's window; the floor is {floor}"}
        near = weak[(weak["edge"] == edge) & (weak["uncertain_from"] < we + horizon)
                    & (weak["uncertain_to"] > ws - horizon)] if len(weak) else weak
        if len(near):
            c = near.iloc[0]
            return {**_count_evidence(c, unit, res, what), "uncertain_from": c["uncertain_from"],
                    "uncertain_to": c["uncertain_to"], "verdict": "insufficient-evidence",
                    "reason": f"a change near the window, but Fisher p={c['p_value']:.2g} is not "
                              f"below {th.EVIDENCE_ALPHA:g}: too few {unit} to tell"}
        return {**win_ev, "verdict": "not-observed",
                "reason": f"no significant change at {res} resolution around the window"}
    off, c = best
    out = {**_count_evidence(c, unit, res, what), "uncertain_from": c["uncertain_from"],
           "uncertain_to": c["uncertain_to"]}
    t = c["transition_utc"]
    out.update(_times(t, ws, we, tz))
    out["minutes_off"] = round(off, 1)
    if width > (we - ws):
        return {**out, "verdict": "insufficient-evidence",
                "reason": f"judged at {res} resolution, too coarse to place an event whose window "
                          f"is {(we - ws).total_seconds() / 3600:g} h"}
    uf, ut = c["uncertain_from"], c["uncertain_to"]
    if off == 0 and not (uf >= ws - width and ut <= we + width):
        # the data cannot place the change more narrowly than [uf, ut) (no usable bins in
        # between), and the window covers only part of that: it may lie outside
        return {**out, "verdict": "insufficient-evidence",
                "reason": f"the change lies somewhere between {uf:%Y-%m-%d %H:%M} and "
                          f"{ut:%Y-%m-%d %H:%M} UTC (too few {unit} in between), wider than the "
                          "window"}
    verdict = "confirmed" if off == 0 else ("confirmed-earlier" if off < 0 else "confirmed-later")
    return {**out, "verdict": verdict,
            "reason": f"change between {c['uncertain_from']:%Y-%m-%d %H:%M} and "
                      f"{c['uncertain_to']:%Y-%m-%d %H:%M} UTC ({res} resolution)"}


@judged
def _judge_sites(ev, exp, det, case, base, sim_any) -> dict:
    """A whitelist: the listed sites answer while a control set stays blocked.

    Pools, over the event's window, the web_connectivity tests of the listed domains and
    of the case's control domains, and compares the listed sites' accessible share with
    the control's and with their own the day before (one-sided Fisher tests). Blocked
    sites under a whitelist are scored *failure* rather than anomaly by OONI when the
    control (test helper abroad) is unreachable, and accessible when the probe's own
    HTTPS fetch succeeded, whatever the control (see data/cases/kz-2022-01.toml); the
    accessible share (ok / all tests) reads both the same way.
    """
    ws, we = ev.window_utc
    cc = case.country if case is not None else None
    listed = [d.lower() for d in ev.scope_values]
    control = [d for d in (getattr(case, "control_sites", ()) or ()) if d not in listed]
    metric = _trials(exp.source, exp.signal).metric       # a per-item trials signal
    row = {**base, "expects": exp.shows, "role": "primary", "source": exp.source,
           "signal": exp.signal, "subtype": f"{len(listed)} listed vs {len(control)} control",
           "metric": metric, "entity_type": "country", "entity_code": cc,
           "family": family(exp.source, exp.signal), "simulated": sim_any}
    counts = getattr(det, "counts", {}) if det is not None else {}

    def pooled(domains, a, b):
        k = n = 0.0
        for d in domains:
            cs = counts.get((exp.source, "country", str(cc), exp.signal, d, metric))
            if cs is not None:
                kk, nn = cs.counts(a, b)
                k, n = k + kk, n + nn
        return k, n
    if not control:
        return {**row, "verdict": "not-measurable",
                "reason": "the case declares no control sites (control_sites) to compare with"}
    kl, nl = pooled(listed, ws, we)
    kc, nc = pooled(control, ws, we)
    kp, np_ = pooled(listed, ws - DAY, we - DAY)
    if nl + nc + np_ == 0:
        return {**row, "verdict": "not-measurable", "reason": "no per-domain OONI data"}
    th = _thresholds_of(det)
    floor = th.EVIDENCE_MIN_GROUP
    vs_control = _ev.compare(kc, nc, kl, nl, True)
    vs_before = _ev.compare(kp, np_, kl, nl, True)
    txt = (f"window: listed {_fmt_counts(kl, nl, 'tests')} accessible vs control "
           f"{_fmt_counts(kc, nc, 'tests')}, Fisher p={vs_control['p_value']:.1g}; listed the day "
           f"before {_fmt_counts(kp, np_, 'tests')}, p={vs_before['p_value']:.1g}")
    out = {**row, "resolution": "window (day)" if ev.precision == "day" else "window",
           "n_before": np_, "share_before": vs_before["share_before"], "n_after": nl,
           "share_after": vs_control["share_after"], "statistic": f"G={vs_control['lr']:.1f}",
           "p_value": max(vs_control["p_value"], vs_before["p_value"]), "evidence": txt}
    if min(nl, nc, np_) < floor:
        return {**out, "verdict": "insufficient-evidence",
                "reason": f"fewer than {floor} tests in a group (listed {nl:.0f}, control "
                          f"{nc:.0f}, listed the day before {np_:.0f})"}
    alpha, shift = th.EVIDENCE_ALPHA, th.EVIDENCE_MIN_SHIFT
    above_control = vs_control["p_value"] < alpha and \
        vs_control["share_after"] - vs_control["share_before"] >= shift
    above_before = vs_before["p_value"] < alpha and \
        vs_before["share_after"] - vs_before["share_before"] >= shift
    # the transition is known to the day: it lies in the window (or the day before / after)
    out.update({"uncertain_from": ws, "uncertain_to": we, **_times(ws, ws, we, ev.tz)})
    if above_control and above_before:
        return {**out, "verdict": "confirmed", "minutes_off": 0.0,
                "reason": "listed sites answered while the control stayed blocked, and had not "
                          "the day before"}
    if above_control:
        return {**out, **_times(ws - DAY, ws, we, ev.tz), "uncertain_from": ws - DAY,
                "uncertain_to": ws, "verdict": "confirmed-earlier", "minutes_off": -1440.0,
                "reason": "listed sites answered while the control stayed blocked, but already "
                          "the day before"}
    kn, nn = pooled(listed, ws + DAY, we + DAY)
    kcn, ncn = pooled(control, ws + DAY, we + DAY)
    nxt = _ev.compare(kcn, ncn, kn, nn, True)
    if min(nn, ncn) >= floor and nxt["p_value"] < alpha and \
            nxt["share_after"] - nxt["share_before"] >= shift:
        return {**out, **_times(we, ws, we, ev.tz), "uncertain_from": we, "uncertain_to": we + DAY,
                "verdict": "confirmed-later", "minutes_off": 1440.0,
                "reason": "listed sites answered apart from the control only the day after"}
    return {**out, "verdict": "not-observed",
            "reason": "listed sites were no more accessible than the control"}
