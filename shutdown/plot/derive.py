"""The values figures draw that the tidy table does not hold as such.

``detect.series`` derives what detection judges; a figure shows some quantities a reader
reads more easily and that detection does not use. Two transforms serve every source, by
the kind its signals declare: a level as a share of its baseline median
(``baseline_ratio``), and a trials signal's share (``trial_share``: e.g. the OONI
messenger tests pooled into one anomaly share, while detection judges each test on its
own; the RIPE Atlas share of probes online, the detector's ratio, with a fallback for
tables without ``probes_reporting``). Plain data in, pandas out; nothing here draws.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown import verdict as _verdict
from shutdown.schema import OONI_OUTCOMES


def select(tidy: pd.DataFrame, source: str, signal: str, subtype: str | None = None,
           entity_type: str = "country", entity_code: str | None = None) -> pd.Series:
    """One series of the tidy table, indexed by ``ts_utc`` (summed over duplicates)."""
    m = (tidy["source"] == source) & (tidy["signal"] == signal) & (tidy["entity_type"] == entity_type)
    if subtype is not None:
        m &= tidy["subtype"] == subtype
    if entity_code is not None:
        m &= tidy["entity_code"] == str(entity_code)
    m = m.to_numpy()
    ts, value = tidy["ts_utc"].array[m], tidy["value"].to_numpy()[m]
    if value.dtype == np.float64 and len(ts) and (np.diff(ts.asi8) > 0).all():
        # one row per time, in order (the usual table): the rows as they are, without a
        # groupby per panel series; + 0.0 as the sum makes -0.0 (0.0, as pandas' sum)
        return pd.Series(value + 0.0, index=pd.DatetimeIndex(ts, name="ts_utc"), name="value")
    sub = tidy.loc[m, ["ts_utc", "value"]]
    return sub.groupby("ts_utc")["value"].sum(min_count=1).sort_index()


def baseline_ratio(s: pd.Series, baseline: tuple) -> pd.Series:
    """The series as a fraction of its median over the baseline (1.0 = normal).

    With no baseline data the whole series' median stands in, so a short fetch
    still draws; the sidecar records which was used.
    """
    if s.empty:
        return s
    b0, b1 = baseline
    ref = s[(s.index >= b0) & (s.index < b1)].median()
    if not ref or not np.isfinite(ref):
        ref = s.median()
    if not ref or not np.isfinite(ref):
        return s * np.nan
    return s / ref


def trial_share(tidy: pd.DataFrame, source: str, signals, subtype: str | None = None,
                entity_type="country", entity_code=None, baseline=None) -> tuple[pd.Series, str]:
    """The share of a ``trials`` signal per bin, as its source declares it
    (``registry.Trials``), and how it was made (the sidecar's words).

    outcomes shape (e.g. OONI tests): the named ``signals`` summed, the ``hits`` over all
    outcomes, pooled over neighbouring bins as detection pools one signal
    (``detect.series.pooled_share``: until a typical pool holds OONI_MIN_COUNT trials), so
    two tests an hour do not draw a line jumping between 0 and 1; a bin whose pool holds too
    few has no share (a gap in the line).
    ratio shape (e.g. Atlas probes): the signal over its ``of`` signal in ``subtype`` (the
    detector's share), else, without the ``of`` signal, the signal as a share of its
    baseline median.
    """
    from shutdown.sources import registry
    signals = [signals] if isinstance(signals, str) else list(signals)
    sig = registry.signal(source, signals[0])
    spec = sig.trials if sig is not None else None
    if spec is None:
        return pd.Series(dtype="float64"), "none"
    if spec.shape == "ratio":
        return _ratio_share(tidy, source, signals[0], spec, subtype, entity_type, entity_code, baseline)
    return (_outcome_share(tidy, source, signals, spec, entity_type, entity_code),
            f"({'+'.join(spec.hits)})/all, pooled over neighbouring bins to >= OONI_MIN_COUNT")


def _outcome_share(tidy, source, signals, spec, entity_type, entity_code) -> pd.Series:
    from shutdown.detect.series import pooled_share
    m = (tidy["source"] == source) & tidy["signal"].isin(list(signals)) & \
        (tidy["entity_type"] == entity_type)
    if entity_code is not None:
        m &= tidy["entity_code"] == str(entity_code)
    sub = tidy.loc[m & tidy["subtype"].isin(list(spec.outcomes))]
    if sub.empty:
        return pd.Series(dtype="float64")
    wide = sub.pivot_table(index="ts_utc", columns="subtype", values="value", aggfunc="sum",
                           observed=True)      # subtypes present, not every category
    wide = wide.sort_index()
    total = wide.sum(axis=1)
    bad = wide.reindex(columns=list(spec.hits)).fillna(0).sum(axis=1)
    first = np.zeros(len(wide), dtype=bool)
    first[:1] = True                                    # one series
    share, _ = pooled_share(bad.to_numpy(), total.to_numpy(), first)
    # NaN kept: the line breaks where too few tests back a share, instead of joining
    # the shares on either side of a day without tests
    return pd.Series(share, index=wide.index)


def _ratio_share(tidy, source, signal, spec, subtype, entity_type, entity_code,
                 baseline) -> tuple[pd.Series, str]:
    reach = select(tidy, source, signal, subtype, entity_type, entity_code)
    report = select(tidy, source, spec.of, subtype, entity_type, entity_code)
    if not reach.empty and not report.empty:
        share = (reach / report.where(report > 0)).reindex(reach.index)
        return share.clip(0, 1).dropna(), f"{signal}/{spec.of}"
    if baseline is not None and not reach.empty:
        return baseline_ratio(reach, baseline), "baseline_ratio"
    return reach.iloc[0:0], "none"


def is_simulated(tidy: pd.DataFrame) -> bool:
    if tidy.empty:
        return False
    sims = set(tidy["simulated"].astype(bool).unique())
    if len(sims) > 1:
        raise ValueError("the table mixes simulated and measured rows; refusing to draw them together")
    return bool(sims.pop())


def intervals_for(intervals, **match) -> pd.DataFrame:
    """The detected intervals whose columns match (a list matches any of its values)."""
    if intervals is None or len(intervals) == 0:
        return pd.DataFrame(columns=["start_utc", "end_utc"])
    m = np.ones(len(intervals), dtype=bool)
    for k, v in match.items():
        if v is None:
            continue
        want = {str(x) for x in v} if isinstance(v, (list, tuple, set)) else {str(v)}
        col = intervals[k]
        if isinstance(col.dtype, pd.StringDtype):     # strings already (missing: never matches)
            m &= np.fromiter((x in want for x in col.to_numpy(dtype=object)), dtype=bool, count=len(col))
        else:
            m &= col.astype(str).isin(list(want)).to_numpy()
    return intervals.loc[m]


def subtype_part(d: pd.DataFrame, i: int) -> pd.Series:
    """Part ``i`` (0: before, -1: after the last "/") of each row's subtype ("example.org/ok"),
    split once per distinct subtype rather than once per row."""
    sub = d["subtype"].astype(str)
    distinct = pd.unique(sub)
    parts = dict(zip(distinct, pd.Series(distinct).str.rsplit("/", n=1).str[i]))
    return sub.map(parts)


def day_counts(tidy: pd.DataFrame, case, source: str, signal_is, key, good,
               outcomes=OONI_OUTCOMES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outcome-shaped trials (e.g. OONI's) per local day: (k, n) per key (rows) and local day
    (columns, UTC start of the day) over the window; n all trials, k those whose outcome is
    in ``good``. ``signal_is`` and ``key`` are taken row by row (a signal's test, a row's
    key): the rows are narrowed to the window's outcomes before either is computed."""
    x0, x1 = case.window_utc
    src = tidy[tidy["source"] == source]        # on the categorical: no string per row
    d = src[_each(src["signal"], signal_is)]
    if not len(d):
        return pd.DataFrame(), pd.DataFrame()
    ts = pd.to_datetime(d["ts_utc"], utc=True)
    inside = ((ts >= x0) & (ts < x1)).to_numpy()
    d, ts = d[inside], ts[inside]
    outcome = subtype_part(d, -1)
    keep = outcome.isin(list(outcomes)).to_numpy()
    d, ts, outcome = d[keep], ts[keep], outcome[keep]
    d = d.assign(key=key(d), outcome=outcome, value=pd.to_numeric(d["value"], errors="coerce").fillna(0.0),
                 day=ts.dt.tz_convert(case.timezone).dt.floor("D").dt.tz_convert("UTC"))
    n = d.pivot_table(index="key", columns="day", values="value", aggfunc="sum", fill_value=0.0)
    k = d[d["outcome"].isin(good)].pivot_table(index="key", columns="day", values="value",
                                               aggfunc="sum", fill_value=0.0)
    return k.reindex_like(n).fillna(0.0), n


def _each(col: pd.Series, test) -> pd.Series:
    """``test`` (a predicate of each value, on strings) of each row; on a categorical, of each
    category once, spread to its rows."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        if (codes >= 0).all():
            per = np.asarray(test(pd.Series(col.cat.categories.astype(str))), dtype=bool)
            return pd.Series(per[codes], index=col.index)
    return test(col.astype(str))


# Best verdict first (shutdown.verdict: as alignment ranks them).
VERDICT_RANK = _verdict.RANK


def display_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of one event worth a line in the Gantt chart: per source family its best
    primary verdict (best rank, then fewest minutes off), plus any control that contradicts
    the event. Picked by position: one ``iloc`` of the rows, not a frame per step."""
    if rows.empty:
        return rows
    rank = rows["verdict"].map(VERDICT_RANK).fillna(_verdict.UNKNOWN_RANK).to_numpy()
    if "minutes_off" in rows:
        order = np.lexsort((rows["minutes_off"].abs().fillna(np.inf).to_numpy(), rank))   # stable
    else:
        order = np.argsort(rank, kind="stable")
    role = (rows["role"] if "role" in rows else pd.Series("primary", index=rows.index)).to_numpy()[order]
    fam = (rows["family"].fillna(rows["source"]) if "family" in rows else rows["source"]).to_numpy()[order]
    prim = order[role == "primary"]
    prim = prim[~pd.Series(fam[role == "primary"]).duplicated().to_numpy()]
    ctrl = order[(role == "control") & (rows["verdict"].to_numpy()[order] == "contradicted")]
    return rows.iloc[np.concatenate([prim, ctrl])]


def overall_verdict(rows: pd.DataFrame) -> str:
    """The event's verdict (align.summarize's, when the rows carry it; else the best row's)."""
    if "event_verdict" in rows.columns and len(rows):
        return str(rows["event_verdict"].iloc[0])
    if rows.empty or "verdict" not in rows.columns:
        return "not-measurable"
    return min(rows["verdict"].astype(str), key=_verdict.rank)
