"""The detector's numbers, in one place, each with the reason it has that value.

Detection works on a *deviation* per bin: for volume-like signals the fraction
of normal lost, ``1 - value / expected`` (0 = normal, 1 = nothing left); for a
share that should stay low (OONI anomaly share) the rise above its baseline
share. A series enters an outage when the deviation reaches ``enter`` and leaves
it when it falls back to ``exit``: the gap between the two (hysteresis) is what
keeps a signal hovering near one threshold from flickering in and out.

How the thresholds were chosen:

* IODA compares each datasource with its own recent history and alerts when the
  current value falls below a datasource-specific fraction of it; it scores an
  outage by relative drop x duration ("alert area", IODA help pages,
  ioda.inetintel.cc.gatech.edu/help). We keep that idea -- a per-signal floor on
  the relative drop -- and add a noise term learnt from the baseline
  (``K_NOISE`` robust standard deviations), so a quiet signal (BGP prefixes)
  can alert on a small drop and a noisy one (hourly OONI counts) only on a deep
  one.
* Disco (Shah et al., TMA 2017) looks for *synchronised* disconnections of RIPE
  Atlas probes and only monitors areas with at least 10 probes, because a
  single probe going away says little. We use the share of a country's probes
  that reach the Internet, and mark series with few probes (``ATLAS_MIN_PROBES``)
  instead of trusting their share.
* Change-point methods (``ruptures``: PELT and binary segmentation with an l2
  cost). Where an outage starts and ends, thresholding the baseline-normalised
  signal finds the same boundary as a change-point search (the level before the
  change is known), at a fraction of the cost on a year of 5-minute bins. Inside
  an outage the level is not known in advance: there binary segmentation with an
  l2 cost (ruptures' ``Binseg``, re-done on cumulative sums, since ruptures' own
  PELT took ~30 s for 1,400 points here) splits it into pieces of steady depth,
  with a BIC-like penalty and ``MIN_STEP`` as the smallest step worth a piece.
"""
from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pandas as pd

from shutdown.errors import InputError

# -- noise-based part of the threshold -------------------------------------------------
# The robust standard deviation (1.4826 * MAD) of the baseline deviation, times K_NOISE.
# 4 sigma on 5-minute bins gives, for Gaussian-like noise, ~3e-5 false bins per bin; with
# the minimum duration (several consecutive bins) that is far below one false outage a
# year per series.
K_NOISE = 4.0

# Per-signal floor on the relative drop that enters an outage: drops smaller than this are
# never called outages, however quiet the signal. Each source declares its signals' floors
# (``floor`` in its DECLARATION, with the reason beside it); MIN_DROP only overrides them,
# per (source, signal), when thresholds are tuned (e.g. ``{"MIN_DROP": {(s, sig): 0.4}}``).
MIN_DROP: dict = {}
DEFAULT_MIN_DROP = 0.30          # a signal that declares no floor

# OONI anomaly share (absolute rise, 0..1): blocking a messenger makes most of its tests
# anomalous; ordinary noise (flaky networks) moves the share by a few percent.
MIN_RISE = 0.30

# Even the noisiest signal can report a cut deeper than this: a 90% drop is not noise.
MAX_ENTER = 0.90
MAX_ENTER_RISE = 0.60

# Leave the outage when the deviation is back below this fraction of the entry threshold.
# Half is the usual hysteresis gap: wide enough that noise around `enter` does not
# toggle, narrow enough that a return to 90% of normal counts as recovery.
EXIT_FRACTION = 0.5

# -- full vs partial ---------------------------------------------------------------------
# A piece whose median loss is at least 80% of normal is "full": what remains is a
# few networks that were spared or exempted, not general access. (IODA shows national
# shutdowns at 80-99% loss on active probing.) Per bin, for plots, the same line with
# hysteresis: >= FULL_ENTER enters full, <= FULL_EXIT leaves it.
FULL_ENTER = 0.80
FULL_EXIT = 0.65
# Inside an outage, a change of depth by at least MIN_STEP starts a new piece (e.g. a
# national cut eased from 97% to 80% while one city is let back on). Smaller steps are
# noise in a count of /24 blocks or probes, and not a phase a report would describe.
MIN_STEP = 0.15
# For the anomaly share, "full" means nearly every test of the service fails.
FULL_SHARE = 0.80

# -- time --------------------------------------------------------------------------------
# An outage must last MIN_DURATION and at least MIN_BINS bins: one or two bad 5-minute
# bins are collector glitches, not shutdowns. Gaps of normal shorter than MERGE_GAP (and
# at most MERGE_BINS bins) inside an outage are glitches too and are bridged; a real
# restoration (the 1-hour night restoration of a report) is longer than that.
MIN_DURATION = pd.Timedelta(minutes=30)
MIN_BINS = 2
MERGE_GAP = pd.Timedelta(minutes=30)
# IODA's "alert area" (relative drop x duration, IODA help pages) as a floor: an outage
# must lose at least the equivalent of 30 minutes of all traffic. A full cut passes at
# the minimum duration; a 20% dip must last 2.5 hours -- a one-hour wobble of a noisy
# signal at night does not become an outage.
MIN_AREA = pd.Timedelta(minutes=30)
MERGE_BINS = 2

# -- baseline ----------------------------------------------------------------------------
# A series needs at least this much baseline coverage (number of bins x bin size) to be
# judged at all; less and its verdict is "not measurable".
MIN_BASELINE = pd.Timedelta(days=1)
MIN_BASELINE_BINS = 3            # for daily (or coarser) bins
# Weekly cycle: applied only with two weeks of baseline (two samples per weekday) and
# when some weekday differs from the daily profile by more than WEEKLY_MIN.
WEEKLY_DAYS = 14
WEEKLY_MIN = 0.05

# -- derived signals ---------------------------------------------------------------------
# Fewer OONI measurements than this in a bin and its two neighbours: the anomaly share
# is not computed. With 10 measurements and a normal share of ~5%, a 35% share happens
# by chance with probability ~1e-3 (binomial), and the minimum duration asks for more.
OONI_MIN_COUNT = 10
# Disco monitors only areas with >= 10 probes; we still compute a share with fewer, but
# below ATLAS_MIN_PROBES reporting probes in the baseline the series is flagged.
ATLAS_MIN_PROBES = 3
# A drop of the reachable share must involve at least this many probes failing together:
# with 8 infrastructure probes one or two failing is churn, not an outage.
ATLAS_MIN_FAILING = 3

# -- count-based evidence (detect/evidence.py) ------------------------------------------------
# A pooled bin needs EVIDENCE_MIN_N trials (tests) for its share to count: with 10 tests a
# shift from a 5% baseline to 35% has a G-test p-value near 1e-3, and the pooling (hour ->
# 6 h -> day) grows until a typical baseline bin holds that many. Below it the series is
# judged "insufficient-evidence", with its numbers, never at another resolution by chance.
EVIDENCE_MIN_N = 10
# A bin, and a transition, count as evidence at p < EVIDENCE_ALPHA: about one false bin in
# a hundred per series tested, and a transition needs a run of them.
EVIDENCE_ALPHA = 0.01
# The share must move by at least this much (absolute): blocking makes most tests of a
# service anomalous; flaky networks move the share by a few percent.
EVIDENCE_MIN_SHIFT = 0.30
# Comparing two pooled groups (a whitelist's listed vs control sites; a multi-day event's
# window vs the baseline) uses Fisher's exact test, valid at any size: the floor only
# refuses a verdict that rests on a handful of tests.
EVIDENCE_MIN_GROUP = 5

# -- trying other values ---------------------------------------------------------------------
TUNABLE = frozenset(n for n in dir() if n.isupper())


class _Values:
    """Methods of ``Thresholds`` (the dataclass itself is made from the constants above)."""

    def min_drop(self, source: str, signal: str) -> float:
        """The floor its source declares for the signal (a MIN_DROP entry overrides it), else
        DEFAULT_MIN_DROP."""
        if (source, signal) in self.MIN_DROP:
            return self.MIN_DROP[(source, signal)]
        from shutdown.sources import registry
        sig = registry.signal(source, signal)
        return sig.floor if sig is not None and sig.floor is not None else self.DEFAULT_MIN_DROP

    def replace(self, values: dict | None) -> "Thresholds":
        """These thresholds with some values replaced; an unknown name is an error, so a
        typo does not silently tune nothing."""
        values = dict(values or {})
        if not values:
            return self
        unknown = sorted(set(values) - TUNABLE)
        if unknown:
            raise InputError(f"unknown detection threshold(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(TUNABLE))}")
        return dataclasses.replace(self, **{k: _frozen(v) for k, v in values.items()})

    def __reduce__(self):          # a mapping proxy does not pickle: rebuild from plain values
        return (_rebuild, (self.as_dict(),))

    def as_dict(self) -> dict:
        """Every value by name (MIN_DROP as a plain dict)."""
        return {f.name: dict(v) if isinstance(v := getattr(self, f.name), MappingProxyType) else v
                for f in dataclasses.fields(self)}


def _frozen(v):
    return MappingProxyType(dict(v)) if isinstance(v, dict) else v


def _rebuild(values: dict) -> "Thresholds":
    return DEFAULT.replace(values)


# One set of the values above, as a value: passed down through detection (and alignment)
# instead of read from this module, so two runs with different values -- two threads, two
# notebook cells -- never see each other's. Frozen; MIN_DROP is a read-only mapping.
Thresholds = dataclasses.make_dataclass(
    "Thresholds",
    [(n, object, dataclasses.field(default_factory=lambda n=n: _frozen(globals()[n])))
     for n in sorted(TUNABLE)],
    bases=(_Values,), frozen=True, namespace={"__module__": __name__})
DEFAULT = Thresholds()


def resolve(values=None) -> "Thresholds":
    """A ``Thresholds`` from None (the defaults), a ``Thresholds``, or a dict of names of this
    module (``K_NOISE``, ``MIN_DROP``, ...) to replace, e.g. ``{"K_NOISE": 5.0}``."""
    if isinstance(values, Thresholds):
        return values
    return DEFAULT.replace(values)


def min_drop(source: str, signal: str) -> float:
    """The default thresholds' floor on the relative drop of a signal (``Thresholds.min_drop``)."""
    return DEFAULT.min_drop(source, signal)
