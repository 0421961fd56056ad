"""``Result``: one case's record, from its inputs to what the report shows.

``pipeline.load_inputs`` makes it (case, timeline, tidy table, raw cache, each source's
status); ``pipeline.analyse`` returns a copy with the analysis filled in (detection,
alignment, verdicts, expectations, other documenters); ``report.write`` draws and writes
it. Every stage reads the fields the earlier ones set and copies none of them: the
detected intervals are the detection's, the cache root the raw cache's, and what is
derived from the inputs alone (the raw entries' provenance, the inputs' hashes) is
computed once and carried over by ``replace`` while the inputs stay the same.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import pandas as pd

from shutdown import i18n
from shutdown.errors import InputError

# The fields the derived values (``entries``, ``hashes``) are computed from: ``replace``
# carries those values over unless one of these changes.
_INPUT_FIELDS = frozenset({"case", "events", "tidy", "raw"})
_DERIVED = ("entries", "hashes")


@dataclass
class Result:
    # -- what the analysis starts from (pipeline.load_inputs)
    case: object
    events: list
    tidy: pd.DataFrame
    raw: object = None                   # store.RawCache, or None for a table file (--table)
    source_status: list = field(default_factory=list)   # dicts: source, status, message, ...
    simulated: bool = False
    demo: bool = False
    notes: list = field(default_factory=list)           # about the inputs (no data, ...)
    complete: bool = True                # every source collected in full (a survey's row says so)
    # -- what the analysis found (pipeline.analyse); None before it ran
    detection: object = None             # detect.Detection: intervals, fused, series, notes, ...
    alignment: pd.DataFrame | None = None    # one row per event and source series (det_start/end_utc)
    summary: pd.DataFrame | None = None      # one row per event (align.summarize)
    unexplained: pd.DataFrame | None = None  # agreed outages no documented event accounts for
    expectation_table: pd.DataFrame | None = None   # align.expectation_results: one row per expectation
    expectations: list = field(default_factory=list)  # the same as dicts (manifest, check): event, ok, found, ...
    others: pd.DataFrame | None = None   # other documenters' entries against the report and the data
    # -- how it is shown
    lang: str = i18n.DEFAULT             # the report's language (report --lang; shutdown.i18n)

    # ---------------------------------------------------------------- read from the fields
    @property
    def intervals(self) -> pd.DataFrame | None:
        return self.detection.intervals if self.detection is not None else None

    @property
    def fused(self) -> pd.DataFrame | None:
        return self.detection.fused if self.detection is not None else None

    @property
    def cache_root(self) -> str:
        return str(self.raw.root) if self.raw is not None else ""

    @functools.cached_property
    def entries(self) -> list:
        """Provenance of the raw cache's entries for the case's sources (``sidecar.raw_entries``)."""
        from shutdown import sidecar
        return sidecar.raw_entries(self.raw, self.case.sources) if self.raw is not None else []

    @functools.cached_property
    def hashes(self) -> dict:
        """The inputs' hashes (``sidecar.inputs_record``): hashed once, as the tidy table's
        hash costs as much as a figure."""
        from shutdown import sidecar
        return sidecar.inputs_record(self.case, self.tidy, self.entries)

    # ---------------------------------------------------------------- new records
    def replace(self, **changes) -> "Result":
        """A copy with ``changes``; what is derived from the inputs comes along unless
        an input (case, events, tidy, raw) changed."""
        new = dataclasses.replace(self, **changes)
        if not _INPUT_FIELDS & changes.keys():
            new.__dict__.update({k: self.__dict__[k] for k in _DERIVED if k in self.__dict__})
        return new

    def __getstate__(self) -> dict:
        # A record sent to a worker process (the report's figures: parallel.Ahead pickles
        # it) goes without the detection's working state (per-series rows, fits, counts:
        # more bytes than the tidy table), which no figure reads.
        state = dict(self.__dict__)
        det = state.get("detection")
        if det is not None:
            state["detection"] = dataclasses.replace(det, rows={}, series_set=None, fit=None, counts={})
        return state

    # ---------------------------------------------------------------- checks
    def require_data(self, what: str = "nothing to draw") -> None:
        """InputError (exit 2) naming each source's problem when no source returned data."""
        if len(self.tidy):
            return
        msgs = "; ".join(s.get("message") if (s.get("message") or "").startswith(s["source"])
                         else f"{s['source']}: {s.get('message') or s['status']}"
                         for s in self.source_status)
        raise InputError(f"no source returned any data for case {self.case.name!r}, {what}"
                         + (f" ({msgs})" if msgs else "")
                         + ("; without network, `shutdown report CASE --demo` (make demo) runs "
                            "offline on simulated data" if not self.demo and "unreachable" in msgs
                            else ""),
                         path=self.raw.root if self.raw is not None else None)
