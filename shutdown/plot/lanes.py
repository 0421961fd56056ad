"""The documented events: bars at their true window, stacked in rows so no two labels
overlap (the event strip on top of every time figure), and faint guides at their edges
in the panels below."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from shutdown.plot.record import Record, num, plain
from shutdown.plot.style import DETECTED_STYLE, EVENT_STYLE, FONT_SIZE, GAP_PX, OI


@dataclass
class EventBar:
    id: str
    kind: str
    start: pd.Timestamp
    end: pd.Timestamp
    label: str
    precision: str
    row: int = 0


def short_id(eid: str) -> str:
    # "kz-03-shutdown" -> "kz-03"; keeps the number a reader finds in the table
    parts = eid.split("-")
    return "-".join(parts[:2]) if len(parts) > 2 else eid


def event_label(ev) -> str:
    title = ev.title or ev.kind
    return f"{short_id(ev.id)} {title}"


def event_record(ev_id, kind, precision, label, start, end) -> dict:
    """An event as a figure's record lists it (under its artist's gid)."""
    return {"id": ev_id, "kind": kind, "precision": precision, "label": label,
            "gid": f"event:{ev_id}", "start_utc": plain(start), "end_utc": plain(end)}


def text_width_px(texts: list[str], fontsize: float, dpi: float) -> list[float]:
    """Rendered widths of label texts, in pixels, at the figure's dpi."""
    scratch = Figure(dpi=dpi)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    r = FigureCanvasAgg(scratch).get_renderer()
    from matplotlib.font_manager import FontProperties
    fp = FontProperties(size=fontsize)
    return [r.get_text_width_height_descent(t, fp, ismath=False)[0] for t in texts]


def stack_rows(bars: list[EventBar], x0: pd.Timestamp, x1: pd.Timestamp, axes_width_px: float,
               fontsize: float, dpi: float) -> int:
    """Give each bar a row so that no two labels (or bars) of a row overlap.

    A bar's footprint is its window or its label, whichever reaches further
    right; greedy first-fit by start time. Returns the number of rows.
    """
    span_s = (x1 - x0).total_seconds()
    px_per_s = axes_width_px / span_s if span_s > 0 else 1.0
    widths = text_width_px([b.label for b in bars], fontsize, dpi)
    row_ends: list[float] = []
    for b, w in sorted(zip(bars, widths), key=lambda bw: (bw[0].start, bw[0].id)):
        left = max((b.start - x0).total_seconds() * px_per_s, 0.0)
        right = max((b.end - x0).total_seconds() * px_per_s, left + w + 2)
        # the label may be pushed left to stay inside the axes (see draw_event_strip)
        if left + w + 2 > axes_width_px:
            left = axes_width_px - w - 2
        for i, end in enumerate(row_ends):
            if left >= end + GAP_PX:
                b.row, row_ends[i] = i, right
                break
        else:
            b.row = len(row_ends)
            row_ends.append(right)
    return max(len(row_ends), 1)


def event_bars(events, x0, x1) -> list[EventBar]:
    out = []
    for ev in events:
        s, e = ev.window_utc
        if e <= x0 or s >= x1:
            continue
        out.append(EventBar(ev.id, ev.kind, s, e, event_label(ev), ev.precision))
    return out


def draw_event_strip(ax, bars: list[EventBar], n_rows: int, x0, x1, rec: Record):
    """Documented events as labelled bars at their true window, one row each."""
    fig = ax.figure
    ax.set_ylim(n_rows - 0.15, -0.85)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    axw_px = ax.get_window_extent().width or 1
    for b in bars:
        colour, hatch = EVENT_STYLE.get(b.kind, (OI["grey"], ""))
        s, e = max(b.start, x0), min(b.end, x1)
        rect = Rectangle((num(s), b.row - 0.02), num(e) - num(s), 0.28, facecolor=colour,
                         edgecolor="black", lw=0.5, hatch=hatch, alpha=0.9, gid=f"event:{b.id}")
        ax.add_patch(rect)
        # label sits above its bar, starting at the window's start; nudged left if it would
        # run off the right edge (stack_rows reserved that room)
        tx = num(s)
        txt = ax.text(tx, b.row - 0.08, b.label, fontsize=FONT_SIZE - 1, va="bottom", ha="left",
                      gid=f"event-label:{b.id}", clip_on=False)
        w_days = text_width_px([b.label], FONT_SIZE - 1, fig.dpi)[0] / axw_px * (num(x1) - num(x0))
        if tx + w_days > num(x1):
            txt.set_x(num(x1) - w_days * 1.01)
        rec.add("events", event_record(b.id, b.kind, b.precision, b.label, b.start, b.end))
    ax.set_ylabel("documented", rotation=0, ha="right", va="center")


def draw_event_guides(ax, bars: list[EventBar]):
    """Faint edges of the non-context event windows, so panels can be read against them."""
    for b in bars:
        if b.kind == "context":
            continue
        colour, _ = EVENT_STYLE.get(b.kind, (OI["grey"], ""))
        for t in (b.start, b.end):
            ax.axvline(num(t), color=colour, lw=0.6, ls=(0, (2, 2)), alpha=0.8, zorder=1)


def kind_handles(bars):
    """Legend entries for the event kinds drawn, and for the detected shade."""
    kinds = [k for k in EVENT_STYLE if any(b.kind == k for b in bars)]
    hs = [(Patch(facecolor=EVENT_STYLE[k][0], hatch=EVENT_STYLE[k][1], edgecolor="black", lw=0.5),
           f"documented: {k}") for k in kinds]
    hs.append((Patch(**{k: v for k, v in DETECTED_STYLE.items()}), "detected outage (this panel)"))
    return hs
