"""One documented-event model for every documenter: a report's timeline, Access Now's STOP
rows, IODA's curated outages, Radar's Outage Center, OONI Findings, Tor's events.

A record keeps what its documenter wrote at the precision it was written: a STOP row is a
run of local calendar days in the country's zone, an IODA curated row a UTC minute, a report
event whatever the report says. ``window_utc`` turns that into the span of time it can mean
(shutdown.localtime, so DST neither stretches nor empties it) -- never a fake instant.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

from shutdown.localtime import to_utc

SCOPES = ("national", "regional", "local", "network", "unknown")
# What a record says was done to the Internet; a row may say several (STOP's
# "Shutdown, Throttle"; "Full network, Service-based").
KINDS = ("shutdown", "throttling", "service-based")
NETWORKS = ("mobile", "broadband")
PRECISIONS = ("day", "hour", "minute")
_STEP = {"day": dt.timedelta(days=1), "hour": dt.timedelta(hours=1),
         "minute": dt.timedelta(minutes=1)}


@dataclass(frozen=True)
class Documented:
    """One documented outage. ``start``/``end`` are as documented: ``datetime.date`` for day
    precision (local days, ``end`` inclusive), naive ``datetime.datetime`` on the wall clock
    of ``timezone`` otherwise. ``end`` None: the documenter gives no end (ongoing, unknown).

    ``zones`` are every IANA zone of the country when the record covers a whole country's
    local days (Kazakhstan had two offsets in 2022): its window runs from the first local
    midnight of the start day in any of them to the last one after the end day.
    """
    id: str
    documenter: str
    country: str                          # ISO 3166-1 alpha-2, "" when the name has none
    scope: str                            # SCOPES
    kinds: tuple[str, ...]                # subset of KINDS, in KINDS order
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None
    precision: str                        # PRECISIONS
    timezone: str                         # IANA zone of start/end
    citation: str
    country_name: str = ""                # as the documenter wrote it
    areas: tuple[str, ...] = ()           # regional/local: the areas named
    asns: tuple[int, ...] = ()            # network scope
    services: tuple[str, ...] = ()        # service-based: what was blocked
    networks: tuple[str, ...] = ()        # NETWORKS affected, when said
    operators: tuple[str, ...] = ()       # the telcos / ISPs named ("Kazakhstan: Kcell (Fintur)")
    zones: tuple[str, ...] = ()
    title: str = ""
    cause: str = ""
    status: str = ""                      # e.g. IODA's "Confirmed"/"Unconfirmed", STOP's "Ended"
    signals: tuple[tuple[str, bool | None], ...] = ()   # IODA: seen in (bgp, ap, ibr)
    note: str = ""
    simulated: bool = False
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def kind(self) -> str:
        """The record's main kind: a full shutdown outranks throttling, which outranks a
        service block ("" when the documenter says none)."""
        return self.kinds[0] if self.kinds else ""

    @property
    def end_known(self) -> bool:
        return self.end is not None

    def _utc(self, when, zone: str, after: bool) -> dt.datetime:
        z = ZoneInfo(zone)
        if isinstance(when, dt.datetime):
            t = when + (_STEP[self.precision] if after else dt.timedelta(0))
            return to_utc(t.date(), t.time(), z).to_pydatetime()
        day = when + dt.timedelta(days=1) if after else when
        return to_utc(day, dt.time(), z).to_pydatetime()

    @property
    def window_utc(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC. The end is the end of the last documented unit (a day-precision
        end is the local midnight after it); with no end documented, one unit after the start."""
        last = self.end if self.end is not None else self.start
        if isinstance(self.start, dt.datetime) and self.end is not None:
            last = self.end - _STEP[self.precision]      # a time end is the instant it ends
            if last < self.start:
                last = self.start
        zones = self.zones or (self.timezone,)
        return (min(self._utc(self.start, z, False) for z in zones),
                max(self._utc(last, z, True) for z in zones))

    def to_record(self) -> dict:
        """A flat dict for JSON/CSV: dates as ISO text, tuples as lists, no raw cells."""
        out = asdict(self)
        out.pop("raw")
        out["kind"] = self.kind
        out["area"] = ", ".join(self.areas)
        for k in ("start", "end"):
            v = out[k]
            out[k] = v.isoformat(timespec="minutes") if isinstance(v, dt.datetime) else \
                (v.isoformat() if v is not None else None)
        s, e = self.window_utc
        out["start_utc"] = s.strftime("%Y-%m-%dT%H:%M:%SZ")
        out["end_utc"] = e.strftime("%Y-%m-%dT%H:%M:%SZ")
        out["signals"] = {k: v for k, v in self.signals}
        for k in ("kinds", "areas", "asns", "services", "networks", "operators", "zones"):
            out[k] = list(out[k])
        return out


# The columns `shutdown documented` prints as a table, most useful first.
TABLE_COLUMNS = ["id", "country", "scope", "area", "kind", "start", "end", "precision",
                 "networks", "services", "operators", "citation"]
# Every field, in the order JSON and CSV give them.
RECORD_COLUMNS = ["id", "documenter", "country", "country_name", "scope", "area", "areas",
                  "asns", "kind", "kinds", "services", "networks", "operators", "start", "end", "precision",
                  "timezone", "zones", "start_utc", "end_utc", "title", "cause", "status",
                  "signals", "citation", "note", "simulated"]


@dataclass
class Documents:
    """What a reader got from one file or source: the records, and what it says of the rest
    (sheets that are not data, rows without a country code, ...), shown to the user."""
    documenter: str
    title: str
    path: str
    events: list[Documented]
    notes: list[str] = field(default_factory=list)
    sees: tuple[str, ...] = KINDS          # the kinds this documenter can record at all
    resolves: tuple[str, ...] = SCOPES     # the scopes it records (IODA: country, region, AS)
