"""The documented timeline: cited events, validated, each turned into a UTC window.

An event keeps the precision its source gives. A day-precision event on 5 Jan in
Asia/Almaty is the whole local day, 2022-01-04T18:00Z to 2022-01-05T18:00Z --
never a fake instant at midnight. The file format is documented in
docs/formats.md ("Timeline files").

Detection never imports this module; alignment is where the two meet.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from shutdown.errors import InputError
# what each event kind expects of each signal: one table (shutdown.expect), re-exported here
from shutdown.expect import ACCESS_ROLES, MOVES_WITH_ACCESS, Expected, expected_for  # noqa: F401
from shutdown.localtime import status as local_status
from shutdown.localtime import to_utc
from shutdown.tomlfile import read_toml
from shutdown.validate import check_date, check_name, unknown_keys

KINDS = ("restriction", "shutdown", "partial-restoration", "restoration", "whitelist",
         "circumvention-blocked", "unreachable-from-abroad", "context")
PRECISIONS = ("day", "night", "hour", "minute")
SCOPE_TYPES = ("national", "region", "service", "sites", "network")

# "Night" in the report ("6 қаңтарда түн уақытында", at night on 6 Jan) is read as the
# night *leading into* that date: 22:00 the evening before to 06:00 on the date, local.
NIGHT_START = dt.time(22, 0)
NIGHT_END = dt.time(6, 0)

_EVENT_KEYS = {"id", "kind", "scope", "date", "end_date", "precision", "start", "end", "fold",
               "timezone", "quote_kk", "text_en", "citation", "title", "supports", "note",
               # our translations for the Russian and Kazakh reports (never the report's words)
               "quote_ru", "title_kk", "title_ru"}
_TOP_KEYS = {"timezone", "events", "title", "note"}
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    scope: str                     # "national", "region:Almaty", "service:telegram,whatsapp", ...
    date: dt.date                  # local date (first day)
    precision: str                 # day | night | hour | minute
    tz: str                        # IANA zone of the local times
    quote_kk: str
    text_en: str
    citation: str
    end_date: dt.date | None = None
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    title: str = ""
    supports: tuple[str, ...] = ()
    note: str = ""
    fold: int = 0                  # a repeated local time (clocks going back): 0 first, 1 second
    quote_ru: str = ""             # our Russian translation of quote_kk (report --lang ru)
    title_kk: str = ""             # our translations of title (report --lang kk / ru)
    title_ru: str = ""
    source_file: Path | None = field(default=None, compare=False)

    @property
    def scope_type(self) -> str:
        return self.scope.split(":", 1)[0]

    @property
    def scope_values(self) -> tuple[str, ...]:
        return tuple(v.strip() for v in self.scope.split(":", 1)[1].split(",")) if ":" in self.scope else ()

    @property
    def local_window(self) -> tuple[dt.datetime, dt.datetime]:
        """The UTC window shown on the local clock (offsets included, so DST reads right)."""
        z = ZoneInfo(self.tz)
        s, e = self.window_utc
        return s.to_pydatetime().astimezone(z), e.to_pydatetime().astimezone(z)

    @property
    def window_utc(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Computed in UTC (shutdown.localtime): DST never stretches or empties a window."""
        z = ZoneInfo(self.tz)
        last = self.end_date or self.date
        if self.precision == "day":
            return (to_utc(self.date, dt.time(), z),
                    to_utc(last + dt.timedelta(days=1), dt.time(), z))
        if self.precision == "night":
            return (to_utc(self.date - dt.timedelta(days=1), NIGHT_START, z),
                    to_utc(last, NIGHT_END, z))
        step = pd.Timedelta(hours=1) if self.precision == "hour" else pd.Timedelta(minutes=1)
        start = to_utc(self.date, self.start_time, z, self.fold)
        end = to_utc(last, self.end_time, z, self.fold) if self.end_time else start + step
        return start, end

    @property
    def expected(self) -> list[Expected]:
        return expected_for(self.kind)

    def to_record(self) -> dict:
        s, e = self.window_utc
        ls, le = self.local_window
        return {
            "id": self.id, "kind": self.kind, "scope": self.scope, "precision": self.precision,
            "start_utc": iso_z(s), "end_utc": iso_z(e),
            "start_local": ls.isoformat(timespec="minutes"), "end_local": le.isoformat(timespec="minutes"),
            "local_tz": self.tz, "title": self.title, "quote_kk": self.quote_kk,
            "text_en": self.text_en, "citation": self.citation, "supports": list(self.supports),
            **{k: getattr(self, k) for k in ("quote_ru", "title_kk", "title_ru") if getattr(self, k)},
        }


def iso_z(ts) -> str:
    """ISO 8601 in UTC with a ``Z``: 2022-01-05T18:00:00Z."""
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def load_timeline(path: str | Path, case=None) -> list[Event]:
    """Load and validate a timeline file; events sorted by window start.

    ``case`` supplies the default time zone when the file gives none.
    """
    path = Path(path)
    raw = read_toml(path)
    unknown_keys(raw, _TOP_KEYS, path, "timeline")
    default_tz = raw.get("timezone") or (case.timezone if case is not None else None)
    if default_tz is not None:
        _zone(default_tz, path, "timeline", "timezone")
    items = raw.get("events")
    if not isinstance(items, list) or not items:
        raise InputError("no events: expected one or more [[events]] tables", path=path, field="events")
    events, seen = [], set()
    for i, item in enumerate(items):
        ev = _parse_event(item, i, path, default_tz)
        if ev.id in seen:
            raise InputError("duplicate id", path=path, where=f"event {ev.id!r}", field="id")
        seen.add(ev.id)
        events.append(ev)
    for ev in events:
        for ref in ev.supports:
            if ref not in seen:
                raise InputError(f"refers to unknown event {ref!r}", path=path,
                                 where=f"event {ev.id!r}", field="supports")
    if case is not None:
        for i, x in enumerate(case.expectations):
            if x.event not in seen:
                from shutdown.validate import closest
                near = closest(x.event, seen)
                raise InputError(f"names event {x.event!r}, which the timeline {path.name} lacks"
                                 + (f"; did you mean {near!r}?" if near else ""),
                                 path=case.path, where=f"expectations[{i}]", field="event")
    return sorted(events, key=lambda e: (e.window_utc[0], e.id))


def _zone(name, path, where, fieldname) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(f"unknown time zone {name!r} (use an IANA name such as \"Asia/Almaty\")",
                         path=path, where=where, field=fieldname) from None


def _parse_event(item, i, path, default_tz) -> Event:
    if not isinstance(item, dict):
        raise InputError("expected a table", path=path, where=f"events[{i}]")
    eid = item.get("id")
    where = f"event {eid!r}" if isinstance(eid, str) else f"events[{i}]"

    def fail(msg, fld):
        raise InputError(msg, path=path, where=where, field=fld)

    def text(key, required=True):
        v = item.get(key)
        if v is None:
            if required:
                fail("missing", key)
            return ""
        if not isinstance(v, str) or (required and not v.strip()):
            fail(f"expected non-empty text, got {v!r}", key)
        return v.strip()

    unknown_keys(item, _EVENT_KEYS, path, where)
    eid = text("id")
    check_name(eid, path, where, "id")
    kind = text("kind")
    if kind not in KINDS:
        fail(f"unknown kind {kind!r}; known: {', '.join(KINDS)}", "kind")
    scope = text("scope")
    stype = scope.split(":", 1)[0]
    if stype not in SCOPE_TYPES:
        fail(f"unknown scope {scope!r}; use national, region:NAME, service:A,B, sites:A,B "
             "or network:ASN", "scope")
    if stype != "national" and (":" not in scope or not scope.split(":", 1)[1].strip()):
        fail(f"scope {stype!r} needs values after ':', e.g. {stype}:...", "scope")
    values = [v.strip() for v in scope.split(":", 1)[1].split(",")] if ":" in scope else []
    if stype == "national" and values:
        fail(f"scope \"national\" takes no values, got {scope!r}", "scope")
    if any(not v for v in values):
        fail(f"empty value in scope {scope!r}", "scope")
    if stype == "network" and not all(_asn_ok(v) for v in values):
        fail(f"network scope takes AS numbers (1..4294967295), e.g. network:9198, got {scope!r}",
             "scope")

    tzname = item.get("timezone", default_tz)
    if tzname is None:
        fail("missing, and the timeline file gives no default timezone", "timezone")
    _zone(tzname, path, where, "timezone")

    date = _date(item.get("date"), fail, "date", required=True)
    check_date(date, path, where, "date")
    end_date = _date(item.get("end_date"), fail, "end_date", required=False)
    if end_date is not None:
        check_date(end_date, path, where, "end_date")
    if end_date is not None and end_date < date:
        fail(f"end_date {end_date} is before date {date}", "end_date")

    precision = text("precision")
    if precision not in PRECISIONS:
        fail(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}", "precision")
    start_time = _time(item.get("start"), fail, "start")
    end_time = _time(item.get("end"), fail, "end")
    if precision in ("day", "night"):
        if start_time or end_time:
            fail(f"a {precision}-precision event takes no clock time; use precision "
                 "\"hour\" or \"minute\"", "start" if start_time else "end")
    else:
        if start_time is None:
            fail(f"{precision}-precision needs a start time \"HH:MM\"", "start")
        if precision == "hour" and (start_time.minute or (end_time and end_time.minute)):
            fail("hour precision takes whole hours (\"09:00\"); use precision \"minute\"",
                 "start" if start_time.minute else "end")
        if end_time is not None and (end_date or date, end_time) <= (date, start_time):
            fail(f"end {end_time:%H:%M} is not after start {start_time:%H:%M}", "end")
    fold = item.get("fold", 0)
    if fold not in (0, 1) or isinstance(fold, bool):
        fail(f"expected 0 (first occurrence of a repeated local time) or 1 (second), got {fold!r}",
             "fold")
    if precision in ("hour", "minute"):
        z = ZoneInfo(tzname)
        for fld, day, t in (("start", date, start_time), ("end", end_date or date, end_time)):
            if t is not None and local_status(day, t, z) == "skipped":
                fail(f"{day} {t:%H:%M} does not exist in {tzname} (clocks go forward); "
                     "give the time the source means on the clock of that day", fld)

    supports = item.get("supports", [])
    if not isinstance(supports, list) or not all(isinstance(s, str) for s in supports):
        fail("expected a list of event ids", "supports")

    ev = Event(id=eid, kind=kind, scope=scope, date=date, end_date=end_date,
                 precision=precision, start_time=start_time, end_time=end_time, tz=tzname,
                 quote_kk=text("quote_kk"), text_en=text("text_en"), citation=text("citation"),
                 title=text("title", required=False), supports=tuple(supports),
                 note=text("note", required=False), fold=fold, source_file=path,
                 quote_ru=text("quote_ru", required=False), title_kk=text("title_kk", required=False),
                 title_ru=text("title_ru", required=False))
    ws, we = ev.window_utc
    if we <= ws:
        fail(f"the window is empty or reversed in UTC ({iso_z(ws)}-{iso_z(we)}); check the "
             "times and 'fold' around the clock change", "end")
    return ev


def _date(v, fail, fld, required):
    if v is None:
        if required:
            fail("missing (a local date, e.g. 2022-01-05)", fld)
        return None
    if isinstance(v, dt.datetime):
        fail("give a date without a time; clock times go in 'start' and 'end'", fld)
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            fail(f"impossible date {v!r} (expected YYYY-MM-DD)", fld)
    fail(f"expected a date YYYY-MM-DD, got {v!r}", fld)


def _time(v, fail, fld):
    if v is None:
        return None
    if isinstance(v, dt.time):
        if v.second or v.microsecond:
            fail(f"give minutes, not seconds: {v} (expected HH:MM)", fld)
        return v
    if isinstance(v, str) and _TIME_RE.match(v.strip()):
        h, m = v.strip().split(":")
        return dt.time(int(h), int(m))
    fail(f"impossible time {v!r} (expected HH:MM, 00:00-23:59)", fld)


def _asn_ok(v: str) -> bool:
    v = v[2:] if v.upper().startswith("AS") else v
    return v.isascii() and v.isdigit() and 1 <= int(v) <= 4294967295


def events_frame(events: list[Event]) -> pd.DataFrame:
    """The events as a DataFrame, windows as tz-aware UTC timestamps."""
    rows = []
    for ev in events:
        r = ev.to_record()
        r["start_utc"], r["end_utc"] = ev.window_utc
        r["supports"] = ",".join(ev.supports)
        rows.append(r)
    return pd.DataFrame(rows)
