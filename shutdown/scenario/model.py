"""A scenario as plain data: frozen dataclasses, and the normal behaviour an entity
has when its file does not say (``BUILTIN_*``, then ``[defaults.<type>]``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# Ranges of the normal-behaviour parameters: beyond them the simulator would overflow
# or run for hours; no real signal comes near them.
MAX_LEVEL = 1e9
MAX_NOISE = 10.0
MAX_PROBES = 20_000              # RIPE Atlas probes of one entity; a country has at most a few thousand

IODA_SIGNALS = ("bgp", "ping-slash24", "merit-nt", "gtr")
MODELLED = ("ioda", "ooni", "atlas")       # the sources the simulated world itself produces
EPISODE_TYPES = ("cut", "throttling", "service-block")
FULL_DEPTH = 0.9                 # depth from which an episode is a "full" cut by default

# Defaults used when neither the entity nor [defaults.<type>] says otherwise.
BUILTIN_IODA = {
    "bgp": dict(level=500.0, daily=0.0, peak_utc=15.0, noise=0.002, missing=0.0, glitch=0.0),
    "ping-slash24": dict(level=200.0, daily=0.1, peak_utc=15.0, noise=0.03, missing=0.0, glitch=0.0),
    "merit-nt": dict(level=800.0, daily=0.25, peak_utc=15.0, noise=0.06, missing=0.0, glitch=0.0),
    "gtr": dict(level=1.0, daily=0.5, peak_utc=15.0, noise=0.05, missing=0.0, glitch=0.0),
}
BUILTIN_OONI = dict(level=5.0, daily=0.5, peak_utc=15.0, noise=0.2, anomaly=0.02, failure=0.01,
                    confirmed=0.0,
                    tests={"web_connectivity": 0.86, "telegram": 0.04, "whatsapp": 0.04,
                           "signal": 0.03, "facebook_messenger": 0.03})
BUILTIN_ATLAS = dict(probes=0, infrastructure=0, missing=0.0)


@dataclass(frozen=True)
class SignalRef:
    """One signal an episode touches: ``source.signal[:subtype]``."""
    source: str
    signal: str
    subtype: str = ""

    def __str__(self):
        return f"{self.source}.{self.signal}" + (f":{self.subtype}" if self.subtype else "")


@dataclass(frozen=True)
class Episode:
    id: str
    start: pd.Timestamp
    end: pd.Timestamp
    entities: tuple[tuple[str, str], ...]       # (entity_type, code)
    signals: tuple[SignalRef, ...]
    type: str
    depth: float
    kind: str
    title: str = ""
    sources: tuple[str, ...] = ()
    note: str = ""
    # which documented event edges this episode is the truth of ("kz-02-messengers@start"),
    # for scoring verdicts (benchmarks/score_scenarios.py); changes nothing in the data
    documents: tuple[str, ...] = ()

    def touches(self, etype: str, code: str) -> bool:
        return (etype, code) in self.entities


@dataclass(frozen=True)
class EntityNormal:
    """Normal behaviour of one entity: per IODA datasource, OONI volume/mix, Atlas probes."""
    entity_type: str
    code: str
    name: str = ""
    ioda: dict = field(default_factory=dict)     # datasource -> params
    ooni: dict = field(default_factory=dict)
    atlas: dict = field(default_factory=dict)
    center: tuple[float, float] | None = None    # (lat, lon) for probes placed in a region


@dataclass(frozen=True)
class Whitelist:
    """Ground truth: during [start, end) these domains answer while the rest is cut."""
    id: str
    start: pd.Timestamp
    end: pd.Timestamp
    domains: tuple[str, ...]
    sources: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteBehaviour:
    """Per-domain OONI web_connectivity tests in the country (``[sites]``)::

        [sites]
        rate = 0.3            # tests per hour per domain, normally (OONI: < 1)
        upload_floor = 0.15   # share of that volume still seen during a cut: results a
                              # probe could not upload are kept and sent later
        ok = 0.93             # normal share accessible; anomaly 0.03, rest failure
        [[sites.whitelists]]
        id = "..."; start = ...; end = ...; domains = ["a.kz", ...]; sources = [...]

    During a country cut (the country's ``ooni.measurements`` episodes) a test of a
    blocked domain fails with the control unreachable, which OONI scores *failure*; a
    whitelisted domain answers (ok).
    """
    rate: float = 0.3
    upload_floor: float = 0.15
    ok: float = 0.93
    anomaly: float = 0.03
    whitelists: tuple[Whitelist, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    path: Path
    synthetic: bool
    case: str | None
    fetched_utc: str
    defaults: dict                                 # entity type -> partial EntityNormal dict
    entities: tuple[EntityNormal, ...]
    episodes: tuple[Episode, ...]
    description: str = ""
    sites: "SiteBehaviour | None" = None


    def documented(self) -> dict:
        """event id -> the true UTC time of the change it documents, from the episodes'
        and whitelists' ``documents`` ("<event>@start|end")."""
        out = {}
        items = list(self.episodes) + list(self.sites.whitelists if self.sites else ())
        for it in items:
            for d in it.documents:
                eid, edge = d.split("@")
                out[eid] = it.start if edge == "start" else it.end
        return out

    def entity(self, etype: str, code: str) -> EntityNormal | None:
        for e in self.entities:
            if e.entity_type == etype and e.code == code:
                return e
        return None

    def normal(self, etype: str, code: str) -> EntityNormal:
        """Normal behaviour of an entity: declared, else the defaults for its type."""
        found = self.entity(etype, code)
        if found is not None:
            return found
        d = self.defaults.get(etype, {})
        return EntityNormal(etype, code, ioda=merge_ioda(d.get("ioda", {}), {}),
                            ooni=merge(BUILTIN_OONI, d.get("ooni", {})),
                            atlas=merge(BUILTIN_ATLAS, d.get("atlas", {})))


def merge(base: dict, over: dict) -> dict:
    out = dict(base)
    out.update(over)
    return out


def merge_ioda(defaults: dict, own: dict) -> dict:
    out = {}
    for ds in IODA_SIGNALS:
        out[ds] = merge(merge(BUILTIN_IODA[ds], defaults.get(ds, {})), own.get(ds, {}))
    return out
