"""Which records of documenter A the other documenter B records too, by a named rule.

``run(a, b, rule)`` -> a plain dict (what ``shutdown match --format json`` prints):

    {"rule", "a", "b", "from", "to",
     "total": {"matched", "of"},            # of the records the rule expects B to hold
     "not_expected": {"matched", "of"},     # the rest: another kind or scope than B's
     "by": [{"group", "value", "matched", "of", "share"}],   # geo_scope, kind, network, year
     "why": [{"why", "count"}],             # why the expected ones went unmatched
     "pairs": [{"a", "b"}], "unmatched": [{"id", "expected", "why", "reason"}],
     "rows": [...]}                         # one per A record: its fields, matches, reason

A record may count in several ``kind`` and ``network`` groups (a STOP row can be a shutdown
and a throttling on mobile and broadband), as in the paper's table.
"""
from __future__ import annotations

import datetime as dt

from shutdown.documented.rules import sigcomm23, windows
from shutdown.documented.model import Documents
from shutdown.errors import InputError

RULES = {sigcomm23.NAME: sigcomm23, windows.NAME: windows}
GROUPS = ("geo_scope", "kind", "network", "year")


def groups(e) -> dict[str, list[str]]:
    d = e.start if not isinstance(e.start, dt.datetime) else e.start.date()
    return {"geo_scope": [e.scope], "kind": list(e.kinds) or ["unstated"],
            "network": list(e.networks) or ["unstated"], "year": [str(d.year)]}


def _share(m, n):
    return round(m / n, 4) if n else None


def run(a: Documents, b: Documents, rule: str = "windows", start: dt.date | None = None,
        end: dt.date | None = None) -> dict:
    if rule not in RULES:
        raise InputError(f"unknown rule {rule!r}; use {' or '.join(RULES)}", field="--rule")
    mod = RULES[rule]
    if rule == sigcomm23.NAME and start is None and end is None:
        start, end = sigcomm23.FROM, sigcomm23.TO
    chosen = [e for e in a.events if mod.base(e, start, end)]
    judged = mod.judge(chosen, b)
    # sigcomm23 counts every row of the base selection, as the paper does; windows counts
    # the rows B is expected to hold, and the others apart.
    counted = (lambda r: True) if rule == sigcomm23.NAME else (lambda r: r["expected"])
    by: dict[tuple[str, str], list[int]] = {}
    total = [0, 0]
    other = [0, 0]
    why: dict[str, int] = {}
    rows = []
    for e, r in zip(chosen, judged):
        hit = bool(r["matches"])
        tally = total if counted(r) else other
        tally[0] += hit
        tally[1] += 1
        if counted(r):
            for g, values in groups(e).items():
                for v in values:
                    c = by.setdefault((g, v), [0, 0])
                    c[0] += hit
                    c[1] += 1
            if not hit:
                why[r["why"]] = why.get(r["why"], 0) + 1
        rec = e.to_record()
        rows.append({"id": e.id, "country": e.country, "scope": e.scope, "area": rec["area"],
                     "kind": e.kind, "kinds": list(e.kinds), "networks": list(e.networks),
                     "start": rec["start"], "end": rec["end"], "start_utc": rec["start_utc"],
                     "end_utc": rec["end_utc"], "expected": r["expected"], "matched": hit,
                     "matches": r["matches"], "why": r["why"], "reason": r["reason"]})
    order = {g: i for i, g in enumerate(GROUPS)}
    return {
        "rule": rule, "a": {"documenter": a.documenter, "title": a.title, "path": a.path},
        "b": {"documenter": b.documenter, "title": b.title, "path": b.path},
        "from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
        "total": {"matched": total[0], "of": total[1], "share": _share(*total)},
        "not_expected": {"matched": other[0], "of": other[1], "share": _share(*other)},
        "by": [{"group": g, "value": v, "matched": m, "of": n, "share": _share(m, n)}
               for (g, v), (m, n) in sorted(by.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))],
        "why": [{"why": k, "count": n} for k, n in sorted(why.items(), key=lambda kv: -kv[1])],
        "pairs": [{"a": r["id"], "b": m} for r in rows for m in r["matches"]],
        "unmatched": [{"id": r["id"], "expected": r["expected"], "why": r["why"],
                       "reason": r["reason"]} for r in rows if not r["matched"]],
        "rows": rows,
        "notes": list(a.notes) + list(b.notes),
    }
