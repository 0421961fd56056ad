"""What a figure draws, as plain data beside the matplotlib Figure.

Every figure function returns ``Drawn(figure, record)``. The record lists the documented
events, other documenters' entries, detected spans, series, verdicts and missing data
the figure drew, each event, entry and span under the ``gid`` its artist carries
("event:<id>", "documenter:<lane>:<entry>", "detected:<n>");
``describe`` reads the drawn positions back from those artists. Also here: the
conversions between timestamps, matplotlib's day numbers and JSON values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


@dataclass
class Record:
    figure: str
    simulated: bool
    entity: tuple
    events: list = field(default_factory=list)
    documenters: list = field(default_factory=list)     # other documenters' entries (lanes)
    detected: list = field(default_factory=list)
    series: list = field(default_factory=list)
    verdicts: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    points: list = field(default_factory=list)   # the values drawn (shutdown.plot.data: the CSV)
    # Where things sit that the sidecar does not list, for the interactive chart
    # (shutdown.interactive), so it never reads matplotlib artists: "title" (the figure's),
    # "panels" (label, title, ylabel, ylim of each data panel, in drawing order),
    # "event_rows" (event id -> its row in the strip or the Gantt chart), and for the Gantt
    # chart "rows" (its row labels), "detected_rows" (gid -> row), "marks" (markers drawn).
    layout: dict = field(default_factory=dict)
    x_range: tuple = (None, None)
    data_range: tuple = (None, None)

    def add(self, key: str, item: dict) -> None:
        getattr(self, key).append(item)

    def place(self, key: str, item, at=None) -> None:
        """Note where something sits (``layout``): a value, or under ``at`` in a mapping."""
        if at is None:
            self.layout.setdefault(key, []).append(item)
        else:
            self.layout.setdefault(key, {})[at] = item

    def panels_of(self, fig, title: str) -> None:
        """The figure's title and its data panels (axes labelled "panel<n>") as finally laid
        out: title, y label and y range."""
        self.layout["title"] = title
        self.layout["panels"] = [{"label": ax.get_label(), "title": ax.get_title(loc="left"),
                                  "ylabel": ax.get_ylabel(), "ylim": [float(y) for y in ax.get_ylim()]}
                                 for ax in fig.axes if ax.get_label().startswith("panel")]

    def finish(self, tidy: pd.DataFrame, x0, x1) -> None:
        """The time axis drawn and the time range of the data it was drawn from."""
        self.x_range = (x0, x1)
        self.data_range = (None, None) if tidy.empty else (tidy["ts_utc"].min(), tidy["ts_utc"].max())


class Drawn(NamedTuple):
    """A figure and its record: ``fig, rec = plot.overview_figure(...)``."""
    figure: Figure
    record: Record


def utc(ts) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def num(ts) -> float:
    """A timestamp as matplotlib's day number (the x of every time axis): what
    ``mdates.date2num(t.to_pydatetime())`` gives, float for float (the same whole seconds
    since the epoch plus microseconds over 1e9, over 86400), without a datetime and numpy
    arrays per call (heat maps and strips place hundreds)."""
    t = utc(ts)
    if t is pd.NaT:
        return math.nan
    s, us = divmod(t.value // 1000, 10**6)          # a datetime holds whole microseconds
    return (float(s - _epoch_seconds()) + float(us * 1000) / 1.0e9) / 86400.0


def _epoch_seconds() -> int:
    e = mdates.get_epoch()         # rcParams["date.epoch"], settable
    if e not in _EPOCHS:
        _EPOCHS[e] = int(np.datetime64(e, "s").astype("int64"))
    return _EPOCHS[e]


_EPOCHS: dict = {}


def ts(n: float) -> pd.Timestamp:
    # round to the second: float day numbers carry microsecond noise
    return pd.Timestamp(mdates.num2date(n)).tz_convert("UTC").round("s")


def plain(v):
    """A value as JSON takes it (timestamps as UTC ISO strings, NaN as None)."""
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
