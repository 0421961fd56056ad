"""The interactive version of a strip-and-panels figure (overview, networks): the
documented events' strip, other documenters' lanes, and one panel per data panel of the
figure, its lines (thinned for the page), detected spans and event guides -- all from the
figure's ``Record`` and sidecar, never from its artists."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from shutdown import plot
from shutdown.interactive import vl
from shutdown.interactive.records import (documenter_records, event_records, fmt, local, local_expr,
                                          sig, thin)
from shutdown.interactive.vl import ROW_H, WIDTH, field, layer, tip, view

PANEL_H = 110              # px per data panel
_CHAR_PX = 5.6             # mean width of a 10 px label character
# matplotlib's line styles as Vega stroke dashes (a custom dash pattern, which matplotlib
# reports as "--", too)
_DASH = {"-": [], "solid": [], "--": [6, 3], "dashed": [6, 3], ":": [1.5, 2.5], "dotted": [1.5, 2.5],
         "-.": [6, 2.5, 1.5, 2.5], "dashdot": [6, 2.5, 1.5, 2.5]}


def dash(ls) -> list:
    return _DASH["--"] if not isinstance(ls, str) else _DASH.get(ls, [4, 2])


def event_tooltip() -> list:
    return [tip("label:N", "event"), tip("verdict:N", "verdict"), tip("evidence:N", "evidence"),
            tip("window_utc:N", "documented (UTC)"), tip("window_local:N", "documented (local)"),
            tip("precision:N"), tip("scope:N"), tip("quote_kk:N", "quote (kk)"), tip("text_en:N", "English"),
            tip("citation:N")]


def _documenter_tooltip() -> list:
    return [tip("documenter:N"), tip("label:N", "entry"), tip("window_utc:N", "documented (UTC)"),
            tip("window_local:N", "documented (local)"), tip("start_vs_report:N", "start vs the report"),
            tip("end_vs_report:N", "end vs the report"), tip("start_vs_data:N", "start vs the data"),
            tip("end_vs_data:N", "end vs the data"), tip("description:N")]


def _documenter_lanes(docs: list[dict], name: str) -> list:
    """One view per other documenter, below the report's events: its entries as outlined
    bars (as the static figure's lane), named ``<name>_documenters<k>`` for the zoom."""
    lanes = []
    colour = plot.OTHER_DOCUMENTED_STYLE["edgecolor"]
    x = field("drawn_start_utc:T", **vl.x_utc(axis=False))
    for k, who in enumerate(dict.fromkeys(d["documenter"] for d in docs)):
        mine = [d for d in docs if d["documenter"] == who]
        only = [{"filter": f"datum.documenter === {json.dumps(who)}"}]
        data = {"name": "documenters"}
        bars = view(data, "rect", {"tooltip": _documenter_tooltip(), "x": x, "x2": {"field": "drawn_end_utc"},
                                   "y": field("row:O", axis=None)},
                    name=f"{name}_documenters{k}", transform=only,
                    fill="white", stroke=colour, strokeWidth=1, height=8, yOffset=4)
        text = view(data, "text", {"text": field("label:N"), "tooltip": _documenter_tooltip(), "x": x,
                                   "y": field("row:O", axis=None)}, transform=only,
                    baseline="bottom", dy=2, fontSize=10, align="left")
        sim = " (SIMULATED)" if any(d["simulated"] for d in mine) else ""
        lanes.append(layer(bars, text, height=(max(d["row"] for d in mine) + 1) * ROW_H, title=vl.title(
            f"{who}{sim}: outages it documents (hover: against the report and the data)",
            anchor="start", fontSize=11), width=WIDTH))
    return lanes


def _strip(name: str, events: list, x0, x1, tz: str, kind_fill: dict) -> dict:
    """The documented events as labelled bars, one row each (as the figure's strip)."""
    n_rows = max([e["row"] for e in events] + [0]) + 1
    data = {"name": "events"}
    bars = view(data, "rect", {"fill": kind_fill, "tooltip": event_tooltip(),
                               "x": field("drawn_start_utc:T", **vl.x_local(x0, x1, tz)),
                               "x2": {"field": "drawn_end_utc"}, "y": field("row:O", axis=None)},
                name=f"{name}_events", cursor="pointer", height=8, opacity=0.9, stroke="black",
                strokeWidth=0.5, yOffset=4)
    # a label that would run off the right edge ends at its bar's end instead
    span = (x1 - x0).total_seconds()
    for e in events:
        left_px = (pd.Timestamp(e["drawn_start_utc"]) - x0).total_seconds() / span * WIDTH
        e["label_right"] = bool(left_px + _CHAR_PX * len(e["label"]) > WIDTH)
    strip_x = dict(vl.x_local(x0, x1, tz), scale={"type": "utc"})
    text = [view(data, "text", {"text": field("label:N"), "tooltip": event_tooltip(),
                                "x": field(f"{'drawn_end_utc' if right else 'drawn_start_utc'}:T", **strip_x),
                                "y": field("row:O", axis=None)},
                 transform=[{"filter": f"{'' if right else '!'}datum.label_right"}],
                 align="right" if right else "left", baseline="bottom", cursor="pointer", dy=2, fontSize=10)
            for right in (False, True)]
    return layer(bars, *text, height=n_rows * ROW_H, title=vl.title(
        "documented events (hover: quote, verdict, evidence; click: details)", anchor="start",
        fontSize=11), width=WIDTH)


def _series(rec, x0, x1) -> tuple[list, dict, dict, list]:
    """The lines (``records.Plotted``) as chart points (thinned above MAX_POINTS): (points, (panel,
    label) -> (colour, dash), (panel, label) -> thinning note, labels in order)."""
    panels = [p["label"] for p in rec.layout["panels"]]
    x0_ms, x1_ms = x0.value // 10**6, x1.value // 10**6
    pts, styles, notes, labels = [], {}, {}, []
    for line in rec.lines:
        p = panels.index(line["panel"])
        t, v = line["t"], line["v"]
        inside = (t >= x0_ms) & (t <= x1_ms)
        t, v, k = thin(t[inside], v[inside])
        lab = line["series"]
        if lab not in labels:
            labels.append(lab)
        styles[(p, lab)] = (line["colour"], dash(line["ls"]))
        if k > 1:
            notes[(p, lab)] = f"lowest and highest of every {k} points shown"
        # the series by its index in ``labels`` (the label itself would repeat on every point)
        i = labels.index(lab)
        pts.extend({"p": p, "i": i, "t": a, "v": sig(b)} for a, b in zip(t.astype(np.int64).tolist(), v.tolist()))
    return pts, styles, notes, labels


def _detected(desc: dict, panels: list, tz: str) -> list:
    """The sidecar's detected spans, each in the panel (by label or title) it shades."""
    out = []
    for d in desc.get("detected", []):
        p = next((i for i, x in enumerate(panels) if d.get("panel") in (x["label"], x["title"])), None)
        if p is None:
            continue
        what = "; ".join(dict.fromkeys(
            f"{m.get('source')} {m.get('signal')}" + (f" ({m['subtype']})" if m.get("subtype") else "")
            + f" {m.get('kind', '')} depth {fmt(m.get('depth'))}" for m in d.get("intervals", [])))
        out.append({"p": p, "start": d["drawn_start_utc"], "end": d["drawn_end_utc"],
                    "utc": f"{d['drawn_start_utc']} – {d['drawn_end_utc']}",
                    "local": f"{local(d['drawn_start_utc'], tz)} – {local(d['drawn_end_utc'], tz)}",
                    "what": what})
    return out


def _panel(name: str, i: int, last: bool, panel: dict, ctx: dict) -> tuple[dict, dict]:
    """Data panel ``i``: its detected spans, event guides, lines and hover points; returns
    (the view, its hover selection)."""
    styles, labels, tz = ctx["styles"], ctx["labels"], ctx["tz"]
    xa = vl.x_utc(title="UTC (hover a line for local time)", axis=last)
    mine = [s_ for s_ in labels if (i, s_) in styles]
    colour = field("s:N", legend={"labelFontSize": 10, "labelLimit": 150, "orient": "right",
                                  "symbolType": "stroke"},
                   scale={"domain": mine, "range": [styles[(i, s_)][0] for s_ in mine]}, title=None)
    stroke_dash = field("s:N", legend=None, scale={"domain": mine, "range": [styles[(i, s_)][1] for s_ in mine]})
    y0, y1 = panel["ylim"]
    ys = field("v:Q", scale={"clamp": True, "domain": [y0, y1]}, title=panel["ylabel"] or None)
    base = [{"filter": f"datum.p === {i}"},
            {"calculate": f"{json.dumps(labels, ensure_ascii=False)}[datum.i]", "as": "s"},
            {"filter": ctx["visible"]}]
    hover = {"name": f"{name}_hover{i}", "views": [f"{name}_points{i}"],
             # not "nearest": Vega-Lite's voronoi cells lose the calculated fields
             # (series, UTC, local) from their tooltips; the points are dense enough
             "select": {"type": "point", "on": "pointerover", "clear": "pointerout", "fields": ["t", "s"]}}
    layers = []
    if any(d["p"] == i for d in ctx["detected"]):
        layers.append(view({"name": "detected"}, "rect", {
            "tooltip": [tip("utc:N", "detected outage (UTC)"), tip("local:N", f"local ({tz})"),
                        tip("what:N", "series")],
            "x": field("start:T", **xa), "x2": {"field": "end"}},
            transform=[{"filter": f"datum.p === {i}"}], color=plot.DETECTED_STYLE["facecolor"], opacity=0.45))
    if any(e["kind"] != "context" for e in ctx["events"]):
        layers.append(view({"name": "events"}, "rect", {
            "fill": ctx["kind_fill"], "x": field("drawn_start_utc:T", **xa), "x2": {"field": "drawn_end_utc"}},
            transform=[{"filter": "datum.kind !== 'context'"}], opacity=0.07))
    layers.append(view({"name": "series"}, "line", {"color": colour, "strokeDash": stroke_dash,
                                                    "x": field("t:T", **xa), "y": ys},
                       name=f"{name}_line{i}", transform=base, interpolate="linear", strokeWidth=1.2))
    layers.append(view({"name": "series"}, "point", {
        "color": colour, "opacity": {"condition": {"param": hover["name"], "value": 1, "empty": False}, "value": 0},
        "tooltip": [tip("s:N", "series"), tip("utc:N", "UTC"), tip("local:N", f"local ({tz})"),
                    tip("v:Q", "value", format=".4~g")],
        "x": field("t:T", **xa), "y": ys}, name=f"{name}_points{i}", transform=base + [
            {"calculate": "utcFormat(datum.t, '%Y-%m-%d %H:%M') + ' UTC'", "as": "utc"},
            {"calculate": f"utcFormat(datum.t + {ctx['off_e']}, '%Y-%m-%d %H:%M ') + {ctx['lab_e']}",
             "as": "local"}], filled=True, size=60))
    wm = vl.watermark(ctx["sim"], PANEL_H)
    if wm is not None:
        layers.append(wm)
    heading = panel["title"]
    missing = [m["what"] for m in ctx["missing"] if m.get("panel") == panel["label"]]
    if missing:
        heading += f" -- {'; '.join(missing)}"
    thinned = [n for (p, _), n in ctx["notes"].items() if p == i]
    return layer(*layers, height=PANEL_H, name=f"{name}_panel{i}", title=vl.title(
        heading, anchor="start", fontSize=11, subtitle=[thinned[0]] if thinned else [], subtitleFontSize=9),
        width=WIDTH), hover


def panel_chart(rec, desc: dict, data, name: str) -> dict:
    """A strip-and-panels figure (overview, networks) as one Vega-Lite spec."""
    sim = bool(desc.get("simulated"))
    x0, x1 = (pd.Timestamp(t) for t in desc["x_range_utc"])
    tz = data.case.timezone
    off_e, lab_e = local_expr(tz, x0, x1)
    events = event_records(desc, data, rec.layout.get("event_rows", {}))
    pts, styles, notes, labels = _series(rec, x0, x1)
    panels = rec.layout["panels"]
    detected = _detected(desc, panels, tz)
    kinds = [k for k in plot.EVENT_STYLE if any(e["kind"] == k for e in events)]
    kind_fill = field("kind:N", scale={"domain": kinds, "range": [plot.EVENT_STYLE[k][0] for k in kinds]},
                      title="documented")
    strip = _strip(name, events, x0, x1, tz, kind_fill)
    docs = documenter_records(desc, data)
    lanes = _documenter_lanes(docs, name)
    show = [{"name": f"show_{i}", "bind": {"input": "checkbox", "name": f"show {s} "}, "value": True}
            for i, s in enumerate(labels)]
    visible = " || ".join(f"(datum.s === {json.dumps(s)} && {p['name']})" for s, p in zip(labels, show)) or "true"
    ctx = dict(styles=styles, labels=labels, tz=tz, visible=visible, detected=detected, events=events,
               kind_fill=kind_fill, off_e=off_e, lab_e=lab_e, sim=sim, missing=desc.get("missing", []),
               notes=notes)
    views, hovers = [], []
    for i, panel in enumerate(panels):
        v, hover = _panel(name, i, i == len(panels) - 1, panel, ctx)
        views.append(v)
        hovers.append(hover)
    zoom = vl.zoom([f"{name}_events", *(f"{name}_documenters{k}" for k in range(len(lanes))),
                    *(f"{name}_line{i}" for i in range(len(panels)))])
    chart = {"vconcat": [strip, *lanes, *views], "params": show,
             "resolve": {"scale": {"color": "independent", "strokeDash": "independent", "x": "shared"}},
             "spacing": 8, "title": vl.title(rec.layout.get("title") or name, anchor="start", subtitle=[
                 "drag to pan, scroll to zoom the time axis (all panels together); double-click to reset"])}
    return vl.finish(chart, name, desc, {"events": events, "series": pts, "detected": detected,
                                         **({"documenters": docs} if docs else {})},
                     hovers + [zoom], series=labels)
