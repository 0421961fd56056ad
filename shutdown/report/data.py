"""``ReportData``: everything a report shows, as the pipeline made it (``report.gather``)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pandas as pd

from shutdown import i18n, sidecar


@dataclass
class ReportData:
    case: object
    events: list
    tidy: pd.DataFrame
    intervals: pd.DataFrame
    alignment: pd.DataFrame          # one row per event and source/signal (see align)
    summary: pd.DataFrame            # one row per event (align.summarize)
    expectations: list = field(default_factory=list)    # dicts: event, ok, found, ...
    unexplained: pd.DataFrame | None = None
    entries: list = field(default_factory=list)          # raw-cache provenance records
    source_status: list = field(default_factory=list)    # dicts: source, status, message
    cache_root: str = ""
    simulated: bool = False
    demo: bool = False
    others: pd.DataFrame | None = None   # other documenters' entries against report and data
    lang: str = i18n.DEFAULT             # the report's language (report --lang; shutdown.i18n)

    @functools.cached_property
    def inputs(self) -> dict:
        # hashed once per run: the tidy table's hash costs as much as a figure
        return sidecar.inputs_record(self.case, self.tidy, self.entries)

