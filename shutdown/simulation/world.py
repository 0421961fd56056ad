"""The simulated world: what each signal of each entity did, bin by bin.

Pure and deterministic: the same scenario, case and seed give the same arrays.
Every random draw comes from a generator keyed by (seed, what it is for), so a
series does not change when another entity is added or requests are cut
differently. Renderers slice these arrays; they never draw random numbers of
their own except through ``World.rng``.

Episodes act as a *remaining fraction* ``r`` per bin: ``1 - depth`` inside the
episode, weighted by how much of the bin it covers, the smallest value when
several apply (a country-wide cut and a network's own throttling at once).
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from shutdown.scenario import IODA_SIGNALS, Episode, Scenario, effect_keys

DAY = 86400
NATIVE_STEP = {"bgp": 300, "ping-slash24": 600, "merit-nt": 300, "gtr": 1800}
GTR_PRODUCTS = {"WEB_SEARCH": 1.0, "YOUTUBE": 0.7}     # product -> share of the gtr level
COUNT_SIGNALS = ("bgp", "ping-slash24", "merit-nt")     # integer-valued upstream
OONI_OTHER_TEST = "ndt"          # tests outside the five of interest still count in volume
OUTCOMES = ("ok", "anomaly", "confirmed", "failure")
PING_INTERVAL, TRACE_INTERVAL = 240, 1800               # built-in msm 1001 / 5001 cadence
PRIVATE_ASNS = (64512, 64513, 64514)                    # stand-ins for "other networks"


def _key(*parts) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def _overlap(ep: Episode, starts: np.ndarray, step: float) -> np.ndarray:
    s, e = ep.start.timestamp(), ep.end.timestamp()
    return np.clip(np.minimum(starts + step, e) - np.maximum(starts, s), 0, step) / step


def layered(levels, starts: np.ndarray, step: float, base, value) -> np.ndarray:
    """Per bin, the value set by the most specific episode in force.

    ``levels`` lists episode groups from the most general (country) to the most
    specific (region): a more specific episode overrides a general one where it
    holds (Almaty reconnected while the country stays cut). ``value(ep)`` is
    what an episode sets (1 - depth for a volume, depth for an anomaly share);
    a bin an episode only partly covers is the time-weighted mix.
    """
    v = np.broadcast_to(np.asarray(base, dtype="float64"), (len(starts),)).copy()
    for eps in levels:
        for ep in eps:
            ov = _overlap(ep, starts, step)
            v = ov * value(ep) + (1.0 - ov) * v
    return v


def remaining(episodes, starts: np.ndarray, step: float) -> np.ndarray:
    """Per bin ``[t, t+step)``: the fraction of normal left by ``episodes`` (one level)."""
    return layered([episodes], starts, step, 1.0, lambda ep: 1.0 - ep.depth)


def daily_cycle(starts: np.ndarray, amplitude: float, peak_utc: float) -> np.ndarray:
    hours = (starts % DAY) / 3600.0
    return 1.0 + amplitude * np.cos(2 * np.pi * (hours - peak_utc) / 24.0)


@dataclass
class Probe:
    id: int
    asn: int
    infrastructure: bool
    anchor: bool
    region: str | None
    lat: float
    lon: float
    u: float                      # position in the cut order: cut when u >= 1 - depth
    rtt: float                    # base RTT to k.root, ms
    phase_ping: int
    phase_trace: int
    address: str
    first_connected: int
    status: str = "Connected"     # as listed at fetch time
    status_since: int | None = None
    down: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.empty(0), np.empty(0)))

    @property
    def probe_class(self) -> str:
        return "infrastructure" if self.infrastructure else "end-user"

    def is_down(self, t: np.ndarray) -> np.ndarray:
        a, b = self.down
        if not len(a):
            return np.zeros(len(t), dtype=bool)
        i = np.searchsorted(a, t, side="right") - 1
        return (i >= 0) & (t < b[np.maximum(i, 0)])


class World:
    """Everything the renderers need, generated lazily and cached."""

    def __init__(self, scenario: Scenario, case, seed: int = 0):
        self.scenario, self.case, self.seed = scenario, case, int(seed)
        lo, hi = case.fetch_utc
        # Whole UTC days around the fetch window: requests are cut on day/week bounds.
        self.start = int(pd.Timestamp(lo).floor("D").timestamp()) - DAY
        self.end = int(pd.Timestamp(hi).ceil("D").timestamp()) + DAY
        self.fetched_epoch = int(pd.Timestamp(scenario.fetched_utc).timestamp())
        self._ioda: dict = {}

    def rng(self, *what) -> np.random.Generator:
        return np.random.default_rng([self.seed, _key(*what)])

    # -- episodes -----------------------------------------------------------------
    def episodes_for(self, entities, source: str, signal: str, subtype: str = "") -> list[Episode]:
        """Episodes acting on ``source.signal[:subtype]`` of any of ``entities``."""
        out = []
        for ep in self.scenario.episodes:
            for k in set(effect_keys(ep)):
                etype, code, src, sig, sub = k
                if (etype, code) in entities and src == source and sig == signal and \
                        (sub == "" or sub == subtype):
                    out.append(ep)
                    break
        return out

    # -- IODA ---------------------------------------------------------------------
    def ioda_series(self, etype: str, code: str, ds: str, subtype: str = ""):
        """(grid start, step, values) over the world span; values float with NaN = null."""
        k = (etype, code, ds, subtype)
        if k in self._ioda:
            return self._ioda[k]
        step = NATIVE_STEP[ds]
        t0 = (self.start // step) * step
        starts = np.arange(t0, self.end, step, dtype="float64")
        p = self.scenario.normal(etype, code).ioda[ds]
        rng = self.rng("ioda", etype, code, ds, subtype)
        level = p["level"] * (GTR_PRODUCTS.get(subtype, 1.0) if ds == "gtr" else 1.0)
        z = rng.standard_normal(len(starts) + 4)
        z = np.convolve(z, np.ones(5) / math.sqrt(5), mode="valid")   # a little persistence
        v = level * daily_cycle(starts, p["daily"], p["peak_utc"]) * (1.0 + p["noise"] * z)
        v *= remaining(self.episodes_for({(etype, code)}, "ioda", ds, subtype), starts, step)
        glitch = rng.random(len(starts)) < p["glitch"]
        v[glitch] *= rng.uniform(0.2, 0.6, glitch.sum())
        v = np.clip(v, 0, None)
        v = np.round(v) if ds in COUNT_SIGNALS else np.round(v, 4)
        v[rng.random(len(starts)) < p["missing"]] = np.nan
        self._ioda[k] = (t0, step, v)
        return self._ioda[k]

    def ioda_has(self, etype: str, ds: str) -> bool:
        """Google's traffic data (Transparency Report) is published per country and
        product only; for a region or a network the simulator renders no gtr series,
        rather than invent a finer grain than the upstream publishes."""
        return not (ds == "gtr" and etype != "country")

    # -- OONI ---------------------------------------------------------------------
    @cached_property
    def ooni_hours(self) -> np.ndarray:
        return np.arange(self.start, self.end, 3600, dtype="int64")

    @cached_property
    def ooni_units(self) -> list[int | None]:
        """Networks measured separately (the case's ASNs), then None: all other networks."""
        return [n.asn for n in self.case.networks] + [None]

    @cached_property
    def ooni_tests(self) -> list[str]:
        tests = list(self.scenario.normal("country", self.case.country).ooni["tests"])
        return tests + [OONI_OTHER_TEST]

    @cached_property
    def ooni_counts(self) -> dict:
        """unit -> int array [test, outcome, hour] of measurement counts."""
        cc = self.case.country
        country = self.scenario.normal("country", cc).ooni
        asn_levels = {a: self.scenario.normal("asn", str(a)).ooni for a in self.ooni_units if a}
        other_level = max(country["level"] - sum(p["level"] for p in asn_levels.values()), 0.0)
        hours = self.ooni_hours.astype("float64")
        out = {}
        for unit in self.ooni_units:
            p = asn_levels[unit] if unit else {**country, "level": other_level}
            levels = [{("country", cc)}] + ([{("asn", str(unit))}] if unit else [])
            rng = self.rng("ooni", unit)
            lam = p["level"] * daily_cycle(hours, p["daily"], p["peak_utc"])
            lam = lam * np.clip(1.0 + p["noise"] * rng.standard_normal(len(hours)), 0, None)
            lam *= layered([self.episodes_for(e, "ooni", "measurements") for e in levels],
                           hours, 3600, 1.0, lambda ep: 1.0 - ep.depth)
            n = rng.poisson(lam)
            shares = np.array([p["tests"].get(t, 0.0) for t in self.ooni_tests[:-1]])
            shares = np.append(shares, max(1.0 - shares.sum(), 0.0))
            by_test = rng.multinomial(n, shares / shares.sum())          # [hour, test]
            counts = np.zeros((len(self.ooni_tests), len(OUTCOMES), len(hours)), dtype="int64")
            for ti, test in enumerate(self.ooni_tests):
                anomaly = layered([self.episodes_for(e, "ooni", test) for e in levels],
                                  hours, 3600, p["anomaly"], lambda ep: ep.depth)
                conf = np.full(len(hours), p["confirmed"])
                fail = np.full(len(hours), p["failure"])
                anomaly = np.minimum(anomaly, 1.0 - conf - fail)
                ok = np.clip(1.0 - anomaly - conf - fail, 0, None)
                pv = np.stack([ok, anomaly, conf, fail], axis=1)
                pv = pv / pv.sum(axis=1, keepdims=True)
                counts[ti] = rng.multinomial(by_test[:, ti], pv).T
            out[unit] = counts
        return out

    @cached_property
    def site_domains(self) -> tuple[str, ...]:
        return self.case.site_domains() if self.scenario.sites is not None else ()

    @cached_property
    def site_counts(self) -> dict:
        """domain -> int array [outcome (ok, anomaly, confirmed, failure), hour] of the
        country's web_connectivity tests of that domain (see scenario.SiteBehaviour)."""
        sb = self.scenario.sites
        if sb is None:
            return {}
        cc = self.case.country
        hours = self.ooni_hours.astype("float64")
        # what the country's connectivity leaves (1 = normal, 0 = cut)
        r = layered([self.episodes_for({("country", cc)}, "ooni", "measurements")],
                    hours, 3600, 1.0, lambda ep: 1.0 - ep.depth)
        lam = sb.rate * np.maximum(r, sb.upload_floor)
        out = {}
        for dom in self.site_domains:
            rng = self.rng("ooni-site", dom)
            open_ = r.copy()
            for w in sb.whitelists:
                if dom in w.domains:
                    ov = np.clip(np.minimum(hours + 3600, w.end.timestamp())
                                 - np.maximum(hours, w.start.timestamp()), 0, 3600) / 3600
                    open_ = np.maximum(open_, ov)
            n = rng.poisson(lam)
            p_ok = sb.ok * open_
            p_an = sb.anomaly * open_
            p_fail = 1.0 - p_ok - p_an            # a blocked site with the control unreachable
            pv = np.stack([p_ok, p_an, np.zeros(len(hours)), p_fail], axis=1)
            out[dom] = rng.multinomial(n, pv / pv.sum(axis=1, keepdims=True)).T
        return out

    # -- RIPE Atlas ---------------------------------------------------------------
    @cached_property
    def probes(self) -> list[Probe]:
        """The country's probes: per case network, other networks, a few long gone."""
        sc, cc = self.scenario, self.case.country
        rng = self.rng("atlas", "probes")
        specs = []                                  # (asn, n, n_infra)
        listed = 0
        for n in self.case.networks:
            a = sc.normal("asn", str(n.asn)).atlas
            specs.append((n.asn, a["probes"], a["infrastructure"]))
            listed += a["probes"]
        ca = sc.normal("country", cc).atlas
        extra = max(ca["probes"] - listed, 0)
        extra_infra = max(ca["infrastructure"] - sum(s[2] for s in specs), 0)
        for i, asn in enumerate(PRIVATE_ASNS):
            k = extra // len(PRIVATE_ASNS) + (1 if i < extra % len(PRIVATE_ASNS) else 0)
            ki = extra_infra // len(PRIVATE_ASNS) + (1 if i < extra_infra % len(PRIVATE_ASNS) else 0)
            if k:
                specs.append((asn, k, min(ki, k)))
        center = sc.normal("country", cc).center or (48.0, 67.0)
        probes = []
        pid = 1000 + (_key(cc) % 50) * 100
        for asn, n, n_infra in specs:
            for j in range(n):
                pid += 1 + int(rng.integers(0, 40))
                infra = j < n_infra
                probes.append(Probe(
                    id=pid, asn=int(asn), infrastructure=infra, anchor=infra and j % 3 == 0,
                    region=None, lat=center[0] + rng.uniform(-4, 4), lon=center[1] + rng.uniform(-10, 10),
                    u=float(rng.random()), rtt=float(rng.uniform(45, 95)),
                    phase_ping=int(rng.integers(0, PING_INTERVAL)),
                    phase_trace=int(rng.integers(0, TRACE_INTERVAL)),
                    address=f"198.51.100.{len(probes) % 250 + 1}",
                    first_connected=int(self.start - rng.integers(200, 3000) * DAY)))
        # Regions: the first probes drawn at random are placed there.
        order = rng.permutation(len(probes))
        used = 0
        for r in self.case.regions:
            ent = sc.entity("region", r.name)
            if ent is None:
                continue
            k = min(ent.atlas.get("probes", 0), len(probes) - used)
            c = ent.center or center
            for idx in order[used:used + k]:
                p = probes[idx]
                p.region, p.lat, p.lon = r.name, c[0] + rng.uniform(-.1, .1), c[1] + rng.uniform(-.1, .1)
            used += k
        for p in probes:
            self._plan_outages(p)
        # Two probes that went away long before the window: listed, never asked about.
        for j in range(2):
            pid += 1 + int(rng.integers(0, 40))
            gone = int(self.start - rng.integers(100, 900) * DAY)
            probes.append(Probe(id=pid, asn=specs[0][0] if specs else PRIVATE_ASNS[0],
                                infrastructure=False, anchor=False, region=None,
                                lat=center[0], lon=center[1], u=1.0, rtt=60.0, phase_ping=0,
                                phase_trace=0, address=f"198.51.100.{251 + j}",
                                first_connected=gone - 400 * DAY,
                                status="Abandoned" if j else "Disconnected", status_since=gone))
        return sorted(probes, key=lambda p: p.id)

    def probe_entities(self, p: Probe) -> set:
        ents = {("country", self.case.country), ("asn", str(p.asn))}
        if p.region:
            ents.add(("region", p.region))
        return ents

    def _plan_outages(self, p: Probe) -> None:
        """Down intervals of one probe: the episodes that cut it, plus ordinary blips."""
        rng = self.rng("atlas", "outages", p.id)
        ivs = []
        levels = [{("country", self.case.country)}, {("asn", str(p.asn))}]
        if p.region:
            levels.append({("region", p.region)})
        eps = [[ep for ep in self.scenario.episodes
                if any((k[0], k[1]) in lev and k[2] == "atlas" and k[4] == p.probe_class
                       for k in effect_keys(ep))] for lev in levels]
        cuts = sorted({t for lev in eps for ep in lev
                       for t in (ep.start.timestamp(), ep.end.timestamp())})
        for a, b in zip(cuts, cuts[1:]):
            mid, depth = (a + b) / 2, 0.0
            for lev in eps:                      # the most specific level in force wins
                for ep in lev:
                    if ep.start.timestamp() <= mid < ep.end.timestamp():
                        depth = ep.depth
            if depth > 0 and p.u >= 1.0 - depth:
                ivs.append((a, b))
        # Probes do not all drop in the same second: a few minutes of spread per edge.
        ivs = [(a + rng.uniform(0, 240), b + rng.uniform(0, 240)) for a, b in _merge(ivs)]
        # Ordinary life: a short disconnection every ten days or so.
        n = rng.poisson((self.end - self.start) / DAY * 0.1)
        for t, d in zip(rng.uniform(self.start, self.end, n), rng.exponential(1200, n)):
            ivs.append((t, t + 120 + d))
        merged = _merge(ivs)
        p.down = (np.array([m[0] for m in merged]), np.array([m[1] for m in merged]))
        last_up = [b for a, b in merged if b <= self.fetched_epoch]
        p.status_since = int(last_up[-1]) + 30 if last_up else p.first_connected

    def atlas_missing(self) -> float:
        return float(self.scenario.normal("country", self.case.country).atlas.get("missing", 0.0))


def _merge(ivs):
    out = []
    for a, b in sorted(ivs):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def ioda_slice(world: World, etype, code, ds, subtype, frm: int, until: int):
    """Values of the bins covering ``[frm, until)``, IODA-aligned: (from, step, list)."""
    t0, step, v = world.ioda_series(etype, code, ds, subtype)
    start = (frm // step) * step
    n = max(0, -(-(until - start) // step))
    i0 = (start - t0) // step
    idx = np.arange(i0, i0 + n)
    inside = (idx >= 0) & (idx < len(v))
    vals = np.full(n, np.nan)
    vals[inside] = v[idx[inside]]
    if ds in COUNT_SIGNALS:
        out = [None if x != x else int(x) for x in vals.tolist()]
    else:
        out = [None if x != x else x for x in vals.tolist()]
    return start, step, out


__all__ = ["World", "Probe", "remaining", "ioda_slice", "NATIVE_STEP", "GTR_PRODUCTS",
           "OUTCOMES", "IODA_SIGNALS"]
