"""Outage intervals: hysteresis on the deviation, minimum duration, full/partial split.

Per series, every window bin is *in* (deviation >= enter), *out* (deviation <=
exit) or *undecided* (in between, or unknown because the value is missing): an
undecided bin keeps the state of the bin before it. That is hysteresis, done for
all series at once with a running maximum over row indices (no Python loop over
rows). Runs of *in* bins become intervals; gaps of normal of at most a couple of
bins are bridged (a glitch inside an outage), then runs shorter than the minimum
duration are dropped (a glitch outside one).

Inside an interval the same trick splits full from partial (deviation >=
``FULL_ENTER`` enters full, <= ``FULL_EXIT`` leaves it), so a cut that is eased
to half of normal for some hours shows as full -> partial -> full, and each
piece carries its own depth. ``start_from`` / ``end_to`` say what comes before
and after each piece (normal, full, partial): alignment reads a fall and a
return from them.

Times: ``start_utc`` is the start of the first bin judged down; ``end_utc`` the
start of the first bin judged back (or the end of the last bin when the data
stop inside the outage). With 5-minute bins that is the transition to within a
bin.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.detect import thresholds as T
from shutdown.detect.baseline import Baseline, _min_expected, deviation, pooled
from shutdown.detect.series import SeriesSet, chunks, row_index

EXTRA_COLUMNS = ["metric", "baseline", "n_bins", "start_from", "end_to", "depth_from",
                 "depth_to", "censored_start", "censored_end", "enter", "sigma"]


def thresholds_for(keys: pd.DataFrame, sigma: np.ndarray, th=T.DEFAULT) -> tuple[np.ndarray, np.ndarray]:
    """Per series (enter, exit) on the deviation scale."""
    if len(keys) == 0:
        return np.zeros(0), np.zeros(0)
    rise = keys["mode"].to_numpy() == "rise"
    floor = np.array([th.MIN_RISE if r else th.min_drop(a, b)
                      for r, a, b in zip(rise, keys["source"], keys["signal"])])
    if "n_probes" in keys:
        # Atlas share: at least ATLAS_MIN_FAILING probes must fail together (Disco's bursts)
        probes = keys["n_probes"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.where(probes > 0, th.ATLAS_MIN_FAILING / probes, 0.0)
        floor = np.maximum(floor, np.nan_to_num(need))
    cap = np.where(rise, th.MAX_ENTER_RISE, th.MAX_ENTER)
    enter = np.minimum(np.maximum(floor, th.K_NOISE * np.nan_to_num(sigma)), cap)
    return enter, enter * th.EXIT_FRACTION


def _carry(raw: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Fill -1 (undecided) with the last decided state; a series starts out (0)."""
    raw = raw.copy()
    raw[first & (raw < 0)] = 0
    # row numbers of decided bins, carried forward (int32 when it fits: half the bytes)
    idx = np.arange(len(raw), dtype=np.int32 if len(raw) < 2**31 else np.int64)
    idx[raw < 0] = 0
    np.maximum.accumulate(idx, out=idx)
    return raw[idx]


def _runs(state: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) row indices of runs of state == 1 (stop exclusive)."""
    on = state == 1
    prev = np.concatenate(([False], on[:-1])) & ~first
    nxt_first = np.concatenate((first[1:], [True]))
    nxt = np.concatenate((on[1:], [False])) & ~nxt_first
    return np.flatnonzero(on & ~prev), np.flatnonzero(on & ~nxt) + 1


def min_duration(bin_ns: np.ndarray, th=T.DEFAULT) -> np.ndarray:
    """Shortest outage per series: 30 min and 2 bins, but never more than 2 h or 1 bin."""
    d = np.maximum(th.MIN_DURATION.value, th.MIN_BINS * bin_ns)
    d = np.minimum(d, 2 * 3600 * 10**9)
    return np.maximum(d, bin_ns)


KEEP_ROWS = 10_000_000      # keep per-bin arrays (for plots, alignment) up to this size


def find(s: SeriesSet, b: Baseline, w0: int, w1: int, keep_rows: bool | None = None,
         th=T.DEFAULT) -> tuple[pd.DataFrame, dict]:
    """Intervals in [w0, w1) for every series whose baseline is usable.

    Returns (intervals, rows) where ``rows`` holds the per-bin arrays of the window
    (key, ts, value, dev, state, full) for plots and checks -- empty when the window
    holds more than ``KEEP_ROWS`` bins and ``keep_rows`` is not set. Series are
    independent, so they are processed in chunks: memory stays bounded on big tables.
    """
    keys = s.keys
    n = len(keys)
    ok_series = (b.status == "ok") if n else np.zeros(0, bool)
    # the window rows of each judged series: a span [lo, hi) of rows per series
    lo, hi = s.bounds(w0, w1)
    hi = np.where(ok_series, hi, lo)
    per_key = hi - lo
    total = int(per_key.sum())
    keep = (total <= KEEP_ROWS) if keep_rows is None else keep_rows
    if total == 0:
        z = np.zeros(0)
        return _frame([], keys), {"key": z.astype(np.int64), "ts": z.astype(np.int64), "value": z,
                                  "dev": z, "state": z.astype(np.int8), "full": z.astype(np.int8)}
    per = _PerSeries(keys, b, th)
    recs, rows = [], []
    for ka, kb in chunks(per_key):
        idx = row_index(lo[ka:kb], hi[ka:kb])
        if not len(idx):
            continue
        k, t, v = s.ids(ka, kb, per_key[ka:kb]), s.ts[idx], s.value[idx]
        del idx
        r, row = _find_chunk(k, t, v, per, b, w0, w1, th, s.ooni_raw, keep)
        recs += r
        if keep:
            rows.append(row)
    if rows:
        rows = {c: np.concatenate([r[c] for r in rows]) for c in rows[0]}
    else:
        rows = {}
    return _frame(recs, keys), rows


class _PerSeries:
    """What every chunk needs to know of each series, worked out once per detection."""

    def __init__(self, keys: pd.DataFrame, b: Baseline, th):
        self.keys = keys
        self.mode_rise = keys["mode"].to_numpy() == "rise"
        self.pool = pooled(keys)
        self.min_expected = _min_expected(keys)
        self.enter, self.exit = thresholds_for(keys, b.sigma, th)
        self.bin_ns = keys["bin_ns"].to_numpy(dtype=np.int64)


def _find_chunk(k, t, v, per: _PerSeries, b, w0, w1, th, ooni_raw=None, keep: bool = True):
    """(interval records, per-bin rows) of one chunk of whole series; the per-bin
    full/partial state is worked out only when the rows are kept (``keep``)."""
    rows = {"key": k, "ts": t, "value": v}
    keys, mode_rise, pool, enter, exit_ = per.keys, per.mode_rise, per.pool, per.enter, per.exit
    any_pool = bool(pool[k[0]:k[-1] + 1].any())          # k is sorted
    dev = deviation(b, k, t, v, mode_rise, per.min_expected, pool if any_pool else None)
    # per-bin deviation, to put the edges of a pooled series' outage on the right bin
    dev1 = deviation(b, k, t, v, mode_rise, per.min_expected) if any_pool else dev
    first = np.concatenate(([True], k[1:] != k[:-1]))
    raw = np.full(len(k), -1, dtype=np.int8)
    if any_pool:
        # pooled series: the 3-bin sum is the evidence for entering, but the bin itself
        # must be low too (else the bin before a cut would start it), and one clearly
        # normal bin ends it (a full cut cannot produce a normal count by chance)
        d1 = np.where(np.isnan(dev1), dev, dev1)
        raw[(dev >= enter[k]) & (d1 >= enter[k])] = 1
        raw[(dev <= exit_[k]) | (d1 <= exit_[k])] = 0
    else:
        raw[dev >= enter[k]] = 1
        raw[dev <= exit_[k]] = 0
    state = _carry(raw, first)
    rows.update(dev=dev, state=state)
    if keep:            # for plots only: intervals split full from partial by their depth
        rawf = np.full(len(k), -1, dtype=np.int8)
        rawf[dev >= th.FULL_ENTER] = 1
        rawf[dev <= th.FULL_EXIT] = 0
        rows["full"] = _carry(rawf, first)

    i0, i1 = _runs(state, first)
    bin_ns = per.bin_ns
    last_of_key = np.concatenate((k[1:] != k[:-1], [True]))
    rk = k[i0]
    t0 = t[i0]
    t1 = _end_time(t, k, i1, bin_ns)
    # bridge short gaps of normal inside an outage
    if len(i0) > 1:
        gap = t0[1:] - t1[:-1]
        same = rk[1:] == rk[:-1]
        bridge = same & (gap <= np.minimum(th.MERGE_GAP.value, th.MERGE_BINS * bin_ns[rk[1:]]))
        firsts = np.flatnonzero(np.concatenate(([True], ~bridge)))
        lasts = np.concatenate((firsts[1:] - 1, [len(i0) - 1]))
        i0, i1 = i0[firsts], i1[lasts]
        rk, t0 = rk[firsts], t0[firsts]
        t1 = _end_time(t, k, i1, bin_ns)
    keep = (t1 - t0) >= min_duration(bin_ns[rk], th)
    i0, i1, rk, t0, t1 = i0[keep], i1[keep], rk[keep], t0[keep], t1[keep]

    recs = []
    for a, z, key in zip(i0.tolist(), i1.tolist(), rk.tolist()):   # per interval, not per row
        if pool[key] and z - a > 2:
            # pooling spreads a step over the bin before and after it: trim those
            if dev1[a] < exit_[key] and not np.isnan(dev1[a]):
                a += 1
            if dev1[z - 1] < exit_[key] and not np.isnan(dev1[z - 1]):
                z -= 1
        # IODA scores an outage by its "alert area", relative drop x duration; a shallow
        # dip must last longer than a deep cut to count (see thresholds.MIN_AREA)
        dd = dev[a:z]
        dd = dd[~np.isnan(dd)]
        span = _end_time(t, k, np.array([z]), bin_ns)[0] - t[a]
        if len(dd) and abs(float(np.median(dd))) * span < th.MIN_AREA.value:
            continue
        cens0 = bool(first[a]) and (t[a] - w0) <= 2 * bin_ns[key]
        cens1 = bool(last_of_key[z - 1]) and (w1 - t[z - 1]) <= 2 * bin_ns[key]
        if mode_rise[key]:
            if ooni_raw is not None:
                a, z = refine_share_edges(a, z, k, t, keys.iloc[key], float(b.level[key]),
                                          float(np.nanmedian(v[a:z])), ooni_raw)
            pieces = [(a, z)]
        else:
            # pooled series: the 3-bin sums smear a step over one bin either side, so
            # their pieces are at least 3 bins long (no 1-2 bin pieces at the edges)
            pieces = levels(dev, a, z, t, int(bin_ns[key]), min_bins=3 if pool[key] else 1, th=th)
        depths = []
        for p0, p1 in pieces:
            d = dev[p0:p1]
            d = d[~np.isnan(d)]
            depths.append(float(np.median(d)) if len(d) else np.nan)
        kinds = []
        for j, (p0, p1) in enumerate(pieces):
            if mode_rise[key]:
                vals = v[p0:p1]
                lvl = float(np.nanmedian(vals)) if np.isfinite(vals).any() else np.nan
                kinds.append("full" if lvl >= th.FULL_SHARE else "partial")
            else:
                kinds.append("full" if depths[j] >= th.FULL_ENTER else "partial")
        for j, (p0, p1) in enumerate(pieces):
            med = depths[j]
            if mode_rise[key]:
                vals = v[p0:p1]
                lvl = float(np.nanmedian(vals)) if np.isfinite(vals).any() else np.nan
                depth, direction = max(med, 0.0), "up"
            else:
                depth = float(np.clip(med, 0, 1))
                lvl, direction = 1.0 - depth, "down"
            e = b.expected(k[p0:p1], t[p0:p1])
            last = j == len(pieces) - 1
            recs.append({
                "key": key, "start_ns": t[p0],
                "end_ns": t[p1] if p1 < z else (_end_time(t, k, np.array([z]), bin_ns)[0]),
                "depth": depth, "level": lvl, "direction": direction, "kind": kinds[j],
                "baseline": float(np.nanmedian(e)) if np.isfinite(e).any() else np.nan,
                "n_bins": p1 - p0,
                "start_from": "normal" if j == 0 else kinds[j - 1],
                "end_to": "normal" if last else kinds[j + 1],
                "depth_from": 0.0 if j == 0 else float(np.clip(depths[j - 1], 0, 1)),
                "depth_to": 0.0 if last else float(np.clip(depths[j + 1], 0, 1)),
                "censored_start": cens0 and j == 0, "censored_end": cens1 and last,
                "enter": enter[key], "sigma": b.sigma[key],
            })
    return recs, rows


def _end_time(t, k, i1, bin_ns):
    """Time of the first bin after each run; the end of the last bin when the series stops."""
    i1 = np.asarray(i1)
    inside = i1 < len(t)
    nxt = np.where(inside, i1, len(t) - 1)
    same = inside & (k[nxt] == k[np.maximum(i1 - 1, 0)])
    return np.where(same, t[nxt], t[i1 - 1] + bin_ns[k[i1 - 1]])


def refine_share_edges(a: int, z: int, k, t, meta, p0: float, p1: float, raw: pd.DataFrame):
    """Move the edges of an anomaly-share rise to the most likely hour.

    The share was pooled over several hours to be judged at all, which smears its
    edges by up to half the pool. With the per-hour counts, the start is the hour
    from which the anomalous counts are best explained by the raised share p1 rather
    than the baseline share p0 (maximum of the summed binomial log-likelihood ratio),
    searched within one pool width of the pooled edge; the end likewise.
    """
    try:
        r = raw.loc[(meta["entity_type"], meta["entity_code"], meta["signal"])]
    except KeyError:
        return a, z
    if len(r) < 3 or not (0 < p1 < 1):
        return a, z
    p0 = min(max(p0, 0.005), 0.995)
    p1 = min(max(p1, p0 + 0.01), 0.995)
    ts_r = pd.DatetimeIndex(r.index).as_unit("ns").asi8
    bad = r["bad"].fillna(0).to_numpy(float)
    tot = r["total"].fillna(0).to_numpy(float)
    llr = bad * np.log(p1 / p0) + (tot - bad) * np.log((1 - p1) / (1 - p0))
    w = int(r["width"].iloc[0]) if "width" in r else 3
    key = k[a]
    lo = a - int(np.searchsorted(k[a::-1] != key, True)) + 1 if a else 0  # first row of key
    hi = z + int(np.searchsorted(k[z:] != key, True)) if z < len(k) else len(k)
    ia = int(np.searchsorted(ts_r, t[a]))
    iz = int(np.searchsorted(ts_r, t[z - 1])) + 1
    n = len(llr)
    C = np.concatenate(([0.0], np.cumsum(llr)))          # C[i] = sum(llr[:i])

    def best(cands, score):
        # hours without measurements tie: take the middle of the tied stretch
        m = score.max()
        tied = cands[score >= m - 1e-9]
        return int(tied[len(tied) // 2])

    # start s: maximise sum(llr[s:U]) for s within one pool width of the pooled start
    U = min(ia + w, n)
    cands = np.arange(max(ia - w, 0), min(ia + w, iz - 1) + 1)
    new_ia = best(cands, C[U] - C[cands]) if len(cands) else ia
    # end e (exclusive): maximise sum(llr[L:e]) within one pool width of the pooled end
    L = max(iz - w, new_ia)
    cands = np.arange(max(iz - w, new_ia + 1), min(iz + w, n) + 1)
    new_iz = best(cands, C[cands] - C[L]) if len(cands) else iz
    na = lo + int(np.searchsorted(t[lo:hi], ts_r[new_ia]))
    nz = lo + int(np.searchsorted(t[lo:hi], ts_r[new_iz - 1])) + 1
    if lo <= na < nz <= hi:
        return na, nz
    return a, z


def _gain(x: np.ndarray, min_size: int) -> tuple[int, float]:
    """Best single split of x for a piecewise-constant (l2) model: (index, SSE reduction)."""
    n = len(x)
    if n < 2 * min_size:
        return -1, 0.0
    c = np.cumsum(x)
    k = np.arange(min_size, n - min_size + 1)
    left = c[k - 1]
    g = left ** 2 / k + (c[-1] - left) ** 2 / (n - k) - c[-1] ** 2 / n
    i = int(np.argmax(g))
    return int(k[i]), float(g[i])


def levels(dev: np.ndarray, a: int, z: int, t: np.ndarray, bin_ns: int,
           min_bins: int = 1, th=T.DEFAULT) -> list[tuple[int, int]]:
    """Split one outage [a, z) into pieces of steady depth: (start, stop) row indices.

    Binary segmentation with an l2 cost (the method of ``ruptures.Binseg``, written
    here on cumulative sums so a year of bins costs milliseconds): split where it
    most reduces the squared error, while the reduction beats a BIC-like penalty
    (2 sigma^2 log n, sigma the bin-to-bin noise of the deviation); pieces are at
    least the minimum duration long. Neighbouring pieces whose depths differ by less
    than ``MIN_STEP`` are joined again: a step that small is not a new phase.
    """
    x = dev[a:z].astype(float)
    n = len(x)
    if n == 0:
        return [(a, z)]
    if np.isnan(x).any():
        ok = ~np.isnan(x)
        if not ok.any():
            return [(a, z)]
        x = np.interp(np.arange(n), np.flatnonzero(ok), x[ok])
    x = np.clip(x, -0.5, 1.0)
    min_size = max(min_bins, int(-(-min_duration(np.array([bin_ns]), th)[0] // bin_ns)))
    d = np.diff(x)
    sigma = 1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2) if len(d) > 2 else 0.0
    pen = 2 * max(sigma, 0.01) ** 2 * np.log(max(n, 2))
    cuts, todo = [], [(0, n)]
    while todo:
        lo, hi = todo.pop()
        k, g = _gain(x[lo:hi], min_size)
        if k > 0 and g > pen:
            cuts.append(lo + k)
            todo += [(lo, lo + k), (lo + k, hi)]
    bounds = [0] + sorted(cuts) + [n]
    segs = [[bounds[i], bounds[i + 1]] for i in range(len(bounds) - 1)]
    med = [float(np.median(x[p:q])) for p, q in segs]
    while len(segs) > 1:
        diffs = [abs(med[i + 1] - med[i]) for i in range(len(segs) - 1)]
        i = int(np.argmin(diffs))
        if diffs[i] >= th.MIN_STEP:
            break
        segs[i][1] = segs[i + 1][1]
        del segs[i + 1]
        med[i] = float(np.median(x[segs[i][0]:segs[i][1]]))
        del med[i + 1]
    return [(a + p, a + q) for p, q in segs]


def _frame(recs: list[dict], keys: pd.DataFrame) -> pd.DataFrame:
    from shutdown.schema import INTERVAL_COLUMNS
    cols = INTERVAL_COLUMNS + EXTRA_COLUMNS
    if not recs:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        out["start_utc"] = pd.Series(dtype="datetime64[ns, UTC]")
        out["end_utc"] = pd.Series(dtype="datetime64[ns, UTC]")
        for c in ("depth", "level", "baseline", "enter", "sigma"):
            out[c] = out[c].astype(float)
        out["simulated"] = out["simulated"].astype(bool)
        return out
    df = pd.DataFrame(recs)
    meta = keys.iloc[df["key"].to_numpy()].reset_index(drop=True)
    for c in ("source", "entity_type", "entity_code", "signal", "subtype", "metric", "simulated"):
        df[c] = meta[c].to_numpy()
    df["start_utc"] = pd.to_datetime(df.pop("start_ns"), utc=True)
    df["end_utc"] = pd.to_datetime(df.pop("end_ns"), utc=True)
    df["simulated"] = df["simulated"].astype(bool)
    return df[cols].sort_values(["entity_type", "entity_code", "source", "signal", "subtype",
                                 "start_utc"], kind="stable").reset_index(drop=True)
