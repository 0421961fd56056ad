"""Count-based signals judged by statistics: changes in a share, with their evidence.

Some signals are counts of trials, each a success or not: OONI tests of an app
(anomalous or not), OONI web_connectivity tests of a domain (accessible or not),
RIPE Atlas probes (reached the Internet or not). Their shares are noisy when the
counts are small -- realistic OONI volume in Kazakhstan is a few tests an hour
per messenger -- and refusing small counts throws away evidence a day of the
same tests would give. Here a count series is *pooled* into bins of one hour,
six hours or one (local) day, the finest at which a typical baseline bin holds
``MIN_N`` trials, and each pooled bin is compared with the baseline share by a
likelihood-ratio (G) test. A run of bins significantly shifted is a change; its
edges are transitions, each with its evidence:

* ``n_before`` / ``k_before`` / ``share_before``: the pooled trials (and the
  successes, i.e. anomalous tests or reaching probes) in the bins just before the
  transition (up to a day of them), ``n_after`` / ... the same just after;
* ``p_value``: one-sided Fisher exact test of before vs after (small counts are
  where a chi-square approximation lies), ``lr``: the G statistic;
* ``resolution``: hour | 6h | day, and ``uncertain_from`` / ``uncertain_to``:
  where the change can lie -- from the *start* of the last bin judged as before (a
  change late in a bin may not move its share enough) to the end of the first bin
  judged as after. Timing is no finer than the pooling.

Atlas shares count probe-*hours*; one probe seen for six hours is not six
independent trials, so for ``unit == "probes"`` the evidence counts probes (the
mean number reporting per hour), never probe-hours.

Nothing here reads the timeline: alignment decides what a change means for an event.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from shutdown.detect import thresholds as T
from shutdown.detect.series import label_mask

RESOLUTIONS = (("hour", 3600), ("6h", 6 * 3600), ("day", 86400))
CHANGE_COLUMNS = ["source", "entity_type", "entity_code", "signal", "subtype", "metric", "unit",
                  "direction", "edge", "transition_utc", "uncertain_from", "uncertain_to",
                  "resolution", "n_before", "k_before", "share_before", "n_after", "k_after",
                  "share_after", "lr", "p_value", "simulated"]
SERIES_EVIDENCE_COLUMNS = ["source", "entity_type", "entity_code", "signal", "subtype", "metric",
                           "unit", "direction", "resolution", "n_baseline", "share_baseline",
                           "typical_n", "status", "simulated"]


# -- tests ---------------------------------------------------------------------------------
def g_test(k1, n1, k2, n2):
    """Likelihood-ratio (G) statistic and chi-square(1) p-value (two-sided) of two
    binomial proportions k1/n1 vs k2/n2; vectorised. NaN where a side has no trial."""
    k1, n1, k2, n2 = (np.asarray(x, dtype="float64") for x in (k1, n1, k2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (k1 + k2) / (n1 + n2)

        def term(o, e):
            return np.where(o > 0, o * np.log(o / e), 0.0)
        g = 2 * (term(k1, n1 * p) + term(n1 - k1, n1 * (1 - p))
                 + term(k2, n2 * p) + term(n2 - k2, n2 * (1 - p)))
    g = np.where((n1 > 0) & (n2 > 0), np.maximum(g, 0.0), np.nan)
    flat = [math.erfc(math.sqrt(x / 2)) if x == x else np.nan for x in np.ravel(g)]
    return g, np.asarray(flat, dtype="float64").reshape(np.shape(g))


def fisher_greater(k_after, n_after, k_before, n_before) -> float:
    """One-sided Fisher exact p-value that the share after is *higher* than before
    (for a fall, swap the roles or count failures). Exact hypergeometric tail."""
    k_after, n_after, k_before, n_before = (int(round(x)) for x in (k_after, n_after, k_before, n_before))
    if n_after <= 0 or n_before <= 0:
        return float("nan")
    total, succ = n_after + n_before, k_after + k_before

    def logc(n, k):
        return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    denom = logc(total, n_after)
    hi = min(n_after, succ)
    p = 0.0
    for x in range(k_after, hi + 1):
        if succ - x > n_before:
            continue
        p += math.exp(logc(succ, x) + logc(total - succ, n_after - x) - denom)
    return float(min(max(p, 0.0), 1.0))


# -- pooling -------------------------------------------------------------------------------
def pool(ts_ns: np.ndarray, k: np.ndarray, n: np.ndarray, width_s: int, origin_ns: int):
    """Sum counts into bins ``[origin + i*width, ...)``: (bin starts in ns, k, n, hours seen)."""
    if not len(ts_ns):
        z = np.zeros(0)
        return z.astype("int64"), z, z, z
    w = width_s * 10**9
    idx = (ts_ns - origin_ns) // w
    uniq, inv = np.unique(idx, return_inverse=True)
    kk = np.bincount(inv, weights=k)
    nn = np.bincount(inv, weights=n)
    hours = np.bincount(inv)
    return origin_ns + uniq * w, kk, nn, hours


def choose_resolution(typical_per_hour: float, unit: str, th=T.DEFAULT) -> str | None:
    """The finest pooling at which a typical bin holds ``MIN_N`` trials; None when even
    a day does not. Probes do not add up over time: their resolution is the hour when
    enough probes report, else none."""
    if not typical_per_hour or typical_per_hour <= 0 or not np.isfinite(typical_per_hour):
        return None
    if unit == "probes":
        return "hour" if typical_per_hour >= th.ATLAS_MIN_PROBES else None
    for name, width in RESOLUTIONS:
        if typical_per_hour * width / 3600 >= th.EVIDENCE_MIN_N:
            return name
    return None


def width_of(resolution: str) -> int:
    return dict(RESOLUTIONS)[resolution]


# -- changes in one series -----------------------------------------------------------------
def series_changes(ts_ns, k, n, window, baseline, direction: str, unit: str = "tests",
                   tz_offset_ns: int = 0, resolution: str | None = None, th=T.DEFAULT):
    """(changes, summary) for one count series.

    ``k`` counts the trials that move in ``direction`` ("up": e.g. anomalous tests,
    whose share rises; "down": e.g. reaching probes or accessible tests, whose share
    falls). ``window`` and ``baseline`` are (start, end) in ns. Bins are aligned on
    local midnight (``tz_offset_ns``) so a day bin is a local day.
    """
    ts_ns, k, n = (np.asarray(x) for x in (ts_ns, k, n))
    ok = np.isfinite(k) & np.isfinite(n) & (n >= 0)
    ts_ns, k, n = ts_ns[ok].astype("int64"), k[ok].astype("float64"), n[ok].astype("float64")
    b0, b1 = baseline
    w0, w1 = window
    inb = (ts_ns >= b0) & (ts_ns < b1)
    hours_b = max((b1 - b0) / 3.6e12, 1.0)
    typical = float(n[inb].sum() / hours_b) if inb.any() else 0.0
    n0, k0 = float(n[inb].sum()), float(k[inb].sum())
    if unit == "probes":          # probes per hour, not probe-hours
        typical = float(np.median(n[inb])) if inb.any() else 0.0
    summary = {"unit": unit, "direction": direction, "n_baseline": n0,
               "share_baseline": k0 / n0 if n0 else np.nan, "typical_n": typical}
    res = resolution or choose_resolution(typical, unit, th)
    if n0 < th.EVIDENCE_MIN_N or res is None:
        summary.update(resolution=res or "", status="insufficient-evidence")
        return [], summary
    summary.update(resolution=res, status="ok")
    width = width_of(res)
    # bins aligned on the window's start (local midnight), reaching back over the baseline
    origin = w0 - ((w0 - b0) // (width * 10**9) + 1) * width * 10**9
    m = ts_ns < w1
    starts, kk, nn, hrs = pool(ts_ns[m], k[m], n[m], width, origin)
    if unit == "probes":          # mean probes per hour in the bin, and as many successes
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(nn > 0, kk / nn, np.nan)
            nn = np.where(hrs > 0, nn / hrs, 0.0)
            kk = share * nn
    p_ref = k0 / n0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(nn > 0, kk / nn, np.nan)
    g, pv = g_test(kk, nn, np.full(len(nn), k0), np.full(len(nn), n0))
    floor = th.ATLAS_MIN_PROBES if unit == "probes" else th.EVIDENCE_MIN_N
    shift = th.EVIDENCE_MIN_SHIFT
    moved = (share - p_ref) >= shift if direction == "up" else (p_ref - share) >= shift
    calm = ~moved
    state = np.where(nn < floor, 0, np.where(moved & (pv < th.EVIDENCE_ALPHA), 1,
                                             np.where(calm, -1, 0)))
    # only bins inside the window can change; baseline bins are "before"
    inwin = starts >= w0
    state = np.where(inwin, state, np.where(nn >= floor, -1, 0))
    changes = []
    known = np.flatnonzero(state != 0)
    for a, b in zip(known[:-1], known[1:]):
        if state[a] == state[b]:
            continue
        edge = "start" if state[b] == 1 else "end"
        # evidence: up to a day of same-state bins on each side
        per_day = max(1, 86400 // width)
        before = _run(state, a, -1, per_day)
        after = _run(state, b, +1, per_day)
        kb, nb = kk[before].sum(), nn[before].sum()
        ka, na = kk[after].sum(), nn[after].sum()
        if unit == "probes":
            nb, na = nn[before].mean(), nn[after].mean()
            kb, ka = (kk[before] / np.maximum(nn[before], 1e-9)).mean() * nb, \
                (kk[after] / np.maximum(nn[after], 1e-9)).mean() * na
        rising = (edge == "start") == (direction == "up")
        if rising:
            p = fisher_greater(ka, na, kb, nb)
        else:
            p = fisher_greater(na - ka, na, nb - kb, nb)
        lr, _ = g_test(kb, nb, ka, na)
        t = int(starts[b])
        changes.append({"direction": direction, "edge": edge, "unit": unit,
                        "transition_utc": t, "uncertain_from": int(starts[a]),
                        "uncertain_to": t + width * 10**9, "resolution": res,
                        "n_before": float(nb), "k_before": float(kb),
                        "share_before": float(kb / nb) if nb else np.nan,
                        "n_after": float(na), "k_after": float(ka),
                        "share_after": float(ka / na) if na else np.nan,
                        "lr": float(lr), "p_value": p})
    return changes, summary


def _run(state, i, step, limit):
    out = [i]
    j = i + step
    while 0 <= j < len(state) and len(out) < limit and state[j] in (state[i], 0):
        if state[j] == state[i]:
            out.append(j)
        j += step
    return np.array(sorted(out))


# -- count series from the tidy table ------------------------------------------------------
def count_series(tidy: pd.DataFrame):
    """Yield (key dict, ts ns, k, n, direction, unit) for every count series of the table:
    each ``trials`` signal its source declares (``registry.Trials``), e.g. OONI tests
    (anomaly + confirmed of all outcomes; rising), OONI sites (accessible = ok of all
    outcomes; falling), RIPE Atlas probes reaching the Internet of those reporting
    (falling)."""
    from shutdown.schema import as_text
    from shutdown.sources import registry
    if tidy is None or not len(tidy):
        return
    # only the rows of count series, before any per-row work (most rows are not; a whole
    # IODA table cast to strings costs gigabytes): labels compared per category
    src, sig = tidy["source"], tidy["signal"]
    groups = registry.trial_groups()
    masks = [label_mask(src, (source,)) & label_mask(sig, (*sigs, *((spec.of,) if spec.of else ())))
             for source, spec, sigs in groups]
    mine = np.logical_or.reduce(masks) if masks else np.zeros(len(tidy), bool)
    if not mine.any():
        return
    d = tidy.loc[mine, ["source", "entity_type", "entity_code", "signal", "subtype",
                        "ts_utc", "value", "simulated"]].copy()     # its own (pandas 2 warns otherwise)
    for c in ("source", "entity_type", "entity_code", "signal", "subtype"):
        d[c] = as_text(d[c])
    d["value"] = pd.to_numeric(d["value"], errors="coerce")
    ts = pd.DatetimeIndex(pd.to_datetime(d["ts_utc"], utc=True)).as_unit("ns").asi8
    d["ts"] = ts
    for source, spec, sigs in groups:
        if spec.shape == "ratio":
            for signal in sigs:
                yield from _ratio_counts(d, source, signal, spec)
        elif spec.items:
            for signal in sigs:
                yield from _item_counts(d, source, signal, spec)
        else:
            yield from _outcome_counts(d, source, sigs, spec)


def _outcome_counts(d, source, sigs, spec):
    """k = the hits, n = every outcome, per bin; ``subtype`` holds the outcome."""
    outcomes = list(spec.outcomes)
    rows = d[(d["source"] == source) & d["signal"].isin(sigs) & d["subtype"].isin(outcomes)]
    if not len(rows):
        return
    w = rows.pivot_table(index=["entity_type", "entity_code", "signal", "ts"], columns="subtype",
                         values="value", aggfunc="sum", fill_value=0.0)
    sim = rows.groupby(["entity_type", "entity_code", "signal"])["simulated"].any()
    for o in outcomes:
        if o not in w:
            w[o] = 0.0
    for (et, ec, sig), g in w.groupby(level=[0, 1, 2]):
        n = g[outcomes].sum(axis=1).to_numpy()
        kk = g[list(spec.hits)].sum(axis=1).to_numpy()
        yield ({"source": source, "entity_type": et, "entity_code": ec, "signal": sig,
                "subtype": "", "metric": spec.metric, "simulated": bool(sim[(et, ec, sig)])},
               g.index.get_level_values(3).to_numpy(), kk, n, spec.moves, spec.unit)


def _item_counts(d, source, signal, spec):
    """As ``_outcome_counts``, one series per item: ``subtype`` is "<item>/<outcome>"."""
    outcomes = list(spec.outcomes)
    rows = d[(d["source"] == source) & (d["signal"] == signal)]
    if not len(rows):
        return
    # "item/outcome": split each distinct subtype once, not every row
    sub = rows["subtype"].astype("category")
    parts = sub.cat.categories.to_series().str.rsplit("/", n=1, expand=True)
    codes = sub.cat.codes.to_numpy()
    rows = rows.assign(item=parts[0].to_numpy()[codes], outcome=parts[1].to_numpy()[codes])
    w = rows.pivot_table(index=["entity_type", "entity_code", "item", "ts"], columns="outcome",
                         values="value", aggfunc="sum", fill_value=0.0)
    for o in outcomes:
        if o not in w:
            w[o] = 0.0
    sim = rows.groupby(["entity_type", "entity_code", "item"])["simulated"].any()
    for (et, ec, item), g in w.groupby(level=[0, 1, 2]):
        n = g[outcomes].sum(axis=1).to_numpy()
        kk = g[list(spec.hits)].sum(axis=1).to_numpy()
        yield ({"source": source, "entity_type": et, "entity_code": ec, "signal": signal,
                "subtype": item, "metric": spec.metric, "simulated": bool(sim[(et, ec, item)])},
               g.index.get_level_values(3).to_numpy(), kk, n, spec.moves, spec.unit)


def _ratio_counts(d, source, signal, spec):
    """k = this signal, n = the ``of`` signal (at most n), per subtype and bin."""
    rows = d[(d["source"] == source) & d["signal"].isin([spec.of, signal])]
    if not len(rows):
        return
    w = rows.pivot_table(index=["entity_type", "entity_code", "subtype", "ts"], columns="signal",
                         values="value", aggfunc="mean")
    if not {spec.of, signal} <= set(w.columns):
        return
    sim = rows.groupby(["entity_type", "entity_code", "subtype"])["simulated"].any()
    for (et, ec, sub), g in w.groupby(level=[0, 1, 2]):
        n = g[spec.of].fillna(0).to_numpy()
        kk = np.minimum(g[signal].fillna(0).to_numpy(), n)
        yield ({"source": source, "entity_type": et, "entity_code": ec,
                "signal": signal, "subtype": sub, "metric": spec.metric,
                "simulated": bool(sim[(et, ec, sub)])},
               g.index.get_level_values(3).to_numpy(), kk, n, spec.moves, spec.unit)


def changes(tidy: pd.DataFrame, window, baseline, tz_offset_ns: int = 0, th=T.DEFAULT):
    """(changes, per-series evidence summary) for every count series of ``tidy``.
    ``window`` and ``baseline`` are (start, end) pandas Timestamps (UTC)."""
    w = (pd.Timestamp(window[0]).value, pd.Timestamp(window[1]).value)
    b = (pd.Timestamp(baseline[0]).value, pd.Timestamp(baseline[1]).value)
    rows, summ, data = [], [], {}
    for key, ts, k, n, direction, unit in count_series(tidy):
        ch, s = series_changes(ts, k, n, w, b, direction, unit, tz_offset_ns, th=th)
        summ.append({**key, **s})
        rows += [{**key, **c} for c in ch]
        data[series_id(key)] = CountSeries(np.asarray(ts, dtype="int64"),
                                           np.asarray(k, dtype="float64"),
                                           np.asarray(n, dtype="float64"), direction, unit)
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    for c in ("transition_utc", "uncertain_from", "uncertain_to"):
        out[c] = pd.to_datetime(out[c].astype("int64"), utc=True) if len(out) else \
            pd.Series(dtype="datetime64[ns, UTC]")
    return out, pd.DataFrame(summ, columns=SERIES_EVIDENCE_COLUMNS), data


SERIES_ID_COLUMNS = ("source", "entity_type", "entity_code", "signal", "subtype", "metric")


def series_id(row) -> tuple:
    return tuple(str(row.get(c, "")) for c in SERIES_ID_COLUMNS)


class CountSeries:
    """The raw counts of one series (ns times, k, n), to weigh any span of it."""

    def __init__(self, ts, k, n, direction, unit):
        self.ts, self.k, self.n, self.direction, self.unit = ts, k, n, direction, unit

    def counts(self, a: pd.Timestamp, b: pd.Timestamp) -> tuple[float, float]:
        """(k, n) over [a, b); for probes, the mean per hour (probes, not probe-hours)."""
        m = (self.ts >= pd.Timestamp(a).value) & (self.ts < pd.Timestamp(b).value)
        if not m.any():
            return 0.0, 0.0
        if self.unit == "probes":
            n = float(self.n[m].mean())
            share = float(self.k[m].sum() / self.n[m].sum()) if self.n[m].sum() else 0.0
            return share * n, n
        return float(self.k[m].sum()), float(self.n[m].sum())


def compare(kb, nb, ka, na, rising: bool) -> dict:
    """Evidence that the share moved from before (kb/nb) to after (ka/na) in the stated
    direction: shares, G statistic, one-sided Fisher p-value."""
    lr, _ = g_test(kb, nb, ka, na)
    p = fisher_greater(ka, na, kb, nb) if rising else fisher_greater(na - ka, na, nb - kb, nb)
    return {"n_before": nb, "k_before": kb, "share_before": kb / nb if nb else np.nan,
            "n_after": na, "k_after": ka, "share_after": ka / na if na else np.nan,
            "lr": float(lr), "p_value": p}
