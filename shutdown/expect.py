"""What each kind of documented event expects of each kind of signal: one table.

A signal says what it witnesses in its source's declaration (``witnesses``,
``shutdown.sources.registry``): users' access inside the country, the country's routes,
one app, one circumvention tool... with its own subtype (which probes) and reason. The
table below says, per event kind, how a witness of each of those should move. So the
knowledge is split where it belongs: the event kind's logic here, each upstream's
specifics (which OONI test sees which app, which Atlas probe class is end-user, why BGP
can miss a cut) in its source module, and no source is named here.

Order matters: alignment rows, and so the ties in an event's summary, follow the order
of ``expected_for``. A row's witnesses come in (declared ``rank``, registry order);
rows come in the table's order; then, for the access kinds, every other connectivity or
traffic signal in registry order.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Expected:
    """What one source/signal is expected to show for an event of some kind.

    ``shows``: "down" (connectivity or volume falls), "up" (it returns),
    "anomaly-up" (OONI anomaly share rises), "no-change" (the source should *not*
    move: a move there contradicts the scope), "may-not-show" (the source can
    miss it, e.g. BGP when routes stay up: its silence is not a contradiction),
    "listed-vs-control" (listed sites answer while a control set stays blocked).
    ``subtype`` None means any subtype.
    """
    source: str
    signal: str
    shows: str
    subtype: str | None = None
    why: str = ""


# What a signal can witness: ``registry.WITNESSES`` (the vocabulary the declarations use,
# checked when the registry loads, beside its ROLES and KINDS).
# Per event kind, its rows: (witness, shows, why). A row's why, when given, is the event
# kind's reason and replaces each signal's own.
TABLE: dict[str, tuple] = {
    "shutdown": (("access", "down", None), ("routes", "may-not-show", None),
                 ("infrastructure", "may-not-show", None)),
    "partial-restoration": (("access", "up", None), ("routes", "may-not-show", None),
                            ("infrastructure", "may-not-show", None)),
    "restoration": (("access", "up", None), ("routes", "may-not-show", None),
                    ("infrastructure", "may-not-show", None)),
    # a blocked service: its tests fail; connectivity should not move (controls)
    "restriction": (("app", "anomaly-up", None), ("hosts-online", "no-change", None),
                    ("probes-online", "no-change", None)),
    # Circumvention tools blocked: claimed for days of shutdown, so connectivity moving says
    # nothing for or against it (no "no-change" controls, unlike a restriction).
    "circumvention-blocked": (("circumvention", "anomaly-up", None),
                              ("circumvention-unscored", "may-not-show", None)),
    # A whitelist is a claim about *which* sites answered: per-domain tests of the listed
    # sites against a control set the case declares.
    "whitelist": (("sites", "listed-vs-control", None),
                  ("hosts-online", "no-change", "a whitelist opens a few sites, not general connectivity")),
    # Sites hosted in the country unreachable from the rest of the world; routes may stay
    # up; what sees from inside is not this claim.
    "unreachable-from-abroad": (("reached-from-abroad", "down", None),
                                ("routes", "may-not-show", "routes can stay announced while hosts do not answer")),
    "context": (),
}

# Kinds where access itself goes or returns: every signal a source declares with one of
# these roles is expected to move, whether or not it declares a witness (a new upstream's
# connectivity or traffic series joins without an edit anywhere).
MOVES_WITH_ACCESS = {"shutdown": "down", "partial-restoration": "up", "restoration": "up"}
ACCESS_ROLES = ("connectivity", "traffic")


def _row(witness: str, shows: str, why: str | None, signals) -> list[Expected]:
    found = [(w.rank, i, s, w) for i, s in enumerate(signals) for w in s.witnesses if w.what == witness]
    return [Expected(s.source, s.signal, shows, w.subtype, why if why is not None else w.why)
            for _, _, s, w in sorted(found, key=lambda x: x[:2])]


@functools.lru_cache(maxsize=None)
def expected_for(kind: str) -> list[Expected]:
    """What each declared signal is expected to show for an event of ``kind``: the
    table's rows, then (kinds in MOVES_WITH_ACCESS) every other ACCESS_ROLES signal."""
    from shutdown.sources import registry
    sigs = registry.signals()
    out = [e for witness, shows, why in TABLE[kind] for e in _row(witness, shows, why, sigs)]
    shows = MOVES_WITH_ACCESS.get(kind)
    if shows:
        named = {(e.source, e.signal) for e in out}
        out += [Expected(s.source, s.signal, shows, None, f"{s.label or s.signal}: {s.meaning}")
                for s in registry.signals(ACCESS_ROLES) if (s.source, s.signal) not in named]
    return out
