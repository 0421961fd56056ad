"""End to end, by hand: `shutdown survey` over Access Now's STOP sheet against a local stand-in
answering like IODA for every country the sheet names (tests/survey_world.py), whose outages
we plant, then each verdict checked against what the stand-in holds.

    python tests/e2e_stop_survey.py OUT [--from 2019-01-01 --to 2019-12-31] [-- SURVEY OPTIONS]

SYNTHETIC: the countries and areas are the sheet's, the measurements are made up. The world:
every country of the selected records, with every area its records name as an IODA region;
every other judgeable shutdown record (in date order) gets an outage of 8 hours from 09:00
local on its first documented day, on its country (national) or each of its areas. Expected
verdicts, from the world alone:

* a shutdown with a planted outage starting inside its documented days -> confirmed;
* a shutdown with no planted outage on its entities anywhere in its case window (documented
  days and the margin) -> not-observed or not-measurable, never confirmed;
* a service block -> judged only by sources that can see it: IODA cannot, so no source
  counts (n_sources 0) and the verdict is neither confirmed nor not-observed;
* a record no source here can judge (throttling only, unknown services, no country) ->
  not-measurable.

Records between these (an outage of another record in their margin) are not checked. Prints
the command, the verdict counts and every disagreement; exit 1 if there is one.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from survey_world import IodaWorld  # noqa: E402

STOP = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "documented" / "keepiton-stop-2016-2022.xlsx"
OUTAGE_HOURS = 8


def _days(e):
    from shutdown.documented import local_day
    first = local_day(e)
    last = e.end if e.end is not None else e.start
    return first, last.date() if isinstance(last, dt.datetime) else last


def _local(day: dt.date, tz: str, hour: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz or "UTC")).astimezone(dt.timezone.utc)


def plan(events, margin: int):
    """(WORLD for IodaWorld, expected verdict class per record id)."""
    from shutdown.survey import cases
    world: dict = {}
    planted: dict = {}                   # entity -> [UTC start]
    shut = []
    for e in events:
        if not e.country:
            continue
        w = world.setdefault(e.country, {"regions": [], "outages": [], "canon": {}})
        kind, scope, _ = cases.judgeable(e)
        # one region per name as IODA would hold it: the sheet spells some areas two ways
        # ("Jammu and kashmir"), and IODA's lookup matches names without case
        areas = [w["canon"].setdefault(a.casefold(), a) for a in e.areas] if scope.startswith("region:") else []
        ents = ([f"region:{a}" for a in areas] if areas else
                [f"country:{e.country}"] if scope == "national" else [])
        for a in areas:
            if a not in w["regions"]:
                w["regions"].append(a)
        if kind == "shutdown" and ents:
            shut.append((e, ents))
    for i, (e, ents) in enumerate(shut):
        if i % 2:
            continue
        t0 = _local(_days(e)[0], e.timezone, 9)
        for ent in ents:
            world[e.country]["outages"].append((ent, f"{t0:%Y-%m-%dT%H:%M:%SZ}",
                                                f"{t0 + dt.timedelta(hours=OUTAGE_HOURS):%Y-%m-%dT%H:%M:%SZ}"))
            planted.setdefault((e.country, ent), []).append(t0)
    for w in world.values():
        del w["canon"]
    expect = {}
    for e in events:
        kind, scope, _ = cases.judgeable(e)
        if not kind or not e.country:
            expect[e.id] = "not-measurable"
            continue
        if kind == "restriction":
            expect[e.id] = "unseen-service"
            continue
        ents = next((x for r, x in shut if r is e), [])
        first, last = _days(e)
        d0, d1 = _local(first, e.timezone), _local(last + dt.timedelta(days=1), e.timezone)
        c0, c1 = d0 - dt.timedelta(days=margin), d1 + dt.timedelta(days=margin)
        starts = [t for ent in ents for t in planted.get((e.country, ent), [])]
        if any(d0 <= t < d1 for t in starts):
            expect[e.id] = "confirmed"
        elif not any(c0 - dt.timedelta(hours=OUTAGE_HOURS) <= t < c1 for t in starts):
            expect[e.id] = "no-outage"
        else:
            expect[e.id] = "unchecked"
    return world, expect


def agrees(want: str, row: dict) -> bool:
    v = row["verdict"]
    if want == "confirmed":
        return v.startswith("confirmed")
    if want == "no-outage":
        return v in ("not-observed", "not-measurable")
    if want == "unseen-service":
        return not v.startswith("confirmed") and v != "not-observed" and int(row["n_sources"]) == 0
    if want == "not-measurable":
        return v == "not-measurable"
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--sheet", type=Path, default=STOP.resolve())
    ap.add_argument("--from", dest="start", default="2019-01-01")
    ap.add_argument("--to", dest="end", default="2019-12-31")
    ap.add_argument("--margin", type=int, default=2)
    ap.add_argument("rest", nargs="*", help="more survey options, after --")
    args = ap.parse_args(argv)
    from shutdown import documented
    docs = documented.read(args.sheet, start=dt.date.fromisoformat(args.start),
                           end=dt.date.fromisoformat(args.end))
    world, expect = plan(docs.events, args.margin)
    args.out.mkdir(parents=True, exist_ok=True)
    with IodaWorld(args.out, world) as srv:
        cmd = ["shutdown", "survey", str(args.sheet), "--from", args.start, "--to", args.end,
               "--source", "ioda", "--out", str(args.out / "survey"), "--url", f"ioda={srv.url}",
               "--no-progress", *args.rest]
        print("$ SHUTDOWN_CACHE=" + str(args.out / "cache"), " ".join(cmd), flush=True)
        env = dict(os.environ, SHUTDOWN_CACHE=str(args.out / "cache"))
        res = subprocess.run([str(Path(sys.executable).parent / "shutdown"), *cmd[1:]], env=env)
        print(f"exit {res.returncode}; {srv.requests} requests to the stand-in")
    with open(args.out / "survey" / "survey.csv") as f:
        rows = {r["event_id"]: r for r in csv.DictReader(f)}
    print("verdicts:", dict(Counter(r["verdict"] for r in rows.values()).most_common()))
    checked = Counter()
    bad = []
    for eid, want in expect.items():
        r = rows.get(eid)
        if r is None:
            bad.append((eid, want, "no row"))
            continue
        if want == "unchecked":
            checked["unchecked"] += 1
            continue
        ok = agrees(want, r)
        checked[(want, ok)] += 1
        if not ok:
            bad.append((eid, want, f"{r['verdict']} ({r['evidence'][:160]})"))
    for (want, ok), n in sorted((k, v) for k, v in checked.items() if k != "unchecked"):
        print(f"  expected {want}: {n} {'agree' if ok else 'DISAGREE'}")
    print(f"  not checked (another record's outage in the margin): {checked['unchecked']}")
    conf = Counter(r["verdict"] for eid, r in rows.items() if expect.get(eid) == "no-outage")
    print("  records with no outage in the data:", dict(conf))
    for b in bad:
        print("DISAGREE", *b)
    return 1 if bad or res.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
