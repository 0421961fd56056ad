"""Normal behaviour, learnt from the baseline period before the window.

For a volume-like signal with sub-daily bins, normal is a *daily profile*: the
median value at each time of day over the baseline days (UTC time of day; a
fixed-offset zone shifts every day alike). The median of ~14 samples per slot
ignores single glitches and missing bins; a median over each slot and its two
neighbours then removes a slot that was glitched on most days, while keeping
monotone ramps (the morning rise) exactly. Slots never seen fall back to the
series' overall baseline median.

Weekly cycle, where it matters: with two weeks of baseline, the ratio of value
to the daily profile is summarised per local weekday; if some weekday differs by
more than ``WEEKLY_MIN``, expected = profile x weekday factor.

Shares (OONI anomaly share, Atlas reachable share) and daily bins have no useful
time-of-day shape: normal is the baseline median.

Noise: the robust standard deviation (1.4826 x MAD) of the baseline deviation,
per series; the thresholds scale with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shutdown.detect import thresholds as T
from shutdown.detect.series import NS_DAY, SeriesSet, chunks, row_index

@dataclass
class Baseline:
    profile: np.ndarray       # (n_series, n_slots) expected value per time-of-day slot
    slot_ns: np.ndarray       # slot width per series (ns); 0 = flat (no daily profile)
    weekday: np.ndarray       # (n_series, 7) multiplicative factor per local weekday
    level: np.ndarray         # baseline median per series
    sigma: np.ndarray         # robust std of the baseline deviation per series
    n_bins: np.ndarray        # baseline bins with a value
    status: np.ndarray        # "ok" | "no-baseline" | "zero-baseline"
    tz_offset_ns: int

    def expected(self, key: np.ndarray, ts: np.ndarray) -> np.ndarray:
        # flat series have one slot as wide as the day, holding their level, so every
        # series goes through the same two gathers (no per-row branching)
        if getattr(self, "_cache", None) is None:
            nslots = self.profile.shape[1]
            self._cache = (
                np.where(self.slot_ns == 0, NS_DAY, self.slot_ns),
                np.where(self.slot_ns[:, None] == 0,
                         np.where(np.arange(nslots) == 0, self.level[:, None], np.nan),
                         self.profile).ravel(),
                bool((self.weekday != 1.0).any()))
        width, flat_prof, weekly = self._cache
        nslots = self.profile.shape[1]
        idx = ts % NS_DAY
        idx //= width[key]
        idx += key.astype(np.int64) * nslots
        exp = flat_prof[idx]
        del idx
        if weekly:
            dow = ts + self.tz_offset_ns
            dow //= NS_DAY
            dow += 3                                             # 1970-01-01 was a Thursday
            dow %= 7
            dow += key.astype(np.int64) * 7
            exp *= self.weekday.ravel()[dow]
        return exp


def fit(s: SeriesSet, start_ns: int, end_ns: int, tz_offset_ns: int = 0, th=T.DEFAULT) -> Baseline:
    """Learn normal behaviour of every series of ``s`` from rows in [start_ns, end_ns)."""
    n = len(s.keys)
    keys = s.keys
    bin_ns = keys["bin_ns"].to_numpy(dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    cyclic = (keys["cyclic"].to_numpy(dtype=bool) & (bin_ns < NS_DAY)) if n else np.zeros(0, bool)
    slot_ns = np.where(cyclic, np.maximum(bin_ns, 60 * 10**9), 0).astype(np.int64)
    nslots = np.where(cyclic, -(-NS_DAY // np.maximum(slot_ns, 1)), 1)

    # the baseline rows of each series: a span [lo, hi); series are learnt a chunk of
    # whole series at a time (every figure is per series), so the temporaries are those
    # of a chunk however long the baseline
    lo, hi = s.bounds(start_ns, end_ns)
    maxslot = int(nslots.max()) if n else 1
    prof, weekday = np.full((n, maxslot), np.nan), np.ones((n, 7))
    level, sigma, n_bins = np.full(n, np.nan), np.zeros(n), np.zeros(n, dtype=np.int64)
    mode_rise = (keys["mode"].to_numpy() == "rise") if n else np.zeros(0, bool)
    min_exp, pool = _min_expected(keys), pooled(keys)
    for ka, kb in chunks(hi - lo):
        c = slice(ka, kb)
        n_bins[c], level[c], prof[c], weekday[c], sigma[c] = _fit_chunk(
            s, lo[c], hi[c], slot_ns[c], nslots[c], cyclic[c], maxslot,
            (mode_rise[c], min_exp[c], pool[c]), tz_offset_ns, th)
    b = Baseline(prof, slot_ns, weekday, level, sigma, n_bins, None, tz_offset_ns)

    coverage = n_bins * np.maximum(bin_ns, 1)
    enough = np.where(bin_ns < NS_DAY, coverage >= th.MIN_BASELINE.value,
                      n_bins >= th.MIN_BASELINE_BINS)
    status = np.where(~enough, "no-baseline", "ok").astype(object)
    # an anomaly share is NaN where too few tests ran: rows there, values not -> too small
    n_rows = hi - lo
    status[~enough & mode_rise & (n_rows > 0)] = "too-small"
    zero = ~mode_rise & ~(level > 0) & enough
    status[zero] = "zero-baseline"
    # too small to judge: typical expected count below the floor where a drop can be told
    # from chance (pooled series are compared on 3-bin sums), or too few Atlas probes
    me = _min_expected(keys)
    per_bin = me / np.where(pooled(keys), 3.0, 1.0)
    small = (status == "ok") & (me > 0) & (level < per_bin)
    if "n_probes" in keys:
        probes = keys["n_probes"].to_numpy(dtype=float)
        small |= (status == "ok") & (probes < th.ATLAS_MIN_PROBES)
    status[small] = "too-small"
    b.status = status
    return b


def _fit_chunk(s: SeriesSet, lo, hi, slot_ns, nslots, cyclic, maxslot, judged, tz_offset_ns, th):
    """(n_bins, level, profile, weekday factor, sigma) of the series whose baseline rows
    are the spans [lo, hi), numbered from 0 within the chunk; ``judged``: their
    (mode_rise, min_expected, pooled), for the deviation whose noise is sigma."""
    n = len(lo)
    rows = row_index(lo, hi)
    bkey = np.repeat(np.arange(n, dtype=np.int64), hi - lo)
    bts, bval = s.ts[rows], s.value[rows]
    has = ~np.isnan(bval)                                 # rows with a value
    bkey, bts, bval = bkey[has], bts[has], bval[has]
    del rows, has
    n_bins = np.bincount(bkey, minlength=n)
    level = _group_median(bval, bkey, n)
    prof, slot = _daily_profile(bkey, bts, bval, slot_ns, nslots, level, maxslot)
    weekday = _weekly_factor(bkey, bts, bval, prof, slot, cyclic, tz_offset_ns, th)
    del slot
    # noise of the deviation over the baseline itself
    part = Baseline(prof, slot_ns, weekday, level, np.zeros(n), n_bins, None, tz_offset_ns)
    sigma = _noise(deviation(part, bkey, bts, bval, *judged), bkey, n)
    return n_bins, level, prof, weekday, sigma


def _daily_profile(bkey, bts, bval, slot_ns, nslots, level, maxslot) -> tuple[np.ndarray, np.ndarray]:
    """(expected value per series and time-of-day slot, the slot of every baseline row)."""
    n = len(slot_ns)
    width = np.where(slot_ns[bkey] == 0, NS_DAY, slot_ns[bkey])
    slot = np.where(slot_ns[bkey] == 0, 0, (bts % NS_DAY) // width)
    del width
    prof = np.full(n * maxslot, np.nan)
    med = pd.Series(bval).groupby(bkey * maxslot + slot).median()
    prof[med.index.to_numpy()] = med.to_numpy()
    prof = prof.reshape(n, maxslot) if n else np.zeros((0, 1))
    prof = _smooth_circular(prof, nslots)
    return np.where(np.isnan(prof), level[:, None], prof), slot


def _weekly_factor(bkey, bts, bval, prof, slot, cyclic, tz_offset_ns, th) -> np.ndarray:
    """Multiplicative factor per series and local weekday (1 where it does not matter)."""
    n = len(cyclic)
    weekday = np.ones((n, 7))
    days_cov = _distinct_days(bkey, bts, n)
    wk = cyclic & (days_cov >= th.WEEKLY_DAYS)
    if wk.any():
        m = wk[bkey]
        e = prof[bkey[m], slot[m]]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(e > 0, bval[m] / e, np.nan)
        dow = ((bts[m] + tz_offset_ns) // NS_DAY + 3) % 7
        f = pd.Series(r).groupby(bkey[m] * 7 + dow).median()
        fac = np.full(n * 7, np.nan)
        fac[f.index.to_numpy()] = f.to_numpy()
        fac = fac.reshape(n, 7)
        fac = np.where(np.isnan(fac) | (fac <= 0), 1.0, fac)
        matters = np.nanmax(np.abs(fac - 1.0), axis=1) > th.WEEKLY_MIN
        weekday = np.where((wk & matters)[:, None], fac, 1.0)
    return weekday


def _noise(dev: np.ndarray, key: np.ndarray, n: int) -> np.ndarray:
    """Robust standard deviation (1.4826 x MAD) of the deviation, per series."""
    ok = ~np.isnan(dev)
    dev, key = dev[ok], key[ok]
    c = _group_median(dev, key, n)
    mad = _group_median(np.abs(dev - c[key]), key, n)
    return np.nan_to_num(1.4826 * mad, nan=0.0)


def _neighbour_sum(x: np.ndarray, key: np.ndarray) -> np.ndarray:
    """x[i-1] + x[i] + x[i+1] within a series, ignoring NaN neighbours."""
    prev = np.full_like(x, np.nan)
    nxt = np.full_like(x, np.nan)
    if len(x) > 1:
        same = key[1:] == key[:-1]
        prev[1:] = np.where(same, x[:-1], np.nan)
        nxt[:-1] = np.where(same, x[1:], np.nan)
    return x + np.nan_to_num(prev) + np.nan_to_num(nxt)


def deviation(b: Baseline, key, ts, value, mode_rise: np.ndarray, min_expected: np.ndarray,
              pool: np.ndarray | None = None):
    """Per row: fraction of normal lost (ratio series) or rise above normal (shares).

    Series flagged ``pool`` (small counts: OONI volume) compare the sum of each bin and
    its two neighbours with the sum of their expected values: a Poisson count of 5 is 0
    by chance 0.7% of the time, a sum of 15 almost never.
    """
    exp = b.expected(key, ts)
    if pool is not None and len(key) and pool[key].any():
        pk = pool[key]
        v = np.where(np.isnan(value), np.nan, value)
        e = np.where(np.isnan(value), np.nan, exp)
        vs, es = _neighbour_sum(v, key), _neighbour_sum(e, key)
        value = np.where(pk, vs, value)
        exp = np.where(pk, es, exp)
    with np.errstate(divide="ignore", invalid="ignore"):
        lost = value / exp
        np.subtract(1.0, lost, out=lost)
    lost[~(exp > 0)] = np.nan
    if min_expected.any():
        lost[exp < min_expected[key]] = np.nan
    if len(key) and mode_rise.any():
        rise = mode_rise[key]
        lost = np.where(rise, value - exp, lost)
    return lost


def pooled(keys: pd.DataFrame) -> np.ndarray:
    """Series judged on 3-bin sums, as their signals declare (``pooled``: small counts such
    as OONI's hourly measurements; a trials share with ``pooled``, such as the share of a
    few Atlas probes, which moves in big steps)."""
    if len(keys) == 0:
        return np.zeros(0, bool)
    return _per_signal(keys, lambda s, metric: bool(s.pooled if metric == "value" else s.trials.pooled),
                       False, bool)


def _per_signal(keys: pd.DataFrame, f, default, dtype) -> np.ndarray:
    """``f(declared signal, metric)`` for every series of ``keys``, once per distinct
    (source, signal, metric); ``default`` where the signal is not declared."""
    from shutdown.sources import registry
    memo: dict = {}
    out = []
    for k in zip(keys["source"].astype(str), keys["signal"].astype(str), keys["metric"].astype(str)):
        if k not in memo:
            sig = registry.by_metric(*k)
            memo[k] = default if sig is None else f(sig, k[2])
        out.append(memo[k])
    return np.array(out, dtype=dtype)


def _min_expected(keys: pd.DataFrame) -> np.ndarray:
    """Per series, the expected value below which a zero is chance, not a cut (Poisson),
    as its signal declares (``min_expected``); shares have none."""
    if len(keys) == 0:
        return np.zeros(0)
    return _per_signal(keys, lambda s, metric: s.expected_floor(T) if metric == "value" else 0.0,
                       0.0, float)


def _group_median(values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    if len(values):
        med = pd.Series(values).groupby(groups).median()
        out[med.index.to_numpy()] = med.to_numpy()
    return out


def _distinct_days(key, ts, n) -> np.ndarray:
    if len(key) == 0:
        return np.zeros(n, dtype=np.int64)
    day = ts // NS_DAY
    d0 = day.min()
    codes = np.unique(key * (int(day.max() - d0) + 1) + (day - d0))
    return np.bincount(codes // (int(day.max() - d0) + 1), minlength=n)


def _smooth_circular(prof: np.ndarray, nslots: np.ndarray) -> np.ndarray:
    """Median of each slot and its two neighbours, wrapping around midnight."""
    out = prof.copy()
    for ns in np.unique(nslots):
        if ns < 3:
            continue
        rows = np.flatnonzero(nslots == ns)
        p = prof[rows, :ns]
        stack = np.stack([np.roll(p, 1, axis=1), p, np.roll(p, -1, axis=1)])
        with np.errstate(all="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[rows, :ns] = np.nanmedian(stack, axis=0)
    return out


def profile_frame(s: SeriesSet, b: Baseline) -> pd.DataFrame:
    """The learnt profile as a tidy frame (one row per series and slot), for notebooks."""
    rows = []
    for i, k in s.keys.reset_index(drop=True).iterrows():    # per series, not per row
        if b.slot_ns[i]:
            ns = int(-(-NS_DAY // b.slot_ns[i]))
            tod = pd.to_timedelta(np.arange(ns) * b.slot_ns[i])
            vals = b.profile[i, :ns]
        else:
            tod, vals = pd.to_timedelta([0]), [b.level[i]]
        rows.append(pd.DataFrame({**{c: k[c] for c in ("source", "entity_type", "entity_code",
                                                        "signal", "subtype", "metric")},
                                  "time_of_day": tod, "expected": vals,
                                  "sigma": b.sigma[i], "status": b.status[i]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
