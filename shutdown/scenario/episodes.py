"""The ground-truth episodes of a scenario: the signals they name, what each acts on,
and the rule that two episodes acting on the same thing at once must agree."""
from __future__ import annotations

from shutdown.errors import InputError
from shutdown.schema import ATLAS_PROBE_CLASSES, OONI_ALL_TESTS as OONI_TESTS
from shutdown.scenario.fields import documents, entity_ref, utc
from shutdown.scenario.model import EPISODE_TYPES, FULL_DEPTH, MODELLED, Episode, SignalRef
from shutdown.validate import finite_number, unknown_keys

_EPISODE_KEYS = {"documents", "id", "title", "start", "end", "entities", "signals", "type", "depth", "kind",
                 "sources", "note"}


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


def read_episode(block, i, path, declared) -> Episode:
    where = f"episodes[{i}]"
    if not isinstance(block, dict):
        raise InputError("expected a table", path=path, where=where)
    eid = block.get("id")
    if not isinstance(eid, str) or not eid:
        raise InputError("each episode needs an 'id'", path=path, where=where, field="id")
    where = f"episode {eid!r}"
    unknown_keys(block, _EPISODE_KEYS, path, where)
    for k in ("start", "end", "entities", "signals", "depth"):
        if k not in block:
            raise InputError("missing", path=path, where=where, field=k)
    start = utc(block["start"], path, where, "start")
    end = utc(block["end"], path, where, "end")
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
        ref = entity_ref(e, path, where, "entities")
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
    depth = finite_number(block["depth"], path, where, "depth", 0, 1)
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
                   documents=documents(block, path, where))


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


def check_overlaps(episodes: list[Episode], path) -> None:
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
