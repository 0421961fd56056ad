"""Outage figures: overview, per network, region, alignment timeline.

Each ``*_figure`` function takes plain data -- the tidy table, the documented
events (``timeline.Event``), the detected intervals, the alignment table, the
case -- and returns a matplotlib ``Figure``; writing files is ``save``.

Every artist that stands for a documented event or a detected interval carries
a ``gid`` ("event:<id>", "detected:<n>"), and the figure keeps what it drew in
``fig.shutdown`` (a dict). ``describe`` reads the drawn positions back from the
artists, so a figure's sidecar says where things *are* on the chart, not where
the code meant to put them; the SVG keeps the same ids.

Readability rules: Okabe-Ito colours (safe for colour-blind readers) always
paired with a hatch or line style (safe in greyscale); event labels stacked in
rows so none overlap; UTC on the bottom axis, local time on the top axis; a
SIMULATED watermark on any figure built from simulated data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # files only; never a display
import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from shutdown.errors import InputError  # noqa: E402
from shutdown.schema import OONI_MESSENGER_TESTS  # noqa: E402

# Okabe & Ito (2008) colour-blind-safe palette.
OI = {"black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
      "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
      "grey": "#8C8C8C"}

# Documented event kinds: colour + hatch (the hatch carries the kind in greyscale).
EVENT_STYLE = {
    "shutdown": (OI["vermillion"], "////"),
    "restriction": (OI["orange"], "xxx"),
    "partial-restoration": (OI["sky"], "..."),
    "restoration": (OI["green"], ""),
    "whitelist": (OI["purple"], "\\\\\\"),
    "circumvention-blocked": (OI["yellow"], "|||"),
    "unreachable-from-abroad": (OI["blue"], "+++"),
    "context": ("#D0D0D0", "---"),
}

# Alignment verdicts: colour + hatch.
VERDICT_STYLE = {
    "confirmed": (OI["green"], ""),
    "confirmed-earlier": (OI["sky"], "..."),
    "confirmed-later": (OI["blue"], "ooo"),
    "not-observed": (OI["orange"], "xxx"),
    "contradicted": (OI["vermillion"], "////"),
    "insufficient-evidence": (OI["yellow"], "---"),
    "not-measurable": (OI["grey"], "\\\\\\"),
}

# Series styles: (colour, line style) so lines differ without colour too.
SERIES_STYLE = [(OI["blue"], "-"), (OI["vermillion"], "--"), (OI["green"], ":"),
                (OI["purple"], "-."), (OI["orange"], (0, (5, 1, 1, 1, 1, 1)))]

DETECTED_STYLE = dict(facecolor="#BBBBBB", edgecolor="#777777", hatch="", alpha=0.45, lw=0)

PAGE_WIDTH_IN = 7.0          # a report page's text width
DPI = 200                    # PNG resolution (high enough for print at page width)
FORMATS = ("png", "svg", "pdf")
FONT_SIZE = 8

RC = {"font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 1, "axes.labelsize": FONT_SIZE,
      "xtick.labelsize": FONT_SIZE - 1, "ytick.labelsize": FONT_SIZE - 1,
      "legend.fontsize": FONT_SIZE - 1, "hatch.linewidth": 0.6, "svg.fonttype": "none",
      "pdf.fonttype": 42, "axes.spines.right": False, "axes.spines.top": False}

SOURCE_NAMES = {"ioda": "IODA", "ooni": "OONI", "atlas": "RIPE Atlas"}
SIGNAL_NAMES = {"ping-slash24": "active probing", "merit-nt": "telescope", "bgp": "BGP",
                "gtr": "Google traffic", "measurements": "measurements",
                "probes_reachable": "probes reachable", "probes_connected": "probes connected",
                "probes_reporting": "probes reporting"}

# Sizes in figure-independent units (inches) for the layout.
_LEFT_IN, _RIGHT_IN = 0.85, 0.35   # right: room for the last date label
_ROW_IN = 0.24               # one row of event labels
_GAP_PX = 6                  # minimum gap between two labels of one row


# --------------------------------------------------------------------------- data
def _utc(ts) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def select(tidy: pd.DataFrame, source: str, signal: str, subtype: str | None = None,
           entity_type: str = "country", entity_code: str | None = None) -> pd.Series:
    """One series of the tidy table, indexed by ``ts_utc`` (summed over duplicates)."""
    m = (tidy["source"] == source) & (tidy["signal"] == signal) & (tidy["entity_type"] == entity_type)
    if subtype is not None:
        m &= tidy["subtype"] == subtype
    if entity_code is not None:
        m &= tidy["entity_code"] == str(entity_code)
    sub = tidy.loc[m, ["ts_utc", "value"]]
    return sub.groupby("ts_utc")["value"].sum(min_count=1).sort_index()


def baseline_ratio(s: pd.Series, baseline: tuple) -> pd.Series:
    """The series as a fraction of its median over the baseline (1.0 = normal).

    With no baseline data the whole series' median stands in, so a short fetch
    still draws; the sidecar records which was used.
    """
    if s.empty:
        return s
    b0, b1 = baseline
    ref = s[(s.index >= b0) & (s.index < b1)].median()
    if not ref or not np.isfinite(ref):
        ref = s.median()
    if not ref or not np.isfinite(ref):
        return s * np.nan
    return s / ref


def messenger_anomaly_share(tidy: pd.DataFrame, entity_type="country", entity_code=None) -> pd.Series:
    """Share of OONI messenger-test measurements flagged anomaly or confirmed, per bin.

    OONI's aggregation counts ok, anomaly, confirmed and failure separately; the
    share is (anomaly + confirmed) over all four. Bins without measurements are
    absent upstream and stay absent here.
    """
    m = (tidy["source"] == "ooni") & tidy["signal"].isin(OONI_MESSENGER_TESTS) & \
        (tidy["entity_type"] == entity_type)
    if entity_code is not None:
        m &= tidy["entity_code"] == str(entity_code)
    sub = tidy.loc[m & tidy["subtype"].isin(["ok", "anomaly", "confirmed", "failure"])]
    if sub.empty:
        return pd.Series(dtype="float64")
    wide = sub.pivot_table(index="ts_utc", columns="subtype", values="value", aggfunc="sum")
    total = wide.sum(axis=1)
    bad = wide.reindex(columns=["anomaly", "confirmed"]).fillna(0).sum(axis=1)
    return (bad / total.where(total > 0)).dropna().sort_index()


def atlas_online_share(tidy: pd.DataFrame, subtype: str, entity_type="country", entity_code=None,
                       baseline=None) -> tuple[pd.Series, str]:
    """Share of RIPE Atlas probes online in a probe class, per bin, and how it was made.

    probes_reachable / probes_reporting where both exist (the detector's share);
    else probes_reachable as a fraction of its baseline median.
    """
    reach = select(tidy, "atlas", "probes_reachable", subtype, entity_type, entity_code)
    report = select(tidy, "atlas", "probes_reporting", subtype, entity_type, entity_code)
    if not reach.empty and not report.empty:
        share = (reach / report.where(report > 0)).reindex(reach.index)
        return share.clip(0, 1).dropna(), "probes_reachable/probes_reporting"
    if baseline is not None and not reach.empty:
        return baseline_ratio(reach, baseline), "baseline_ratio"
    return reach.iloc[0:0], "none"


# --------------------------------------------------------------------------- layout
@dataclass
class EventBar:
    id: str
    kind: str
    start: pd.Timestamp
    end: pd.Timestamp
    label: str
    precision: str
    row: int = 0


def _short_id(eid: str) -> str:
    # "kz-03-shutdown" -> "kz-03"; keeps the number a reader finds in the table
    parts = eid.split("-")
    return "-".join(parts[:2]) if len(parts) > 2 else eid


def event_label(ev) -> str:
    title = ev.title or ev.kind
    return f"{_short_id(ev.id)} {title}"


def _text_width_px(texts: list[str], fontsize: float, dpi: float) -> list[float]:
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
    widths = _text_width_px([b.label for b in bars], fontsize, dpi)
    row_ends: list[float] = []
    for b, w in sorted(zip(bars, widths), key=lambda bw: (bw[0].start, bw[0].id)):
        left = max((b.start - x0).total_seconds() * px_per_s, 0.0)
        right = max((b.end - x0).total_seconds() * px_per_s, left + w + 2)
        # the label may be pushed left to stay inside the axes (see draw_event_strip)
        if left + w + 2 > axes_width_px:
            left = axes_width_px - w - 2
        for i, end in enumerate(row_ends):
            if left >= end + _GAP_PX:
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


def _num(ts) -> float:
    return float(mdates.date2num(_utc(ts).to_pydatetime()))


def _ts(num: float) -> pd.Timestamp:
    # round to the second: float day numbers carry microsecond noise
    return pd.Timestamp(mdates.num2date(num)).tz_convert("UTC").round("s")


# --------------------------------------------------------------------------- pieces
def _record(fig, key, item):
    fig.shutdown.setdefault(key, []).append(item)


def draw_event_strip(ax, bars: list[EventBar], n_rows: int, x0, x1):
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
        rect = Rectangle((_num(s), b.row - 0.02), _num(e) - _num(s), 0.28, facecolor=colour,
                         edgecolor="black", lw=0.5, hatch=hatch, alpha=0.9, gid=f"event:{b.id}")
        ax.add_patch(rect)
        # label sits above its bar, starting at the window's start; nudged left if it would
        # run off the right edge (stack_rows reserved that room)
        tx = _num(s)
        txt = ax.text(tx, b.row - 0.08, b.label, fontsize=FONT_SIZE - 1, va="bottom", ha="left",
                      gid=f"event-label:{b.id}", clip_on=False)
        _record(fig, "event_labels", txt)
        w_days = _text_width_px([b.label], FONT_SIZE - 1, fig.dpi)[0] / axw_px * (_num(x1) - _num(x0))
        if tx + w_days > _num(x1):
            txt.set_x(_num(x1) - w_days * 1.01)
        _record(fig, "events", {"id": b.id, "kind": b.kind, "precision": b.precision,
                                "label": b.label, "gid": f"event:{b.id}",
                                "start_utc": _plain(b.start), "end_utc": _plain(b.end)})
    ax.set_ylabel("documented", rotation=0, ha="right", va="center")


def draw_event_guides(ax, bars: list[EventBar]):
    """Faint edges of the non-context event windows, so panels can be read against them."""
    for b in bars:
        if b.kind == "context":
            continue
        colour, _ = EVENT_STYLE.get(b.kind, (OI["grey"], ""))
        for t in (b.start, b.end):
            ax.axvline(_num(t), color=colour, lw=0.6, ls=(0, (2, 2)), alpha=0.8, zorder=1)


def draw_detected(ax, intervals: pd.DataFrame, x0, x1):
    """Shade where the detector found outages in this panel's series (grey: measured, not
    documented). Overlapping intervals of several series are merged into one span, so the
    shade stays one grey; the sidecar lists each span's member intervals."""
    fig = ax.figure
    spans = []   # [start, end, members]
    rows = [r for _, r in intervals.iterrows()] if len(intervals) else []
    for r in sorted(rows, key=lambda r: _utc(r["start_utc"])):
        s, e = max(_utc(r["start_utc"]), x0), min(_utc(r["end_utc"]), x1)
        if e <= s:
            continue
        if spans and s <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], e)
            spans[-1][2].append(r)
        else:
            spans.append([s, e, [r]])
    keep = ["source", "entity_type", "entity_code", "signal", "subtype", "metric", "start_utc",
            "end_utc", "kind", "direction", "depth", "level", "simulated"]
    for s, e, members in spans:
        n = len(fig.shutdown.get("detected", []))
        gid = f"detected:{n}"
        ax.axvspan(_num(s), _num(e), gid=gid, zorder=0, **DETECTED_STYLE)
        _record(fig, "detected", {"gid": gid, "panel": ax.get_title(loc="left") or ax.get_label(),
                                  "intervals": [{k: _plain(m[k]) for k in keep if k in m.index}
                                                for m in members]})


def _plain(v):
    if isinstance(v, pd.Timestamp):
        return v.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(v) else round(float(v), 6)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def draw_series(ax, s: pd.Series, label: str, style: int, meta: dict):
    colour, ls = SERIES_STYLE[style % len(SERIES_STYLE)]
    if s.empty:
        return
    x = mdates.date2num(s.index.tz_convert("UTC").tz_localize(None).to_pydatetime())
    ax.plot(x, s.to_numpy(dtype=float), color=colour, ls=ls, lw=1.0, label=label)
    _record(ax.figure, "series", {"panel": ax.get_label(), "label": label, "n_points": int(s.size),
                                  "first_utc": _plain(s.index.min()), "last_utc": _plain(s.index.max()),
                                  **meta})


def _no_data(ax, what: str):
    ax.set_yticks([])
    ax.text(0.5, 0.5, what, transform=ax.transAxes, ha="center", va="center",
            fontsize=FONT_SIZE, color="#555555", style="italic")
    _record(ax.figure, "missing", {"panel": ax.get_label(), "what": what})


def format_time_axes(axes, strip_ax, x0, x1, tz: str):
    """UTC dates on the bottom axis; local dates at local midnight on the top axis."""
    bottom = axes[-1]
    for ax in axes:
        ax.set_xlim(_num(x0), _num(x1))
    days = (x1 - x0).days
    step = 1 if days <= 12 else max(1, days // 10)
    bottom.xaxis.set_major_locator(mdates.DayLocator(interval=step, tz="UTC"))
    bottom.xaxis.set_minor_locator(mdates.HourLocator(byhour=[6, 12, 18], tz="UTC"))
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d %b", tz="UTC"))
    bottom.set_xlabel("UTC")
    # local midnights, placed at their UTC positions
    first = x0.tz_convert(tz).normalize()
    local_days = pd.date_range(first, x1.tz_convert(tz), freq=f"{step}D", tz=tz)
    local_days = [d for d in local_days if x0 <= d <= x1]
    top = strip_ax.secondary_xaxis("top")
    top.set_xticks([_num(d) for d in local_days], labels=[d.strftime("%d %b") for d in local_days])
    offs = sorted({d.strftime("%z") for d in local_days}) or [x0.tz_convert(tz).strftime("%z")]
    offs = ", ".join(f"UTC{o[:3]}:{o[3:]}" if o[3:] != "00" else f"UTC{o[:3]}" for o in offs)
    top.set_xlabel(f"local time ({tz}, {offs}); ticks at local midnight", fontsize=FONT_SIZE - 1)
    top.tick_params(labelsize=FONT_SIZE - 1)
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    for ax in axes:
        ax.grid(axis="x", which="major", color="#DDDDDD", lw=0.5)


def watermark(fig, simulated: bool):
    if not simulated:
        return
    fig.text(0.5, 0.5, "SIMULATED", fontsize=54, color="#000000", alpha=0.10, rotation=30,
             ha="center", va="center", weight="bold", zorder=100, gid="watermark")
    fig.text(0.5, 0.03 / fig.get_figheight(), "SIMULATED DATA - not measurements",
             fontsize=FONT_SIZE, ha="center", va="bottom", weight="bold", color="#000000",
             gid="watermark-caption")


def _new_figure(n_panels: int, panel_h: float, n_rows: int, title: str, extra_top=0.0):
    """A page-wide figure: an event strip on top, then the data panels."""
    strip_h = 0.25 + n_rows * _ROW_IN
    top_in = 0.75 + extra_top     # title + local-time axis
    bottom_in = 1.25              # UTC axis, legend rows, SIMULATED caption
    h = top_in + strip_h + n_panels * panel_h + bottom_in
    fig = Figure(figsize=(PAGE_WIDTH_IN, h), dpi=DPI)
    fig.shutdown = {}
    gs = fig.add_gridspec(1 + n_panels, 1, height_ratios=[strip_h] + [panel_h] * n_panels,
                          left=_LEFT_IN / PAGE_WIDTH_IN, right=1 - _RIGHT_IN / PAGE_WIDTH_IN,
                          top=1 - top_in / h, bottom=bottom_in / h, hspace=0.35)
    strip = fig.add_subplot(gs[0], label="events")
    panels = [fig.add_subplot(gs[i + 1], sharex=strip, label=f"panel{i}") for i in range(n_panels)]
    fig.suptitle(title, fontsize=FONT_SIZE + 2, y=1 - 0.12 / h, va="top")
    return fig, strip, panels


def _axes_width_px() -> float:
    return (PAGE_WIDTH_IN - _LEFT_IN - _RIGHT_IN) * DPI


def _window(case, tidy) -> tuple[pd.Timestamp, pd.Timestamp]:
    return case.window_utc


def _legend(fig, panels, extra_handles=()):
    """Figure legend under the UTC axis; leaves the bottom 0.2 in for the SIMULATED caption."""
    handles = [h for h, _ in extra_handles]
    labels = [l for _, l in extra_handles]
    h_in = fig.get_figheight()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, 0.2 / h_in), fontsize=FONT_SIZE - 1, handlelength=2.5,
               columnspacing=1.2)


def _kind_handles(bars):
    kinds = [k for k in EVENT_STYLE if any(b.kind == k for b in bars)]
    hs = [(Patch(facecolor=EVENT_STYLE[k][0], hatch=EVENT_STYLE[k][1], edgecolor="black", lw=0.5),
           f"documented: {k}") for k in kinds]
    hs.append((Patch(**{k: v for k, v in DETECTED_STYLE.items()}), "detected outage (this panel)"))
    return hs


def _title(case, what, simulated):
    t = f"{case.title}: {what}"
    return ("SIMULATED DATA - " + t) if simulated else t


def _is_simulated(tidy: pd.DataFrame) -> bool:
    if tidy.empty:
        return False
    sims = set(tidy["simulated"].astype(bool).unique())
    if len(sims) > 1:
        raise ValueError("the table mixes simulated and measured rows; refusing to draw them together")
    return bool(sims.pop())


def _intervals_for(intervals, **match) -> pd.DataFrame:
    if intervals is None or len(intervals) == 0:
        return pd.DataFrame(columns=["start_utc", "end_utc"])
    m = pd.Series(True, index=intervals.index)
    for k, v in match.items():
        if v is None:
            continue
        if isinstance(v, (list, tuple, set)):
            m &= intervals[k].astype(str).isin([str(x) for x in v])
        else:
            m &= intervals[k].astype(str) == str(v)
    return intervals.loc[m]


# --------------------------------------------------------------------------- figures
def overview_figure(tidy: pd.DataFrame, events, intervals: pd.DataFrame | None, case) -> Figure:
    """One panel per source family on a shared UTC axis, documented events on top."""
    simulated = _is_simulated(tidy)
    x0, x1 = case.window_utc
    base = case.baseline_utc
    bars = event_bars(events, x0, x1)
    with matplotlib.rc_context(RC):
        n_rows = stack_rows(bars, x0, x1, _axes_width_px(), FONT_SIZE - 1, DPI)
        fig, strip, (p_ioda, p_ooni, p_msg, p_atlas) = _new_figure(
            4, 1.25, n_rows, _title(case, "the Internet shutdown as measured", simulated))
        fig.shutdown.update(figure="overview", simulated=simulated, entity=("country", case.country))
        cc = case.country

        # IODA: each signal as a fraction of its baseline median
        p_ioda.set_title("IODA, country: share of baseline (1 = normal)", loc="left")
        any_ioda = False
        for i, (sig, sub) in enumerate([("ping-slash24", None), ("merit-nt", None), ("bgp", None)]):
            s = baseline_ratio(select(tidy, "ioda", sig, sub, "country", cc), base)
            if not s.empty:
                any_ioda = True
                draw_series(p_ioda, s, SIGNAL_NAMES[sig], i,
                            {"source": "ioda", "signal": sig, "entity_type": "country",
                             "entity_code": cc, "transform": "baseline_ratio"})
        if not any_ioda:
            _no_data(p_ioda, f"no IODA data for {cc}")
        p_ioda.set_ylim(bottom=0)

        p_ooni.set_title("OONI: measurements uploaded per bin", loc="left")
        s = select(tidy, "ooni", "measurements", "all", "country", cc)
        if s.empty:
            _no_data(p_ooni, f"no OONI measurement volume for {cc}")
        else:
            draw_series(p_ooni, s, "OONI measurements", 0,
                        {"source": "ooni", "signal": "measurements", "subtype": "all",
                         "entity_type": "country", "entity_code": cc, "transform": "none"})
        p_ooni.set_ylim(bottom=0)

        p_msg.set_title("OONI messenger tests (Telegram, WhatsApp, Signal, Messenger): anomaly share",
                        loc="left")
        s = messenger_anomaly_share(tidy, "country", cc)
        if s.empty:
            _no_data(p_msg, f"no OONI messenger tests for {cc}")
        else:
            draw_series(p_msg, s, "messenger anomaly share", 1,
                        {"source": "ooni", "signal": ",".join(OONI_MESSENGER_TESTS),
                         "entity_type": "country", "entity_code": cc,
                         "transform": "(anomaly+confirmed)/all"})
        p_msg.set_ylim(0, 1.05)

        any_atlas, how_used = False, set()
        for i, sub in enumerate(("end-user", "infrastructure")):
            s, how = atlas_online_share(tidy, sub, "country", cc, base)
            if not s.empty:
                any_atlas = True
                how_used.add(how)
                draw_series(p_atlas, s, f"{sub} probes", i,
                            {"source": "atlas", "signal": "probes_reachable", "subtype": sub,
                             "entity_type": "country", "entity_code": cc, "transform": how})
        p_atlas.set_title("RIPE Atlas: share of probes online (reaching their targets)"
                          if how_used == {"probes_reachable/probes_reporting"}
                          else "RIPE Atlas: probes reachable, share of baseline", loc="left")
        if not any_atlas:
            _no_data(p_atlas, f"no RIPE Atlas probe data for {cc}")
        p_atlas.set_ylim(bottom=0)

        # detected outages of each panel's own source, country level
        ctry = _intervals_for(intervals, entity_type="country", entity_code=cc)
        # (only the series a panel draws: shading gtr or probes_connected outages under
        # lines that do not show them would mislead)
        for ax, src, sigs, sub in ((p_ioda, "ioda", ["ping-slash24", "merit-nt", "bgp"], None),
                                   (p_ooni, "ooni", ["measurements"], "all"),
                                   (p_msg, "ooni", list(OONI_MESSENGER_TESTS), None),
                                   (p_atlas, "atlas", ["probes_reachable"], ["end-user", "infrastructure"])):
            draw_detected(ax, _intervals_for(ctry, source=src, signal=sigs, subtype=sub), x0, x1)

        for ax in (p_ioda, p_ooni, p_msg, p_atlas):
            draw_event_guides(ax, bars)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="lower left", frameon=True, framealpha=0.85, ncol=3,
                          fontsize=FONT_SIZE - 2, borderpad=0.3, handlelength=2.5)
        format_time_axes([strip, p_ioda, p_ooni, p_msg, p_atlas], strip, x0, x1, case.timezone)
        draw_event_strip(strip, bars, n_rows, x0, x1)
        _legend(fig, None, _kind_handles(bars))
        watermark(fig, simulated)
    _finish(fig, tidy, x0, x1)
    return fig


def networks_figure(tidy: pd.DataFrame, events, intervals, case) -> Figure:
    """Small multiples, one row per network of the case, same axes, so operators compare."""
    simulated = _is_simulated(tidy)
    x0, x1 = case.window_utc
    base = case.baseline_utc
    nets = list(case.networks)
    bars = [b for b in event_bars(events, x0, x1) if b.kind != "context"]
    with matplotlib.rc_context(RC):
        n_rows = stack_rows(bars, x0, x1, _axes_width_px(), FONT_SIZE - 1, DPI)
        fig, strip, panels = _new_figure(max(len(nets), 1), 0.95, n_rows,
                                         _title(case, "per network (ASN)", simulated))
        fig.shutdown.update(figure="networks", simulated=simulated, entity=("asn", None))
        # OONI per network is too sparse to read hour by hour: it stays in the overview
        wanted = [("ioda", "ping-slash24", None, "IODA active probing (× baseline)"),
                  ("ioda", "bgp", None, "IODA BGP (× baseline)"),
                  ("atlas", "probes_reachable", "end-user", "Atlas end-user probes online (share)")]
        used = set()
        for ax, net in zip(panels, nets):
            code = str(net.asn)
            ax.set_title(f"{net.name} (AS{net.asn})", loc="left", pad=2)
            drawn = False
            for i, (src, sig, sub, name) in enumerate(wanted):
                if src == "atlas":
                    s, how = atlas_online_share(tidy, sub, "asn", code, base)
                else:
                    s, how = baseline_ratio(select(tidy, src, sig, sub, "asn", code), base), "baseline_ratio"
                if s.empty:
                    continue
                drawn = True
                used.add(i)
                draw_series(ax, s, name, i, {"source": src, "signal": sig, "subtype": sub or "",
                                             "entity_type": "asn", "entity_code": code,
                                             "transform": how})
            if not drawn:
                _no_data(ax, f"no source returned data for AS{net.asn}")
            draw_detected(ax, _intervals_for(intervals, entity_type="asn", entity_code=code,
                                             signal=[w[1] for w in wanted]), x0, x1)
            draw_event_guides(ax, bars)
        if not nets:
            _no_data(panels[0], "the case lists no networks")
        ymax = max([ax.get_ylim()[1] for ax in panels] + [1.2])
        for ax in panels:
            ax.set_ylim(0, min(ymax, 1.6))
            ax.set_ylabel("of normal")
        format_time_axes([strip, *panels], strip, x0, x1, case.timezone)
        draw_event_strip(strip, bars, n_rows, x0, x1)
        handles = [(matplotlib.lines.Line2D([], [], color=SERIES_STYLE[i][0], ls=SERIES_STYLE[i][1]),
                    wanted[i][3]) for i in sorted(used)]
        _legend(fig, panels, handles + _kind_handles(bars))
        watermark(fig, simulated)
    _finish(fig, tidy, x0, x1)
    return fig


# The region figure compares one series per signal (country vs region), in this order;
# where a signal has subtypes, the preferred one (else the first). One panel per signal
# keeps the figure within a report page; the other subtypes are in the tidy table.
REGION_PANELS = (("ioda", "ping-slash24"), ("ioda", "merit-nt"), ("ioda", "gtr"), ("ioda", "bgp"),
                 ("atlas", "probes_reachable"), ("ooni", "measurements"))
REGION_SUBTYPE = {("ioda", "gtr"): "WEB_SEARCH", ("atlas", "probes_reachable"): "end-user",
                  ("ooni", "measurements"): "all"}


def region_panels(reg: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(source, signal, subtype) of the panels the region figure draws for these rows."""
    have = reg[["source", "signal", "subtype"]].drop_duplicates()
    out = []
    for src, sig in REGION_PANELS:
        subs = sorted(have.loc[(have["source"] == src) & (have["signal"] == sig), "subtype"].astype(str))
        if subs:
            want = REGION_SUBTYPE.get((src, sig))
            out.append((src, sig, want if want in subs else subs[0]))
    return out


def region_figure(tidy: pd.DataFrame, events, intervals, case, region: str | None = None) -> Figure:
    """A region (e.g. Almaty) against the whole country, per source with regional data."""
    simulated = _is_simulated(tidy)
    x0, x1 = case.window_utc
    base = case.baseline_utc
    region = region or (case.regions[0].name if case.regions else None)
    reg = tidy[(tidy["entity_type"] == "region") & (tidy["entity_code"] == str(region))] \
        if region else tidy.iloc[0:0]
    pairs = region_panels(reg)
    bars = [b for b in event_bars(events, x0, x1) if b.kind != "context"]
    with matplotlib.rc_context(RC):
        n_rows = stack_rows(bars, x0, x1, _axes_width_px(), FONT_SIZE - 1, DPI)
        fig, strip, panels = _new_figure(max(len(pairs), 1), 1.1, n_rows,
                                         _title(case, f"{region or 'region'} against the country",
                                                simulated))
        fig.shutdown.update(figure="region", simulated=simulated, entity=("region", region))
        for ax, (src, sig, sub) in zip(panels, pairs):
            name = f"{SOURCE_NAMES.get(src, src)} {SIGNAL_NAMES.get(sig, sig)}" + (f" ({sub})" if sub else "")
            ax.set_title(f"{name}: share of baseline", loc="left", pad=2)
            c = baseline_ratio(select(tidy, src, sig, sub, "country", case.country), base)
            r = baseline_ratio(select(tidy, src, sig, sub, "region", region), base)
            draw_series(ax, c, f"{case.country} (country)", 0,
                        {"source": src, "signal": sig, "subtype": sub, "entity_type": "country",
                         "entity_code": case.country, "transform": "baseline_ratio"})
            draw_series(ax, r, str(region), 1,
                        {"source": src, "signal": sig, "subtype": sub, "entity_type": "region",
                         "entity_code": region, "transform": "baseline_ratio"})
            draw_detected(ax, _intervals_for(intervals, entity_type="region", entity_code=region,
                                             source=src, signal=sig), x0, x1)
            draw_event_guides(ax, bars)
            ax.set_ylim(bottom=0)
            ax.legend(loc="lower left", fontsize=FONT_SIZE - 2, ncol=2, framealpha=0.85)
        if not pairs:
            _no_data(panels[0], f"no source returned regional data for {region or 'any region'}")
        format_time_axes([strip, *panels], strip, x0, x1, case.timezone)
        draw_event_strip(strip, bars, n_rows, x0, x1)
        _legend(fig, panels, _kind_handles(bars))
        watermark(fig, simulated)
    _finish(fig, tidy, x0, x1)
    return fig


def alignment_figure(events, intervals, alignment: pd.DataFrame, case, simulated: bool) -> Figure:
    """Gantt chart: each documented event (outlined) above the detections matched to it,
    coloured by verdict. ``alignment`` has one row per event and source/signal with
    the columns of ``shutdown.align.align`` (event, role, family, source, signal, verdict,
    transition_utc, ...) and optionally det_start_utc/det_end_utc, the detected interval."""
    x0, x1 = case.window_utc
    evs = [e for e in events if e.kind != "context" and e.window_utc[1] > x0 and e.window_utc[0] < x1]
    al = alignment if alignment is not None and len(alignment) else pd.DataFrame(columns=["event", "verdict"])
    groups = [(ev, display_rows(al[al["event"] == ev.id])) for ev in evs]
    n_lines = sum(2 + int((r["verdict"].astype(str) != "not-measurable").sum()) if len(r) else 2
                  for _, r in groups) or 1
    with matplotlib.rc_context(RC):
        top_in, bottom_in, left_in = 0.8, 1.05, 2.7
        h = top_in + 0.17 * n_lines + bottom_in
        fig = Figure(figsize=(PAGE_WIDTH_IN, h), dpi=DPI)
        fig.shutdown = {"figure": "alignment", "simulated": simulated, "entity": ("case", case.name)}
        ax = fig.add_axes([left_in / PAGE_WIDTH_IN, bottom_in / h,
                           1 - (left_in + _RIGHT_IN) / PAGE_WIDTH_IN, 1 - (bottom_in + top_in) / h],
                          label="alignment")
        fig.suptitle(_title(case, "documented events against detected intervals", simulated),
                     fontsize=FONT_SIZE + 2, y=1 - 0.12 / h, va="top")
        y, yt, yl = 0, [], []
        for ev, rows in groups:
            s, e = ev.window_utc
            colour, hatch = EVENT_STYLE.get(ev.kind, (OI["grey"], ""))
            ax.add_patch(Rectangle((_num(max(s, x0)), y - 0.4), _num(min(e, x1)) - _num(max(s, x0)), 0.8,
                                   facecolor="white", edgecolor="black", lw=0.9, hatch=hatch,
                                   gid=f"event:{ev.id}"))
            _record(fig, "events", {"id": ev.id, "kind": ev.kind, "precision": ev.precision,
                                    "label": event_label(ev), "gid": f"event:{ev.id}",
                                    "start_utc": _plain(s), "end_utc": _plain(e)})
            overall = _overall_verdict(rows)
            yt.append(y)
            short = {"insufficient-evidence": "insufficient"}.get(overall, overall)
            yl.append(f"{_short_id(ev.id)} {_clip(ev.title or ev.kind, 27)} [{short}]")
            y += 1
            if rows.empty:
                yt.append(y)
                yl.append("    (no alignment rows)")
                y += 1
                continue
            nm = rows[rows["verdict"].astype(str) == "not-measurable"]
            for _, r in rows.iterrows():
                v = str(r.get("verdict", "not-measurable"))
                _record(fig, "verdicts", {"event": ev.id, "verdict": v,
                                          **{k: _plain(r[k]) for k in ("source", "signal", "subtype",
                                                                        "entity_type", "entity_code", "role")
                                             if k in r.index}})
                if v == "not-measurable":
                    continue
                vc, vh = VERDICT_STYLE.get(v, (OI["grey"], ""))
                ds, de = r.get("det_start_utc"), r.get("det_end_utc")
                if ds is not None and de is not None and not pd.isna(ds) and not pd.isna(de):
                    ds, de = max(_utc(ds), x0), min(_utc(de), x1)
                    n = len(fig.shutdown.get("detected", []))
                    ax.add_patch(Rectangle((_num(ds), y - 0.33), _num(de) - _num(ds), 0.66,
                                           facecolor=vc, edgecolor="black", lw=0.4, hatch=vh,
                                           gid=f"detected:{n}"))
                    _record(fig, "detected", {"gid": f"detected:{n}", "panel": "alignment",
                                              "event": ev.id, "verdict": v,
                                              **{k: _plain(r[k]) for k in ("source", "signal", "subtype",
                                                                            "entity_type", "entity_code")
                                                 if k in r.index}})
                else:
                    ax.plot([_num(max(s, x0))], [y], marker="o", mfc="none", mec=vc, ms=4)
                uf, ut = r.get("uncertain_from"), r.get("uncertain_to")
                if uf is not None and ut is not None and not pd.isna(uf) and not pd.isna(ut):
                    # where a pooled change can lie: timing no finer than the pooling
                    ax.plot([_num(max(_utc(uf), x0)), _num(min(_utc(ut), x1))], [y, y],
                            color="black", lw=2.2, alpha=0.55, solid_capstyle="butt")
                t = r.get("transition_utc")
                if t is not None and not pd.isna(t) and x0 <= _utc(t) <= x1:
                    ax.plot([_num(t)], [y], marker="|", color="black", ms=7, mew=1.2)
                st = strength(r)
                if st:
                    ax.text(0.998, y, st, transform=ax.get_yaxis_transform(), ha="right",
                            va="center", fontsize=FONT_SIZE - 3, color="#222222", zorder=5,
                            bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=0.5))
                yt.append(y)
                yl.append(f"    {_clip(series_name(r), 34)}: {v}")
                y += 1
            if len(nm):
                names = ", ".join(dict.fromkeys(series_name(r, short=True) for _, r in nm.iterrows()))
                ax.plot([_num(max(s, x0))], [y], marker="o", mfc="none", mec=VERDICT_STYLE["not-measurable"][0],
                        ms=4)
                yt.append(y)
                yl.append(f"    not measurable: {_clip(names, 30)}")
                y += 1
        ax.set_ylim(y - 0.4, -0.6)
        ax.set_yticks(yt, labels=yl, fontsize=FONT_SIZE - 2)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(_num(x0), _num(x1))
        ax.xaxis.set_major_locator(mdates.DayLocator(tz="UTC"))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b", tz="UTC"))
        ax.set_xlabel("UTC")
        ax.grid(axis="x", color="#DDDDDD", lw=0.5)
        first = x0.tz_convert(case.timezone).normalize()
        local_days = [d for d in pd.date_range(first, x1.tz_convert(case.timezone), freq="1D")
                      if x0 <= d <= x1]
        top = ax.secondary_xaxis("top")
        top.set_xticks([_num(d) for d in local_days], labels=[d.strftime("%d %b") for d in local_days])
        top.set_xlabel(f"local time ({case.timezone}); ticks at local midnight", fontsize=FONT_SIZE - 1)
        used = sorted({str(r) for _, rows in groups for r in rows.get("verdict", [])})
        handles = [Patch(facecolor="white", edgecolor="black", label="documented window"),
                   matplotlib.lines.Line2D([], [], marker="|", color="black", ls="none", ms=7, mew=1.2,
                                           label="measured transition"),
                   matplotlib.lines.Line2D([], [], color="black", lw=2.2, alpha=0.55,
                                           label="span of a pooled change")]
        handles += [Patch(facecolor=VERDICT_STYLE[v][0], hatch=VERDICT_STYLE[v][1], edgecolor="black",
                          lw=0.4, label=v) for v in VERDICTS_ORDER if v in used]
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), frameon=False,
                   fontsize=FONT_SIZE - 1, bbox_to_anchor=(0.5, 0.2 / h))
        for t in ax.get_yticklabels():
            if not t.get_text().startswith("    "):
                t.set_fontweight("bold")
        watermark(fig, simulated)
    fig.shutdown["x_range"] = (x0, x1)
    fig.shutdown["data_range"] = (None, None)
    return fig


VERDICTS_ORDER = list(VERDICT_STYLE)


_SHORT_SIGNAL = {"ping-slash24": "probing", "merit-nt": "telescope", "bgp": "BGP", "gtr": "Google",
                 "measurements": "volume", "probes_reachable": "probes"}


def series_name(r, short: bool = False) -> str:
    """'IODA probing', 'Atlas probes (end-user) [Almaty]', 'OONI telegram' ..."""
    src = {"ioda": "IODA", "ooni": "OONI", "atlas": "Atlas"}.get(str(r.get("source")), str(r.get("source")))
    sig = str(r.get("signal", ""))
    name = _SHORT_SIGNAL.get(sig, sig) if short else f"{src} {_SHORT_SIGNAL.get(sig, sig)}"
    sub = r.get("subtype")
    if isinstance(sub, str) and sub and sub != "all" and not short:
        name += f" ({sub.lower()})"
    if not short and str(r.get("entity_type", "country")) not in ("country", "nan", "None"):
        name += f" [{r.get('entity_code')}]"
    if r.get("role") == "control":
        name += " (control)"
    return name


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# Best verdict first (as shutdown.align ranks them).
_RANK = {"confirmed": 0, "confirmed-earlier": 1, "confirmed-later": 1, "contradicted": 2,
         "not-observed": 3, "insufficient-evidence": 4, "not-measurable": 5}


def strength(r) -> str:
    """A verdict's evidence in a few characters: resolution, tests or probes before ->
    after, p-value (count signals) or z (detected intervals)."""
    def num(k):
        v = r.get(k) if hasattr(r, "get") else None
        try:
            v = float(v)
        except (TypeError, ValueError):
            return None
        return v if v == v else None
    res = r.get("resolution") if hasattr(r, "get") else None
    res = str(res).split(" (")[0] if isinstance(res, str) and res else ""
    nb, na, p = num("n_before"), num("n_after"), num("p_value")
    stat = r.get("statistic") if hasattr(r, "get") else None
    parts = [res] if res else []
    if p is not None:
        if nb is not None and na is not None:
            parts.append(f"n {nb:.0f}→{na:.0f}")
        parts.append(f"p={p:.0e}" if p < 0.001 else f"p={p:.2g}")
    elif isinstance(stat, str) and stat:
        parts.append(stat.replace("z=", "z "))
    return ", ".join(parts)


def display_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of one event worth a line in the Gantt chart: per source family its best
    primary verdict, plus any control that contradicts the event."""
    if rows.empty:
        return rows
    r = rows.assign(_rank=rows["verdict"].map(_RANK).fillna(9))
    if "minutes_off" in r:
        r = r.assign(_off=r["minutes_off"].abs().fillna(np.inf)).sort_values(["_rank", "_off"], kind="stable")
    else:
        r = r.sort_values("_rank", kind="stable")
    role = r["role"] if "role" in r else pd.Series("primary", index=r.index)
    fam = r["family"].fillna(r["source"]) if "family" in r else r["source"]
    prim = r[role == "primary"].assign(_fam=fam[role == "primary"]).drop_duplicates("_fam")
    ctrl = r[(role == "control") & (r["verdict"] == "contradicted")]
    return pd.concat([prim, ctrl]).drop(columns=[c for c in ("_rank", "_off", "_fam") if c in r.columns or c == "_fam"],
                                        errors="ignore")


def _overall_verdict(rows: pd.DataFrame) -> str:
    if "event_verdict" in rows.columns and len(rows):
        return str(rows["event_verdict"].iloc[0])
    if rows.empty or "verdict" not in rows.columns:
        return "not-measurable"
    return min(rows["verdict"].astype(str), key=lambda v: _RANK.get(v, 9))


def _finish(fig, tidy, x0, x1):
    fig.shutdown["x_range"] = (x0, x1)
    if tidy.empty:
        fig.shutdown["data_range"] = (None, None)
    else:
        fig.shutdown["data_range"] = (tidy["ts_utc"].min(), tidy["ts_utc"].max())


# --------------------------------------------------------------------------- reading back
def describe(fig: Figure) -> dict:
    """What the figure draws, read back from its artists: events and detected intervals
    with the UTC windows they occupy on the chart, plus the series and gaps drawn."""
    found = {}
    for art in fig.findobj(lambda a: isinstance(a, Rectangle) or hasattr(a, "get_xy")):
        gid = art.get_gid()
        if not gid or not (gid.startswith("event:") or gid.startswith("detected:")):
            continue
        if isinstance(art, Rectangle):
            xa, xb = art.get_x(), art.get_x() + art.get_width()
        else:  # axvspan polygon (older matplotlib)
            xy = np.asarray(art.get_xy())
            xa, xb = xy[:, 0].min(), xy[:, 0].max()
        found.setdefault(gid, []).append((_ts(min(xa, xb)), _ts(max(xa, xb))))
    meta = fig.shutdown
    events = []
    for ev in meta.get("events", []):
        spans = found.get(ev["gid"], [])
        if not spans:
            continue
        events.append({"id": ev["id"], "kind": ev["kind"], "precision": ev["precision"],
                       "label": ev["label"], "documented": True,
                       # the window the figure was given, and where the artist actually is
                       # (the same, unless clipped to the axis)
                       "start_utc": ev.get("start_utc"), "end_utc": ev.get("end_utc"),
                       "drawn_start_utc": _plain(spans[0][0]), "drawn_end_utc": _plain(spans[0][1])})
    detected = []
    for d in meta.get("detected", []):
        spans = found.get(d["gid"], [])
        if spans:
            rec = dict(d)   # keeps "gid": the artist's id, also in the SVG
            rec["drawn_start_utc"], rec["drawn_end_utc"] = _plain(spans[0][0]), _plain(spans[0][1])
            detected.append(rec)
    x0, x1 = meta["x_range"]
    d0, d1 = meta.get("data_range", (None, None))
    return {
        "figure": meta.get("figure"),
        "simulated": bool(meta.get("simulated")),
        "x_range_utc": [_plain(_utc(x0)), _plain(_utc(x1))],
        "data_range_utc": [None if d0 is None else _plain(_utc(d0)), None if d1 is None else _plain(_utc(d1))],
        "events": events,
        "detected": detected,
        "series": meta.get("series", []),
        "verdicts": meta.get("verdicts", []),
        "missing": meta.get("missing", []),
    }


def label_overlaps(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of event labels whose rendered boxes overlap (should be none)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    texts = [t for t in fig.findobj(lambda a: (a.get_gid() or "").startswith("event-label:"))]
    boxes = [(t.get_gid(), t.get_window_extent(r)) for t in texts]
    out = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if boxes[i][1].overlaps(boxes[j][1]):
                out.append((boxes[i][0], boxes[j][0]))
    return out


def check_formats(formats) -> tuple[str, ...]:
    """Validated figure formats, in FORMATS order; PNG always (the HTML report embeds it)."""
    asked = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    known = ("png", "svg", "pdf")
    unknown = [f for f in asked if f and f not in known]
    if unknown:
        raise InputError(f"unknown figure format {unknown[0]!r} (known: {', '.join(known)})")
    return tuple(f for f in known if f in asked or f == "png")


def save(fig: Figure, base, formats=None) -> dict:
    """Write ``base``.png (and .svg/.pdf if asked); return {format: path}."""
    from pathlib import Path

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    out = {}
    # fixed metadata keeps the files a pure function of the figure (stable hashes)
    meta = {"png": {"Software": "shutdown"}, "svg": {"Date": None, "Creator": "shutdown"},
            "pdf": {"CreationDate": None, "Creator": "shutdown", "Producer": "shutdown"}}
    with matplotlib.rc_context({"svg.hashsalt": "shutdown"}):
        for fmt in (FORMATS if formats is None else formats):
            p = base.with_suffix(f".{fmt}")
            fig.savefig(p, format=fmt, dpi=DPI, metadata=meta[fmt])
            out[fmt] = p
    return out
