"""Alignment's inputs: which signals an event asks (its expectations, the services a
scope names, the entities it covers), and the series, intervals and data times detection
found for them, grouped once (``Lookup``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.detect import evidence as _ev

def _trials(source: str, signal: str):
    """The declared ``registry.Trials`` of a signal, or None (a level)."""
    from shutdown.sources import registry
    sig = registry.signal(source, signal)
    return sig.trials if sig is not None else None


def _is_test(exp) -> bool:
    """Whether an expectation names a signal that tests one service (its source's declared
    ``services``): a service scope chooses among those."""
    from shutdown.sources import registry
    return any(exp.signal in sigs for sigs in registry.services(exp.source).values())


def _title(source: str) -> str:
    from shutdown.sources import registry
    src = registry.sources().get(source)
    return src.title if src is not None else ""


def _count_metric(source: str, signal: str, metric) -> bool:
    """Whether a series is a trials share judged by pooled statistics (detect/evidence.py)."""
    spec = _trials(source, signal)
    return spec is not None and metric == spec.metric


def service_tests(name: str) -> tuple[str, ...]:
    """The signals that test service ``name`` (a timeline scope's name), as the sources
    declare them (``services``), e.g. "tor" -> OONI's tor, vanilla_tor and torsf tests."""
    from shutdown.sources import registry
    return tuple(t for src in registry.sources() for t in registry.services(src).get(name.lower(), ()))


def _service_source(case) -> str:
    """The (first) source that tests services one by one, for a row saying none does."""
    from shutdown.sources import registry
    names = [n for n, s in registry.sources().items() if s.services
             and (case is None or n in case.sources)] or [n for n, s in registry.sources().items() if s.services]
    return names[0] if names else ""


# -- inputs ------------------------------------------------------------------------------
def _parts(detection):
    """(intervals, series coverage, per-bin rows or None) from a Detection or a frame."""
    if hasattr(detection, "intervals"):
        return detection.intervals, detection.series, detection
    return detection, None, None


def scope_entities(event, case) -> list[tuple[str, str]]:
    st, vals = event.scope_type, event.scope_values
    country = case.country if case is not None else None
    if st == "region":
        return [("region", v) for v in vals]
    if st == "network":
        return [("asn", v.upper().removeprefix("AS")) for v in vals]
    return [("country", country)] if country else []


def _expectations(event, case=None) -> list:
    exp = list(event.expected)
    if case is not None:        # a source the case does not collect has nothing to say
        exp = [e for e in exp if e.source in case.sources]
    if event.scope_type == "service":
        tests = {t for v in event.scope_values for t in service_tests(v)}
        # a service event asks only the tests of the services it names
        exp = [e for e in exp if not _is_test(e) or e.signal in tests]
    return exp


class _Lookup:
    """The series, intervals and data times of one alignment, grouped once by what an
    expectation asks for (a boolean mask over every table per event and entity was most
    of a report's alignment time)."""

    def __init__(self, series, intervals, det):
        base = series if series is not None and len(series) else intervals
        self._base = self._group(base, ["source", "signal", "entity_type"])
        self._iv = self._group(intervals, ["source", "signal", "subtype", "entity_type"])
        self._no_iv = intervals.iloc[0:0] if intervals is not None else pd.DataFrame()
        self._det = det
        self._ids = self._times = None
        self._split = {}

    @staticmethod
    def _group(df, cols) -> dict:
        if df is None or len(df) == 0:
            return {}
        code = df["entity_code"].astype(str)
        return {k: g for k, g in df.groupby([*(df[c] for c in cols), code], observed=True, sort=False)}

    def candidates(self, exp, etype, ecode) -> pd.DataFrame:
        """The series an expectation refers to (from coverage, else from the intervals)."""
        out = self._base.get((exp.source, exp.signal, etype, str(ecode)))
        if out is None:
            return pd.DataFrame()
        if exp.subtype is not None:
            out = out[out["subtype"] == exp.subtype]
        spec = _trials(exp.source, exp.signal)
        if "metric" in out and spec is not None:
            # a trials signal is judged by its share (a test's anomaly share is what a
            # restriction moves; Atlas probe counts yield to the share of probes online)
            out = out[out["metric"] == spec.metric]
        cols = ["source", "signal", "subtype", "metric", "entity_type", "entity_code"]
        cols = [c for c in cols if c in out]
        extra = [c for c in ("status", "reason", "bin_minutes", "simulated") if c in out]
        return out[cols + extra].drop_duplicates(subset=cols)

    def by_series(self, name: str) -> dict:
        """``det.<name>`` (evidence or changes: a row per count series or per change)
        split by series id once, as ``{series_id: frame}``."""
        if name not in self._split:
            df = getattr(self._det, name, None)
            rows: dict = {}
            for i, sid in enumerate(_series_ids(df) if df is not None else ()):
                rows.setdefault(sid, []).append(i)
            self._split[name] = {sid: df.iloc[ix] for sid, ix in rows.items()}
        return self._split[name]

    def intervals(self, c, etype, ecode) -> pd.DataFrame:
        iv = self._iv.get((c["source"], c["signal"], c["subtype"], etype, str(ecode)))
        if iv is None:
            return self._no_iv
        if "metric" in iv and "metric" in c:
            iv = iv[iv["metric"] == c["metric"]]
        return iv

    def has_data(self, key_row, ws, we) -> bool | None:
        """Whether the series has a value inside [ws, we); None when unknown."""
        det = self._det
        if det is None or det.series_set is None or not det.rows or len(det.rows["key"]) == 0:
            return None
        if self._times is None:
            keys = det.series_set.keys
            cols = ["source", "signal", "subtype", "entity_type", "entity_code", "metric"]
            self._ids = {}
            for i, k in enumerate(zip(*(keys[c].astype(str) for c in cols))):
                self._ids.setdefault(k, []).append(i)
            r = det.rows
            ok = ~np.isnan(r["value"])
            key, ts = r["key"][ok], r["ts"][ok]
            order = np.lexsort((ts, key))
            key, ts = key[order], ts[order]
            bounds = np.searchsorted(key, np.arange(len(keys) + 1))
            self._times = (ts, bounds)
        k = tuple(str(key_row[c]) for c in ("source", "signal", "subtype", "entity_type", "entity_code"))
        ids = [i for (kk, ii) in self._ids.items() if kk[:5] == k
               and ("metric" not in key_row or kk[5] == str(key_row["metric"])) for i in ii]
        if not ids:
            return False
        ts, bounds = self._times
        for i in ids:
            t = ts[bounds[i]:bounds[i + 1]]
            j = np.searchsorted(t, ws.value)
            if j < len(t) and t[j] < we.value:
                return True
        return False


def _series_ids(df: pd.DataFrame) -> list[tuple]:
    """``evidence.series_id`` of every row of ``df``, column by column (not row by row)."""
    cols = [df[c].astype(str).to_numpy() if c in df else np.full(len(df), "")
            for c in _ev.SERIES_ID_COLUMNS]
    return list(zip(*cols))
