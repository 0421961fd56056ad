"""The page every time figure shares: an event strip on top, data panels below, UTC on
the bottom axis and local time on the top axis, the legend under it, and a SIMULATED
watermark on any figure built from simulated data."""
from __future__ import annotations

import matplotlib
import matplotlib.dates as mdates
import matplotlib.lines as mlines
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from shutdown.i18n import _, date, is_english
from shutdown.plot import style as S
from shutdown.plot.record import num
from shutdown.plot.style import FONT_SIZE, LEFT_IN, PAGE_WIDTH_IN, RIGHT_IN, ROW_IN


def new_figure(n_panels: int, panel_h: float, n_rows: int, title: str, extra_top=0.0):
    """A page-wide figure: an event strip on top, then the data panels."""
    strip_h = 0.25 + n_rows * ROW_IN
    top_in = 0.75 + extra_top     # title + local-time axis
    bottom_in = 1.25              # UTC axis, legend rows, SIMULATED caption
    h = top_in + strip_h + n_panels * panel_h + bottom_in
    fig = Figure(figsize=(PAGE_WIDTH_IN, h), dpi=S.DPI)
    gs = fig.add_gridspec(1 + n_panels, 1, height_ratios=[strip_h] + [panel_h] * n_panels,
                          left=LEFT_IN / PAGE_WIDTH_IN, right=1 - RIGHT_IN / PAGE_WIDTH_IN,
                          top=1 - top_in / h, bottom=bottom_in / h, hspace=0.35)
    strip = fig.add_subplot(gs[0], label="events")
    panels = [fig.add_subplot(gs[i + 1], sharex=strip, label=f"panel{i}") for i in range(n_panels)]
    fig.suptitle(title, fontsize=FONT_SIZE + 2, y=1 - 0.12 / h, va="top")
    return fig, strip, panels


def axes_width_px() -> float:
    return (PAGE_WIDTH_IN - LEFT_IN - RIGHT_IN) * S.DPI


def format_time_axes(axes, strip_ax, x0, x1, tz: str):
    """UTC dates on the bottom axis; local dates at local midnight on the top axis."""
    bottom = axes[-1]
    for ax in axes:
        ax.set_xlim(num(x0), num(x1))
    days = (x1 - x0).days
    step = 1 if days <= 12 else max(1, days // 10)
    bottom.xaxis.set_major_locator(mdates.DayLocator(interval=step, tz="UTC"))
    bottom.xaxis.set_major_formatter(day_formatter())
    bottom.set_xlabel(_("UTC"))
    bottom.grid(axis="x", which="major", **GRID)
    time_marks(axes, mdates.HourLocator(byhour=[6, 12, 18], tz="UTC"))
    # local midnights, placed at their UTC positions
    first = x0.tz_convert(tz).normalize()
    local_days = pd.date_range(first, x1.tz_convert(tz), freq=f"{step}D", tz=tz)
    local_days = [d for d in local_days if x0 <= d <= x1]
    top = strip_ax.secondary_xaxis("top")
    top.set_xticks([num(d) for d in local_days], labels=[day_label(d) for d in local_days])
    offs = sorted({d.strftime("%z") for d in local_days}) or [x0.tz_convert(tz).strftime("%z")]
    offs = ", ".join(f"UTC{o[:3]}:{o[3:]}" if o[3:] != "00" else f"UTC{o[:3]}" for o in offs)
    top.set_xlabel(_("local time ({tz}, {offsets}); ticks at local midnight").format(tz=tz, offsets=offs),
                   fontsize=FONT_SIZE - 1)
    top.tick_params(labelsize=FONT_SIZE - 1)


GRID = dict(color="#DDDDDD", lw=0.5)       # the day lines across every time panel


def time_marks(axes, hour_locator) -> None:
    """The shared time axis' marks: on the axes above the bottom one (which alone has
    labels) the day ticks and their grid lines, and on every axes the unlabelled hour
    ticks of ``hour_locator``, each set drawn as one line (marks: markers; grid: segments).

    As matplotlib's ticks they were a third of a time figure's drawing: five artists each
    (two marks, a grid line, two labels), made and styled one by one, on every panel. The
    pixels are the same: the same markers, sizes, widths and colours (``xtick.*``, GRID),
    at the locations the bottom axis' locators give inside the view, drawn where the axis
    would be drawn (zorder 1.5: above patches, below lines)."""
    bottom = axes[-1]
    bottom.xaxis.set_minor_locator(hour_locator)
    lo, hi = bottom.get_xlim()
    tol = (hi - lo) * 1e-10                 # as matplotlib keeps ticks at the view's edges
    days = [x for x in bottom.xaxis.get_majorticklocs() if lo - tol <= x <= hi + tol]
    hours = [x for x in bottom.xaxis.get_minorticklocs() if lo - tol <= x <= hi + tol]
    bottom.xaxis.set_minor_locator(mticker.NullLocator())     # shared: drawn below, not twice
    rc = matplotlib.rcParams
    colour = rc["xtick.color"]

    def marks(ax, locs, which):
        ax.add_line(mlines.Line2D(locs, [0.0] * len(locs), transform=ax.get_xaxis_transform(which="tick1"),
                                  ls="none", marker=mlines.TICKDOWN, color=colour, markeredgecolor=colour,
                                  markersize=rc[f"xtick.{which}.size"],
                                  markeredgewidth=rc[f"xtick.{which}.width"], clip_on=False, zorder=1.5))
    for ax in axes[:-1]:
        ax.xaxis.set_visible(False)
        xs = [v for x in days for v in (x, x, np.nan)]
        ys = [v for _ in days for v in (0.0, 1.0, np.nan)]
        ax.add_line(mlines.Line2D(xs, ys, transform=ax.get_xaxis_transform(which="grid"),
                                  ls=rc["grid.linestyle"], alpha=rc["grid.alpha"], zorder=1.5, **GRID))
        marks(ax, days, "major")
    for ax in axes:
        marks(ax, hours, "minor")


def day_label(d) -> str:
    """A day tick ("05 Jan"): month names from CLDR (Babel) in the report's language."""
    return d.strftime("%d %b") if is_english() else date(d, "d MMM")


def day_formatter():
    """The UTC axis' day ticks, as ``day_label`` writes them."""
    if is_english():
        return mdates.DateFormatter("%d %b", tz="UTC")
    return mticker.FuncFormatter(lambda x, pos=None: day_label(pd.Timestamp(mdates.num2date(x)).tz_convert("UTC")))


def watermark(fig, simulated: bool):
    if not simulated:
        return
    fig.text(0.5, 0.5, _("SIMULATED"), fontsize=54, color="#000000", alpha=0.10, rotation=30,
             ha="center", va="center", weight="bold", zorder=100, gid="watermark")
    fig.text(0.5, 0.03 / fig.get_figheight(), _("SIMULATED DATA - not measurements"),
             fontsize=FONT_SIZE, ha="center", va="bottom", weight="bold", color="#000000",
             gid="watermark-caption")


def legend(fig, handles_labels=()):
    """Figure legend under the UTC axis; leaves the bottom 0.2 in for the SIMULATED caption."""
    handles = [h for h, _ in handles_labels]
    labels = [l for _, l in handles_labels]
    h_in = fig.get_figheight()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, 0.2 / h_in), fontsize=FONT_SIZE - 1, handlelength=2.5,
               columnspacing=1.2)


def title(case, what, simulated):
    t = f"{_(case.title)}: {_(what)}"
    return (_("SIMULATED DATA - ") + t) if simulated else t
