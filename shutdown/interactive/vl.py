"""Vega-Lite as plain dicts: the few pieces the charts are made of, and the spec's finish.

The charts were built with Altair; building the same JSON directly took a redrawn
report's chart time from ~1.5 s to a few milliseconds (Altair deep-copies every
sub-chart it combines). Altair still validates: each finished spec, with one row of each
dataset, against the Vega-Lite schema Altair ships -- once per spec shape, remembered
under the cache directory (``vendor/vl-valid/``), so a redraw of unchanged charts
neither imports Altair nor walks the schema.
"""
from __future__ import annotations

import hashlib
import json

import pandas as pd

from shutdown.interactive.records import local_expr, offset

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"   # Altair 6's (checked at validation)
WIDTH = 640                # px, the plotting area (the page is 64rem wide, legends to the right)
ROW_H = 22                 # px per event row (strip) or Gantt row

# Tick labels by zoom level, 24-hour clock (Vega's multi-level time format).
TIME_FORMAT = {"year": "%Y", "quarter": "%b %Y", "month": "%b %Y", "week": "%d %b", "date": "%d %b",
               "hours": "%H:%M", "minutes": "%H:%M", "seconds": "%H:%M:%S", "milliseconds": "%H:%M:%S"}


def field(shorthand: str, **kw) -> dict:
    """An encoding channel from "name:T" (T: N nominal, O ordinal, Q quantitative, T temporal)."""
    name, t = shorthand.rsplit(":", 1)
    return {"field": name, "type": {"N": "nominal", "O": "ordinal", "Q": "quantitative",
                                    "T": "temporal"}[t], **kw}


def tip(shorthand: str, title: str | None = None, **kw) -> dict:
    return field(shorthand, **({"title": title} if title is not None else {}), **kw)


def view(data: dict, mark: str, encoding: dict, *, name: str | None = None, transform=(), **mark_kw) -> dict:
    """One single view: its data (``{"name": dataset}`` or inline ``values``), mark and encoding."""
    v = {"data": data, "mark": {"type": mark, **mark_kw}, "encoding": encoding}
    if transform:
        v["transform"] = list(transform)
    if name:
        v["name"] = name
    return v


def layer(*views, **props) -> dict:
    """Views drawn over each other; data they all share is stated once (as Altair did)."""
    views = [dict(v) for v in views]
    out = {"layer": views}
    if len(views) > 1 and all(v.get("data") == views[0].get("data") for v in views):
        out["data"] = views[0]["data"]
        for v in views:
            v.pop("data", None)
    out.update(props)
    return out


def title(text: str, **kw) -> dict:
    return {"text": text, **kw}


def x_utc(title: str | None = None, axis: bool = True) -> dict:
    """The shared UTC time axis (its domain, the figure's x range, is declared once per
    chart, on the first view; the others share the scale)."""
    return {"scale": {"type": "utc"},
            "axis": {"title": title, "grid": True, "labelFlush": False, "format": TIME_FORMAT} if axis else None}


def x_local(x0: pd.Timestamp, x1: pd.Timestamp, tz: str) -> dict:
    """The first view's x: the figure's window, ticks at local midnight labelled with the
    local date on top (as the static figure's top axis)."""
    days = pd.date_range(x0.tz_convert(tz).normalize(), x1.tz_convert(tz), freq="1D")
    days = [d for d in days if x0 <= d <= x1]
    off_e, _ = local_expr(tz, x0, x1, var="time(datum.value)")
    offs = sorted({offset(d) for d in days}) or [offset(x0.tz_convert(tz))]
    return {"scale": {"type": "utc", "domain": [int(x0.value // 10**6), int(x1.value // 10**6)]},
            "axis": {"orient": "top", "values": [int(d.value // 10**6) for d in days],
                     "labelExpr": f"utcFormat(time(datum.value) + {off_e}, '%d %b')", "grid": False,
                     "title": f"local time ({tz}, {', '.join(offs)}); ticks at local midnight",
                     "titleFontWeight": "normal", "labelFlush": False}}


def watermark(sim: bool, height: float, width: float = WIDTH) -> dict | None:
    if not sim:
        return None
    return view({"values": [{}]}, "text", {"x": {"value": width / 2}, "y": {"value": height / 2}},
                text="SIMULATED", fontSize=min(48, max(20, height * 0.4)), fontWeight="bold", opacity=0.1,
                angle=345, color="black")


def zoom(views: list) -> dict:
    """Drag to pan, scroll to zoom the time axis; one selection over all ``views`` links them."""
    return {"name": "zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales",
            "views": views}


def finish(chart: dict, name: str, desc: dict, datasets: dict, params: list, series=()) -> dict:
    """The top-level spec: the chart, its selections and parameters, what ``shutdown check``
    verifies (``usermeta.shutdown``) and the datasets; validated (once per shape)."""
    spec = {"config": {"view": {"continuousWidth": 300, "continuousHeight": 300}}, **chart,
            "params": chart.get("params", []) + params,
            "usermeta": {"shutdown": {
                "figure": name, "simulated": bool(desc.get("simulated")), "x_range_utc": desc["x_range_utc"],
                "event_kinds": desc.get("event_kinds"), "series": list(series),
                "source": f"figures/{name}.json (sidecar) and the figure's record"}},
            "$schema": SCHEMA}
    validate({**spec, "datasets": {k: v[:1] for k, v in datasets.items()}})
    spec["datasets"] = datasets
    return spec


def validate(spec: dict) -> None:
    """Validate ``spec`` against Altair's Vega-Lite schema, unless a spec of the same shape
    passed before with this code: a marker file under the cache directory says so. The
    shape is the spec with every value replaced by its type and every list by the set of
    its items' shapes, so new titles, labels, domains or rows of the same kinds do not ask
    again. A spec that fails raises (a programming error: the charts are built here)."""
    from importlib.metadata import version

    from shutdown.paths import default_cache_dir
    from shutdown.sidecar import code_sha256
    shape = json.dumps([_shape(spec), code_sha256(), version("altair")], sort_keys=True)
    mark = default_cache_dir() / "vendor" / "vl-valid" / hashlib.sha256(shape.encode()).hexdigest()
    if mark.exists():
        return
    from altair.vegalite.v6.schema import SCHEMA_URL, core
    if SCHEMA_URL != SCHEMA:
        raise RuntimeError(f"Altair's Vega-Lite schema is {SCHEMA_URL}; "
                           f"shutdown.interactive.vl.SCHEMA says {SCHEMA}")
    core.TopLevelSpec.validate(spec)
    try:
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.touch()
    except OSError:             # a read-only cache only costs the time
        pass


def _shape(node):
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items()}
    if isinstance(node, list):
        return sorted({json.dumps(_shape(v), sort_keys=True) for v in node})
    return type(node).__name__
