"""How figures look, in one place: colours, hatches, line styles, fonts, sizes.

Okabe-Ito colours (safe for colour-blind readers) are always paired with a hatch or a
line style (safe in greyscale). ``interactive`` reads the same tables, so report.html's
charts use the colours of the static figures.
"""
from __future__ import annotations

from shutdown.verdict import Verdict

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
# verdict -> (colour, hatch), as shutdown.verdict declares them
VERDICT_STYLE = {v.value: (OI[v.colour], v.hatch) for v in Verdict}
VERDICTS_ORDER = list(VERDICT_STYLE)

# Series styles: (colour, line style) so lines differ without colour too.
SERIES_STYLE = [(OI["blue"], "-"), (OI["vermillion"], "--"), (OI["green"], ":"),
                (OI["purple"], "-."), (OI["orange"], (0, (5, 1, 1, 1, 1, 1)))]

# An outage another documenter records (a source's own outage list, e.g. an Outage Center):
# outlined and hatched like a shutdown, unfilled, so it never reads as the report's event.
OTHER_DOCUMENTED_STYLE = dict(facecolor="#FFFFFF", edgecolor=OI["vermillion"], hatch="////", lw=0.8)

DETECTED_STYLE = dict(facecolor="#BBBBBB", edgecolor="#777777", hatch="", alpha=0.45, lw=0)

# DPI and FORMATS are read as ``style.DPI`` / ``style.FORMATS`` at call time, so a test
# may lower them for speed (the layout is in inches: the figure looks the same).
PAGE_WIDTH_IN = 7.0          # a report page's text width
DPI = 200                    # PNG resolution (high enough for print at page width)
FORMATS = ("png", "svg", "pdf")
FONT_SIZE = 8

RC = {"font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 1, "axes.labelsize": FONT_SIZE,
      "xtick.labelsize": FONT_SIZE - 1, "ytick.labelsize": FONT_SIZE - 1,
      "legend.fontsize": FONT_SIZE - 1, "hatch.linewidth": 0.6, "svg.fonttype": "none",
      "pdf.fonttype": 42, "axes.spines.right": False, "axes.spines.top": False}

# Sizes in figure-independent units (inches) for the layout.
LEFT_IN, RIGHT_IN = 0.85, 0.35   # right: room for the last date label
ROW_IN = 0.24                # one row of event labels
GAP_PX = 6                   # minimum gap between two labels of one row
