"""The rows an interactive chart shows, as plain records: the documented events (with the
timeline's text and the report's verdict and evidence), other documenters' entries, and
the series thinned for the page. Times are UTC ISO strings or epoch milliseconds."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shutdown.timeline import iso_z

MAX_POINTS = 1000          # per series on the page; min+max per bucket above that
# Columns of the per-event verdict row that identify the event rather than judge it.
_NOT_EVIDENCE = {"event", "kind", "scope", "precision", "window_start_utc", "window_end_utc",
                 "window_local", "verdict", "title", "simulated"}


@dataclass
class Plotted:
    """What a chart needs of a figure's ``plot.Record``, as plain data (so a figure drawn in
    a worker process can be charted in another, once the verdicts are known): its
    ``layout`` and its lines, {"panel", "series", "t" (epoch ms), "v", "colour", "ls"} in
    drawing order."""
    layout: dict
    lines: list


def plotted(rec) -> Plotted:
    """The chart's part of a figure's Record."""
    if isinstance(rec, Plotted):
        return rec
    return Plotted(rec.layout, [{"panel": p["ax"].get_label(), "series": p["series"], "t": index_ms(p["index"]),
                                 "v": p["values"], "colour": p["colour"], "ls": p["ls"]}
                                for p in rec.points if p["mark"] == "line"])


def ms(ts) -> int:
    """A timestamp as epoch milliseconds (UTC), to the second."""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t
    return int(round(t.value / 1e9)) * 1000


def index_ms(index) -> np.ndarray:
    """A DatetimeIndex as epoch milliseconds (UTC), to the second, as floats."""
    ns = pd.DatetimeIndex(index).tz_convert("UTC").asi8
    return np.round(ns / 1e9) * 1000


def sig(v: float) -> float | None:
    """A value to 4 significant digits (what a tooltip shows), None where missing."""
    if v is None or not math.isfinite(v):
        return None
    return float(f"{v:.4g}")


def thin(t: np.ndarray, v: np.ndarray, limit: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray, int]:
    """At most ``limit`` points: per bucket the lowest and the highest (in time order),
    plus one NaN where missing values interrupt the series, so the chart's line breaks
    there as the figure's does. Returns (t, v, bucket size in points; 1 = not thinned)."""
    ok = np.isfinite(v)
    gaps = t[~ok & np.r_[False, ok[:-1]]]           # the first missing value after a known one
    t, v = t[ok], v[ok]
    k = 1
    if t.size > limit:
        k = math.ceil(t.size / (limit // 2))
        keep = _extremes(v, k)
        t, v = t[keep], v[keep]
    if gaps.size:
        t, v = np.concatenate([t, gaps]), np.concatenate([v, np.full(gaps.size, np.nan)])
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
    return t, v, k


def _extremes(v: np.ndarray, k: int) -> np.ndarray:
    """Per bucket of ``k`` finite values: the positions of its lowest and highest (the first
    of equals; one position where they are the same), in order; all buckets at once, the
    last padded with values that never win."""
    m = math.ceil(v.size / k)
    pad = m * k - v.size
    lo = np.argmin(np.r_[v, np.full(pad, np.inf)].reshape(m, k), axis=1)
    hi = np.argmax(np.r_[v, np.full(pad, -np.inf)].reshape(m, k), axis=1)
    start = np.arange(m) * k
    both = np.stack([start + np.minimum(lo, hi), start + np.maximum(lo, hi)], axis=1)
    return both[np.stack([np.ones(m, dtype=bool), lo != hi], axis=1)]


def fmt(v) -> str:
    if v is None or v is pd.NaT or v is pd.NA:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    if isinstance(v, pd.Timestamp):
        return iso_z(v)
    if isinstance(v, (float, np.floating)):
        return f"{v:g}"
    return str(v)


def evidence(verdict_row: dict) -> str:
    """The evidence of a per-event verdict row: every column that is not an identity
    column and not empty, as ``name: value``."""
    return "; ".join(f"{k}: {fmt(v).replace(',', ', ')}" for k, v in verdict_row.items()
                     if k not in _NOT_EVIDENCE and fmt(v) not in ("", "0"))


def local(ts: str, tz: str) -> str:
    t = pd.Timestamp(ts).tz_convert(tz)
    return f"{t:%Y-%m-%d %H:%M} {offset(t)}"


def offset(t: pd.Timestamp) -> str:
    z = t.strftime("%z")
    return f"UTC{z[0]}{int(z[1:3])}" + (f":{z[3:]}" if z[3:] != "00" else "")


def local_expr(tz: str, x0: pd.Timestamp, x1: pd.Timestamp, var: str = "datum.t") -> tuple[str, str]:
    """Vega expressions for a point's UTC offset in ms and its label, valid over [x0, x1]
    (the zone's offsets there, from the tz database; usually one)."""
    hours = pd.date_range(x0, x1, freq="1h", tz="UTC").tz_convert(tz)
    segs, last = [], None
    for t in hours:
        off = int(t.utcoffset().total_seconds() * 1000)
        if off != last:
            segs.append((int(t.tz_convert("UTC").value // 10**6), off, offset(t)))
            last = off
    off_e, lab_e = str(segs[-1][1]), json.dumps(segs[-1][2])
    for start, off, lab in reversed(segs[:-1]):
        nxt = segs[segs.index((start, off, lab)) + 1][0]
        off_e = f"({var} < {nxt} ? {off} : {off_e})"
        lab_e = f"({var} < {nxt} ? {json.dumps(lab)} : {lab_e})"
    return off_e, lab_e


def event_records(desc: dict, data, rows: dict) -> list[dict]:
    """The figure's documented events (as its sidecar records them), with the timeline's
    text and the report's verdict and evidence for each; ``rows``: event id -> its row."""
    by_id = {e.id: e for e in data.events}
    summ = {r["event"]: r for r in data.summary.to_dict("records")} \
        if data.summary is not None and len(data.summary) else {}
    out = []
    for d in desc.get("events", []):
        ev = by_id.get(d["id"])
        s = summ.get(d["id"], {})
        context = ev is not None and ev.kind == "context"
        tz = ev.tz if ev is not None else data.case.timezone
        out.append({
            "id": d["id"], "label": d.get("label", d["id"]), "kind": d["kind"],
            "precision": d.get("precision", ""), "row": rows.get(d["id"], 0),
            "drawn_start_utc": d["drawn_start_utc"], "drawn_end_utc": d["drawn_end_utc"],
            "window_utc": f"{d['start_utc']} – {d['end_utc']}",
            "window_local": f"{local(d['start_utc'], tz)} – {local(d['end_utc'], tz)} ({tz})",
            "title": (ev.title if ev is not None else "") or d["kind"],
            "scope": ev.scope if ev is not None else "",
            "quote_kk": ev.quote_kk if ev is not None else "",
            "text_en": ev.text_en if ev is not None else "",
            "citation": ev.citation if ev is not None else "",
            "verdict": "context (not aligned)" if context else str(s.get("verdict", "not-measurable")),
            "evidence": "" if context else evidence(s),
        })
    return out


def documenter_records(desc: dict, data) -> list[dict]:
    """Other documenters' entries as the figure drew them (its sidecar's ``documenters``),
    each with what ``shutdown.documenters`` says of it against the report and the data.
    A dataset of their own (``documenters``): ``check`` compares ``events`` alone with
    the report's timeline."""
    said = {}
    if data.others is not None and len(data.others):
        said = {(r["documenter"], str(r["entry"])): r for r in data.others.to_dict("records")}
    tz = data.case.timezone
    out = []
    for d in desc.get("documenters", []):
        r = said.get((d["documenter"], d["entry"]), {})
        out.append({
            "documenter": d["documenter"], "entry": d["entry"], "label": d["label"], "row": d["row"],
            "simulated": bool(d.get("simulated")),
            "drawn_start_utc": d["drawn_start_utc"], "drawn_end_utc": d["drawn_end_utc"],
            "window_utc": f"{d['start_utc']} – {d['end_utc'] or 'still open'}",
            "window_local": f"{local(d['start_utc'], tz)} – "
                            f"{local(d['end_utc'], tz) if d['end_utc'] else 'still open'} ({tz})",
            **{k: fmt(r.get(k)) for k in ("start_vs_report", "end_vs_report", "start_vs_data",
                                          "end_vs_data", "description")}})
    return out
