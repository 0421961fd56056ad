"""``FIGURES``: the registry of the report's figures -- how to draw each from the
report's data, its caption, the event kinds it shows -- in report order.

Apart from the drawing functions (``figures``, imported when a figure is drawn), so
that a report whose figures are all current, ``shutdown check`` and the CLI read the
registry without loading matplotlib (a third of a warm report's start-up).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import pandas as pd


@dataclass(frozen=True)
class FigureDef:
    """A figure of the report: how to draw it from the report's data, its caption, and the
    event kinds it shows (None: all; "non-context": all but context events, which explain
    rather than happen on the network)."""
    draw: Callable[[object], object]    # (report data: case, events, tidy, intervals, ...) -> Drawn
    caption: str
    event_kinds: str | None
    # what it draws from besides the tidy table, the timeline and the case: "alignment" (the
    # verdicts), "detection" (the detected intervals and other documenters' entries, not the
    # verdicts) or "inputs" (nothing more): the report draws it as soon as that is known
    needs: str = "alignment"
    # its drawing time relative to the others' (the demo's, measured in a fresh worker:
    # benchmarks/bench_report.py's docs): the longest go to the worker processes first, or
    # the figures are split between them by it, so that none is left alone at the end
    weight: float = 1.0


def _figures():
    from shutdown import plot
    return plot.figures            # loaded with the Agg backend on first use


def alignment_rows(data) -> pd.DataFrame:
    """Alignment rows with the event's overall verdict beside each (for the Gantt labels)."""
    al = data.alignment.copy() if data.alignment is not None else pd.DataFrame()
    if len(al) and data.summary is not None and len(data.summary):
        al["event_verdict"] = al["event"].map(dict(zip(data.summary["event"], data.summary["verdict"])))
    return al


# In report order.
FIGURES: dict[str, FigureDef] = {
    "overview": FigureDef(
        lambda d: _figures().overview_figure(d.tidy, d.events, d.intervals, d.case, d.others),
        "Every source family on one UTC axis (local time on top). Documented events are "
        "bars at their true window (a day-precision event spans the local day); outages "
        "another source documents (its own records) have a lane of their own below them; grey "
        "shading marks outages the detector found in that panel's data. OONI's messenger share "
        "is pooled over neighbouring hours as detection pools a test; a gap in it means too "
        "few tests to give a share.",
        None, needs="detection", weight=1.0),
    "networks": FigureDef(
        lambda d: _figures().networks_figure(d.tidy, d.events, d.intervals, d.case),
        "One panel per network (ASN) of the case, same scale, so operators can be compared.",
        "non-context", needs="detection", weight=0.82),
    "region": FigureDef(
        lambda d: _figures().region_figure(d.tidy, d.events, d.intervals, d.case),
        "A region against the whole country, for the sources that have regional data.",
        "non-context", needs="detection", weight=0.53),
    "alignment": FigureDef(
        lambda d: _figures().alignment_figure(d.events, d.intervals, alignment_rows(d), d.case, d.simulated),
        "Each documented event (outlined, hatched by kind) above the detections matched to "
        "it, coloured by verdict.",
        "non-context", weight=0.72),
    "evidence": FigureDef(
        lambda d: _figures().evidence_figure(d.tidy, d.events, d.case),
        "OONI per local day: web_connectivity per domain (the whitelist's listed sites "
        "above the line, the case's control sites below; colour = share accessible) and "
        "circumvention tests (colour = share anomalous); the number in a cell is the "
        "tests it rests on, a hatched cell had none.",
        "non-context", needs="inputs", weight=0.77),
}


def figure(data, name: str):
    """One of FIGURES, drawn from the report's data."""
    with fewer_collections():
        return FIGURES[name].draw(data)


@contextmanager
def fewer_collections(young: int = 50_000):
    """Python's cycle collector run less often while a figure is built or drawn.

    Matplotlib makes tens of thousands of small objects per figure (artists, transforms,
    paths); at the default threshold (700) the collector ran ~40 times per figure,
    sometimes over the whole heap (the report's tables too): a tenth of the drawing's CPU.
    With ``young`` allocations between young collections it runs a few times; the
    garbage waiting meanwhile stays small (one figure's). The thresholds are restored."""
    before = gc.get_threshold()
    gc.set_threshold(max(young, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
