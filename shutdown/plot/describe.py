"""Reading a figure back: its record plus where its artists actually are.

Every artist that stands for a documented event, another documenter's entry or a detected
interval carries a ``gid`` ("event:<id>", "documenter:<lane>:<entry>", "detected:<n>"); ``describe`` looks the record's entries up among the
artists, so a figure's sidecar says where things *are* on the chart, not where the code
meant to put them. The SVG keeps the same ids.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from shutdown.plot.record import Record, plain, ts, utc


def describe(fig: Figure, rec: Record) -> dict:
    """What the figure draws, read back from its artists: events and detected intervals
    with the UTC windows they occupy on the chart, plus the series and gaps drawn."""
    found = {}
    for art in fig.findobj(lambda a: isinstance(a, Rectangle) or hasattr(a, "get_xy")):
        gid = art.get_gid()
        if not gid or not gid.startswith(("event:", "detected:", "documenter:")):
            continue
        if isinstance(art, Rectangle):
            xa, xb = art.get_x(), art.get_x() + art.get_width()
        else:  # axvspan polygon (older matplotlib)
            xy = np.asarray(art.get_xy())
            xa, xb = xy[:, 0].min(), xy[:, 0].max()
        found.setdefault(gid, []).append((ts(min(xa, xb)), ts(max(xa, xb))))
    events = []
    for ev in rec.events:
        spans = found.get(ev["gid"], [])
        if not spans:
            continue
        events.append({"id": ev["id"], "kind": ev["kind"], "precision": ev["precision"],
                       "label": ev["label"], "documented": True,
                       # the window the figure was given, and where the artist actually is
                       # (the same, unless clipped to the axis)
                       "start_utc": ev.get("start_utc"), "end_utc": ev.get("end_utc"),
                       "drawn_start_utc": plain(spans[0][0]), "drawn_end_utc": plain(spans[0][1])})
    # other documenters' entries: beside the events, never among them (check compares the
    # events with the report's timeline)
    others = [dict(d, drawn_start_utc=plain(found[d["gid"]][0][0]), drawn_end_utc=plain(found[d["gid"]][0][1]))
              for d in rec.documenters if d["gid"] in found]
    detected = []
    for d in rec.detected:
        spans = found.get(d["gid"], [])
        if spans:
            out = dict(d)   # keeps "gid": the artist's id, also in the SVG
            out["drawn_start_utc"], out["drawn_end_utc"] = plain(spans[0][0]), plain(spans[0][1])
            detected.append(out)
    x0, x1 = rec.x_range
    d0, d1 = rec.data_range
    return {
        "figure": rec.figure,
        "simulated": bool(rec.simulated),
        "x_range_utc": [plain(utc(x0)), plain(utc(x1))],
        "data_range_utc": [None if d0 is None else plain(utc(d0)), None if d1 is None else plain(utc(d1))],
        "events": events,
        **({"documenters": others} if others else {}),
        "detected": detected,
        "series": rec.series,
        "verdicts": rec.verdicts,
        "missing": rec.missing,
    }


def label_overlaps(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of event labels (the report's and other documenters') whose rendered boxes
    overlap (should be none)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    texts = [t for t in fig.findobj(lambda a: (a.get_gid() or "").startswith(("event-label:", "documenter-label:", "lane:")))]
    boxes = [(t.get_gid(), t.get_window_extent(r)) for t in texts]
    out = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if boxes[i][1].overlaps(boxes[j][1]):
                out.append((boxes[i][0], boxes[j][0]))
    return out
