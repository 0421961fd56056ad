"""Tor Metrics' possible censorship events as Documented records (``shutdown.sources.tor``
asks for the relay-users CSV and finds them): each run of consecutive UTC days on which the
estimated directly connecting users fell below the detector's range (a "downturn", the red
dots of Tor's graph) is one record, day precision in UTC, national.

Kind: a downturn says Tor users fell, not why -- Tor itself blocked, or the whole Internet
cut; the record says both ("shutdown", "service-based" with Tor as the service) and its note
says so. What Tor Metrics can see (``sees``) is only a shutdown: a blocked service other than
Tor leaves Tor's users as they were. Upturns (above the range) are counted in a note, not
recorded: more users is no outage.
"""
from __future__ import annotations

import math

from shutdown.documented.live import answered, label, options
from shutdown.documented.model import Documented, Documents

DOCUMENTER = "tor-metrics"
SEES = ("shutdown",)


def read(country, start, end, **opts) -> Documents:
    from shutdown.sources import tor
    o = options(country, start, end, what="Tor Metrics", **opts)
    cache = answered(tor.SOURCE, tor.requests, o["win"], **{k: v for k, v in o.items() if k != "win"})
    days, sim = tor.rows(o["win"], cache)
    sim = sim or cache.simulated
    events = []
    for run in tor.downturns(days):
        a, b = run[0]["date"], run[-1]["date"]
        low = min(run, key=lambda r: r["users"] / r["lower"] if r["lower"] else 0)
        events.append(Documented(
            id=f"tor-{o['win'].country.lower()}-{a:%Y%m%d}", documenter=DOCUMENTER,
            country=o["win"].country, scope="national", kinds=("shutdown", "service-based"),
            start=a, end=b, precision="day", timezone="UTC", services=("Tor",),
            citation=("SIMULATED " if sim else "") + "Tor Metrics, directly connecting users "
            f"from {o['win'].country}, {a} to {b} below the expected range "
            f"(https://metrics.torproject.org/userstats-relay-country.html?country="
            f"{o['win'].country.lower()}&events=on)",
            title=f"Tor users below the expected range on {len(run)} day(s)",
            note=(f"possible censorship event (downturn); lowest {low['users']:.0f} users against "
                  f"a lower bound of {low['lower']:.0f} on {low['date']}; Tor blocked or the "
                  "Internet cut: the detector cannot tell which"),
            simulated=sim, raw={"days": [str(r["date"]) for r in run]}))
    notes = []
    up = sum(1 for r in days if r["users"] > r["upper"])
    if up:
        notes.append(f"Tor Metrics: {up} day(s) above the expected range (upturns): not outages, "
                     "not recorded")
    none = sum(1 for r in days if math.isnan(r["lower"]))
    if none:
        notes.append(f"Tor Metrics: {none} of {len(days)} day(s) without an expected range "
                     "(no estimate that day or a week before): no event can be flagged there")
    if not days:
        notes.append(f"Tor Metrics: no users estimated for {o['win'].country} in the window")
    return Documents(DOCUMENTER, label("Tor Metrics possible censorship events", sim),
                     f"{tor.PATH} (cache {cache.root})", events, notes, sees=SEES,
                     resolves=("national",))
