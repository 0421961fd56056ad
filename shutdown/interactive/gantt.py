"""The interactive alignment chart: the Gantt chart row by row as the figure's record
lays it out -- event windows, the detected intervals each verdict rests on (coloured by
verdict), measured transitions -- with the alignment table's evidence in the tooltips."""
from __future__ import annotations

import pandas as pd

from shutdown import plot
from shutdown.interactive import vl
from shutdown.interactive.panels import event_tooltip
from shutdown.interactive.records import event_records, fmt, local, ms
from shutdown.interactive.vl import ROW_H, WIDTH, field, layer, tip, view


def _detected(desc: dict, data, rows: dict, labels: list, tz: str) -> list:
    """The sidecar's verdict bars, each with its row and its alignment row's evidence."""
    al = data.alignment if data.alignment is not None else pd.DataFrame()
    table = al.to_dict("records") if len(al) else []
    out = []
    for d in desc.get("detected", []):
        # the first alignment row of the bar's event, verdict and series
        want = {k: str(d[k]) for k in ("source", "signal", "subtype", "entity_type", "entity_code")
                if d.get(k) is not None and k in al.columns}
        r = next((r for r in table if r["event"] == d.get("event") and r["verdict"] == d.get("verdict")
                  and all(str(r[k]) == v for k, v in want.items())), {})
        row = rows.get(d["gid"], 0)
        out.append({"row": row, "event": d.get("event"), "verdict": d.get("verdict"),
                    "series": labels[row] if labels else "",
                    "start": d["drawn_start_utc"], "end": d["drawn_end_utc"],
                    "utc": f"{d['drawn_start_utc']} – {d['drawn_end_utc']}",
                    "local": f"{local(d['drawn_start_utc'], tz)} – {local(d['drawn_end_utc'], tz)}",
                    "transition": fmt(r.get("transition_utc")),
                    "minutes_off": fmt(r.get("minutes_off")),
                    "reason": fmt(r.get("reason"))})
    return out


def _marks(rec) -> list:
    """Measured transitions ("|") and rows without a detected interval ("o")."""
    out = []
    for m in rec.layout.get("marks", []):
        t = ms(m["t"])
        out.append({"row": m["row"], "t": t,
                    "utc": pd.Timestamp(t, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M UTC"),
                    "what": "measured transition" if m["marker"] == "|"
                    else "no detected interval (marker at window start)", "marker": m["marker"]})
    return out


def alignment_chart(rec, desc: dict, data, name: str = "alignment") -> dict:
    """The Gantt chart as one Vega-Lite spec."""
    sim = bool(desc.get("simulated"))
    x0, x1 = (pd.Timestamp(t) for t in desc["x_range_utc"])
    tz = data.case.timezone
    labels = rec.layout.get("rows", [])
    events = event_records(desc, data, rec.layout.get("event_rows", {}))
    detected = _detected(desc, data, rec.layout.get("detected_rows", {}), labels, tz)
    marks = _marks(rec)
    verdicts = [v for v in plot.VERDICT_STYLE if any(d["verdict"] == v for d in detected)]
    x = vl.x_utc(title="UTC")
    y = field("row:O", axis={"labelExpr": "rowLabels[datum.value]", "labelFontSize": 10, "labelLimit": 260},
              scale={"domain": list(range(len(labels)))}, title=None)
    ev = view({"name": "events"}, "rect", {
        "tooltip": event_tooltip(), "x": field("drawn_start_utc:T", **vl.x_local(x0, x1, tz)),
        "x2": {"field": "drawn_end_utc"}, "y": y},
        name=f"{name}_events", cursor="pointer", fill="white", height=ROW_H * 0.8, stroke="black", strokeWidth=1)
    det = view({"name": "detected"}, "rect", {
        "color": field("verdict:N", legend={"orient": "bottom", "title": "verdict"},
                       scale={"domain": verdicts, "range": [plot.VERDICT_STYLE[v][0] for v in verdicts]}),
        "tooltip": [tip("series:N"), tip("verdict:N"), tip("event:N"), tip("utc:N", "detected (UTC)"),
                    tip("local:N", f"local ({tz})"), tip("transition:N", "transition (UTC)"),
                    tip("minutes_off:N"), tip("reason:N")],
        "x": field("start:T", **x), "x2": {"field": "end"}, "y": y},
        height=ROW_H * 0.66, stroke="black", strokeWidth=0.4)
    mark_tip = [tip("what:N"), tip("utc:N", "UTC")]
    mark_x = field("t:T", **dict(x, axis=None))
    tick = view({"name": "marks"}, "tick", {"tooltip": mark_tip, "x": mark_x, "y": y},
                transform=[{"filter": "datum.marker === '|'"}], color="black", orient="vertical",
                size=ROW_H * 0.8, thickness=1.5)
    ring = view({"name": "marks"}, "point", {"tooltip": mark_tip, "x": mark_x, "y": y},
                transform=[{"filter": "datum.marker === 'o'"}], color=plot.VERDICT_STYLE["not-measurable"][0],
                filled=False, size=40)
    layers = [ev, det, tick, ring]
    wm = vl.watermark(sim, ROW_H * len(labels), WIDTH - 200)
    if wm is not None:
        layers.append(wm)
    chart = layer(*layers, height=ROW_H * max(len(labels), 1), params=[{"name": "rowLabels", "value": labels}],
                  resolve={"axis": {"x": "independent"}},
                  title=vl.title(rec.layout.get("title") or name, anchor="start", subtitle=[
                      "hover a bar for the verdict and its evidence; click an event for its quote; "
                      "drag/scroll to pan and zoom"]), width=WIDTH - 200)
    return vl.finish(chart, name, desc, {"events": events, "detected": detected, "marks": marks},
                     [vl.zoom([f"{name}_events"])])
