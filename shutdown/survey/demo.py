"""``survey --demo``: a simulated world per documented record, so the survey runs offline.

SIMULATED, and not a claim about the record: each world is made up from the record's id, so
the demo shows every outcome the survey can give. Of every ten records (by a hash of the id),
six get an outage inside the documented window (a service block for a service-based record),
two none at all, and two an outage starting half a day after the window closes (inside the
case's margin, so detection sees it and alignment judges how far off it is). Levels are the simulator's
built-in ones; an area or network the record names gets its own entity.
"""
from __future__ import annotations

import datetime as dt
import zlib
from pathlib import Path

from shutdown.documented.model import Documented
from shutdown.store import atomic_write
from shutdown.survey.cases import _q, case_name, judgeable

CUT_SIGNALS = ["ioda.ping-slash24", "ioda.merit-nt", "ioda.gtr", "ooni.measurements",
               "atlas.probes_reachable", "atlas.probes_connected"]
REGION_SIGNALS = ["ioda.ping-slash24", "ioda.merit-nt"]


def outcome(e: Documented) -> str:
    """"inside", "none" or "later": what the simulated world does for this record."""
    k = zlib.crc32(e.id.encode()) % 10
    return "inside" if k < 6 else "none" if k < 8 else "later"


def write_scenario(e: Documented, out_dir: Path) -> Path | None:
    kind, scope, _ = judgeable(e)
    if not kind:
        return None
    name = case_name(e)
    s, t = e.window_utc
    span = t - s
    what = outcome(e)
    lines = [f"# SIMULATED world for survey record {e.id} ({e.documenter}); made up, not measured",
             f"name = {_q(name)}", f"title = {_q('SIMULATED survey world: ' + e.id)}",
             "synthetic = true", f"case = {_q(name)}", 'fetched_utc = "2000-01-01T00:00:00Z"', "",
             "[[entities]]", f"entity = {_q('country:' + e.country)}",
             "ioda.bgp = { level = 1500, noise = 0.002 }",
             "ioda.ping-slash24 = { level = 900, daily = 0.1, noise = 0.03 }",
             "ioda.merit-nt = { level = 2500, daily = 0.3, noise = 0.05 }",
             "ioda.gtr = { level = 1.0, daily = 0.5, noise = 0.05 }",
             "ooni = { level = 30, daily = 0.5, noise = 0.2 }",
             "atlas = { probes = 20, infrastructure = 4 }"]
    ents = [f"country:{e.country}"]
    if scope.startswith("region:"):
        for a in e.areas:
            lines += ["", "[[entities]]", f"entity = {_q('region:' + a)}", f"name = {_q(a)}",
                      "ioda.ping-slash24 = { level = 200, daily = 0.1, noise = 0.03 }",
                      "ioda.merit-nt = { level = 500, daily = 0.3, noise = 0.06 }"]
        ents = [f"region:{a}" for a in e.areas]
    if scope.startswith("network:"):
        for asn in e.asns:
            lines += ["", "[[entities]]", f"entity = {_q(f'asn:{asn}')}",
                      "ioda.ping-slash24 = { level = 300, daily = 0.1, noise = 0.03 }",
                      "ioda.merit-nt = { level = 800, daily = 0.3, noise = 0.05 }"]
        ents = [f"asn:{a}" for a in e.asns]
    if what != "none":
        if what == "later":
            start = t + dt.timedelta(hours=12)
            end = start + dt.timedelta(hours=8)
        else:   # a third of the way into the window, for a third of it (at least two hours)
            start = s + span / 3
            end = start + max(span / 3, dt.timedelta(hours=2))
        if kind == "restriction":
            sigs = [f"ooni.{x}" for x in scope.split(":", 1)[1].split(",")]
            typ, depth = "service-block", 0.9
        else:
            sigs = REGION_SIGNALS if ents[0].startswith(("region:", "asn:")) else CUT_SIGNALS
            typ, depth = "cut", 0.95
        lines += ["", "[[episodes]]", 'id = "simulated-outage"',
                  f"title = {_q('SIMULATED ' + what)}",
                  f"start = {start:%Y-%m-%dT%H:%M:00Z}", f"end = {end:%Y-%m-%dT%H:%M:00Z}",
                  f"entities = [{', '.join(_q(x) for x in ents)}]",
                  f"signals = [{', '.join(_q(x) for x in sigs)}]", f"type = {_q(typ)}",
                  f"depth = {depth}", 'sources = ["SIMULATED: made up from the record id"]']
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.toml"
    atomic_write(path, ("\n".join(lines) + "\n").encode())
    return path
