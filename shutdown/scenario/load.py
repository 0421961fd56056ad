"""Reading a scenario file: every field checked, an unknown one refused (to catch
typos), the result a ``model.Scenario``."""
from __future__ import annotations

from pathlib import Path

from shutdown.errors import InputError
from shutdown.paths import list_named, resolve_named
from shutdown.schema import ENTITY_TYPES, OONI_ALL_TESTS as OONI_TESTS
from shutdown.scenario.episodes import check_overlaps, read_episode
from shutdown.scenario.fields import documents, entity_ref, table_list, utc, utc_any
from shutdown.scenario.model import (BUILTIN_ATLAS, BUILTIN_OONI, IODA_SIGNALS, MAX_LEVEL,
                                     MAX_NOISE, MAX_PROBES, EntityNormal, Scenario,
                                     SiteBehaviour, Whitelist, merge, merge_ioda)
from shutdown.tomlfile import read_toml
from shutdown.validate import finite_number, unknown_keys, whole_number

_IODA_KEYS = {"level", "daily", "peak_utc", "noise", "missing", "glitch"}
_OONI_KEYS = {"level", "daily", "peak_utc", "noise", "anomaly", "failure", "confirmed", "tests"}
_ATLAS_KEYS = {"probes", "infrastructure", "missing"}
_TOP_KEYS = {"sites", "name", "title", "description", "synthetic", "case", "fetched_utc", "defaults",
             "entities", "episodes", "notes"}


def list_scenarios() -> list[str]:
    return list_named("scenarios")


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A scenario is named (``kz-2022-01``) or given as a path to its TOML file."""
    return resolve_named("scenario", "scenarios", name_or_path)


# -- loading -------------------------------------------------------------------------
def load_scenario(name_or_path: str | Path) -> Scenario:
    path = resolve_scenario_path(name_or_path)
    raw = read_toml(path)
    unknown_keys(raw, _TOP_KEYS, path, "scenario")

    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise InputError("expected a non-empty name", path=path, where="scenario", field="name")
    synthetic = raw.get("synthetic", False)
    if not isinstance(synthetic, bool):
        raise InputError("expected true or false", path=path, where="scenario", field="synthetic")
    fetched = raw.get("fetched_utc", "1970-01-01T00:00:00Z")
    fetched_ts = utc_any(fetched, path, "scenario", "fetched_utc")
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
    for i, block in enumerate(table_list(raw, "entities", path)):
        where = f"entities[{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("entity"), str):
            raise InputError("each entity needs 'entity' = \"country:XX\" | \"asn:N\" | \"region:Name\"",
                             path=path, where=where, field="entity")
        etype, code = entity_ref(block["entity"], path, where, "entity")
        if (etype, code) in seen:
            raise InputError(f"entity {block['entity']!r} is declared twice", path=path, where=where,
                             field="entity")
        seen.add((etype, code))
        beh = _behaviour(block, path, where, allow_meta=True)
        d = defaults.get(etype, {})
        entities.append(EntityNormal(
            etype, code, name=str(block.get("name", "")),
            ioda=merge_ioda(d.get("ioda", {}), beh.get("ioda", {})),
            ooni=merge(merge(BUILTIN_OONI, d.get("ooni", {})), beh.get("ooni", {})),
            atlas=merge(merge(BUILTIN_ATLAS, d.get("atlas", {})), beh.get("atlas", {})),
            center=beh.get("center")))

    episodes = []
    ids = set()
    for i, block in enumerate(table_list(raw, "episodes", path)):
        ep = read_episode(block, i, path, seen)
        if ep.id in ids:
            raise InputError(f"episode id {ep.id!r} is used twice", path=path,
                             where=f"episodes[{i}]", field="id")
        ids.add(ep.id)
        episodes.append(ep)
    check_overlaps(episodes, path)

    return Scenario(name=name, title=str(raw.get("title", name)), path=path, synthetic=synthetic,
                    case=raw.get("case"), fetched_utc=fetched, defaults=defaults,
                    entities=tuple(entities), episodes=tuple(episodes),
                    description=str(raw.get("description", "")),
                    sites=_sites(raw.get("sites"), path))


def _sites(block, path) -> SiteBehaviour | None:
    if block is None:
        return None
    where = "sites"
    if not isinstance(block, dict):
        raise InputError("expected a table [sites]", path=path, field="sites")
    unknown_keys(block, {"rate", "upload_floor", "ok", "anomaly", "whitelists"}, path, where)
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
        unknown_keys(w, {"id", "start", "end", "domains", "sources", "note", "documents"}, path, ww)
        for k in ("id", "start", "end", "domains"):
            if k not in w:
                raise InputError("missing", path=path, where=ww, field=k)
        a, b = utc(w["start"], path, ww, "start"), utc(w["end"], path, ww, "end")
        if b <= a:
            raise InputError("end is not after start", path=path, where=ww, field="end")
        doms = w["domains"]
        if not isinstance(doms, list) or not all(isinstance(d, str) and "." in d for d in doms):
            raise InputError("expected a list of domain names", path=path, where=ww, field="domains")
        wls.append(Whitelist(str(w["id"]), a, b, tuple(d.lower() for d in doms),
                             tuple(str(x) for x in w.get("sources", [])),
                             documents(w, path, ww)))
    return SiteBehaviour(**nums, whitelists=tuple(wls))


def _behaviour(block: dict, path, where, allow_meta: bool) -> dict:
    """The normal-behaviour part of an entity or defaults block, validated."""
    if not isinstance(block, dict):
        raise InputError("expected a table", path=path, where=where)
    allowed = {"ioda", "ooni", "atlas"} | ({"entity", "name", "center"} if allow_meta else set())
    unknown_keys(block, allowed, path, where)
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
        out["center"] = (finite_number(c[0], path, where, "center", -90, 90),
                         finite_number(c[1], path, where, "center", -180, 180))
    return out


def _params(params, allowed, path, where) -> dict:
    if not isinstance(params, dict):
        raise InputError("expected a table of parameters", path=path, where=where)
    unknown_keys(params, allowed, path, where)
    out = {}
    for k, v in params.items():
        if k == "tests":
            if not isinstance(v, dict) or not v:
                raise InputError("expected a table test name -> share", path=path, where=where, field=k)
            for t, share in v.items():
                if t not in OONI_TESTS:
                    raise InputError(f"unknown OONI test {t!r}; known: {', '.join(OONI_TESTS)}",
                                     path=path, where=f"{where}.tests", field=t)
                finite_number(share, path, f"{where}.tests", t, 0)
            out[k] = {t: float(s) for t, s in v.items()}
        elif k in ("probes", "infrastructure"):
            out[k] = whole_number(v, path, where, k, 0, MAX_PROBES)
        elif k == "peak_utc":
            out[k] = finite_number(v, path, where, k, 0, 24)
        elif k in ("missing", "glitch", "anomaly", "failure", "confirmed", "daily"):
            out[k] = finite_number(v, path, where, k, 0, 1)
        elif k == "noise":
            out[k] = finite_number(v, path, where, k, 0, MAX_NOISE)
        else:
            out[k] = finite_number(v, path, where, k, 0, MAX_LEVEL)
    return out
