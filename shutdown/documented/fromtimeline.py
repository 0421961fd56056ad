"""A report's timeline (data/events/*.toml) as Documented records, so the report itself is one
documenter among others and can be matched against STOP, IODA or Radar.

The timeline does not name its country; the case that uses it does. An event keeps its own
window (``timeline.Event.window_utc``: day, night, hour or minute in the report's zone).
Restorations and context are not outages: they are left out, and said so.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from shutdown.documented.model import Documented, Documents
from shutdown.errors import InputError

DOCUMENTER = "report"
# timeline kind -> documented kinds. A whitelist is a shutdown with a few sites let through;
# an unreachable-from-abroad claim is a cut of the country's hosts, seen from outside.
KIND_MAP = {
    "shutdown": ("shutdown",), "whitelist": ("shutdown",),
    "unreachable-from-abroad": ("shutdown",),
    "restriction": ("service-based",), "circumvention-blocked": ("service-based",),
}


def case_for(timeline_path: Path):
    """The case in data/cases whose timeline is this file, or None."""
    from shutdown.case import list_cases, load_case
    for name in list_cases():
        try:
            c = load_case(name)
        except InputError:
            continue
        if c.timeline_path.resolve() == timeline_path.resolve():
            return c
    return None


def read(path, country: str | None = None) -> Documents:
    """A timeline file or a case (name or file) as Documents."""
    from shutdown.case import load_case, resolve_case_path
    from shutdown.timeline import load_timeline
    p = Path(path)
    case = None
    if p.suffix == ".toml" and p.exists() and "events" not in _top_keys(p):
        case = load_case(p)
    elif not p.exists():
        case = load_case(str(path))          # a case name; an unknown one is the user's error
    if case is not None:
        p = case.timeline_path
    else:
        case = case_for(p)
    cc = (country or (case.country if case else "")).upper()
    if not cc:
        raise InputError("no case in data/cases uses this timeline, so its country is unknown; "
                         "give --country CC", path=p)
    events = load_timeline(p, case=case)
    out, left = [], []
    for e in events:
        kinds = KIND_MAP.get(e.kind)
        if not kinds:
            left.append(e.id)
            continue
        out.append(_record(e, cc, p))
    notes = [f"{len(left)} event(s) that are not outages (restorations, context) not compared: "
             + ", ".join(left)] if left else []
    return Documents(DOCUMENTER, f"report timeline {p.name}", str(p), out, notes)


def _top_keys(p: Path) -> set:
    from shutdown.tomlfile import read_toml
    try:
        return set(read_toml(p))
    except InputError:
        return {"events"}     # let the timeline reader say what is wrong


def _record(e, cc: str, path: Path) -> Documented:
    st = e.scope_type
    scope, areas, asns, services = "national", (), (), ()
    if st == "region":
        scope, areas = "regional", e.scope_values
    elif st == "network":
        scope, asns = "network", tuple(int(v) for v in e.scope_values)
    elif st in ("service", "sites"):
        services = e.scope_values
    if e.kind == "circumvention-blocked" and not services:
        services = ("circumvention tools",)
    # The event's own window, on its wall clock: a day or a night stays what it was written as.
    s_utc, e_utc = e.window_utc
    if e.precision == "day":
        start, end, precision = e.date, e.end_date or e.date, "day"
    else:
        z = e.local_window
        start, end = z[0].replace(tzinfo=None), z[1].replace(tzinfo=None)
        precision = "minute" if e.precision == "minute" else "hour"
        if e.precision == "night":
            precision = "hour"
    return Documented(
        id=e.id, documenter=DOCUMENTER, country=cc, scope=scope, kinds=KIND_MAP[e.kind],
        start=start, end=end, precision=precision, timezone=e.tz, citation=e.citation,
        areas=areas, asns=asns, services=services, title=e.title or e.text_en[:80],
        note=f"timeline kind {e.kind}, precision {e.precision}",
        raw={"window_utc": (s_utc.to_pydatetime(), e_utc.to_pydatetime())})
