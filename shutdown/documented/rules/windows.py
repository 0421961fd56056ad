"""Our rule, ``windows``: two records match when their windows overlap in time, each taken in
its own precision and zone (a STOP local day is the whole local day in every zone of the
country; an IODA row its UTC minutes), at a scope both can mean, for a kind B can record.

* scope: national <-> B's country-level records; regional and local <-> B's records of the
  same area (names folded: accents, case, punctuation); network <-> the same ASN; a record
  whose scope its documenter left unsaid <-> any of B's records of the country;
* kind: an A record B cannot see (B.sees: IODA's curated list holds connectivity outages,
  never a blocked service; a throttled network may not show either) is "not expected";
  a scope B does not resolve (IODA has no city) is "not expected" too. Either is still
  matched when B has a record, and counted apart;
* each unmatched A record says why: B records nothing in the country, nothing in its time
  span at all (before or after B's list covers), nothing at that scope or area, or the
  nearest record of the same scope and how far from A's window it lies.
"""
from __future__ import annotations

import datetime as dt

from shutdown.documented.countries import fold
from shutdown.documented.model import Documented, Documents

NAME = "windows"


def _area_match(a_areas, b_areas) -> bool:
    fa = [fold(x) for x in a_areas if fold(x)]
    fb = [fold(x) for x in b_areas if fold(x)]
    return any(x == y or f" {x} " in f" {y} " or f" {y} " in f" {x} " for x in fa for y in fb)


def scope_ok(a: Documented, b: Documented) -> bool:
    if a.scope == "unknown" or b.scope == "unknown":
        return True
    if a.scope == "national":
        return b.scope == "national"
    if a.scope in ("regional", "local"):
        return b.scope in ("regional", "local") and _area_match(a.areas, b.areas)
    if a.scope == "network":
        return b.scope == "network" and bool(set(a.asns) & set(b.asns))
    return False


def expected(a: Documented, b: Documents) -> tuple[bool, str]:
    seen = [k for k in a.kinds if k in b.sees]
    if not seen:
        return False, (f"{b.title} records only {', '.join(b.sees)}; this is "
                       f"{', '.join(a.kinds) or 'of no stated kind'}")
    if a.scope not in b.resolves and a.scope != "unknown":
        return False, f"{b.title} does not resolve {a.scope} scope ({', '.join(b.resolves)} only)"
    return True, ""


def _gap_days(wa, wb) -> float:
    """Days between two windows (0 when they overlap); negative: B lies before A."""
    if wb[1] <= wa[0]:
        return -(wa[0] - wb[1]).total_seconds() / 86400
    if wb[0] >= wa[1]:
        return (wb[0] - wa[1]).total_seconds() / 86400
    return 0.0


def judge(a: list[Documented], b: Documents) -> list[dict]:
    by_country: dict[str, list[Documented]] = {}
    for e in b.events:
        if e.country:
            by_country.setdefault(e.country, []).append(e)
    windows = {e.id: e.window_utc for e in b.events}
    span = (min((w[0] for w in windows.values()), default=None),
            max((w[1] for w in windows.values()), default=None))
    out = []
    for e in a:
        wa = e.window_utc
        exp, why_not = expected(e, b)
        row = {"id": e.id, "expected": exp, "matches": [], "reason": "" if exp else why_not,
               "why": ""}
        cands = by_country.get(e.country, []) if e.country else []
        hits = [f for f in cands if scope_ok(e, f) and _gap_days(wa, windows[f.id]) == 0]
        row["matches"] = [f.id for f in hits]
        if hits:
            out.append(row)
            continue
        if not e.country:
            why, reason = "no-country-code", f"country {e.country_name!r} has no ISO 3166 code"
        elif span[0] is None or wa[1] <= span[0] or wa[0] >= span[1]:
            why = "outside-span"
            reason = (f"outside the span {b.title} covers "
                      f"({span[0]:%Y-%m-%d} to {span[1]:%Y-%m-%d})" if span[0] else
                      f"{b.title} holds no records")
        elif not cands:
            why, reason = "none-in-country", f"{b.title} records no outage in {e.country}"
        else:
            same_scope = [f for f in cands if scope_ok(e, f)]
            in_time = [f for f in cands if _gap_days(wa, windows[f.id]) == 0]
            if not same_scope:
                why = "other-scope"
                reason = (f"{b.title} records {e.country} only at other scopes or areas "
                          f"({', '.join(sorted({f.scope for f in cands}))})")
            elif in_time:
                why = "other-scope-in-window"
                reason = (f"{b.title} records {e.country} in this window only at another "
                          f"scope or area: " + ", ".join(f"{f.scope}"
                                                         + (f" {'/'.join(f.areas)}" if f.areas
                                                            else "") for f in in_time[:3]))
            else:
                near = min(same_scope, key=lambda f: abs(_gap_days(wa, windows[f.id])))
                g = _gap_days(wa, windows[near.id])
                why = "none-in-window"
                reason = (f"nearest {b.title} record at this scope ({near.id}) "
                          f"{abs(g):.1f} days {'before' if g < 0 else 'after'} the window")
        row["reason"] = reason if exp else f"{why_not}; {reason}"
        row["why"] = why
        out.append(row)
    return out



def base(e: Documented, start: dt.date | None, end: dt.date | None) -> bool:
    d = e.start if not isinstance(e.start, dt.datetime) else e.start.date()
    return (start is None or d >= start) and (end is None or d <= end)
