"""From the tidy table to the series the detector judges, as flat sorted arrays.

Most rows pass through unchanged (IODA signals, OONI volume, Atlas probe counts).
Two signals are derived, because their raw counts mean little on their own:

* OONI per-test anomaly share = (anomaly + confirmed) / measurements, per bin.
  OONI's aggregation counts are disjoint (anomaly excludes confirmed and
  failures; see ooni/backend api/ooniapi/aggregation.py), so the sum is the
  number of measurements that showed interference. The series keeps the test as
  its signal, ``subtype=""`` and ``metric="anomaly_share"``; it is judged for a
  *rise*.
* RIPE Atlas reachable share = probes_reachable / probes_reporting, per probe
  class (``subtype`` infrastructure / end-user). It keeps ``signal=
  "probes_reachable"`` so alignment finds it under that name, with
  ``metric="reachable_share"``. A bin where probes report but none reaches
  anything is a share of 0, not missing.

All series are stored as two aligned arrays sorted by (series, time) -- ``ts``
(int64 ns, UTC) and ``value`` -- with ``starts``, where each series' rows begin,
and one row per series in ``keys``. Everything downstream is vectorised over
these arrays, a span of whole series at a time. The table's own time and value
columns are used as they are where they already have these types (no copy): on
a big table only what is judged at once is allocated.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shutdown.errors import InputError
from shutdown.schema import TIDY_COLUMNS, as_text
from shutdown.detect import thresholds as T

KEY_COLS = ["source", "entity_type", "entity_code", "signal", "subtype"]
NS_DAY = 86_400 * 10**9


@dataclass
class SeriesSet:
    keys: pd.DataFrame        # one row per series (index 0..n-1): KEY_COLS + metric, mode, ...
    starts: np.ndarray        # row where each series begins (len n_series + 1)
    ts: np.ndarray            # int64 ns since epoch, UTC
    value: np.ndarray         # float64
    notes: list               # what was cleaned (duplicates, order), for the user
    # the counts of outcome-shaped trials before pooling (e.g. OONI per test), index
    # (entity_type, entity_code, signal, ts_utc), columns bad (the hits) and total: to
    # place the edges of a rising share on the right hour (intervals.refine_share_edges)
    ooni_raw: pd.DataFrame | None = None

    def ids(self, first: int, stop: int, counts: np.ndarray) -> np.ndarray:
        """Series ids first..stop-1, each repeated counts[i] times."""
        return np.repeat(np.arange(first, stop, dtype=key_dtype(len(self.keys))), counts)

    def bounds(self, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
        """Per series, the rows [lo, hi) whose time is in [t0, t1) (ns).

        Each series is a sorted block of rows, so two binary searches per series find
        them: no mask, no copy of the whole table (a loop over series, not rows)."""
        starts = self.starts
        lo, hi = starts[:-1].copy(), starts[:-1].copy()
        for i, (a, z) in enumerate(zip(starts[:-1].tolist(), starts[1:].tolist())):
            lo[i] += np.searchsorted(self.ts[a:z], t0)
            hi[i] += np.searchsorted(self.ts[a:z], t1)
        return lo, hi

    def n_values(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per series, how many rows of [lo, hi) hold a value (not NaN)."""
        return np.array([z - a - np.count_nonzero(np.isnan(self.value[a:z]))
                         for a, z in zip(lo.tolist(), hi.tolist())], dtype=np.int64)

    def min_ts(self) -> int | None:
        """The earliest time in the set (the first row of some series)."""
        firsts = self.starts[:-1]
        firsts = firsts[firsts < len(self.ts)]
        return int(self.ts[firsts].min()) if len(firsts) else None


def row_index(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The row numbers of the spans [lo, hi), concatenated in order."""
    n = np.maximum(hi - lo, 0)
    return np.repeat(lo, n) + _ranges(n)


CHUNK_ROWS = 1_000_000      # series are judged in chunks of about this many rows


def chunks(counts: np.ndarray, size: int | None = None) -> list[tuple[int, int]]:
    """Runs of whole series [ka, kb) holding about ``size`` (default CHUNK_ROWS) of the
    rows counted per series in ``counts`` (a series larger than that is a chunk alone).
    Their arrays of a few MB stay in cache and are reused by the allocator: faster than
    whole-table temporaries, and memory stays bounded on big tables."""
    size = size or CHUNK_ROWS
    n, cum = len(counts), np.cumsum(counts)
    bounds = [0]
    while bounds[-1] < n:
        done = cum[bounds[-1] - 1] if bounds[-1] else 0
        nxt = int(np.searchsorted(cum, done + size, side="right"))
        bounds.append(min(max(nxt, bounds[-1] + 1), n))
    return list(zip(bounds[:-1], bounds[1:]))


BLOCK = 1 << 20      # rows per block when scanning the whole table (stays in cache, no big temporaries)


def blocks(n: int, overlap: int = 0):
    """Slices of range(n) in blocks of BLOCK rows, each reaching ``overlap`` rows into
    the next (to compare neighbours across a block's edge)."""
    for a in range(0, n, BLOCK):
        yield slice(a, min(a + BLOCK + overlap, n))


def key_dtype(n_series: int):
    """The smallest integer type for series ids: while the table is split into series
    the id is one number per row, and on 80M rows int16 instead of int64 is 450 MiB less."""
    return np.int16 if n_series < 2**15 else np.int32 if n_series < 2**31 else np.int64


def check_columns(tidy: pd.DataFrame, what: str = "tidy table") -> None:
    if not isinstance(tidy, pd.DataFrame):
        raise InputError(f"{what}: expected a DataFrame, got {type(tidy).__name__}")
    missing = [c for c in TIDY_COLUMNS if c not in tidy.columns and c not in ("unit",)]
    if missing:
        raise InputError(f"{what} lacks columns {missing} (expected {TIDY_COLUMNS})")


def _ts_ns(col: pd.Series) -> np.ndarray:
    """int64 ns since the epoch, UTC; naive timestamps are taken as UTC; NaT -> int64 min."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        # already times (naive ones are UTC): the int64 ns as stored, converted only when
        # stored in another unit -- no copy of the column for a ns table
        arr = col.array
        return (arr if arr.unit == "ns" else arr.as_unit("ns")).asi8
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(col, utc=True))
    except (ValueError, TypeError) as exc:
        raise InputError(f"tidy table: column 'ts_utc' holds values that are not "
                         f"timestamps ({exc})") from None
    idx = idx.tz_convert("UTC")
    return (idx if idx.unit == "ns" else idx.as_unit("ns")).asi8


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(int codes, labels as str) of one key column; categoricals cost nothing."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.array.codes          # a view (``col.cat.codes`` is a copy)
        labels = np.asarray(col.cat.categories.astype(str), dtype=object)
        if len(codes) and codes.min() < 0:          # missing -> its own label ""
            labels = np.append(labels, "")
            codes = np.where(codes < 0, len(labels) - 1, codes)
        return codes, labels
    codes, labels = pd.factorize(col.astype(object).where(col.notna(), ""), sort=True)
    return codes, np.asarray([str(x) for x in labels], dtype=object)


def label_mask(col: pd.Series, labels) -> np.ndarray:
    """Rows of a key column that read as one of ``labels``; on a categorical column the
    labels are compared once per category, not once per row."""
    return _in(_codes(col), labels)


def _in(codes_labels: tuple, labels) -> np.ndarray:
    """Rows whose label (``_codes`` of a column) is one of ``labels``."""
    codes, lab = codes_labels
    hit = np.isin(lab, list(labels))
    if not hit.any():           # the usual case on a big table: no row to look at
        return np.zeros(len(codes), bool)
    return hit[codes]


def _frame_part(df: pd.DataFrame, metric: str, mode: str, cyclic: bool) -> tuple:
    """(keys frame, key, ts, value) for the rows of ``df``, keyed by KEY_COLS.

    The series id is built from integer codes of the five key columns, one column at
    a time (no string hashing of every row, no five int64 copies of an 80M-row table).
    """
    if len(df) == 0:
        return None
    labels, sizes, codes = {}, {}, {}
    for c in KEY_COLS:
        codes[c], labels[c] = _codes(df[c])
        sizes[c] = max(len(labels[c]), 1)
    total = int(np.prod(list(sizes.values()), dtype=np.float64))
    if total <= 50_000_000:
        # block by block (no int64 number per row of the whole table): which combinations
        # occur, then each row's rank among them
        present = np.zeros(total, dtype=bool)
        for b in blocks(len(df)):
            present[_combined(codes, sizes, b)] = True
        uniq = np.flatnonzero(present)
        lookup = (np.cumsum(present) - 1).astype(key_dtype(len(uniq)))
        key = np.empty(len(df), dtype=lookup.dtype)
        for b in blocks(len(df)):
            key[b] = lookup[_combined(codes, sizes, b)]
    else:
        key, uniq = pd.factorize(_combined(codes, sizes, slice(None)), sort=True)
        key = key.astype(key_dtype(len(uniq)))
    del codes
    cols, rest = {}, np.asarray(uniq, dtype=np.int64)
    for c in reversed(KEY_COLS):
        n = sizes[c]
        if n > 1:
            rest, idx = np.divmod(rest, n)
        else:
            idx = np.zeros(len(rest), dtype=np.int64)
        lab = labels[c]
        cols[c] = lab[idx] if len(lab) else np.full(len(idx), "", dtype=object)
    keys = pd.DataFrame({c: cols[c] for c in KEY_COLS})
    keys["metric"], keys["mode"], keys["cyclic"] = metric, mode, cyclic
    flag, sim = np.asarray(df["simulated"], dtype=bool), np.zeros(len(keys), dtype=bool)
    for b in blocks(len(df)):
        sim[key[b][flag[b]]] = True
    keys["simulated"] = sim
    value = df["value"]
    # a float64 column is used as it is (a read-only view, not a copy)
    value = value.to_numpy() if value.dtype == np.float64 else \
        pd.to_numeric(value, errors="coerce").to_numpy(dtype=np.float64)
    return keys, key, _ts_ns(df["ts_utc"]), value


def _combined(codes: dict, sizes: dict, rows) -> np.ndarray:
    """One int64 number per row of ``rows`` from the key columns' codes (mixed radix)."""
    out = None
    for c in KEY_COLS:
        if out is None:
            out = codes[c][rows].astype(np.int64)
        elif sizes[c] > 1:
            out *= sizes[c]
            out += codes[c][rows]
    return out


def _outcome_share(df: pd.DataFrame, volume: pd.DataFrame, source: str, spec, signals,
                   th) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """A trials signal of the outcomes shape (``registry.Trials``): the share of its
    ``hits`` among all trials per bin (e.g. OONI's anomaly + confirmed of a test's
    measurements), pooled (``pooled_share``), and its volume (the ``total`` signal) where
    the table lacks it. ``signals``: the signals sharing this spec (e.g. every OONI test)."""
    if df.empty:
        return df.iloc[0:0], df.iloc[0:0], None
    outcomes = list(spec.outcomes)
    d = df.assign(value=pd.to_numeric(df["value"], errors="coerce"))
    idx = ["entity_type", "entity_code", "signal", "ts_utc"]
    wide = d.pivot_table(index=idx, columns="subtype", values="value", aggfunc="mean",
                         observed=True)
    wide.columns = [str(c) for c in wide.columns]
    for o in outcomes:
        if o not in wide:
            wide[o] = np.nan
    outcome_sum = wide[outcomes].sum(axis=1, min_count=1)
    # the total from the table (the ``total`` signal, subtype = this signal) when present
    if not volume.empty:
        v = volume.assign(value=pd.to_numeric(volume["value"], errors="coerce"))
        v = v.rename(columns={"subtype": "_test"})
        v = v[v["_test"].isin(signals)]
        v = v.groupby(["entity_type", "entity_code", "_test", "ts_utc"], observed=True)["value"].mean()
        v.index = v.index.set_names(idx)
        total = v.reindex(wide.index).fillna(outcome_sum)
    else:
        total = outcome_sum
    bad = wide[list(spec.hits)].sum(axis=1, min_count=1)
    first = np.ones(len(wide), dtype=bool)          # rows of a series are contiguous, in time
    if len(wide) > 1:
        first[1:] = np.any([np.asarray(c[1:] != c[:-1]) for c in wide.index.codes[:3]], axis=0)
    share, width = pooled_share(bad.to_numpy(), total.to_numpy(), first, th)
    share = pd.Series(share, index=bad.index)
    raw = pd.DataFrame({"bad": bad, "total": total, "width": width})
    sim = d.groupby(idx, observed=True)["simulated"].any().reindex(wide.index).fillna(False)
    out = share.rename("value").reset_index()
    out["subtype"], out["source"], out["unit"] = "", source, spec.share_unit
    out["simulated"] = sim.to_numpy(dtype=bool)
    if not spec.total:
        return out, df.iloc[0:0], raw
    # volume per signal from the outcomes, only where no total row exists
    have = set() if volume.empty else set(
        zip(*(as_text(volume[c]).to_numpy() for c in ("entity_type", "entity_code", "subtype"))))
    vol = outcome_sum.rename("value").reset_index()
    keep = [k not in have for k in zip(
        *(as_text(vol[c]).to_numpy() for c in ("entity_type", "entity_code", "signal")))]
    vol = vol[keep].rename(columns={"signal": "subtype"})
    vol["signal"], vol["source"] = spec.total, source
    vol["unit"] = _declared_unit(source, spec.total)
    vol["simulated"] = sim.to_numpy(dtype=bool)[keep]
    return out, vol, raw


def _declared_unit(source: str, signal: str) -> str:
    from shutdown.sources import registry
    s = registry.signal(source, signal)
    return s.unit if s is not None else signal


def pooled_share(bad: np.ndarray, total: np.ndarray, first: np.ndarray, th=T.DEFAULT):
    """(share, width) per bin: ``bad`` over ``total`` (NaN: unknown) pooled over the
    ``width`` bins centred on each, within the series that start where ``first`` is True.

    Bins are pooled before dividing: an hour with 3 measurements, one of them anomalous,
    is not a 33% anomaly share. The pool is as wide as it takes for a typical bin of the
    series to hold ``th.OONI_MIN_COUNT`` measurements (3 bins at least, a day of hours at
    most: a messenger test run twice an hour is judged on ~5-hour shares); a bin whose
    pool still holds fewer, or whose own total is unknown, has no share (NaN). Detection
    (``detect.series``) and the figures (``plot.derive``) pool with this one rule."""
    bad, total = np.asarray(bad, dtype=float), np.asarray(total, dtype=float)
    gid = np.cumsum(first) - 1
    typical = pd.Series(total).groupby(gid).transform("median").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.ceil(th.OONI_MIN_COUNT / np.where(typical > 0, typical, np.nan))
    width = np.nan_to_num(np.clip(width, 3, 24), nan=3)
    width = (width // 2 * 2 + 1).astype(int)                 # odd, centred
    pbad = _centred_sums(np.nan_to_num(bad, nan=0.0), first, width)
    ptot = _centred_sums(np.nan_to_num(total, nan=0.0), first, width)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where((ptot >= th.OONI_MIN_COUNT) & ~np.isnan(total), pbad / ptot, np.nan)
    return np.clip(share, 0, 1), width


def _centred_sums(x: np.ndarray, first: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Sum of the (odd) ``width`` rows centred on each row (fewer at a series' ends),
    within the series that start where ``first`` is True: ``rolling(width, center=True,
    min_periods=1).sum()`` per series, from one cumulative sum (exact for counts)."""
    n = len(x)
    i = np.arange(n)
    start = np.maximum.accumulate(np.where(first, i, 0))
    end = np.append(start[1:][first[1:]], n)[np.cumsum(first) - 1]      # one past the last
    half = width // 2
    lo, hi = np.maximum(i - half, start), np.minimum(i + half, end - 1)
    cs = np.concatenate(([0.0], np.cumsum(x)))
    return cs[hi + 1] - cs[lo]


def _ratio_share(rep: pd.DataFrame, rea: pd.DataFrame, source: str, signal: str, spec) -> pd.DataFrame:
    """A trials signal of the ratio shape (``registry.Trials.of``): ``rea`` (k, e.g. Atlas
    probes reaching the Internet) over ``rep`` (n, the ``of`` signal: probes reporting)
    per subtype and bin, with the median n per series (``n_probes``)."""
    if rea.empty:
        return rea.iloc[0:0]
    idx = ["entity_type", "entity_code", "subtype", "ts_utc"]
    a = rea.assign(value=pd.to_numeric(rea["value"], errors="coerce")).groupby(idx, observed=True)
    reach, sim = a["value"].mean(), a["simulated"].any()
    if rep.empty:
        # without the reporting count there is no denominator: no share
        return rea.iloc[0:0]
    r = rep.assign(value=pd.to_numeric(rep["value"], errors="coerce")).groupby(idx, observed=True)
    report = r["value"].mean()
    j = pd.concat({"reach": reach, "report": report, "sim": sim.astype(float),
                   "sim2": r["simulated"].any().astype(float)}, axis=1)
    grp = [j.index.get_level_values(i) for i in range(3)]
    share = (j["reach"] / j["report"]).where(j["report"] > 0)
    # probes reported but none reached anything: share 0, not unknown
    share = share.mask((j["report"] == 0) & (j["reach"].fillna(0) == 0) & j["reach"].notna(), 0.0)
    out = share.clip(0, 1).rename("value").reset_index()
    probes = j["report"].groupby(grp[:3], observed=True).median().rename("n_probes").reset_index()
    out = out.merge(probes, on=["entity_type", "entity_code", "subtype"], how="left")
    out["signal"], out["source"], out["unit"] = signal, source, spec.share_unit
    out["simulated"] = (j["sim"].fillna(0) + j["sim2"].fillna(0)).to_numpy() > 0
    return out


def _trial_groups():
    from shutdown.sources import registry
    return registry.trial_groups(intervals=True)


def _trial_parts(tidy, mask, rows, source, spec, sigs, th, raws: list) -> list:
    """The series parts of one group of trials signals: its share (a "rise" for a share
    that rises when blocked, else a "ratio" like a level's), and for the outcomes shape
    the volume where the table lacks it; the outcomes' raw counts go to ``raws``."""
    mode = "rise" if spec.moves == "up" else "ratio"
    if spec.shape == "outcomes":
        vol_rows = tidy[rows(source, (spec.total,))] if spec.total else tidy.iloc[0:0]
        share, vol, raw = _outcome_share(tidy[mask], vol_rows, source, spec, sigs, th)
        if raw is not None:
            raws.append(raw)
        return [_frame_part(share, spec.metric, mode, False) if len(share) else None,
                _frame_part(vol, "value", "ratio", True) if len(vol) else None]
    out = []
    for signal in sigs:
        ash = _ratio_share(tidy[rows(source, (spec.of,))], tidy[rows(source, (signal,))],
                           source, signal, spec)
        if not len(ash):
            continue
        part = _frame_part(ash, spec.metric, mode, False)
        probes = ash.groupby(KEY_COLS, observed=True)["n_probes"].first().reset_index()
        for c in KEY_COLS:
            probes[c] = probes[c].astype(str)
        part[0]["n_probes"] = part[0][KEY_COLS].merge(probes, on=KEY_COLS, how="left")[
            "n_probes"].to_numpy()
        out.append(part)
    return out


def build(tidy: pd.DataFrame, th=T.DEFAULT) -> SeriesSet:
    """Split the tidy table into series, derive the shares, sort and deduplicate
    (``th``: the thresholds, ``detect.thresholds.Thresholds``)."""
    check_columns(tidy)
    src, sig = _codes(tidy["source"]), _codes(tidy["signal"])

    def rows(source: str, signals) -> np.ndarray:
        return _in(src, (source,)) & _in(sig, signals)
    # the trials signals (as their sources declare them) become shares; every other row
    # is a level, judged as it is
    groups = []
    for source, spec, sigs in _trial_groups():
        mask = rows(source, sigs)
        if mask.any():           # (a big IODA table has none: no mask kept alive)
            groups.append((source, spec, sigs, mask))
    parts, raws = [], []
    plain = tidy
    if groups:
        plain = tidy[~np.logical_or.reduce([g[3] for g in groups])]
    if len(plain):
        parts.append(_frame_part(plain, "value", "ratio", True))
    for source, spec, sigs, mask in groups:
        parts += _trial_parts(tidy, mask, rows, source, spec, sigs, th, raws)
    parts = [p for p in parts if p is not None]
    if not parts:
        return _empty()
    nan = int(pd.isna(tidy["value"]).sum())
    keys = pd.concat([p[0] for p in parts], ignore_index=True)
    if len(parts) == 1:
        _, key, ts, value = parts[0]
    else:           # series ids of each part follow those of the parts before it
        offsets = np.cumsum([0] + [len(p[0]) for p in parts[:-1]])
        kt = key_dtype(len(keys))
        key = np.concatenate([p[1].astype(kt) + kt(o) for p, o in zip(parts, offsets)])
        ts = np.concatenate([p[2] for p in parts])
        value = np.concatenate([p[3] for p in parts])
    out = _clean(keys, key, ts, value)
    out.ooni_raw = pd.concat(raws) if raws else None
    if nan:
        out.notes.append(f"{nan} rows without a value (NaN) are treated as unknown, not zero")
    return out


def _empty() -> SeriesSet:
    keys = pd.DataFrame({c: pd.Series(dtype=object) for c in KEY_COLS})
    for c, dt in (("metric", object), ("mode", object), ("cyclic", bool), ("unit", object),
                  ("simulated", bool)):
        keys[c] = pd.Series(dtype=dt)
    z = np.zeros(0, dtype=np.int64)
    return SeriesSet(keys, np.zeros(1, dtype=np.int64), z, np.zeros(0), [])


def _clean(keys, key, ts, value) -> SeriesSet:
    notes = []
    nat_ts = np.iinfo(np.int64).min
    if any((ts[b] == nat_ts).any() for b in blocks(len(ts))):
        nat = ts == nat_ts
        notes.append(f"dropped {int(nat.sum())} rows without a timestamp")
        key, ts, value = key[~nat], ts[~nat], value[~nat]
    # Sorted already? (the usual case: normalize writes sorted tables). Checking is O(n),
    # block by block (no temporaries of the whole table); sorting 80M rows costs seconds
    # and copies of every column, so only sort when needed.
    if not _neighbours(key, ts, lambda k0, k1, t0, t1: k1 >= k0):
        # rows of a series interleaved with others: group them (stable keeps time order)
        order = np.argsort(key, kind="stable")
        key, ts, value = key[order], ts[order], value[order]
    if not _neighbours(key, ts, lambda k0, k1, t0, t1: (k1 != k0) | (t1 >= t0)):
        notes.append("timestamps were out of order within a series; sorted")
        order = np.lexsort((ts, key))
        key, ts, value = key[order], ts[order], value[order]
    if not _neighbours(key, ts, lambda k0, k1, t0, t1: (k1 != k0) | (t1 != t0)):
        dup = (key[1:] == key[:-1]) & (ts[1:] == ts[:-1])
        notes.append(f"{int(dup.sum())} duplicated (series, time) rows averaged")
        first = np.concatenate(([True], ~dup))
        gid = np.cumsum(first) - 1
        ok = ~np.isnan(value)
        sums = np.bincount(gid, weights=np.where(ok, value, 0.0))
        cnt = np.bincount(gid, weights=ok.astype(float))
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)
        key, ts = key[first], ts[first]
    # where each series begins (ids searched in the key's own type: numpy would otherwise
    # cast the whole key array to int64 first)
    starts = np.append(np.searchsorted(key, np.arange(len(keys), dtype=key.dtype)), len(key))
    del key
    s = SeriesSet(keys, starts, ts, value, notes)
    # Bin size per series: median spacing of (up to) the first 2000 steps, robust to gaps.
    counts = np.diff(starts)
    take = np.minimum(np.maximum(counts - 1, 0), 2000)
    idx = row_index(starts[:-1], starts[:-1] + take)
    steps = pd.Series(ts[idx + 1] - ts[idx]).where(lambda x: x > 0)
    binsz = steps.groupby(np.repeat(np.arange(len(keys)), take)).median()
    keys["bin_ns"] = binsz.reindex(range(len(keys))).fillna(300 * 10**9).astype(np.int64).to_numpy()
    keys["n_rows"] = counts
    return s


def _neighbours(key, ts, holds) -> bool:
    """Whether ``holds(key[i], key[i+1], ts[i], ts[i+1])`` is true of every pair of
    neighbouring rows, checked block by block."""
    for b in blocks(len(key), overlap=1):
        k, t = key[b], ts[b]
        if not bool(np.all(holds(k[:-1], k[1:], t[:-1], t[1:]))):
            return False
    return True


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """concatenate(arange(n) for n in lengths), vectorised."""
    lengths = np.asarray(lengths, dtype=np.int64)
    lengths = lengths[lengths > 0]
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    out = np.ones(total, dtype=np.int64)
    out[0] = 0
    ends = np.cumsum(lengths)
    out[ends[:-1]] = 1 - lengths[:-1]
    return np.cumsum(out)
