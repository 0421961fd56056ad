"""Outage figures: overview, per network, region, alignment timeline, OONI evidence.

``catalogue.FIGURES`` is the registry the report draws from (name -> how to draw it,
its caption, the event kinds it shows). A figure function takes plain data and returns
``Drawn(figure, record)``: the matplotlib Figure and a ``Record`` of what it drew;
``describe(fig, record)`` reads it back for the sidecar, ``save`` writes the files.

The modules: ``style`` (colours, hatches, fonts, sizes), ``derive`` (values a figure
shows that the tidy table does not hold), ``lanes`` (the documented events' strip and
guides), ``layout`` (the page: strip above panels, time axes, legend, watermark),
``panels`` (axes-level drawing), ``figures`` (the figure functions), ``catalogue``
(the registry), ``record``, ``describe``, ``data`` (each figure's numbers as CSV), ``save``. DPI and FORMATS are read as
``plot.style.DPI`` / ``plot.style.FORMATS``.

The names below load on first use (PEP 562): the registry, the styles and the format
check need no matplotlib, so a report whose figures are all current never imports it.
Drawing modules are loaded with matplotlib's Agg backend (files only; never a display).
"""
from importlib import import_module

_WHERE = {
    "FIGURES": "catalogue", "FigureDef": "catalogue", "figure": "catalogue",
    "alignment_rows": "catalogue",
    "check_formats": "save", "save": "save",
    "trial_share": "derive", "baseline_ratio": "derive", "display_rows": "derive",
    "select": "derive",
    "describe": "describe", "label_overlaps": "describe",
    "overview_figure": "figures", "networks_figure": "figures", "region_figure": "figures",
    "alignment_figure": "figures", "evidence_figure": "figures",
    "EventBar": "lanes", "event_bars": "lanes", "event_label": "lanes", "stack_rows": "lanes",
    "watermark": "layout",
    "network_series": "panels", "region_panels": "panels", "series_name": "panels", "strength": "panels",
    "Drawn": "record", "Record": "record",
    **{k: "style" for k in ("DETECTED_STYLE", "EVENT_STYLE", "FONT_SIZE", "OI",
                            "OTHER_DOCUMENTED_STYLE", "RC", "SERIES_STYLE", "VERDICT_STYLE")},
}
_MODULES = {"catalogue", "data", "derive", "describe", "figures", "lanes", "layout", "panels", "record",
            "save", "style"}
_NO_MATPLOTLIB = {"catalogue", "style", "derive", "save", "data"}     # importable without it
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    mod = _WHERE.get(name) or (name if name in _MODULES else None)
    if mod is None:
        raise AttributeError(f"module 'shutdown.plot' has no attribute {name!r}")
    if mod not in _NO_MATPLOTLIB:
        import matplotlib
        matplotlib.use("Agg")
    m = import_module(f"shutdown.plot.{mod}")
    # Bind the module's names here at once: importing shutdown.plot.save (or .describe)
    # set plot.save to the module, where plot.save means the function.
    for k, where in _WHERE.items():
        if where == mod:
            globals()[k] = getattr(m, k)
    return globals()[name] if name in _WHERE else m


def __dir__():
    return sorted([*globals(), *_WHERE, *_MODULES])
