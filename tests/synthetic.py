"""Synthetic tidy tables for detector tests and the benchmark (all rows simulated=True).

Not the project's simulator (shutdown.simulate writes upstream payloads for whole
scenarios); this builds tidy frames directly, small and exactly known, so a test
can say "the cut was 10:00-16:00 at 30% of normal" and check the detector.

Shapes follow the real signals: a daily cycle (trough at night, local time),
multiplicative noise, IODA counts on 5/10-minute bins, OONI hourly Poisson
counts with outcomes, RIPE Atlas hourly probe counts per probe class.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shutdown.schema import TIDY_COLUMNS, check_tidy
from shutdown.sources import registry

T0 = pd.Timestamp("2022-01-01T00:00:00Z")


@dataclass
class Cut:
    """Connectivity falls to ``level`` of normal between start and end (UTC)."""
    start: pd.Timestamp
    end: pd.Timestamp
    level: float = 0.0
    entities: tuple = ()          # (entity_type, code) pairs; empty = every entity
    sources: tuple = ()           # ("ioda", "ping-slash24") pairs or sources; empty = all
    infrastructure: bool = False  # also cut Atlas infrastructure probes


@dataclass
class Block:
    """OONI tests of ``tests`` become anomalous (share ``share``) between start and end."""
    start: pd.Timestamp
    end: pd.Timestamp
    tests: tuple = ("telegram", "whatsapp", "signal")
    share: float = 0.9
    entities: tuple = ()


@dataclass
class Spec:
    start: pd.Timestamp = T0
    end: pd.Timestamp = T0 + pd.Timedelta(days=21)
    entities: tuple = (("country", "XX"),)
    ioda: tuple = ("ping-slash24", "bgp", "merit-nt", "gtr")
    ioda_freq: dict = field(default_factory=lambda: {"ping-slash24": "10min", "bgp": "5min",
                                                     "merit-nt": "5min", "gtr": "30min"})
    ooni: bool = True
    atlas: bool = True
    cuts: tuple = ()
    blocks: tuple = ()
    tz_hours: int = 6             # local = UTC + tz_hours (daily trough at 04:00 local)
    noise: float = 0.03
    seed: int = 1


LEVEL = {"ping-slash24": 4000.0, "bgp": 9000.0, "merit-nt": 1500.0, "gtr": 1.0}
CYCLE = {"ping-slash24": 0.10, "bgp": 0.0, "merit-nt": 0.35, "gtr": 0.6}
NOISE = {"ping-slash24": 1.0, "bgp": 0.1, "merit-nt": 2.0, "gtr": 1.0}


def _cycle(ts: pd.DatetimeIndex, amplitude: float, tz_hours: int) -> np.ndarray:
    hours = ((ts.hour + ts.minute / 60.0 + tz_hours) % 24).to_numpy()
    return 1.0 + amplitude * np.sin((hours - 10.0) / 24.0 * 2 * np.pi)


def _factor(ts, etype, code, source, signal, cuts, infra=False) -> np.ndarray:
    f = np.ones(len(ts))
    for c in cuts:
        if c.entities and (etype, code) not in c.entities:
            continue
        if c.sources and source not in c.sources and (source, signal) not in c.sources:
            continue
        if infra and not c.infrastructure:
            continue
        m = (ts >= c.start) & (ts < c.end)
        f[m] = np.minimum(f[m], c.level)
    return f


def _unit(source: str, signal: str) -> str:
    src = registry.sources().get(source)
    return next((s.unit for s in src.signals if s.signal == signal), "") if src else ""


def _rows(etype, code, source, signal, subtype, ts, values) -> pd.DataFrame:
    return pd.DataFrame({"source": source, "entity_type": etype, "entity_code": code,
                         "signal": signal, "subtype": subtype, "ts_utc": ts,
                         "value": np.asarray(values, dtype=float),
                         "unit": _unit(source, signal), "simulated": True})


def make_tidy(spec: Spec = Spec()) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    frames = []
    for etype, code in spec.entities:
        for sig in spec.ioda:
            if sig == "gtr" and etype != "country":
                continue      # Google traffic is country-level only
            ts = pd.date_range(spec.start, spec.end, freq=spec.ioda_freq.get(sig, "5min"),
                               inclusive="left")
            base = LEVEL[sig] * _cycle(ts, CYCLE[sig], spec.tz_hours)
            noise = 1 + spec.noise * NOISE[sig] * rng.standard_normal(len(ts))
            v = base * noise * _factor(ts, etype, code, "ioda", sig, spec.cuts)
            frames.append(_rows(etype, code, "ioda", sig, "" if sig != "gtr" else "WEB_SEARCH",
                                ts, np.round(v, 3)))
        hours = pd.date_range(spec.start, spec.end, freq="1h", inclusive="left")
        if spec.ooni and etype != "region":
            lam = 60 * _cycle(hours, 0.6, spec.tz_hours) * _factor(hours, etype, code, "ooni",
                                                                    "measurements", spec.cuts)
            frames.append(_rows(etype, code, "ooni", "measurements", "all", hours,
                                rng.poisson(lam)))
            for test in ("web_connectivity", "telegram", "whatsapp", "signal", "facebook_messenger"):
                n = rng.poisson(lam / 6)
                share = np.full(len(hours), 0.03)
                for b in spec.blocks:
                    if test in b.tests and (not b.entities or (etype, code) in b.entities):
                        share[(hours >= b.start) & (hours < b.end)] = b.share
                bad = rng.binomial(n, share)
                conf = rng.binomial(bad, 0.2)
                fail = rng.binomial(n - bad, 0.01)
                frames.append(_rows(etype, code, "ooni", "measurements", test, hours, n))
                for sub, val in (("ok", n - bad - fail), ("anomaly", bad - conf),
                                 ("confirmed", conf), ("failure", fail)):
                    frames.append(_rows(etype, code, "ooni", test, sub, hours, val))
        if spec.atlas and etype != "region":
            for cls, n_probes in (("infrastructure", 8), ("end-user", 25)):
                rep = np.full(len(hours), float(n_probes))
                rep -= rng.binomial(n_probes, 0.02, len(hours))
                f = _factor(hours, etype, code, "atlas", "probes_reachable", spec.cuts,
                            infra=(cls == "infrastructure"))
                reach = rng.binomial(rep.astype(int), np.clip(0.97 * f, 0, 1))
                frames.append(_rows(etype, code, "atlas", "probes_reporting", cls, hours, rep))
                frames.append(_rows(etype, code, "atlas", "probes_reachable", cls, hours, reach))
    return check_tidy(pd.concat(frames, ignore_index=True))


def large_table_groups(n_entities: int, per_group: int = 25, days: int = 365, seed: int = 7, **kw):
    """``large_table`` in groups of ``per_group`` entities (distinct ASNs), generated one
    at a time: yields (table, truth) pairs, so a table larger than memory can be written."""
    for i, first in enumerate(range(0, n_entities, per_group)):
        yield large_table(min(per_group, n_entities - first), days, seed=seed + i, first=first, **kw)


def large_table(n_entities: int = 250, days: int = 365, signals=("ping-slash24", "bgp", "merit-nt"),
                freq: str = "5min", n_cuts: int = 2, seed: int = 7, first: int = 0) -> pd.DataFrame:
    """A big tidy table (categorical columns) for the benchmark: n_entities x signals
    series of 5-minute bins, each entity with ``n_cuts`` random cuts of 1-12 hours.
    Entities are AS64500 + ``first`` onwards."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(T0, T0 + pd.Timedelta(days=days), freq=freq, inclusive="left")
    nb = len(ts)
    hours = ((ts.hour + ts.minute / 60.0 + 6) % 24).to_numpy()
    n_series = n_entities * len(signals)
    codes = [str(64500 + first + i) for i in range(n_entities)]
    values = np.empty((n_series, nb), dtype=np.float64)
    for j, sig in enumerate(signals):          # per signal: vectorised over entities and bins
        cyc = 1.0 + CYCLE[sig] * np.sin((hours - 10.0) / 24.0 * 2 * np.pi)
        lvl = LEVEL[sig] * rng.uniform(0.2, 1.0, n_entities)
        block = values[j::len(signals)]
        block[:] = lvl[:, None] * cyc[None, :]
        block *= 1 + 0.03 * NOISE[sig] * rng.standard_normal((n_entities, nb))
    truth = []
    for e in range(n_entities):
        for _ in range(n_cuts):
            a = int(rng.integers(nb // 10, nb - 300))
            z = a + int(rng.integers(12, 144))
            lvl = float(rng.choice([0.0, 0.05, 0.4]))
            values[e * len(signals):(e + 1) * len(signals), a:z] *= lvl
            truth.append((codes[e], ts[a], ts[z], lvl))
    ent_codes = np.repeat(np.arange(n_entities), len(signals) * nb)
    sig_codes = np.tile(np.repeat(np.arange(len(signals)), nb), n_entities)
    df = pd.DataFrame({
        "source": pd.Categorical.from_codes(np.zeros(n_series * nb, np.int8), categories=["ioda"]),
        "entity_type": pd.Categorical.from_codes(np.zeros(n_series * nb, np.int8), categories=["asn"]),
        "entity_code": pd.Categorical.from_codes(ent_codes.astype(np.int16), categories=codes),
        "signal": pd.Categorical.from_codes(sig_codes.astype(np.int8), categories=list(signals)),
        "subtype": pd.Categorical.from_codes(np.zeros(n_series * nb, np.int8), categories=[""]),
        "ts_utc": pd.DatetimeIndex(np.tile(ts.tz_localize(None).to_numpy(), n_series)).tz_localize("UTC"),
        "value": values.reshape(-1),
        "unit": pd.Categorical.from_codes(np.zeros(n_series * nb, np.int8), categories=["count"]),
        "simulated": np.ones(n_series * nb, dtype=bool),
    })
    truth = pd.DataFrame(truth, columns=["entity_code", "start_utc", "end_utc", "level"])
    return df[TIDY_COLUMNS], truth
