"""The documented events: bars at their true window, stacked in rows so no two labels
overlap (the event strip on top of every time figure), and faint guides at their edges
in the panels below."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
from matplotlib.patches import Patch, Rectangle

from shutdown.i18n import _, current
from shutdown.plot.record import Record, num, plain
from shutdown.plot.style import DETECTED_STYLE, EVENT_STYLE, FONT_SIZE, GAP_PX, OI, OTHER_DOCUMENTED_STYLE


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
    # our translation of the title where the timeline has one (title_kk, title_ru)
    title = getattr(ev, f"title_{current()}", "") or ev.title or _(ev.kind)
    return f"{short_id(ev.id)} {title}"


def event_record(ev_id, kind, precision, label, start, end) -> dict:
    """An event as a figure's record lists it (under its artist's gid)."""
    return {"id": ev_id, "kind": kind, "precision": precision, "label": label,
            "gid": f"event:{ev_id}", "start_utc": plain(start), "end_utc": plain(end)}


def text_width_px(texts: list[str], fontsize: float, dpi: float) -> list[float]:
    """Rendered widths of label texts, in pixels, at the figure's dpi."""
    import matplotlib as mpl
    family = tuple(mpl.rcParams["font.family"])
    return [_text_width_px(t, fontsize, dpi, family) for t in texts]


@functools.lru_cache(maxsize=1024)
def _text_width_px(text: str, fontsize: float, dpi: float, family: tuple) -> float:
    # a small renderer, and each label measured once: every time figure stacks the same
    # labels (a page-sized scratch renderer per label cost ~2 ms)
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    font = FontProperties(family=list(family), size=fontsize)
    return RendererAgg(1, 1, dpi).get_text_width_height_descent(text, font, ismath=False)[0]


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


def _draw_bar(ax, b: EventBar, x0, x1, axw_px: float, what: str, key: str, **style) -> None:
    """One labelled bar of the strip: the window (clipped to the axis), artist id
    ``<what>:<key>``, and above it its label, ``<what>-label:<key>``."""
    s, e = max(b.start, x0), min(b.end, x1)
    ax.add_patch(Rectangle((num(s), b.row - 0.02), num(e) - num(s), 0.28, gid=f"{what}:{key}", **style))
    # label sits above its bar, starting at the window's start; nudged left if it would
    # run off the right edge (stack_rows reserved that room)
    tx = num(s)
    txt = ax.text(tx, b.row - 0.08, b.label, fontsize=FONT_SIZE - 1, va="bottom", ha="left",
                  gid=f"{what}-label:{key}", clip_on=False)
    w_days = text_width_px([b.label], FONT_SIZE - 1, ax.figure.dpi)[0] / axw_px * (num(x1) - num(x0))
    if tx + w_days > num(x1):
        txt.set_x(num(x1) - w_days * 1.01)


def draw_event_strip(ax, bars: list[EventBar], n_rows: int, x0, x1, rec: Record, lanes=()):
    """Documented events as labelled bars at their true window, one row each; below them,
    the ``lanes`` of other documenters (``n_rows`` counts their rows too)."""
    ax.set_ylim(n_rows - 0.15, -0.85)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    axw_px = ax.get_window_extent().width or 1
    for b in bars:
        colour, hatch = EVENT_STYLE.get(b.kind, (OI["grey"], ""))
        _draw_bar(ax, b, x0, x1, axw_px, "event", b.id, facecolor=colour, edgecolor="black", lw=0.5,
                  hatch=hatch, alpha=0.9)
        rec.add("events", event_record(b.id, b.kind, b.precision, b.label, b.start, b.end))
        rec.place("event_rows", b.row, at=b.id)
    if not lanes:
        ax.set_ylabel(_("documented"), rotation=0, ha="right", va="center")
        return
    # the report's rows and each other documenter's lane, named at the left
    report_rows = (lanes[0].first_row - 1) / 2
    ax.text(-0.01, report_rows, _("documented\n(the report)"), transform=ax.get_yaxis_transform(),
            ha="right", va="center")
    for lane in lanes:
        draw_lane(ax, lane, x0, x1, axw_px, rec)


# --------------------------------------------------------------------------- other documenters
@dataclass
class Lane:
    """Another documenter's outages (a source's own records, ``shutdown.documenters``) as a
    lane of the event strip: a heading row, then its entries stacked like the events.
    Their artists are ``documenter:<key>:<entry>``, recorded under ``documenters``, never
    ``event:...``: they are not the report's events, and ``check`` compares only those."""
    title: str
    key: str
    simulated: bool
    bars: list
    still_open: frozenset = frozenset()     # entries without an end (drawn to the axis end)
    first_row: int = 0
    n_rows: int = 1


def other_lanes(others: pd.DataFrame | None, x0, x1) -> list[Lane]:
    """One lane per documenter of ``others`` (``documenters.COLUMNS``; the rows naming an
    entry): its entries inside [x0, x1) as bars; one still open runs to the axis end."""
    if others is None or not len(others):
        return []
    entries = others[others["entry"].astype(str) != ""]
    lanes = []
    for k, (title, df) in enumerate(entries.groupby("documenter", sort=False)):
        bars, still_open = [], set()
        for r in df.to_dict("records"):
            start, end = pd.Timestamp(r["start_utc"]), r["end_utc"]
            if end is None or end == "" or pd.isna(end):
                end = x1
                still_open.add(str(r["entry"]))
            end = pd.Timestamp(end)
            if end <= x0 or start >= x1:
                continue
            bars.append(EventBar(str(r["entry"]), "outage", start, end, f"outage {r['entry']}"
                                 + (" (still open)" if str(r["entry"]) in still_open else ""), ""))
        lanes.append(Lane(str(title), f"d{k}", bool(df["simulated"].astype(bool).any()), bars,
                          frozenset(still_open)))
    return lanes


def stack_lanes(lanes: list[Lane], first_row: int, x0, x1, axes_width_px: float, fontsize: float,
                dpi: float) -> int:
    """Place the lanes one below the other from ``first_row``; returns the rows they take."""
    row = first_row
    for lane in lanes:
        n = stack_rows(lane.bars, x0, x1, axes_width_px, fontsize, dpi) if lane.bars else 0
        for b in lane.bars:
            b.row += row + 1
        lane.first_row, lane.n_rows = row, 1 + n
        row += lane.n_rows
    return row - first_row


def lane_title(lane: Lane) -> str:
    return _(lane.title) + (f" ({_('SIMULATED')})" if lane.simulated else "")


def draw_lane(ax, lane: Lane, x0, x1, axw_px: float, rec: Record) -> None:
    y = lane.first_row
    ax.axhline(y - 0.8, color="#999999", lw=0.5, ls=":")    # the line between two documenters
    ax.text(num(x0), y + 0.2, lane_title(lane) + ("" if lane.bars else ": " + _("no outage in this window")),
            fontsize=FONT_SIZE - 1, style="italic", va="bottom", ha="left", gid=f"lane:{lane.key}")
    for b in lane.bars:
        _draw_bar(ax, b, x0, x1, axw_px, "documenter", f"{lane.key}:{b.id}", **OTHER_DOCUMENTED_STYLE)
        rec.add("documenters", {"documenter": lane.title, "entry": b.id, "label": b.label,
                                "gid": f"documenter:{lane.key}:{b.id}", "row": b.row - y - 1,
                                "simulated": lane.simulated,
                                "start_utc": plain(b.start),
                                "end_utc": None if b.id in lane.still_open else plain(b.end)})


def draw_event_guides(ax, bars: list[EventBar]):
    """Faint edges of the non-context event windows, so panels can be read against them:
    one collection per panel (one artist instead of two per event: a tenth of a figure's
    drawing time went to these lines)."""
    from matplotlib.collections import LineCollection
    segs, colours = [], []
    for b in bars:
        if b.kind == "context":
            continue
        colour, _ = EVENT_STYLE.get(b.kind, (OI["grey"], ""))
        for t in (b.start, b.end):
            segs.append([(num(t), 0), (num(t), 1)])
            colours.append(colour)
    if segs:
        ax.add_collection(LineCollection(segs, colors=colours, linewidths=0.6, linestyles=[(0, (2, 2))],
                                         alpha=0.8, zorder=1, transform=ax.get_xaxis_transform()),
                          autolim=False)


def kind_handles(bars, detected: bool = True):
    """Legend entries for the event kinds drawn, and for the detected shade when a panel
    shows any (``detected``)."""
    kinds = [k for k in EVENT_STYLE if any(b.kind == k for b in bars)]
    hs = [(Patch(facecolor=EVENT_STYLE[k][0], hatch=EVENT_STYLE[k][1], edgecolor="black", lw=0.5),
           f"{_('documented')}: {_(k)}") for k in kinds]
    if detected:
        hs.append((Patch(**{k: v for k, v in DETECTED_STYLE.items()}), _("detected outage (this panel)")))
    return hs


def lane_handles(lanes):
    """The legend entry for other documenters' outages, when a lane shows any."""
    if not any(lane.bars for lane in lanes):
        return []
    return [(Patch(**OTHER_DOCUMENTED_STYLE), _("documented by another source: outage"))]
