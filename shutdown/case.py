"""Cases: one small TOML file naming what one analysis covers.

Another shutdown is a new case file under ``data/cases/``, not new code. The
fields are documented in docs/formats.md ("Case files").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from shutdown.errors import InputError
from shutdown.localtime import to_utc
from shutdown.paths import list_named, resolve_named
from shutdown.schema import VERDICTS
from shutdown.tomlfile import read_toml
from shutdown.validate import (check_date, check_name, finite_number, unknown_keys,
                               whole_number)

_CASE_KEYS = {"name", "title", "country", "timezone", "start", "end", "baseline_days", "timeline",
              "sources", "networks", "regions", "scenario", "expectations", "control_sites"}
_NETWORK_KEYS = {"asn", "name", "note"}
_REGION_KEYS = {"name", "center", "radius_km", "ioda", "ioda_name", "note"}
_EXPECTATION_KEYS = {"event", "verdict", "min_sources", "note"}
MAX_BASELINE_DAYS = 366          # a year of baseline is already more than any upstream keeps per query
# A case is what one run collects, holds in memory and draws: requests, table rows and figure
# width grow with window x (networks + regions). A year of window, and a few hundred networks
# or regions, are far past any documented shutdown's case and still fit a laptop.
MAX_WINDOW_DAYS = 366
MAX_NETWORKS = 200
MAX_REGIONS = 200
MAX_RADIUS_KM = 20037.5          # half the Earth's circumference: a circle covering everything


@dataclass(frozen=True)
class Network:
    asn: int
    name: str


@dataclass(frozen=True)
class Region:
    """A sub-national area. Codes differ per upstream (IODA numbers its regions)."""
    name: str
    codes: dict = field(default_factory=dict)   # e.g. {"ioda": "1234"} or {"ioda_name": "Almaty"}
    center: tuple[float, float] | None = None   # (lat, lon): a circle for located probes (RIPE Atlas)
    radius_km: float | None = None


@dataclass(frozen=True)
class Expectation:
    """A verdict the CI check requires to hold (see ``shutdown check``)."""
    event: str
    verdicts: tuple[str, ...]
    min_sources: int = 1
    note: str = ""


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    path: Path
    country: str                 # ISO 3166-1 alpha-2, upper case
    timezone: str                # IANA name used for display
    start: dt.date               # first local day of the analysis window
    end: dt.date                 # last local day, inclusive
    baseline_days: int
    timeline_path: Path
    sources: tuple[str, ...]
    networks: tuple[Network, ...] = ()
    regions: tuple[Region, ...] = ()
    scenario: str | None = None
    expectations: tuple[Expectation, ...] = ()
    # domains whose OONI web_connectivity tests are the control for a whitelist event
    # (sites the whitelist did not name); see docs/formats.md "Case files"
    control_sites: tuple[str, ...] = ()

    def site_domains(self) -> tuple[str, ...]:
        """Domains measured one by one: those a ``sites:`` event of the timeline names,
        then the control set. The timeline is read raw (no validation: ``timeline``
        validates it); an unreadable timeline names no sites."""
        from shutdown.tomlfile import read_toml
        listed = []
        try:
            raw = read_toml(self.timeline_path)
        except Exception:   # the timeline command reports its own errors
            raw = {}
        for e in raw.get("events", []) if isinstance(raw, dict) else []:
            scope = e.get("scope", "") if isinstance(e, dict) else ""
            if isinstance(scope, str) and scope.startswith("sites:"):
                listed += [d.strip().lower() for d in scope[6:].split(",") if d.strip()]
        return tuple(dict.fromkeys(listed + list(self.control_sites)))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def window_utc(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Analysis window in UTC: local midnight of ``start`` to local midnight after ``end``."""
        return _local_days_to_utc(self.start, self.end, self.tz)

    @property
    def baseline_utc(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The ``baseline_days`` before the window, for learning normal behaviour."""
        start, _ = self.window_utc
        return start - pd.Timedelta(days=self.baseline_days), start

    @property
    def fetch_utc(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Baseline plus window: what collectors pull."""
        return self.baseline_utc[0], self.window_utc[1]

    def entities(self) -> list[tuple[str, str]]:
        """(entity_type, entity_code) pairs: the country, its networks, its regions.

        Region codes are per upstream; this lists the region by name.
        """
        out = [("country", self.country)]
        out += [("asn", str(n.asn)) for n in self.networks]
        out += [("region", r.name) for r in self.regions]
        return out

    def network_name(self, asn) -> str:
        for n in self.networks:
            if str(n.asn) == str(asn):
                return n.name
        return f"AS{asn}"


def _local_days_to_utc(first: dt.date, last: dt.date, tz: ZoneInfo):
    return to_utc(first, dt.time(), tz), to_utc(last + dt.timedelta(days=1), dt.time(), tz)


def list_cases() -> list[str]:
    return list_named("cases")


def resolve_case_path(name_or_path: str | Path) -> Path:
    """A case is named (``kz-2022-01``) or given as a path to its TOML file."""
    return resolve_named("case", "cases", name_or_path)


def load_case(name_or_path: str | Path) -> Case:
    path = resolve_case_path(name_or_path)
    raw = read_toml(path)
    where = "case"

    def req(key, typ, what):
        if key not in raw:
            raise InputError(f"missing ({what})", path=path, where=where, field=key)
        val = raw[key]
        if not isinstance(val, typ):
            raise InputError(f"expected {what}, got {val!r}", path=path, where=where, field=key)
        return val

    unknown_keys(raw, _CASE_KEYS, path, where)
    # the name becomes file names (tables/<name>.parquet, out/<name>): never a path
    name = check_name(raw.get("name", path.stem), path, where, "name")
    country = req("country", str, "ISO 3166-1 alpha-2 country code, e.g. \"KZ\"").upper()
    if len(country) != 2 or not (country.isascii() and country.isalpha()):
        raise InputError(f"expected a two-letter country code, got {country!r}",
                         path=path, where=where, field="country")
    tzname = req("timezone", str, "IANA time zone, e.g. \"Asia/Almaty\"")
    _check_tz(tzname, path, where, "timezone")
    start = req("start", dt.date, "local date, e.g. 2022-01-02")
    end = req("end", dt.date, "local date, e.g. 2022-01-11")
    if isinstance(start, dt.datetime) or isinstance(end, dt.datetime):
        raise InputError("give dates without a time", path=path, where=where,
                         field="start" if isinstance(start, dt.datetime) else "end")
    check_date(start, path, where, "start")
    check_date(end, path, where, "end")
    if end < start:
        raise InputError(f"end {end} is before start {start}", path=path, where=where, field="end")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise InputError(f"the window {start}..{end} is {(end - start).days + 1} days; at most "
                         f"{MAX_WINDOW_DAYS} (every source's requests, the table and the figures "
                         "grow with it): split it into cases", path=path, where=where, field="end")
    baseline_days = whole_number(raw.get("baseline_days", 7), path, where, "baseline_days",
                                 1, MAX_BASELINE_DAYS)
    timeline_rel = req("timeline", str, "path of the timeline file, relative to the case file")
    try:
        timeline_path = (path.parent / timeline_rel).resolve()
    except (OSError, RuntimeError):          # a symlink loop
        raise InputError("cannot resolve the timeline path (a symlink loop?)", path=path,
                         where=where, field="timeline") from None
    from shutdown.sources import registry     # the sources declare themselves
    sources = raw.get("sources", list(registry.default_names()))
    if not isinstance(sources, list) or not sources:
        raise InputError("expected a non-empty list of sources", path=path, where=where, field="sources")
    for s in sources:
        if s not in registry.names():
            raise InputError(f"unknown source {s!r}; known: {', '.join(registry.names())}",
                             path=path, where=where, field="sources")

    scenario = raw.get("scenario")
    if scenario is not None:
        check_name(scenario, path, where, "scenario")
    networks = []
    for key, most in (("networks", MAX_NETWORKS), ("regions", MAX_REGIONS)):
        if len(_tables(raw, key, path)) > most:
            raise InputError(f"{len(_tables(raw, key, path))} {key}; at most {most} (each is asked of "
                             "every source and drawn): split the case", path=path, where=where,
                             field=key)
    for i, n in enumerate(_tables(raw, "networks", path)):
        w = f"networks[{i}]"
        unknown_keys(n, _NETWORK_KEYS, path, w)
        if "asn" not in n:
            raise InputError("each network needs an integer 'asn'", path=path, where=w, field="asn")
        whole_number(n["asn"], path, w, "asn", 1, 4294967295)
        networks.append(Network(asn=n["asn"], name=str(n.get("name", f"AS{n['asn']}"))))
    if len({n.asn for n in networks}) != len(networks):
        raise InputError("an ASN is listed twice", path=path, where=where, field="networks")

    regions = []
    for i, r in enumerate(_tables(raw, "regions", path)):
        w = f"regions[{i}]"
        unknown_keys(r, _REGION_KEYS, path, w)
        if not isinstance(r.get("name"), str) or not r["name"].strip():
            raise InputError("each region needs a 'name'", path=path, where=w, field="name")
        codes = {k: str(v) for k, v in r.items() if k not in ("name", "center", "radius_km", "note")}
        center, radius = _circle(r, path, w)
        regions.append(Region(name=r["name"], codes=codes, center=center, radius_km=radius))

    expectations = []
    for i, e in enumerate(_tables(raw, "expectations", path)):
        w = f"expectations[{i}]"
        unknown_keys(e, _EXPECTATION_KEYS, path, w)
        if not isinstance(e.get("event"), str):
            raise InputError("each expectation needs an 'event' id", path=path, where=w, field="event")
        verdicts = e.get("verdict", ["confirmed"])
        verdicts = [verdicts] if isinstance(verdicts, str) else verdicts
        if not isinstance(verdicts, list) or not verdicts or not all(
                isinstance(v, str) and v in VERDICTS for v in verdicts):
            raise InputError(f"expected a verdict or a list of verdicts from {', '.join(VERDICTS)}; "
                             f"got {e.get('verdict')!r}", path=path, where=w, field="verdict")
        ms = whole_number(e.get("min_sources", 1), path, w, "min_sources", 1, 1000)
        expectations.append(Expectation(event=e["event"], verdicts=tuple(verdicts),
                                        min_sources=ms, note=str(e.get("note", ""))))

    control = raw.get("control_sites", [])
    if not isinstance(control, list) or not all(isinstance(d, str) and "." in d and "/" not in d
                                                for d in control):
        raise InputError(f"expected a list of domain names, e.g. [\"example.kz\"], got {control!r}",
                         path=path, where=where, field="control_sites")

    return Case(name=name, title=str(raw.get("title", name)), path=path, country=country,
                timezone=tzname, start=start, end=end, baseline_days=baseline_days,
                timeline_path=timeline_path, sources=tuple(sources), networks=tuple(networks),
                regions=tuple(regions), scenario=scenario,
                expectations=tuple(expectations),
                control_sites=tuple(dict.fromkeys(d.strip().lower() for d in control)))


def _circle(r: dict, path, where):
    """``center = [lat, lon]`` and ``radius_km``: both or neither."""
    if "center" not in r and "radius_km" not in r:
        return None, None
    c, rad = r.get("center"), r.get("radius_km")
    ok = (isinstance(c, list) and len(c) == 2
          and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in c)
          and -90 <= c[0] <= 90 and -180 <= c[1] <= 180)
    if not ok:
        raise InputError("expected center = [latitude, longitude] in degrees", path=path,
                         where=where, field="center")
    if not isinstance(rad, (int, float)) or isinstance(rad, bool) or not rad > 0:
        raise InputError(f"expected radius_km > 0 with center, got {rad!r}", path=path,
                         where=where, field="radius_km")
    finite_number(rad, path, where, "radius_km", 0, MAX_RADIUS_KM)
    return (float(c[0]), float(c[1])), float(rad)


def _tables(raw: dict, key: str, path) -> list:
    """An array of tables (``[[networks]]``): each item a table, else one line naming it."""
    val = raw.get(key, [])
    if not isinstance(val, list) or not all(isinstance(x, dict) for x in val):
        raise InputError(f"expected an array of tables [[{key}]], got {str(val)[:40]!r}",
                         path=path, where="case", field=key)
    return val


def _check_tz(name, path, where, fieldname):
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {name!r} (use an IANA name such as \"Asia/Almaty\")",
                         path=path, where=where, field=fieldname) from None


def as_case(case) -> Case:
    """A Case from a Case, a case name or a path."""
    return case if isinstance(case, Case) else load_case(case)

