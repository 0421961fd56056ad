"""Interactive charts for ``report.html``: the static figures, explorable in a browser.

One source of truth. Nothing here recomputes a series, a window or a verdict:
every chart is read back from the matplotlib figure the PNG was saved from and
from its sidecar (``plot.describe``) -- the lines as drawn (``Line2D`` data,
colour, dash), the documented events and detected spans at the UTC windows the
sidecar records, the Gantt rows of the alignment figure from its artists -- and
the events are joined by id with the timeline (quote, English, citation) and the
report's per-event verdict row (``align.summarize``; every column of it that is
not an identity column shows as evidence, so new evidence fields appear without
code here naming them).

Vega-Lite (built with Altair, which validates every spec against the Vega-Lite
schema) draws them; its JavaScript (Vega, Vega-Lite, vega-embed, from
``vl-convert-python``) is inlined once in the page, which loads nothing from the
network and works from file://. Each chart's spec is embedded as JSON
(``<script type="application/json" id="chart-NAME">``), with what ``shutdown
check`` verifies in ``usermeta.shutdown`` and the events in
``datasets.events``: :func:`embedded` reads them back.

``report`` builds each chart right after drawing its figure (in the same worker) and
saves it beside the figure's files (``figures/<name>.vl.json``, hashed in the
manifest and reused with the figure); ``report.html`` embeds it.

Dense series are thinned for the page (:data:`MAX_POINTS`): per time bucket the
lowest and the highest drawn point, both real points at their real times, so a
drop or a spike stays visible; windows and verdicts are never thinned.
"""
from __future__ import annotations

import html
import json
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from shutdown import plot
from shutdown.timeline import iso_z

MAX_POINTS = 1000          # per series on the page; min+max per bucket above that
WIDTH = 640                # px, the plotting area (the page is 64rem wide, legends to the right)
PANEL_H = 110              # px per data panel
_CHAR_PX = 5.6             # mean width of a 10 px label character
ROW_H = 22                 # px per event row (strip) or Gantt row
# Columns of the per-event verdict row that identify the event rather than judge it.
_NOT_EVIDENCE = {"event", "kind", "scope", "precision", "window_start_utc", "window_end_utc",
                 "window_local", "verdict", "title", "simulated"}
_EMBED_OPTIONS = {"actions": {"export": True, "source": False, "compiled": False, "editor": False},
                  "renderer": "svg"}


# --------------------------------------------------------------------------- library
@lru_cache(maxsize=1)
def library_js() -> str:
    """Vega, Vega-Lite and vega-embed as one script (for the Vega-Lite version Altair writes).

    vl-convert bundles it on every call (~2 s, as long as the rest of a warm report), so
    the bundle is kept in the cache directory and reused. Its name carries the installed
    versions of both packages (which decide its content), read from their metadata:
    importing altair only to name the file took a tenth of a warm report."""
    from importlib.metadata import version

    from shutdown.paths import default_cache_dir
    name = f"vega-bundle-vl-convert-{version('vl-convert-python')}-altair-{version('altair')}.js"
    path = default_cache_dir() / "vendor" / name
    try:
        js = path.read_text(encoding="utf-8")
        if js:
            return js
    except OSError:
        pass
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert
    js = vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert()).replace(
        "</script", "<\\/script")
    from shutdown.errors import InputError
    from shutdown.store import atomic_write
    try:
        atomic_write(path, js.encode("utf-8"))
    except (OSError, InputError):   # a read-only cache only costs the time
        pass
    return js


# --------------------------------------------------------------------------- reading back
def _ms(num) -> np.ndarray:
    """matplotlib date numbers -> epoch milliseconds (UTC), to the second."""
    import matplotlib.dates as mdates
    return np.round((np.asarray(num, dtype=float) - mdates.date2num(np.datetime64("1970-01-01"))) * 86400) * 1000


def _sig(v: float) -> float | None:
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
        keep = []
        for i in range(0, t.size, k):
            seg = v[i:i + k]
            a, b = i + int(np.argmin(seg)), i + int(np.argmax(seg))
            keep.extend(sorted({a, b}))
        keep = np.asarray(keep)
        t, v = t[keep], v[keep]
    if gaps.size:
        t, v = np.concatenate([t, gaps]), np.concatenate([v, np.full(gaps.size, np.nan)])
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
    return t, v, k


def _panels(fig) -> list:
    """Data panels in drawing order (the event strip and the Gantt axes are not panels)."""
    return [ax for ax in fig.axes if ax.get_label().startswith("panel")]


def _panel_of(fig, name):
    for ax in fig.axes:
        if name and name in (ax.get_label(), ax.get_title(loc="left")):
            return ax
    return None


def _line(ax, label):
    return next((ln for ln in ax.get_lines() if ln.get_label() == label), None)


_DASH = {"-": [], "solid": [], "--": [6, 3], "dashed": [6, 3], ":": [1.5, 2.5], "dotted": [1.5, 2.5],
         "-.": [6, 2.5, 1.5, 2.5], "dashdot": [6, 2.5, 1.5, 2.5]}


def _dash(line) -> list:
    """The line's dash as a Vega stroke dash (matplotlib names its custom dashes '--')."""
    return _DASH.get(line.get_linestyle(), [4, 2])


def _strip_rows(fig) -> dict:
    """Event id -> row of the event strip, from the drawn bars (row 0 on top)."""
    from matplotlib.patches import Rectangle
    rows = {}
    for art in fig.findobj(Rectangle):
        gid = art.get_gid() or ""
        if gid.startswith("event:") and art.axes is not None and art.axes.get_label() == "events":
            rows[gid.split(":", 1)[1]] = int(round(art.get_y() + 0.02))
    return rows


def _fmt(v) -> str:
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
    return "; ".join(f"{k}: {_fmt(v).replace(',', ', ')}" for k, v in verdict_row.items()
                     if k not in _NOT_EVIDENCE and _fmt(v) not in ("", "0"))


def _local(ts: str, tz: str) -> str:
    t = pd.Timestamp(ts).tz_convert(tz)
    return f"{t:%Y-%m-%d %H:%M} {_offset(t)}"


def _offset(t: pd.Timestamp) -> str:
    z = t.strftime("%z")
    return f"UTC{z[0]}{int(z[1:3])}" + (f":{z[3:]}" if z[3:] != "00" else "")


def event_records(desc: dict, data, fig) -> list[dict]:
    """The figure's documented events (as its sidecar records them), with the timeline's
    text and the report's verdict and evidence for each."""
    by_id = {e.id: e for e in data.events}
    summ = {r["event"]: r for r in data.summary.to_dict("records")} \
        if data.summary is not None and len(data.summary) else {}
    rows = _strip_rows(fig)
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
            "window_local": f"{_local(d['start_utc'], tz)} – {_local(d['end_utc'], tz)} ({tz})",
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
            "window_local": f"{_local(d['start_utc'], tz)} – "
                            f"{_local(d['end_utc'], tz) if d['end_utc'] else 'still open'} ({tz})",
            **{k: _fmt(r.get(k)) for k in ("start_vs_report", "end_vs_report", "start_vs_data",
                                           "end_vs_data", "description")}})
    return out


def _documenter_tooltip():
    import altair as alt
    return [alt.Tooltip("documenter:N"), alt.Tooltip("label:N", title="entry"),
            alt.Tooltip("window_utc:N", title="documented (UTC)"),
            alt.Tooltip("window_local:N", title="documented (local)"),
            alt.Tooltip("start_vs_report:N", title="start vs the report"),
            alt.Tooltip("end_vs_report:N", title="end vs the report"),
            alt.Tooltip("start_vs_data:N", title="start vs the data"),
            alt.Tooltip("end_vs_data:N", title="end vs the data"), alt.Tooltip("description:N")]


def _documenter_lanes(docs: list[dict], name: str, x0, x1) -> list:
    """One view per other documenter, below the report's events: its entries as outlined
    bars (as the static figure's lane), named ``<name>_documenters<k>`` for the zoom."""
    import altair as alt
    lanes = []
    colour = plot.OTHER_DOCUMENTED_STYLE["edgecolor"]
    for k, who in enumerate(dict.fromkeys(d["documenter"] for d in docs)):
        mine = [d for d in docs if d["documenter"] == who]
        base = alt.Chart(alt.Data(name="documenters")).transform_filter(f"datum.documenter === {json.dumps(who)}")
        x = _x(x0, x1, axis=False)
        bars = base.properties(name=f"{name}_documenters{k}").mark_rect(
            fill="white", stroke=colour, strokeWidth=1, height=8, yOffset=4).encode(
            x=alt.X("drawn_start_utc:T", **x), x2="drawn_end_utc:T", y=alt.Y("row:O", axis=None),
            tooltip=_documenter_tooltip())
        text = base.mark_text(baseline="bottom", dy=2, fontSize=10, align="left").encode(
            x=alt.X("drawn_start_utc:T", **x), y=alt.Y("row:O", axis=None), text="label:N",
            tooltip=_documenter_tooltip())
        sim = " (SIMULATED)" if any(d["simulated"] for d in mine) else ""
        lanes.append(alt.layer(bars, text).properties(
            width=WIDTH, height=(max(d["row"] for d in mine) + 1) * ROW_H, title=alt.TitleParams(
                f"{who}{sim}: outages it documents (hover: against the report and the data)",
                anchor="start", fontSize=11)))
    return lanes


def _event_tooltip():
    import altair as alt
    return [alt.Tooltip("label:N", title="event"), alt.Tooltip("verdict:N", title="verdict"),
            alt.Tooltip("evidence:N", title="evidence"),
            alt.Tooltip("window_utc:N", title="documented (UTC)"),
            alt.Tooltip("window_local:N", title="documented (local)"),
            alt.Tooltip("precision:N"), alt.Tooltip("scope:N"),
            alt.Tooltip("quote_kk:N", title="quote (kk)"), alt.Tooltip("text_en:N", title="English"),
            alt.Tooltip("citation:N")]


def _local_expr(tz: str, x0: pd.Timestamp, x1: pd.Timestamp, var: str = "datum.t") -> tuple[str, str]:
    """Vega expressions for a point's UTC offset in ms and its label, valid over [x0, x1]
    (the zone's offsets there, from the tz database; usually one)."""
    hours = pd.date_range(x0, x1, freq="1h", tz="UTC").tz_convert(tz)
    segs, last = [], None
    for t in hours:
        off = int(t.utcoffset().total_seconds() * 1000)
        if off != last:
            segs.append((int(t.tz_convert("UTC").value // 10**6), off, _offset(t)))
            last = off
    off_e, lab_e = str(segs[-1][1]), json.dumps(segs[-1][2])
    for start, off, lab in reversed(segs[:-1]):
        nxt = segs[segs.index((start, off, lab)) + 1][0]
        off_e = f"({var} < {nxt} ? {off} : {off_e})"
        lab_e = f"({var} < {nxt} ? {json.dumps(lab)} : {lab_e})"
    return off_e, lab_e


# --------------------------------------------------------------------------- charts
def _watermark(sim: bool, height: float, width: float = WIDTH):
    import altair as alt
    if not sim:
        return None
    return alt.Chart(alt.Data(values=[{}])).mark_text(
        text="SIMULATED", fontSize=min(48, max(20, height * 0.4)), fontWeight="bold", opacity=0.1,
        angle=345, color="black").encode(x=alt.value(width / 2), y=alt.value(height / 2))


# Tick labels by zoom level, 24-hour clock (Vega's multi-level time format).
_TIME_FORMAT = {"year": "%Y", "quarter": "%b %Y", "month": "%b %Y", "week": "%d %b", "date": "%d %b",
                "hours": "%H:%M", "minutes": "%H:%M", "seconds": "%H:%M:%S", "milliseconds": "%H:%M:%S"}


def _x(x0, x1, title=None, axis=True):
    """The shared UTC time axis (its domain, the figure's x range, is declared once per
    chart, on the first view; the others share the scale)."""
    import altair as alt
    return dict(scale=alt.Scale(type="utc"),
                axis=alt.Axis(title=title, grid=True, labelFlush=False, format=_TIME_FORMAT)
                if axis else None)


def _local_axis(x0, x1, tz: str):
    """The first view's x: the figure's window, ticks at local midnight labelled with the
    local date on top (as the static figure's top axis)."""
    import altair as alt
    days = pd.date_range(x0.tz_convert(tz).normalize(), x1.tz_convert(tz), freq="1D")
    days = [d for d in days if x0 <= d <= x1]
    off_e, _ = _local_expr(tz, x0, x1, var="time(datum.value)")
    offs = sorted({_offset(d) for d in days}) or [_offset(x0.tz_convert(tz))]
    return dict(scale=alt.Scale(type="utc", domain=[int(x0.value // 10**6), int(x1.value // 10**6)]),
                axis=alt.Axis(orient="top", values=[int(d.value // 10**6) for d in days],
                              labelExpr=f"utcFormat(time(datum.value) + {off_e}, '%d %b')", grid=False,
                              title=f"local time ({tz}, {', '.join(offs)}); ticks at local midnight",
                              titleFontWeight="normal", labelFlush=False))


def panel_chart(fig, desc: dict, data, name: str) -> dict:
    """A strip-and-panels figure (overview, networks, region) as one Vega-Lite spec."""
    import altair as alt
    sim = bool(desc.get("simulated"))
    x0, x1 = (pd.Timestamp(t) for t in desc["x_range_utc"])
    tz = data.case.timezone
    off_e, lab_e = _local_expr(tz, x0, x1)
    events = event_records(desc, data, fig)
    n_rows = max([e["row"] for e in events] + [0]) + 1
    # selections go in after Altair has built (and validated) the spec: Altair's own
    # lifting of one selection shared by layered views names views that do not exist
    zoom_views = [f"{name}_events"]
    selections = []

    # series, as drawn; thinned above MAX_POINTS
    pts, colours, notes, labels = [], {}, {}, []
    x0_ms, x1_ms = x0.value // 10**6, x1.value // 10**6
    for rec in desc.get("series", []):
        ax = _panel_of(fig, rec["panel"])
        ln = _line(ax, rec["label"]) if ax is not None else None
        if ln is None:
            continue
        p = _panels(fig).index(ax)
        xy = np.asarray(ln.get_xydata(), dtype=float)
        t = _ms(xy[:, 0])
        inside = (t >= x0_ms) & (t <= x1_ms)
        t, v, k = thin(t[inside], xy[inside, 1])
        lab = rec["label"]
        if lab not in labels:
            labels.append(lab)
        colours[(p, lab)] = (ln.get_color(), _dash(ln))
        if k > 1:
            notes[(p, lab)] = f"lowest and highest of every {k} points shown"
        # the series by its index in ``labels`` (the label itself would repeat on every point)
        pts.extend({"p": p, "i": labels.index(lab), "t": int(a), "v": _sig(b)} for a, b in zip(t, v))
    detected = []
    for d in desc.get("detected", []):
        ax = _panel_of(fig, d.get("panel"))
        if ax is None or ax not in _panels(fig):
            continue
        members = d.get("intervals", [])
        what = "; ".join(dict.fromkeys(
            f"{m.get('source')} {m.get('signal')}" + (f" ({m['subtype']})" if m.get("subtype") else "")
            + f" {m.get('kind', '')} depth {_fmt(m.get('depth'))}" for m in members))
        detected.append({"p": _panels(fig).index(ax), "start": d["drawn_start_utc"], "end": d["drawn_end_utc"],
                         "utc": f"{d['drawn_start_utc']} – {d['drawn_end_utc']}",
                         "local": f"{_local(d['drawn_start_utc'], tz)} – {_local(d['drawn_end_utc'], tz)}",
                         "what": what})

    kinds = [k for k in plot.EVENT_STYLE if any(e["kind"] == k for e in events)]
    kind_scale = alt.Scale(domain=kinds, range=[plot.EVENT_STYLE[k][0] for k in kinds])
    kind_colour = alt.Fill("kind:N", title="documented", scale=kind_scale)
    strip_h = n_rows * ROW_H
    ev_data = alt.Data(name="events")
    bars = alt.Chart(ev_data, name=f"{name}_events").mark_rect(
        stroke="black", strokeWidth=0.5, opacity=0.9, height=8, yOffset=4, cursor="pointer").encode(
        x=alt.X("drawn_start_utc:T", **_local_axis(x0, x1, tz)), x2="drawn_end_utc:T",
        y=alt.Y("row:O", axis=None), fill=kind_colour, tooltip=_event_tooltip())
    # a label that would run off the right edge ends at its bar's end instead
    span = (x1 - x0).total_seconds()
    for e in events:
        left_px = (pd.Timestamp(e["drawn_start_utc"]) - x0).total_seconds() / span * WIDTH
        e["label_right"] = bool(left_px + _CHAR_PX * len(e["label"]) > WIDTH)
    strip_x = dict(_local_axis(x0, x1, tz), scale=alt.Scale(type="utc"))
    text = [alt.Chart(ev_data).transform_filter(f"{'' if right else '!'}datum.label_right").mark_text(
        baseline="bottom", dy=2, fontSize=10, cursor="pointer", align="right" if right else "left").encode(
        x=alt.X(f"{'drawn_end_utc' if right else 'drawn_start_utc'}:T", **strip_x),
        y=alt.Y("row:O", axis=None), text="label:N", tooltip=_event_tooltip()) for right in (False, True)]
    strip = alt.layer(bars, *text).properties(width=WIDTH, height=strip_h, title=alt.TitleParams(
        "documented events (hover: quote, verdict, evidence; click: details)", anchor="start",
        fontSize=11))
    docs = documenter_records(desc, data)
    lanes = _documenter_lanes(docs, name, x0, x1)
    zoom_views += [f"{name}_documenters{k}" for k in range(len(lanes))]

    show = {s: alt.param(name=f"show_{i}", value=True, bind=alt.binding_checkbox(name=f"show {s} "))
            for i, s in enumerate(labels)}
    visible = " || ".join(f"(datum.s === {json.dumps(s)} && {p.name})" for s, p in show.items()) or "true"
    panels = []
    for i, ax in enumerate(_panels(fig)):
        y0, y1 = ax.get_ylim()
        xa = _x(x0, x1, title="UTC (hover a line for local time)", axis=i == len(_panels(fig)) - 1)
        mine = [s_ for s_ in labels if (i, s_) in colours]
        series_colour = alt.Color("s:N", title=None, scale=alt.Scale(
            domain=mine, range=[colours[(i, s_)][0] for s_ in mine]), legend=alt.Legend(
            orient="right", symbolType="stroke", labelFontSize=10, labelLimit=150))
        dash = alt.StrokeDash("s:N", scale=alt.Scale(domain=mine, range=[colours[(i, s_)][1] for s_ in mine]),
                              legend=None)
        ys = alt.Y("v:Q", title=ax.get_ylabel() or None, scale=alt.Scale(domain=[y0, y1], clamp=True))
        base = alt.Chart(alt.Data(name="series")).transform_filter(f"datum.p === {i}").transform_calculate(
            s=f"{json.dumps(labels, ensure_ascii=False)}[datum.i]")
        hov = {"param": f"{name}_hover{i}", "empty": False}
        selections.append({"name": hov["param"], "views": [f"{name}_points{i}"],
                           # not "nearest": Vega-Lite's voronoi cells lose the calculated fields
                           # (series, UTC, local) from their tooltips; the points are dense enough
                           "select": {"type": "point", "on": "pointerover", "clear": "pointerout",
                                      "fields": ["t", "s"]}})
        zoom_views.append(f"{name}_line{i}")
        layers = []
        det = [d for d in detected if d["p"] == i]
        if det:
            layers.append(alt.Chart(alt.Data(name="detected")).transform_filter(f"datum.p === {i}")
                          .mark_rect(color=plot.DETECTED_STYLE["facecolor"], opacity=0.45).encode(
                x=alt.X("start:T", **xa), x2="end:T",
                tooltip=[alt.Tooltip("utc:N", title="detected outage (UTC)"),
                         alt.Tooltip("local:N", title=f"local ({tz})"), alt.Tooltip("what:N", title="series")]))
        guides = [e for e in events if e["kind"] != "context"]
        if guides:
            layers.append(alt.Chart(ev_data).transform_filter("datum.kind !== 'context'").mark_rect(
                opacity=0.07).encode(x=alt.X("drawn_start_utc:T", **xa),
                                     x2="drawn_end_utc:T", fill=kind_colour))
        line = base.properties(name=f"{name}_line{i}").transform_filter(visible).mark_line(strokeWidth=1.2, interpolate="linear").encode(
            x=alt.X("t:T", **xa),
            y=ys, color=series_colour, strokeDash=dash)
        points = base.properties(name=f"{name}_points{i}").transform_filter(visible).transform_calculate(
            utc=f"utcFormat(datum.t, '%Y-%m-%d %H:%M') + ' UTC'",
            local=f"utcFormat(datum.t + {off_e}, '%Y-%m-%d %H:%M ') + {lab_e}").mark_point(
            size=60, filled=True).encode(
            x=alt.X("t:T", **xa), y=ys, color=series_colour,
            opacity=alt.condition(hov, alt.value(1), alt.value(0)),
            tooltip=[alt.Tooltip("s:N", title="series"), alt.Tooltip("utc:N", title="UTC"),
                     alt.Tooltip("local:N", title=f"local ({tz})"), alt.Tooltip("v:Q", title="value",
                                                                             format=".4~g")])
        layers += [line, points]
        title = ax.get_title(loc="left")
        missing = [m["what"] for m in desc.get("missing", []) if m.get("panel") == ax.get_label()]
        if missing:
            title += f" -- {'; '.join(missing)}"
        thinned = [n for (p, _), n in notes.items() if p == i]
        sub = [thinned[0]] if thinned else []
        wm = _watermark(sim, PANEL_H)
        if wm is not None:
            layers.append(wm)
        panels.append(alt.layer(*layers).properties(
            width=WIDTH, height=PANEL_H, name=f"{name}_panel{i}",
            title=alt.TitleParams(title, subtitle=sub, anchor="start", fontSize=11, subtitleFontSize=9)))
    chart = alt.vconcat(strip, *lanes, *panels, spacing=8).resolve_scale(x="shared", color="independent", strokeDash="independent")
    chart = chart.add_params(*show.values()).properties(
        title=alt.TitleParams(fig._suptitle.get_text() if fig._suptitle else name, anchor="start",
                              subtitle=["drag to pan, scroll to zoom the time axis (all panels together); "
                                        "double-click to reset"]))
    selections.append(_zoom(zoom_views))
    return _finish(chart, name, desc, {"events": events, "series": pts, "detected": detected,
                                       **({"documenters": docs} if docs else {})}, selections, series=labels)


def alignment_chart(fig, desc: dict, data, name: str = "alignment") -> dict:
    """The Gantt chart, row by row as drawn: event windows, the detected intervals each
    verdict rests on (coloured by verdict), measured transitions."""
    import altair as alt
    from matplotlib.patches import Rectangle
    sim = bool(desc.get("simulated"))
    x0, x1 = (pd.Timestamp(t) for t in desc["x_range_utc"])
    tz = data.case.timezone
    ax = next(a for a in fig.axes if a.get_label() == "alignment")
    ticks = [(float(y), t.get_text()) for y, t in zip(ax.get_yticks(), ax.get_yticklabels())]
    labels = [t.strip() for _, t in ticks]
    row_of = lambda y: min(range(len(ticks)), key=lambda i: abs(ticks[i][0] - y)) if ticks else 0
    ev_rows = {}
    for art in ax.patches:
        gid = art.get_gid() or ""
        if isinstance(art, Rectangle) and gid.startswith("event:"):
            ev_rows[gid.split(":", 1)[1]] = row_of(art.get_y() + art.get_height() / 2)
    events = event_records(desc, data, fig)
    for e in events:
        e["row"] = ev_rows.get(e["id"], 0)
    det_y = {art.get_gid(): row_of(art.get_y() + art.get_height() / 2) for art in ax.patches
             if (art.get_gid() or "").startswith("detected:")}
    al = data.alignment if data.alignment is not None else pd.DataFrame()
    detected = []
    for d in desc.get("detected", []):
        key = {k: d.get(k) for k in ("source", "signal", "subtype", "entity_type", "entity_code")}
        m = al[(al["event"] == d.get("event")) & (al["verdict"] == d.get("verdict"))] if len(al) else al
        for k, v in key.items():
            if len(m) and k in m.columns and v is not None:
                m = m[m[k].astype(str) == str(v)]
        r = m.iloc[0] if len(m) else {}
        detected.append({"row": det_y.get(d["gid"], 0), "event": d.get("event"), "verdict": d.get("verdict"),
                         "series": labels[det_y.get(d["gid"], 0)] if labels else "",
                         "start": d["drawn_start_utc"], "end": d["drawn_end_utc"],
                         "utc": f"{d['drawn_start_utc']} – {d['drawn_end_utc']}",
                         "local": f"{_local(d['drawn_start_utc'], tz)} – {_local(d['drawn_end_utc'], tz)}",
                         "transition": _fmt(r.get("transition_utc")) if len(m) else "",
                         "minutes_off": _fmt(r.get("minutes_off")) if len(m) else "",
                         "reason": _fmt(r.get("reason")) if len(m) else ""})
    marks = []
    for ln in ax.get_lines():
        xs, ys = ln.get_xdata(), ln.get_ydata()
        if ln.get_marker() in ("|", "o") and len(xs):
            t = int(_ms([xs[0]])[0])
            marks.append({"row": row_of(float(ys[0])), "t": t,
                          "utc": pd.Timestamp(t, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M UTC"), "what": "measured transition"
                          if ln.get_marker() == "|" else "no detected interval (marker at window start)",
                          "marker": ln.get_marker()})
    verdicts = [v for v in plot.VERDICT_STYLE if any(d["verdict"] == v for d in detected)]
    x = _x(x0, x1, title="UTC")
    first = _local_axis(x0, x1, tz)       # the window, and local dates on top (as the PNG)
    y = alt.Y("row:O", title=None, scale=alt.Scale(domain=list(range(len(labels)))),
              axis=alt.Axis(labelExpr="rowLabels[datum.value]", labelLimit=260, labelFontSize=10))
    lab_param = alt.param(name="rowLabels", value=labels)
    ev = alt.Chart(alt.Data(name="events"), name=f"{name}_events").mark_rect(
        fill="white", stroke="black", strokeWidth=1, height=ROW_H * 0.8, cursor="pointer").encode(
        x=alt.X("drawn_start_utc:T", **first), x2="drawn_end_utc:T", y=y, tooltip=_event_tooltip())
    det = alt.Chart(alt.Data(name="detected")).mark_rect(stroke="black", strokeWidth=0.4,
                                                         height=ROW_H * 0.66).encode(
        x=alt.X("start:T", **x), x2="end:T", y=y,
        color=alt.Color("verdict:N", scale=alt.Scale(domain=verdicts,
                                                     range=[plot.VERDICT_STYLE[v][0] for v in verdicts]),
                        legend=alt.Legend(orient="bottom", title="verdict")),
        tooltip=[alt.Tooltip("series:N"), alt.Tooltip("verdict:N"), alt.Tooltip("event:N"),
                 alt.Tooltip("utc:N", title="detected (UTC)"), alt.Tooltip("local:N", title=f"local ({tz})"),
                 alt.Tooltip("transition:N", title="transition (UTC)"), alt.Tooltip("minutes_off:N"),
                 alt.Tooltip("reason:N")])
    marks_data, tip = alt.Data(name="marks"), [alt.Tooltip("what:N"), alt.Tooltip("utc:N", title="UTC")]
    tick = alt.Chart(marks_data).transform_filter("datum.marker === '|'").mark_tick(
        color="black", orient="vertical", thickness=1.5, size=ROW_H * 0.8).encode(
        x=alt.X("t:T", **dict(x, axis=None)), y=y, tooltip=tip)
    ring = alt.Chart(marks_data).transform_filter("datum.marker === 'o'").mark_point(
        color=plot.VERDICT_STYLE["not-measurable"][0], filled=False, size=40).encode(
        x=alt.X("t:T", **dict(x, axis=None)), y=y, tooltip=tip)
    layers = [ev, det, tick, ring]
    wm = _watermark(sim, ROW_H * len(labels), WIDTH - 200)
    if wm is not None:
        layers.append(wm)
    chart = alt.layer(*layers).properties(
        width=WIDTH - 200, height=ROW_H * max(len(labels), 1),
        title=alt.TitleParams(fig._suptitle.get_text() if fig._suptitle else name, anchor="start",
                              subtitle=["hover a bar for the verdict and its evidence; click an event for "
                                        "its quote; drag/scroll to pan and zoom"])
    ).add_params(lab_param).resolve_axis(x="independent")
    return _finish(chart, name, desc, {"events": events, "detected": detected, "marks": marks},
                   [_zoom([f"{name}_events"])])


def _restore_names(node, names: set) -> None:
    """Altair suffixes the names of layered views ("x_line0_1"); give back the names the
    selections refer to."""
    if isinstance(node, dict):
        n = node.get("name")
        if isinstance(n, str) and n not in names and "_" in n and n.rsplit("_", 1)[0] in names:
            node["name"] = n.rsplit("_", 1)[0]
        for v in node.values():
            _restore_names(v, names)
    elif isinstance(node, list):
        for v in node:
            _restore_names(v, names)


def _zoom(views: list) -> dict:
    """Drag to pan, scroll to zoom the time axis; one selection over all ``views`` links them."""
    return {"name": "zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales",
            "views": views}


def _finish(chart, name: str, desc: dict, datasets: dict, selections: list, series=()) -> dict:
    from altair.vegalite.v6.schema import core
    spec = chart.properties(usermeta={"shutdown": {
        "figure": name, "simulated": bool(desc.get("simulated")), "x_range_utc": desc["x_range_utc"],
        "event_kinds": desc.get("event_kinds"), "series": list(series), "source": f"figures/{name}.json (sidecar) and the figure's artists"}}
    ).to_dict(validate=False)
    views = {v for sel in selections for v in sel.get("views", [])}
    _restore_names(spec, views)
    spec["params"] = spec.get("params", []) + selections
    # Validated once, whole (selections included), with one row of each dataset: the
    # rows are plain records, and walking thousands of them through the schema was most
    # of the time a redrawn report took.
    core.TopLevelSpec.validate({**spec, "datasets": {k: v[:1] for k, v in datasets.items()}})
    spec["datasets"] = datasets
    return spec


CHARTS = ("overview", "networks", "alignment")     # the figures with an interactive version
FORMAT = "vega-lite"        # its key among a figure's files: figures/<name>.vl.json


def chart(name: str, fig, desc: dict, data) -> dict:
    """The Vega-Lite spec of figure ``name``, read back from ``fig`` and its sidecar record."""
    fn = alignment_chart if name == "alignment" else panel_chart
    return fn(fig, desc, data, name)


def save(spec: dict, base) -> Path:
    """Write the spec beside the figure's other files (figures/<name>.vl.json): what the page
    embeds, and a chart any Vega-Lite tool opens."""
    p = Path(base).with_suffix(".vl.json")
    p.write_text(json.dumps(spec, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return p


def load(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- page
CSS = """
.fig .interactive{overflow-x:auto}
.fig.live .static{display:none}
.fig .vega-bindings{font-size:.8rem;display:flex;flex-wrap:wrap;gap:.2rem 1rem}
.fig .event-details:empty{display:none}
.fig .event-details{border:1px solid #999;padding:.4rem .8rem;margin:.4rem 0;background:#fafafa}
.chart-banner{font-weight:bold;border:2px solid #000;padding:.2rem .5rem;background:#ffe;margin:.3rem 0}
#vg-tooltip-element{max-width:36rem}
#vg-tooltip-element table tr td.value{max-width:28rem;max-height:none;white-space:normal;overflow-wrap:anywhere}
@media print{.fig .interactive,.fig .event-details,.chart-banner{display:none!important}
.fig.live .static{display:block!important}}
"""


def head() -> str:
    """What the page's <head> needs: the styles and the inlined library."""
    return (f"<style>{CSS}</style>\n<script>/* Vega, Vega-Lite, vega-embed (inlined: no network) */\n"
            f"{library_js()}\n</script>")


def figure_html(name: str, spec: dict, static_html: str, simulated: bool) -> str:
    """One figure: the interactive chart over its static PNG (shown without JavaScript,
    when rendering fails, and in print)."""
    e = html.escape
    payload = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    banner = ('<p class="chart-banner">SIMULATED DATA: this interactive chart is drawn from '
              "simulated responses, not measurements.</p>" if simulated else "")
    return (f'<div class="fig" data-chart="{e(name)}">{banner}'
            f'<div class="interactive" id="vis-{e(name)}"></div>'
            f'<div class="event-details" id="details-{e(name)}" aria-live="polite"></div>'
            f'<script type="application/json" id="chart-{e(name)}">{payload}</script>'
            f'<div class="static">{static_html}</div></div>')


# Renders every embedded chart; on success the static PNG gives way (CSS .live), on
# failure it stays. Clicking an event shows its card from "Documented events".
BOOT = """
<noscript><p><b>JavaScript is off:</b> the static figures are shown; the interactive charts
need JavaScript (they load nothing from the network).</p></noscript>
<script>
window.shutdownCharts = {};
document.querySelectorAll('.fig[data-chart]').forEach(function (fig) {
  var name = fig.dataset.chart;
  var spec = JSON.parse(document.getElementById('chart-' + name).textContent);
  vegaEmbed('#vis-' + name, spec, %s).then(function (res) {
    window.shutdownCharts[name] = res.view;
    fig.classList.add('live');
    res.view.addEventListener('click', function (ev, item) {
      var d = item && item.datum;
      var card = d && d.quote_kk !== undefined && document.getElementById('event-' + d.id);
      if (card) {
        var box = document.getElementById('details-' + name);
        box.replaceChildren(card.cloneNode(true));
        box.firstChild.removeAttribute('id');
      }
    });
  }).catch(function (err) { console.error('chart ' + name + ': ' + err); });
});
</script>
""" % json.dumps(_EMBED_OPTIONS)


# --------------------------------------------------------------------------- reading the page
_CHART_RE = re.compile(r'<script type="application/json" id="chart-([^"]+)">(.*?)</script>', re.S)


def embedded(page: str) -> dict:
    """name -> spec of every chart embedded in a report.html text."""
    return {m.group(1): json.loads(m.group(2)) for m in _CHART_RE.finditer(page)}
