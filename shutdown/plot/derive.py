"""The values figures draw that the tidy table does not hold as such.

``detect.series`` derives what detection judges; a figure shows some quantities a reader
reads more easily and that detection does not use: IODA signals as a share of their
baseline median, the OONI messenger tests pooled into one anomaly share (detection judges
each test on its own, pooled over bins), and the RIPE Atlas share of probes online (the
same ratio as ``detect.series``' reachable share, with a fallback for tables without
``probes_reporting``). Plain data in, pandas out; nothing here draws.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.schema import OONI_MESSENGER_TESTS, OONI_OUTCOMES


def select(tidy: pd.DataFrame, source: str, signal: str, subtype: str | None = None,
           entity_type: str = "country", entity_code: str | None = None) -> pd.Series:
    """One series of the tidy table, indexed by ``ts_utc`` (summed over duplicates)."""
    m = (tidy["source"] == source) & (tidy["signal"] == signal) & (tidy["entity_type"] == entity_type)
    if subtype is not None:
        m &= tidy["subtype"] == subtype
    if entity_code is not None:
        m &= tidy["entity_code"] == str(entity_code)
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


def messenger_anomaly_share(tidy: pd.DataFrame, entity_type="country", entity_code=None,
                            tests=OONI_MESSENGER_TESTS) -> pd.Series:
    """Share of OONI ``tests`` measurements flagged anomaly or confirmed, per bin: the
    tests summed, then pooled over neighbouring bins as detection pools a test
    (``detect.series.pooled_share``: until a typical pool holds OONI_MIN_COUNT
    measurements), so two tests an hour do not draw a line jumping between 0 and 1.

    OONI's aggregation counts ok, anomaly, confirmed and failure separately; the
    share is (anomaly + confirmed) over all four. A bin whose pool holds too few
    measurements has no share (a gap in the line).
    """
    from shutdown.detect.series import pooled_share
    m = (tidy["source"] == "ooni") & tidy["signal"].isin(list(tests)) & \
        (tidy["entity_type"] == entity_type)
    if entity_code is not None:
        m &= tidy["entity_code"] == str(entity_code)
    sub = tidy.loc[m & tidy["subtype"].isin(["ok", "anomaly", "confirmed", "failure"])]
    if sub.empty:
        return pd.Series(dtype="float64")
    wide = sub.pivot_table(index="ts_utc", columns="subtype", values="value", aggfunc="sum",
                           observed=True)      # subtypes present, not every category
    wide = wide.sort_index()
    total = wide.sum(axis=1)
    bad = wide.reindex(columns=["anomaly", "confirmed"]).fillna(0).sum(axis=1)
    first = np.zeros(len(wide), dtype=bool)
    first[:1] = True                                    # one series
    share, _ = pooled_share(bad.to_numpy(), total.to_numpy(), first)
    # NaN kept: the line breaks where too few tests back a share, instead of joining
    # the shares on either side of a day without tests
    return pd.Series(share, index=wide.index)


def atlas_online_share(tidy: pd.DataFrame, subtype: str, entity_type="country", entity_code=None,
                       baseline=None) -> tuple[pd.Series, str]:
    """Share of RIPE Atlas probes online in a probe class, per bin, and how it was made.

    probes_reachable / probes_reporting where both exist (the detector's share);
    else probes_reachable as a fraction of its baseline median.
    """
    reach = select(tidy, "atlas", "probes_reachable", subtype, entity_type, entity_code)
    report = select(tidy, "atlas", "probes_reporting", subtype, entity_type, entity_code)
    if not reach.empty and not report.empty:
        share = (reach / report.where(report > 0)).reindex(reach.index)
        return share.clip(0, 1).dropna(), "probes_reachable/probes_reporting"
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
    m = pd.Series(True, index=intervals.index)
    for k, v in match.items():
        if v is None:
            continue
        if isinstance(v, (list, tuple, set)):
            m &= intervals[k].astype(str).isin([str(x) for x in v])
        else:
            m &= intervals[k].astype(str) == str(v)
    return intervals.loc[m]


def subtype_part(d: pd.DataFrame, i: int) -> pd.Series:
    """Part ``i`` (0: before, -1: after the last "/") of each row's subtype ("example.org/ok"),
    split once per distinct subtype rather than once per row."""
    sub = d["subtype"].astype(str)
    distinct = pd.unique(sub)
    parts = dict(zip(distinct, pd.Series(distinct).str.rsplit("/", n=1).str[i]))
    return sub.map(parts)


def day_counts(tidy: pd.DataFrame, case, signal_is, key, good) -> tuple[pd.DataFrame, pd.DataFrame]:
    """OONI per local day: (k, n) per key (rows) and local day (columns, UTC start of the
    day) over the window; n all tests, k those whose outcome is in ``good``."""
    x0, x1 = case.window_utc
    ooni = tidy[tidy["source"] == "ooni"]        # on the categorical: no string per row
    d = ooni[signal_is(ooni["signal"].astype(str))]
    if not len(d):
        return pd.DataFrame(), pd.DataFrame()
    d = d.assign(key=key(d), outcome=subtype_part(d, -1),
                 value=pd.to_numeric(d["value"], errors="coerce").fillna(0.0))
    ts = pd.to_datetime(d["ts_utc"], utc=True)
    d = d[(ts >= x0) & (ts < x1)].assign(
        day=ts[(ts >= x0) & (ts < x1)].dt.tz_convert(case.timezone).dt.floor("D").dt.tz_convert("UTC"))
    d = d[d["outcome"].isin(OONI_OUTCOMES)]
    n = d.pivot_table(index="key", columns="day", values="value", aggfunc="sum", fill_value=0.0)
    k = d[d["outcome"].isin(good)].pivot_table(index="key", columns="day", values="value",
                                               aggfunc="sum", fill_value=0.0)
    return k.reindex_like(n).fillna(0.0), n


# Best verdict first (as shutdown.align ranks them).
VERDICT_RANK = {"confirmed": 0, "confirmed-earlier": 1, "confirmed-later": 1, "contradicted": 2,
                "not-observed": 3, "insufficient-evidence": 4, "not-measurable": 5}


def display_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of one event worth a line in the Gantt chart: per source family its best
    primary verdict, plus any control that contradicts the event."""
    if rows.empty:
        return rows
    r = rows.assign(_rank=rows["verdict"].map(VERDICT_RANK).fillna(9))
    if "minutes_off" in r:
        r = r.assign(_off=r["minutes_off"].abs().fillna(np.inf)).sort_values(["_rank", "_off"], kind="stable")
    else:
        r = r.sort_values("_rank", kind="stable")
    role = r["role"] if "role" in r else pd.Series("primary", index=r.index)
    fam = r["family"].fillna(r["source"]) if "family" in r else r["source"]
    prim = r[role == "primary"].assign(_fam=fam[role == "primary"]).drop_duplicates("_fam")
    ctrl = r[(role == "control") & (r["verdict"] == "contradicted")]
    return pd.concat([prim, ctrl]).drop(columns=[c for c in ("_rank", "_off", "_fam") if c in r.columns or c == "_fam"],
                                        errors="ignore")


def overall_verdict(rows: pd.DataFrame) -> str:
    """The event's verdict (align.summarize's, when the rows carry it; else the best row's)."""
    if "event_verdict" in rows.columns and len(rows):
        return str(rows["event_verdict"].iloc[0])
    if rows.empty or "verdict" not in rows.columns:
        return "not-measurable"
    return min(rows["verdict"].astype(str), key=lambda v: VERDICT_RANK.get(v, 9))
