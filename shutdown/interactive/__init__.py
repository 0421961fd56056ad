"""Interactive charts for ``report.html``: the static figures, explorable in a browser.

One source of truth. Nothing here recomputes a series, a window or a verdict, and
nothing reads matplotlib artists: every chart is built from the figure's ``Record``
(``shutdown.plot.record``: the lines drawn with their values and styles, the panels'
titles and y ranges, the rows of the event strip and of the Gantt chart) and from its
sidecar (``plot.describe``: the documented events and detected spans where their
artists are), the record the PNG, the sidecar and the CSV come from too. The events
are joined by id with the timeline (quote, English, citation) and the report's
per-event verdict row (``align.summarize``; every column of it that is not an identity
column shows as evidence, so new evidence fields appear without code here naming them).

Vega-Lite draws them: the specs are plain JSON (``vl``), validated against the
Vega-Lite schema Altair ships once per spec shape; its JavaScript (Vega, Vega-Lite,
vega-embed, from ``vl-convert-python``) is inlined once in the page (``page``), which
loads nothing from the network and works from file://. Each chart's spec is embedded as
JSON (``<script type="application/json" id="chart-NAME">``), with what ``shutdown check``
verifies in ``usermeta.shutdown`` and the events in ``datasets.events``: :func:`embedded`
reads them back.

``report`` builds each chart right after drawing its figure (in the same worker) and
saves it beside the figure's files (``figures/<name>.vl.json``, hashed in the manifest
and reused with the figure); ``report.html`` embeds it.

Dense series are thinned for the page (``records.MAX_POINTS``): per time bucket the
lowest and the highest drawn point, both real points at their real times, so a drop or
a spike stays visible; windows and verdicts are never thinned.

Modules: ``records`` (events, documenters, evidence, thinning), ``vl`` (Vega-Lite
pieces, validation), ``panels`` (overview, networks), ``gantt`` (alignment), ``page``.
"""
from __future__ import annotations

import json
from pathlib import Path

from shutdown.interactive.page import BOOT, CSS, embedded, figure_html, head, library_js
from shutdown.interactive.records import MAX_POINTS, Plotted, evidence, plotted, thin

CHARTS = ("overview", "networks", "alignment")     # the figures with an interactive version
FORMAT = "vega-lite"        # its key among a figure's files: figures/<name>.vl.json

__all__ = ["BOOT", "CHARTS", "CSS", "FORMAT", "MAX_POINTS", "Plotted", "chart", "embedded", "evidence",
           "figure_html", "head", "library_js", "load", "plotted", "save", "thin"]


def chart(name: str, rec, desc: dict, data) -> dict:
    """The Vega-Lite spec of figure ``name`` from its record (``plot.Record``, or its chart
    part: ``plotted(rec)``), its sidecar record (``plot.describe``, with the registry's
    ``event_kinds``) and the report's data (the verdicts)."""
    rec = plotted(rec)
    if name == "alignment":
        from shutdown.interactive.gantt import alignment_chart
        return alignment_chart(rec, desc, data, name)
    from shutdown.interactive.panels import panel_chart
    return panel_chart(rec, desc, data, name)


def save(spec: dict, base) -> Path:
    """Write the spec beside the figure's other files (figures/<name>.vl.json): what the page
    embeds, and a chart any Vega-Lite tool opens."""
    p = Path(base).with_suffix(".vl.json")
    p.write_text(json.dumps(spec, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return p


def load(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
