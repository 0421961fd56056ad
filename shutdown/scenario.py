"""Simulator scenarios: what happened, per entity and signal, as a TOML file.

A scenario (``data/scenarios/<name>.toml``) says how each entity behaves
normally and lists the ground-truth *episodes* -- the intervals in which some
signals of some entities fell (or, for OONI app tests, in which anomalies rose).
``shutdown.simulation`` turns it into raw upstream responses; the episodes are
the known truth detection is scored against.

File format (every field is checked; an unknown field is an error, to catch typos)::

    name = "kz-2022-01"
    title = "..."
    synthetic = false          # true: an invented test case, not documented reality
    case = "kz-2022-01"        # the case the scenario is written for
    fetched_utc = "2022-02-01T00:00:00Z"   # provenance time stamped on every response

    [defaults.asn]             # normal behaviour for any ASN entity (also "country", "region")
    ioda.ping-slash24 = { level = 300, daily = 0.1, noise = 0.03 }

    [[entities]]
    entity = "country:KZ"      # "country:XX" | "asn:9198" | "region:Almaty"
    ioda.bgp = { level = 2600, noise = 0.002, missing = 0.001, glitch = 0.0005 }
    ooni = { level = 30, daily = 0.5, anomaly = 0.02, failure = 0.01,
             tests = { web_connectivity = 0.85, telegram = 0.04 } }
    atlas = { probes = 20, infrastructure = 4 }

    [[episodes]]
    id = "kz-national-cut"
    start = 2022-01-05T11:15:00Z
    end = 2022-01-06T00:00:00Z
    entities = ["country:KZ", "asn:9198"]
    signals = ["ioda.ping-slash24", "ooni.measurements", "atlas.probes_reachable:end-user"]
    type = "cut"               # cut | throttling | service-block
    depth = 0.97               # fraction of normal lost (service-block: anomaly share)
    kind = "full"              # optional: full | partial (default: full when depth >= 0.9)
    sources = ["https://... -- what it says"]

Normal-behaviour parameters of an IODA signal: ``level`` (typical value),
``daily`` (relative amplitude of the daily cycle), ``peak_utc`` (UTC hour of the
daily peak), ``noise`` (relative standard deviation per bin), ``missing``
(probability a bin is null), ``glitch`` (probability a bin is a spurious dip).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from shutdown.errors import InputError
from shutdown.paths import list_named, resolve_named
from shutdown.schema import ATLAS_PROBE_CLASSES, ENTITY_TYPES, OONI_ALL_TESTS as OONI_TESTS
from shutdown.tomlfile import read_toml
from shutdown.validate import (FIRST_DATE, LAST_DATE, check_date, finite_number, unknown_keys,
                               whole_number)

# Ranges of the normal-behaviour parameters: beyond them the simulator would overflow
# or run for hours; no real signal comes near them.
MAX_LEVEL = 1e9
MAX_NOISE = 10.0
MAX_PROBES = 20_000              # RIPE Atlas probes of one entity; a country has at most a few thousand

IODA_SIGNALS = ("bgp", "ping-slash24", "merit-nt", "gtr")
MODELLED = ("ioda", "ooni", "atlas")       # the sources the simulated world itself produces
EPISODE_TYPES = ("cut", "throttling", "service-block")
FULL_DEPTH = 0.9                 # depth from which an episode is a "full" cut by default

_IODA_KEYS = {"level", "daily", "peak_utc", "noise", "missing", "glitch"}
_OONI_KEYS = {"level", "daily", "peak_utc", "noise", "anomaly", "failure", "confirmed", "tests"}
_ATLAS_KEYS = {"probes", "infrastructure", "missing"}
_EPISODE_KEYS = {"documents", "id", "title", "start", "end", "entities", "signals", "type", "depth", "kind",
                 "sources", "note"}
_TOP_KEYS = {"sites", "name", "title", "description", "synthetic", "case", "fetched_utc", "defaults",
             "entities", "episodes", "notes"}

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
        return EntityNormal(etype, code, ioda=_merge_ioda(d.get("ioda", {}), {}),
                            ooni=_merge(BUILTIN_OONI, d.get("ooni", {})),
                            atlas=_merge(BUILTIN_ATLAS, d.get("atlas", {})))


def list_scenarios() -> list[str]:
    return list_named("scenarios")


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A scenario is named (``kz-2022-01``) or given as a path to its TOML file."""
    return resolve_named("scenario", "scenarios", name_or_path)


# -- loading -------------------------------------------------------------------------
def load_scenario(name_or_path: str | Path) -> Scenario:
    path = resolve_scenario_path(name_or_path)
    raw = read_toml(path)
    _no_unknown(raw, _TOP_KEYS, path, "scenario")

    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise InputError("expected a non-empty name", path=path, where="scenario", field="name")
    synthetic = raw.get("synthetic", False)
    if not isinstance(synthetic, bool):
        raise InputError("expected true or false", path=path, where="scenario", field="synthetic")
    fetched = raw.get("fetched_utc", "1970-01-01T00:00:00Z")
    fetched_ts = _utc_any(fetched, path, "scenario", "fetched_utc")
    fetched = fetched_ts.strftime("%Y-%m-%dT%H:%M:%SZ")

    defaults = {}
    rawdef = raw.get("defaults", {})
    if not isinstance(rawdef, dict):
        raise InputError("expected a table [defaults.<entity type>]", path=path, field="defaults")
    for etype, block in rawdef.items():
        where = f"defaults.{etype}"
        if etype not in ENTITY_TYPES:
            raise InputError(f"unknown entity type {etype!r}; known: {', '.join(ENTITY_TYPES)}",
                             path=path, where="defaults", field=etype)
        defaults[etype] = _behaviour(block, path, where, allow_meta=False)

    entities = []
    seen = set()
    for i, block in enumerate(_table_list(raw, "entities", path)):
        where = f"entities[{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("entity"), str):
            raise InputError("each entity needs 'entity' = \"country:XX\" | \"asn:N\" | \"region:Name\"",
                             path=path, where=where, field="entity")
        etype, code = _entity_ref(block["entity"], path, where, "entity")
        if (etype, code) in seen:
            raise InputError(f"entity {block['entity']!r} is declared twice", path=path, where=where,
                             field="entity")
        seen.add((etype, code))
        beh = _behaviour(block, path, where, allow_meta=True)
        d = defaults.get(etype, {})
        entities.append(EntityNormal(
            etype, code, name=str(block.get("name", "")),
            ioda=_merge_ioda(d.get("ioda", {}), beh.get("ioda", {})),
            ooni=_merge(_merge(BUILTIN_OONI, d.get("ooni", {})), beh.get("ooni", {})),
            atlas=_merge(_merge(BUILTIN_ATLAS, d.get("atlas", {})), beh.get("atlas", {})),
            center=beh.get("center")))

    episodes = []
    ids = set()
    for i, block in enumerate(_table_list(raw, "episodes", path)):
        ep = _episode(block, i, path, seen)
        if ep.id in ids:
            raise InputError(f"episode id {ep.id!r} is used twice", path=path,
                             where=f"episodes[{i}]", field="id")
        ids.add(ep.id)
        episodes.append(ep)
    _check_overlaps(episodes, path)

    return Scenario(name=name, title=str(raw.get("title", name)), path=path, synthetic=synthetic,
                    case=raw.get("case"), fetched_utc=fetched, defaults=defaults,
                    entities=tuple(entities), episodes=tuple(episodes),
                    description=str(raw.get("description", "")),
                    sites=_sites(raw.get("sites"), path))


def _documents(block, path, where) -> tuple[str, ...]:
    docs = block.get("documents", [])
    if not isinstance(docs, list) or not all(
            isinstance(d, str) and d.count("@") == 1 and d.split("@")[1] in ("start", "end")
            for d in docs):
        raise InputError("expected a list like [\"kz-02-messengers@start\"] (event id @ start|end)",
                         path=path, where=where, field="documents")
    return tuple(docs)


def _sites(block, path) -> SiteBehaviour | None:
    if block is None:
        return None
    where = "sites"
    if not isinstance(block, dict):
        raise InputError("expected a table [sites]", path=path, field="sites")
    _no_unknown(block, {"rate", "upload_floor", "ok", "anomaly", "whitelists"}, path, where)
    nums = {}
    for k in ("rate", "upload_floor", "ok", "anomaly"):
        if k in block:
            v = block[k]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0 or \
                    (k != "rate" and v > 1):
                raise InputError(f"expected a number{' in 0..1' if k != 'rate' else ' >= 0'}, "
                                 f"got {v!r}", path=path, where=where, field=k)
            nums[k] = float(v)
    wls = []
    for i, w in enumerate(block.get("whitelists", [])):
        ww = f"sites.whitelists[{i}]"
        if not isinstance(w, dict):
            raise InputError("expected a table", path=path, where=ww)
        _no_unknown(w, {"id", "start", "end", "domains", "sources", "note", "documents"}, path, ww)
        for k in ("id", "start", "end", "domains"):
            if k not in w:
                raise InputError("missing", path=path, where=ww, field=k)
        a, b = _utc(w["start"], path, ww, "start"), _utc(w["end"], path, ww, "end")
        if b <= a:
            raise InputError("end is not after start", path=path, where=ww, field="end")
        doms = w["domains"]
        if not isinstance(doms, list) or not all(isinstance(d, str) and "." in d for d in doms):
            raise InputError("expected a list of domain names", path=path, where=ww, field="domains")
        wls.append(Whitelist(str(w["id"]), a, b, tuple(d.lower() for d in doms),
                             tuple(str(x) for x in w.get("sources", [])),
                             _documents(w, path, ww)))
    return SiteBehaviour(**nums, whitelists=tuple(wls))


def _table_list(raw, key, path):
    val = raw.get(key, [])
    if not isinstance(val, list):
        raise InputError(f"expected an array of tables [[{key}]]", path=path, field=key)
    return val


def _no_unknown(block: dict, allowed: set, path, where):
    unknown_keys(block, allowed, path, where)


def _entity_ref(s: str, path, where, fieldname) -> tuple[str, str]:
    etype, sep, code = s.partition(":")
    if not sep or etype not in ENTITY_TYPES or not code.strip():
        raise InputError(f"expected \"country:XX\", \"asn:N\" or \"region:Name\", got {s!r}",
                         path=path, where=where, field=fieldname)
    code = code.strip()
    if etype == "country":
        code = code.upper()
        if len(code) != 2 or not code.isalpha():
            raise InputError(f"expected a two-letter country code, got {code!r}", path=path,
                             where=where, field=fieldname)
    if etype == "asn":
        code = code.upper().removeprefix("AS")
        if not code.isdigit():
            raise InputError(f"expected an AS number, got {s!r}", path=path, where=where,
                             field=fieldname)
    return etype, code


def _number(val, path, where, fieldname, lo=None, hi=None):
    return finite_number(val, path, where, fieldname, lo, hi)


def _behaviour(block: dict, path, where, allow_meta: bool) -> dict:
    """The normal-behaviour part of an entity or defaults block, validated."""
    if not isinstance(block, dict):
        raise InputError("expected a table", path=path, where=where)
    allowed = {"ioda", "ooni", "atlas"} | ({"entity", "name", "center"} if allow_meta else set())
    _no_unknown(block, allowed, path, where)
    out: dict = {}
    ioda = block.get("ioda", {})
    if not isinstance(ioda, dict):
        raise InputError("expected a table of IODA datasources", path=path, where=where, field="ioda")
    out["ioda"] = {}
    for ds, params in ioda.items():
        w = f"{where}.ioda"
        if ds not in IODA_SIGNALS:
            raise InputError(f"unknown signal {ds!r}; known IODA signals: {', '.join(IODA_SIGNALS)}",
                             path=path, where=w, field=ds)
        out["ioda"][ds] = _params(params, _IODA_KEYS, path, f"{w}.{ds}")
    if "ooni" in block:
        out["ooni"] = _params(block["ooni"], _OONI_KEYS, path, f"{where}.ooni")
    if "atlas" in block:
        out["atlas"] = _params(block["atlas"], _ATLAS_KEYS, path, f"{where}.atlas")
        a = out["atlas"]
        if a.get("infrastructure", 0) > a.get("probes", a.get("infrastructure", 0)):
            raise InputError("more infrastructure probes than probes", path=path,
                             where=f"{where}.atlas", field="infrastructure")
    if "center" in block:
        c = block["center"]
        if (not isinstance(c, list) or len(c) != 2):
            raise InputError("expected [latitude, longitude]", path=path, where=where, field="center")
        out["center"] = (_number(c[0], path, where, "center", -90, 90),
                         _number(c[1], path, where, "center", -180, 180))
    return out


def _params(params, allowed, path, where) -> dict:
    if not isinstance(params, dict):
        raise InputError("expected a table of parameters", path=path, where=where)
    _no_unknown(params, allowed, path, where)
    out = {}
    for k, v in params.items():
        if k == "tests":
            if not isinstance(v, dict) or not v:
                raise InputError("expected a table test name -> share", path=path, where=where, field=k)
            for t, share in v.items():
                if t not in OONI_TESTS:
                    raise InputError(f"unknown OONI test {t!r}; known: {', '.join(OONI_TESTS)}",
                                     path=path, where=f"{where}.tests", field=t)
                _number(share, path, f"{where}.tests", t, 0)
            out[k] = {t: float(s) for t, s in v.items()}
        elif k in ("probes", "infrastructure"):
            out[k] = whole_number(v, path, where, k, 0, MAX_PROBES)
        elif k == "peak_utc":
            out[k] = _number(v, path, where, k, 0, 24)
        elif k in ("missing", "glitch", "anomaly", "failure", "confirmed", "daily"):
            out[k] = _number(v, path, where, k, 0, 1)
        elif k == "noise":
            out[k] = _number(v, path, where, k, 0, MAX_NOISE)
        else:
            out[k] = _number(v, path, where, k, 0, MAX_LEVEL)
    return out


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    out.update(over)
    return out


def _merge_ioda(defaults: dict, own: dict) -> dict:
    out = {}
    for ds in IODA_SIGNALS:
        out[ds] = _merge(_merge(BUILTIN_IODA[ds], defaults.get(ds, {})), own.get(ds, {}))
    return out


def _utc(val, path, where, fieldname) -> pd.Timestamp:
    """A UTC instant from a TOML offset datetime or an ISO string with a zone, in the
    dates the tool handles."""
    ts = _utc_any(val, path, where, fieldname)
    check_date(ts.date(), path, where, fieldname)
    return ts


def _utc_any(val, path, where, fieldname) -> pd.Timestamp:
    if isinstance(val, dt.datetime):
        if val.tzinfo is not None and not FIRST_DATE <= val.date() <= LAST_DATE:
            check_date(val.date(), path, where, fieldname)
        if val.tzinfo is None:
            raise InputError("give the time zone (e.g. 2022-01-05T11:15:00Z); a local time is ambiguous",
                             path=path, where=where, field=fieldname)
        return pd.Timestamp(val).tz_convert("UTC")
    if isinstance(val, str):
        try:
            ts = pd.Timestamp(val)
        except (ValueError, TypeError, OverflowError):
            ts = None
        if ts is None or ts is pd.NaT:
            raise InputError(f"not a date-time: {val!r}", path=path, where=where, field=fieldname)
        if ts.tzinfo is None:
            raise InputError("give the time zone (e.g. \"2022-01-05T11:15:00Z\")", path=path,
                             where=where, field=fieldname)
        return ts.tz_convert("UTC")
    raise InputError(f"expected a UTC date-time such as 2022-01-05T11:15:00Z, got {val!r}",
                     path=path, where=where, field=fieldname)


def _modelled_signals() -> list[tuple[str, str]]:
    """(source, signal) of the sources the simulated world models (the others render
    from them: Radar follows IODA), as their declarations list them."""
    from shutdown.sources import registry
    return [(s.source, s.signal) for src in registry.sources().values() if src.name in MODELLED
            for s in src.signals]


def parse_signal_ref(s, path=None, where=None, fieldname="signals") -> SignalRef:
    """``"ioda.ping-slash24"``, ``"ooni.telegram"``, ``"atlas.probes_reachable:end-user"``."""
    if not isinstance(s, str):
        raise InputError(f"expected a signal name string, got {s!r}", path=path, where=where,
                         field=fieldname)
    head, _, subtype = s.partition(":")
    source, dot, signal = head.partition(".")
    known = _modelled_signals()
    if not dot or (source, signal) not in known:
        known = ", ".join(f"{a}.{b}" for a, b in known)
        raise InputError(f"unknown signal {s!r}; known: {known}", path=path, where=where,
                         field=fieldname)
    if source == "atlas" and subtype and subtype not in ATLAS_PROBE_CLASSES:
        raise InputError(f"unknown probe class {subtype!r} in {s!r}; known: "
                         f"{', '.join(ATLAS_PROBE_CLASSES)}", path=path, where=where, field=fieldname)
    if source == "ooni" and subtype:
        raise InputError(f"OONI signals take no subtype here, got {s!r} (use \"ooni.telegram\" "
                         "for the telegram test, \"ooni.measurements\" for volume)", path=path,
                         where=where, field=fieldname)
    if source == "ioda" and subtype and signal != "gtr":
        raise InputError(f"only ioda.gtr has subtypes, got {s!r}", path=path, where=where,
                         field=fieldname)
    return SignalRef(source, signal, subtype)


def _episode(block, i, path, declared) -> Episode:
    where = f"episodes[{i}]"
    if not isinstance(block, dict):
        raise InputError("expected a table", path=path, where=where)
    eid = block.get("id")
    if not isinstance(eid, str) or not eid:
        raise InputError("each episode needs an 'id'", path=path, where=where, field="id")
    where = f"episode {eid!r}"
    _no_unknown(block, _EPISODE_KEYS, path, where)
    for k in ("start", "end", "entities", "signals", "depth"):
        if k not in block:
            raise InputError("missing", path=path, where=where, field=k)
    start = _utc(block["start"], path, where, "start")
    end = _utc(block["end"], path, where, "end")
    if end <= start:
        raise InputError(f"end {end:%Y-%m-%dT%H:%MZ} is not after start {start:%Y-%m-%dT%H:%MZ}",
                         path=path, where=where, field="end")
    ents = block["entities"]
    if not isinstance(ents, list) or not ents:
        raise InputError("expected a non-empty list such as [\"country:KZ\"]", path=path,
                         where=where, field="entities")
    refs = []
    for e in ents:
        if not isinstance(e, str):
            raise InputError(f"expected an entity string, got {e!r}", path=path, where=where,
                             field="entities")
        ref = _entity_ref(e, path, where, "entities")
        if ref not in declared:
            raise InputError(f"unknown entity {e!r}: declare it in [[entities]] first", path=path,
                             where=where, field="entities")
        refs.append(ref)
    sigs = block["signals"]
    if not isinstance(sigs, list) or not sigs:
        raise InputError("expected a non-empty list such as [\"ioda.ping-slash24\"]", path=path,
                         where=where, field="signals")
    signals = tuple(parse_signal_ref(s, path, where, "signals") for s in sigs)
    etype = block.get("type", "cut")
    if etype not in EPISODE_TYPES:
        raise InputError(f"unknown type {etype!r}; known: {', '.join(EPISODE_TYPES)}", path=path,
                         where=where, field="type")
    if etype == "service-block":
        bad = [str(s) for s in signals if not (s.source == "ooni" and s.signal in OONI_TESTS)]
        if bad:
            raise InputError(f"a service block shows only in OONI app tests (e.g. \"ooni.telegram\"), "
                             f"not {', '.join(bad)}", path=path, where=where, field="signals")
    else:
        bad = [str(s) for s in signals if s.source == "ooni" and s.signal in OONI_TESTS]
        if bad:
            raise InputError(f"{', '.join(bad)} (an app test) belongs in a type = \"service-block\" "
                             "episode", path=path, where=where, field="signals")
    depth = _number(block["depth"], path, where, "depth", 0, 1)
    kind = block.get("kind", "full" if depth >= FULL_DEPTH else "partial")
    if kind not in ("full", "partial"):
        raise InputError(f"expected \"full\" or \"partial\", got {kind!r}", path=path, where=where,
                         field="kind")
    sources = block.get("sources", [])
    if isinstance(sources, str):
        sources = [sources]
    return Episode(id=eid, start=start, end=end, entities=tuple(refs), signals=signals, type=etype,
                   depth=depth, kind=kind, title=str(block.get("title", "")),
                   sources=tuple(str(s) for s in sources), note=str(block.get("note", "")),
                   documents=_documents(block, path, where))


def effect_keys(ep: Episode):
    """What an episode acts on, one key per (entity, source, signal, subtype) it changes.

    Atlas signals act on a probe class as a whole (a cut probe stops connecting,
    reaching and answering at once), so they are keyed by class.
    """
    for etype, code in ep.entities:
        for s in ep.signals:
            if s.source == "atlas":
                for cls in ([s.subtype] if s.subtype else ATLAS_PROBE_CLASSES):
                    yield (etype, code, "atlas", "probes", cls)
            else:
                yield (etype, code, s.source, s.signal, s.subtype)


def _check_overlaps(episodes: list[Episode], path) -> None:
    """Two episodes acting on the same thing at the same time must agree (type and depth)."""
    by_key: dict = {}
    for ep in episodes:
        for key in set(effect_keys(ep)):
            by_key.setdefault(key, []).append(ep)
    for key, eps in by_key.items():
        eps = sorted(eps, key=lambda e: e.start)
        for a, b in zip(eps, eps[1:]):
            if b.start < a.end and (a.depth != b.depth or a.type != b.type):
                etype, code, source, signal, sub = key
                what = f"{etype}:{code} {source}.{signal}" + (f":{sub}" if sub else "")
                raise InputError(
                    f"overlaps episode {a.id!r} on {what} ({b.start:%Y-%m-%dT%H:%MZ} < "
                    f"{a.end:%Y-%m-%dT%H:%MZ}) with a different depth or type: contradictory. "
                    "Split the interval so each instant has one depth",
                    path=path, where=f"episode {b.id!r}", field="start")
