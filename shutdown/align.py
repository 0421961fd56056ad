"""Alignment: the documented timeline against the detected intervals.

The only module where the report and the measurements meet. For every event,
each source expected to show it (``Event.expected``, from
``timeline.EXPECTED_BY_KIND``) is looked up on the entity the event's scope
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

import numpy as np
import pandas as pd

from shutdown.detect import evidence as _ev
from shutdown.detect import thresholds
from shutdown.detect.fusion import family
from shutdown import verdict as _verdict
from shutdown.schema import VERDICTS

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



def _trials(source: str, signal: str):
    """The declared ``registry.Trials`` of a signal, or None (a level)."""
    from shutdown.sources import registry
    sig = registry.signal(source, signal)
    return sig.trials if sig is not None else None


def _is_test(exp) -> bool:
    """Whether an expectation names a signal that tests one service (its source's declared
    ``services``): a service scope chooses among those."""
    from shutdown.sources import registry
    return any(exp.signal in sigs for sigs in registry.services(exp.source).values())


def _title(source: str) -> str:
    from shutdown.sources import registry
    src = registry.sources().get(source)
    return src.title if src is not None else ""


def _count_metric(source: str, signal: str, metric) -> bool:
    """Whether a series is a trials share judged by pooled statistics (detect/evidence.py)."""
    spec = _trials(source, signal)
    return spec is not None and metric == spec.metric


def service_tests(name: str) -> tuple[str, ...]:
    """The signals that test service ``name`` (a timeline scope's name), as the sources
    declare them (``services``), e.g. "tor" -> OONI's tor, vanilla_tor and torsf tests."""
    from shutdown.sources import registry
    return tuple(t for src in registry.sources() for t in registry.services(src).get(name.lower(), ()))


def _service_source(case) -> str:
    """The (first) source that tests services one by one, for a row saying none does."""
    from shutdown.sources import registry
    names = [n for n, s in registry.sources().items() if s.services
             and (case is None or n in case.sources)] or [n for n, s in registry.sources().items() if s.services]
    return names[0] if names else ""


# -- inputs ------------------------------------------------------------------------------
def _parts(detection):
    """(intervals, series coverage, per-bin rows or None) from a Detection or a frame."""
    if hasattr(detection, "intervals"):
        return detection.intervals, detection.series, detection
    return detection, None, None


def scope_entities(event, case) -> list[tuple[str, str]]:
    st, vals = event.scope_type, event.scope_values
    country = case.country if case is not None else None
    if st == "region":
        return [("region", v) for v in vals]
    if st == "network":
        return [("asn", v.upper().removeprefix("AS")) for v in vals]
    return [("country", country)] if country else []


def _expectations(event, case=None) -> list:
    exp = list(event.expected)
    if case is not None:        # a source the case does not collect has nothing to say
        exp = [e for e in exp if e.source in case.sources]
    if event.scope_type == "service":
        tests = {t for v in event.scope_values for t in service_tests(v)}
        # a service event asks only the tests of the services it names
        exp = [e for e in exp if not _is_test(e) or e.signal in tests]
    return exp


class _Lookup:
    """The series, intervals and data times of one alignment, grouped once by what an
    expectation asks for (a boolean mask over every table per event and entity was most
    of a report's alignment time)."""

    def __init__(self, series, intervals, det):
        base = series if series is not None and len(series) else intervals
        self._base = self._group(base, ["source", "signal", "entity_type"])
        self._iv = self._group(intervals, ["source", "signal", "subtype", "entity_type"])
        self._no_iv = intervals.iloc[0:0] if intervals is not None else pd.DataFrame()
        self._det = det
        self._ids = self._times = None
        self._split = {}

    @staticmethod
    def _group(df, cols) -> dict:
        if df is None or len(df) == 0:
            return {}
        code = df["entity_code"].astype(str)
        return {k: g for k, g in df.groupby([*(df[c] for c in cols), code], observed=True, sort=False)}

    def candidates(self, exp, etype, ecode) -> pd.DataFrame:
        """The series an expectation refers to (from coverage, else from the intervals)."""
        out = self._base.get((exp.source, exp.signal, etype, str(ecode)))
        if out is None:
            return pd.DataFrame()
        if exp.subtype is not None:
            out = out[out["subtype"] == exp.subtype]
        spec = _trials(exp.source, exp.signal)
        if "metric" in out and spec is not None:
            # a trials signal is judged by its share (a test's anomaly share is what a
            # restriction moves; Atlas probe counts yield to the share of probes online)
            out = out[out["metric"] == spec.metric]
        cols = ["source", "signal", "subtype", "metric", "entity_type", "entity_code"]
        cols = [c for c in cols if c in out]
        extra = [c for c in ("status", "reason", "bin_minutes", "simulated") if c in out]
        return out[cols + extra].drop_duplicates(subset=cols)

    def by_series(self, name: str) -> dict:
        """``det.<name>`` (evidence or changes: a row per count series or per change)
        split by series id once, as ``{series_id: frame}``."""
        if name not in self._split:
            df = getattr(self._det, name, None)
            rows: dict = {}
            for i, sid in enumerate(_series_ids(df) if df is not None else ()):
                rows.setdefault(sid, []).append(i)
            self._split[name] = {sid: df.iloc[ix] for sid, ix in rows.items()}
        return self._split[name]

    def intervals(self, c, etype, ecode) -> pd.DataFrame:
        iv = self._iv.get((c["source"], c["signal"], c["subtype"], etype, str(ecode)))
        if iv is None:
            return self._no_iv
        if "metric" in iv and "metric" in c:
            iv = iv[iv["metric"] == c["metric"]]
        return iv

    def has_data(self, key_row, ws, we) -> bool | None:
        """Whether the series has a value inside [ws, we); None when unknown."""
        det = self._det
        if det is None or det.series_set is None or not det.rows or len(det.rows["key"]) == 0:
            return None
        if self._times is None:
            keys = det.series_set.keys
            cols = ["source", "signal", "subtype", "entity_type", "entity_code", "metric"]
            self._ids = {}
            for i, k in enumerate(zip(*(keys[c].astype(str) for c in cols))):
                self._ids.setdefault(k, []).append(i)
            r = det.rows
            ok = ~np.isnan(r["value"])
            key, ts = r["key"][ok], r["ts"][ok]
            order = np.lexsort((ts, key))
            key, ts = key[order], ts[order]
            bounds = np.searchsorted(key, np.arange(len(keys) + 1))
            self._times = (ts, bounds)
        k = tuple(str(key_row[c]) for c in ("source", "signal", "subtype", "entity_type", "entity_code"))
        ids = [i for (kk, ii) in self._ids.items() if kk[:5] == k
               and ("metric" not in key_row or kk[5] == str(key_row["metric"])) for i in ii]
        if not ids:
            return False
        ts, bounds = self._times
        for i in ids:
            t = ts[bounds[i]:bounds[i + 1]]
            j = np.searchsorted(t, ws.value)
            if j < len(t) and t[j] < we.value:
                return True
        return False


def _series_ids(df: pd.DataFrame) -> list[tuple]:
    """``evidence.series_id`` of every row of ``df``, column by column (not row by row)."""
    cols = [df[c].astype(str).to_numpy() if c in df else np.full(len(df), "")
            for c in _ev.SERIES_ID_COLUMNS]
    return list(zip(*cols))


def _thresholds_of(det):
    """The thresholds detection used (a Detection carries them), else the defaults."""
    return getattr(det, "thresholds", None) or thresholds.DEFAULT


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
            recs.append({**base, "expects": "", "role": "none", "verdict": "not-measurable",
                         "reason": f"a {ev.kind} event has no measurable signature",
                         "simulated": sim_any})
            continue
        if ev.scope_type == "service":
            for v in ev.scope_values:
                if not service_tests(v):
                    src = _service_source(case)
                    title = _title(src) or "no source"
                    recs.append({**base, "expects": "anomaly-up", "role": "primary",
                                 "source": src, "verdict": "not-measurable",
                                 "reason": f"{title} has no app test for {v!r}", "simulated": sim_any})
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
                    r["role"] == "primary" and r["verdict"] != "not-measurable" for r in got):
                # No usable data for the region: the country's signals stand in, labelled
                # "proxy" (a regional event moves the national signal only by its share).
                for exp in exps:
                    if exp.shows == "no-change":
                        continue
                    for r in _judge_entity(exp, "country", case.country, **ctx):
                        r["role"] = "proxy"
                        r["reason"] = (f"no usable data for region {ecode}; the country's signal "
                                       "stands in" + (f" ({r['reason']})" if r.get("reason") else ""))
                        recs.append(r)
    out = pd.DataFrame(recs, columns=ALIGN_COLUMNS)
    out["simulated"] = out["simulated"].fillna(sim_any).astype(bool)
    out["transition_utc"] = pd.to_datetime(out["transition_utc"], utc=True)
    return out


def _judge_entity(exp, etype, ecode, *, base, ev, main, look, det, win, horizon,
                  sim_any) -> list[dict]:
    """Rows for one expectation on one entity: one per matching series."""
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
            row.update(_judge_counts(exp.shows, main, det, look, sid, ws, we, horizon, ev.tz))
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


def _times(t, ws, we, tz) -> dict:
    t = pd.Timestamp(t)
    off = 0.0 if ws <= t <= we else ((t - ws).total_seconds() / 60 if t < ws
                                    else (t - we).total_seconds() / 60)
    return {"transition_utc": t,
            "transition_local": t.tz_convert(tz).isoformat(timespec="minutes"),
            "minutes_off": round(off, 1),
            "minutes_from_window_start": round((t - ws).total_seconds() / 60, 1)}


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
