"""OONI Findings as Documented records (``shutdown.sources.ooni_findings`` asks and parses).

* Time: as OONI gives it, in UTC. A time of exactly 00:00 UTC on both ends is read as a UTC
  date (OONI Explorer's form takes dates and sends ``<date>T00:00:00Z``), the end date then
  being the finding's last day; any other time is kept to the minute.
* Countries: one record per country of ``CCs`` (ids ``ooni-finding-<id>-<CC>``).
* Scope: the networks it names (``ASNs``), else national.
* Kind, from its words, tags and tests (every finding's ``event_type`` is Explorer's
  ``incident``, which says nothing of the kind): "shutdown" when title, description or
  tags say shutdown or blackout, "throttling" when they say throttl-, "service-based" when
  it names domains, app or circumvention tests, or blocking -- with the domains and apps
  named as its services.
"""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from shutdown.documented.live import answered, label, options
from shutdown.documented.model import Documented, Documents

DOCUMENTER = "ooni-findings"
# What OONI's measurements can show: blocked sites, apps and tools, and throttling. A
# shutdown leaves no probe to measure it, so a finding about one is rare and not expected.
SEES = ("service-based", "throttling")
APPS = {"telegram": "Telegram", "whatsapp": "WhatsApp", "signal": "Signal",
        "facebook_messenger": "Facebook Messenger", "tor": "Tor", "vanilla_tor": "Tor",
        "torsf": "Tor Snowflake", "psiphon": "Psiphon", "riseupvpn": "RiseupVPN",
        "dnscheck": "DNS", "stunreachability": "STUN"}
_SHUTDOWN = re.compile(r"\b(shut\s?downs?|blackouts?|internet (?:cut|outage)s?)\b", re.I)
_THROTTLE = re.compile(r"\bthrottl", re.I)
_BLOCK = re.compile(r"\b(block|censor|restrict)", re.I)


def _when(text: str | None) -> pd.Timestamp | None:
    if not text:
        return None
    t = pd.Timestamp(text)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def kinds_of(f: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(kinds in KINDS order, services named) of one parsed finding."""
    words = " ".join([f["title"], f["description"], *f["tags"]])
    services = tuple(dict.fromkeys([*f["domains"], *(APPS[t] for t in f["test_names"] if t in APPS)]))
    kinds = []
    if _SHUTDOWN.search(words):
        kinds.append("shutdown")
    if _THROTTLE.search(words):
        kinds.append("throttling")
    if services or _BLOCK.search(words) or {"im", "social_media", "circumvention",
                                             "news_media", "human_rights"} & set(f["themes"]):
        kinds.append("service-based")
    return tuple(kinds), services


def read(country, start, end, **opts) -> Documents:
    from shutdown.sources import ooni_findings as src
    o = options(country, start, end, what="OONI Findings", **opts)
    cache = answered(src.SOURCE, src.requests, o["win"], **{k: v for k, v in o.items() if k != "win"})
    rows = src.findings(o["win"], cache)
    sim = bool(cache.simulated or any(r["simulated"] for r in rows))
    events, seen = [], set()
    for f in rows:
        if f["id"] in seen:
            continue
        seen.add(f["id"])
        s, e = _when(f["start_utc"]), _when(f["end_utc"])
        midnight = all(t is None or t == t.floor("D") for t in (s, e))
        if midnight:
            start_v, end_v, prec = s.date(), (e.date() if e is not None else None), "day"
        else:
            start_v = s.floor("min").tz_localize(None).to_pydatetime()
            end_v = e.floor("min").tz_localize(None).to_pydatetime() if e is not None else None
            prec = "minute"
        kinds, services = kinds_of(f)
        link = f"https://explorer.ooni.org/findings/{f['slug'] or f['id']}"
        for cc in f["countries"] or [""]:
            events.append(Documented(
                id=f"ooni-finding-{f['id']}-{cc or 'xx'}", documenter=DOCUMENTER, country=cc,
                scope="network" if f["asns"] else "national", kinds=kinds,
                start=start_v, end=end_v, precision=prec, timezone="UTC",
                asns=tuple(f["asns"]), services=services,
                citation=("SIMULATED " if sim else "") + f"OONI Findings, {f['title']!r}, {link}",
                title=f["title"], status="" if e is not None else "ongoing",
                note=f"event_type {f['event_type']}; themes {', '.join(f['themes']) or 'none'}; "
                     f"tests {', '.join(f['test_names']) or 'none'}",
                simulated=sim, raw={"finding": f["id"]}))
    return Documents(DOCUMENTER, label("OONI Findings", sim), f"{src.PATH} (cache {cache.root})",
                     events, sees=SEES, resolves=("national", "network"))
