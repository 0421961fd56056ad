"""Assemble a tidy table from many small series cheaply.

A collector yields one block per series (labels + timestamps + values);
building a DataFrame per block costs more than the data (string columns are
broadcast scalar by scalar), so labels are repeated once, at the end.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.schema import check_tidy, empty_tidy

_LABELS = ("source", "entity_type", "entity_code", "signal", "subtype", "unit")


# No upstream count comes near this (IODA counts at most 2**32 addresses, OONI and Atlas
# measurements and probes far fewer): a value above it is garbage (1e300 would overflow
# every sum detection takes), not a number.
MAX_VALUE = 1e15


def numbers(values, builder: "TidyBuilder | None" = None) -> np.ndarray:
    """``values`` as float64. None is a gap (NaN); anything that is not a finite number
    in [0, MAX_VALUE] (text, an object, inf, a negative count, 1e300) is garbage: a gap
    too, and counted in ``builder.skipped`` -- one bad value never costs the whole source."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        values = []
    arr = np.array([_number_or_nan(v) for v in values], dtype="float64")   # None -> NaN
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > MAX_VALUE)
    n_bad = int(bad.sum()) - sum(v is None for v in values)
    if n_bad and builder is not None:
        builder.skipped += n_bad
    arr[bad] = np.nan
    return arr


def _number_or_nan(v) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return np.nan


class TidyBuilder:
    def __init__(self):
        self._labels, self._ts, self._values, self._sim, self._n = [], [], [], [], []
        self.skipped = 0          # garbage values or records left out (see ``numbers``)

    def add(self, *, source, entity_type, entity_code, signal, subtype, unit, ts, values,
            simulated=False) -> None:
        ts = pd.DatetimeIndex(ts)
        if ts.tz is None:
            ts = ts.tz_localize("UTC")
        vals = np.asarray(values, dtype="float64")
        if len(ts) != len(vals):
            raise ValueError("timestamps and values differ in length")
        if not len(vals):
            return
        self._labels.append((source, entity_type, entity_code, signal, subtype, unit))
        self._ts.append(ts.tz_convert("UTC").as_unit("ns").asi8)
        self._values.append(vals)
        self._sim.append(bool(simulated))
        self._n.append(len(vals))

    def frame(self, dedupe: bool = True) -> pd.DataFrame:
        df = self._frame(dedupe)
        df.attrs["skipped_values"] = self.skipped     # build_table says how many
        return df

    def _frame(self, dedupe: bool) -> pd.DataFrame:
        if not self._n:
            return empty_tidy()
        n = np.asarray(self._n)
        cols = {}
        for i, name in enumerate(_LABELS):
            cats = pd.Categorical([lab[i] for lab in self._labels])
            cols[name] = pd.Categorical.from_codes(np.repeat(cats.codes, n), cats.categories)
        cols["ts_utc"] = pd.to_datetime(np.concatenate(self._ts), utc=True)
        cols["value"] = np.concatenate(self._values)
        cols["simulated"] = np.repeat(np.asarray(self._sim), n)
        df = pd.DataFrame(cols)
        if dedupe:   # overlapping chunks: the later answer wins
            key = ["entity_type", "entity_code", "signal", "subtype", "ts_utc"]
            df = df.drop_duplicates(subset=key, keep="last").sort_values(key, kind="stable")
        return check_tidy(df.reset_index(drop=True))
