"""A documented record as a case: the case file and its one-event timeline, written where the
survey keeps them (``DIR/cases/``) so any one of them reruns as ``shutdown report FILE``.

* country, and its principal zone (the record's ``timezone``);
* window: the documented days (or minutes) with ``margin`` days either side, so a start a
  day early or late is still seen; ``baseline`` days before it;
* scope: national; regional or local -> the areas as regions (IODA looks them up by name
  through its region entities; a name it lacks is a note of the collection, and the row says
  so); network -> the ASNs;
* kind: a full-network shutdown -> ``shutdown``; a service block of the apps OONI tests one by
  one -> ``restriction``. Anything else (throttling only, a block of services no source here
  tests) gets no case: its row says ``not-measurable`` and why, never a verdict of absence.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

from shutdown.documented import local_day
from shutdown.documented.model import Documented
from shutdown.schema import OONI_MESSENGER_TESTS
from shutdown.store import atomic_write

MARGIN_DAYS = 2
BASELINE_DAYS = 14
# STOP/our service names -> OONI's app test names (shutdown.schema.OONI_MESSENGER_TESTS)
SERVICE_TESTS = {"whatsapp": "whatsapp", "telegram": "telegram", "signal": "signal",
                 "facebook messenger": "facebook_messenger", "messenger": "facebook_messenger"}


def case_name(e: Documented) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", e.id.lower()).strip("-")[:80] or "event"


def judgeable(e: Documented) -> tuple[str, str, str]:
    """(timeline kind, timeline scope, why not) -- kind "" when no source here can judge it."""
    from shutdown.case import MAX_WINDOW_DAYS
    first, last = _days(e, MARGIN_DAYS)
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        return "", "", (f"documented over {(last - first).days + 1} days with its margins: a case "
                        f"window is at most {MAX_WINDOW_DAYS} days")
    if "shutdown" in e.kinds:
        kind = "shutdown"
    else:
        apps = sorted({SERVICE_TESTS[s] for s in e.services if s in SERVICE_TESTS})
        if "service-based" in e.kinds and apps:
            return "restriction", "service:" + ",".join(apps), ""
        if "service-based" in e.kinds:
            return "", "", (f"a block of {', '.join(e.services) or 'unnamed services'}: no source "
                            "here tests those services one by one")
        if "throttling" in e.kinds:
            return "", "", "throttling only: no source here measures speed"
        return "", "", "no kind documented"
    if e.scope in ("regional", "local") and e.areas:
        return kind, "region:" + ",".join(a.replace(",", " ") for a in e.areas), ""
    if e.scope == "network" and e.asns:
        return kind, "network:" + ",".join(str(a) for a in e.asns), ""
    return kind, "national", ""


def _q(s) -> str:
    return json.dumps(str(s), ensure_ascii=False)        # a TOML basic string


def _days(e: Documented, margin: int) -> tuple[dt.date, dt.date]:
    first = local_day(e)
    last = e.end if e.end is not None else e.start
    last = last.date() if isinstance(last, dt.datetime) else last
    return first - dt.timedelta(days=margin), last + dt.timedelta(days=margin)


def _event_toml(e: Documented, kind: str, scope: str) -> str:
    lines = ["[[events]]", f"id = {_q(case_name(e))}", f"kind = {_q(kind)}",
             f"scope = {_q(scope)}"]
    if isinstance(e.start, dt.datetime):
        end = e.end if e.end is not None else e.start + dt.timedelta(minutes=1)
        lines += [f"date = {e.start.date().isoformat()}", 'precision = "minute"',
                  f'start = "{e.start:%H:%M}"', f'end = "{end:%H:%M}"']
        if end.date() != e.start.date():
            lines.append(f"end_date = {end.date().isoformat()}")
    else:
        lines += [f"date = {e.start.isoformat()}", 'precision = "day"']
        if e.end is not None and e.end != e.start:
            lines.append(f"end_date = {e.end.isoformat()}")
    words = e.title or f"{e.documenter}: {e.kind} ({e.scope})"
    note = (f"made by shutdown survey from {e.documenter} record {e.id}; quote_kk holds the "
            "documenter's own words, not a Kazakh quote")
    if e.end is None:
        note += "; no end documented: judged on its first day"
    lines += [f"title = {_q(words[:120])}", f"quote_kk = {_q(words)}", f"text_en = {_q(words)}",
              f"citation = {_q(e.citation)}", f"note = {_q(note)}"]
    return "\n".join(lines) + "\n"


def write_case(e: Documented, cases_dir: Path, *, sources: list[str], margin: int = MARGIN_DAYS,
               baseline: int = BASELINE_DAYS) -> Path | None:
    """Write the case and timeline of ``e``; None when it gets no case (``judgeable``)."""
    kind, scope, _ = judgeable(e)
    if not kind:
        return None
    name = case_name(e)
    first, last = _days(e, margin)
    tz = e.timezone if isinstance(e.start, dt.datetime) else (e.timezone or "UTC")
    timeline = f"timezone = {_q(tz)}\n\n" + _event_toml(e, kind, scope)
    case = [f"# made by `shutdown survey` from {e.documenter} record {e.id}", f"name = {_q(name)}",
            f"title = {_q(f'{e.country} {local_day(e)}: {e.documenter} {e.id}')}",
            f"country = {_q(e.country)}", f"timezone = {_q(tz)}",
            f"start = {first.isoformat()}", f"end = {last.isoformat()}",
            f"baseline_days = {int(baseline)}", f"timeline = {_q(name + '.events.toml')}",
            f"sources = [{', '.join(_q(s) for s in sources)}]"]
    if scope.startswith("region:"):
        for a in e.areas:
            case += ["", "[[regions]]", f"name = {_q(a)}", f"ioda_name = {_q(a)}"]
    if scope.startswith("network:"):
        for asn in e.asns:
            case += ["", "[[networks]]", f"asn = {int(asn)}", f"name = {_q(f'AS{asn}')}"]
    cases_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(cases_dir / f"{name}.events.toml", timeline.encode())
    path = cases_dir / f"{name}.toml"
    atomic_write(path, ("\n".join(case) + "\n").encode())
    return path


def inputs_key(case_path: Path | None, e: Documented, extra: str = "") -> str:
    """What a row was judged from: the record, its case and timeline files, the options."""
    h = hashlib.sha256(json.dumps(e.to_record(), sort_keys=True, default=str).encode())
    if case_path is not None:
        for p in (case_path, case_path.with_name(case_path.stem + ".events.toml")):
            h.update(p.read_bytes())
    h.update(extra.encode())
    return h.hexdigest()
