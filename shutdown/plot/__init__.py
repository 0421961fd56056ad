"""Outage figures: overview, per network, region, alignment timeline, OONI evidence.

``figures.FIGURES`` is the registry the report draws from (name -> how to draw it, its
caption, the event kinds it shows). A figure function takes plain data and returns
``Drawn(figure, record)``: the matplotlib Figure and a ``Record`` of what it drew;
``describe(fig, record)`` reads it back for the sidecar, ``save`` writes the files.

The modules: ``style`` (colours, hatches, fonts, sizes), ``derive`` (values a figure
shows that the tidy table does not hold), ``lanes`` (the documented events' strip and
guides), ``layout`` (the page: strip above panels, time axes, legend, watermark),
``panels`` (axes-level drawing), ``figures``, ``record``, ``describe``, ``save``.
DPI and FORMATS are read as ``plot.style.DPI`` / ``plot.style.FORMATS``.
"""
import matplotlib

matplotlib.use("Agg")  # files only; never a display

from shutdown.plot.derive import (atlas_online_share, baseline_ratio, display_rows,  # noqa: E402
                                  messenger_anomaly_share, select)
from shutdown.plot.describe import describe, label_overlaps  # noqa: E402
from shutdown.plot.figures import (FIGURES, FigureDef, alignment_figure, evidence_figure,  # noqa: E402
                                   figure, networks_figure, overview_figure, region_figure)
from shutdown.plot.lanes import EventBar, event_bars, event_label, stack_rows  # noqa: E402
from shutdown.plot.layout import watermark  # noqa: E402
from shutdown.plot.panels import region_panels, series_name, strength  # noqa: E402
from shutdown.plot.record import Drawn, Record  # noqa: E402
from shutdown.plot.save import check_formats, save  # noqa: E402
from shutdown.plot.style import (DETECTED_STYLE, EVENT_STYLE, FONT_SIZE, OI, OTHER_DOCUMENTED_STYLE,  # noqa: E402
                                 RC, SERIES_STYLE, SIGNAL_NAMES, SOURCE_NAMES, VERDICT_STYLE)

__all__ = ["FIGURES", "FigureDef", "Drawn", "Record", "figure", "overview_figure", "networks_figure",
           "region_figure", "alignment_figure", "evidence_figure", "describe", "label_overlaps",
           "save", "check_formats", "watermark", "select", "baseline_ratio", "messenger_anomaly_share",
           "atlas_online_share", "display_rows", "series_name", "strength", "region_panels",
           "EventBar", "event_bars", "event_label", "stack_rows", "OI", "EVENT_STYLE",
           "VERDICT_STYLE", "SERIES_STYLE", "DETECTED_STYLE", "OTHER_DOCUMENTED_STYLE", "FONT_SIZE", "RC", "SOURCE_NAMES",
           "SIGNAL_NAMES"]
