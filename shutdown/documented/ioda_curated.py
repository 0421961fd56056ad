"""IODA's manually investigated outages: the CSV of the SIGCOMM'23 artifact
(InetIntel/internet_outages data/ioda/ioda_investigated_outages_cleaned_phase1+2.csv at
68cdc4d20f3387666beb14fc5c24adb2d51923f5; its columns read as the artifact's notebook
merge-kio-ioda.ipynb reads them, ioda_preprocessing and parse_timestamp_ioda).

Times are UTC to the minute, written in several ways: "Wednesday, March 17, 2021, 4:40:00 PM",
"..., 4:40 PM", "..., 4:40: PM" (the notebook's ": " -> ":00" fix), "Sunday April 7, 2019, 4:30 AM"
and "3/21/2019  10:15:00 PM". Scope is "Country", "Region (Name)" or "AS (number)"; per signal a
human marked TRUE / FALSE / N/A whether the outage shows in IODA's BGP, active probing (AP) and
telescope (IBR) series. An end of "N/A" or nothing: no end documented.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from shutdown.documented import countries, sheets
from shutdown.documented.model import Documented, Documents
from shutdown.errors import InputError

DOCUMENTER = "ioda-curated"
TITLE = "IODA investigated outages"
# What IODA's curated list can hold: outages its connectivity signals show, at country,
# region and AS granularity -- never a blocked service, nor a single city.
SEES = ("shutdown",)
RESOLVES = ("national", "regional", "network")

COLUMNS = {  # our name -> the artifact's header (stripped)
    "id": "ID", "begin": "Begin time", "end": "End time", "country": "Country",
    "bgp": "IODA BGP visible by human", "ap": "IODA AP visible by human",
    "ibr": "IODA IBR visible by human",
    "scope": "Scope (based on granularity at which the outage appears in IODA)",
    "cause": "Cause", "status": "Confirmation Status",
}
_OPTIONAL = ("cause", "status")
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?\s*([AP]M)?$",
                 re.I)
_LONG = re.compile(r"(?:[A-Za-z]+,?\s+)?([A-Za-z]+)\s+(\d{1,2}),\s*(\d{4}),?\s+"
                   r"(\d{1,2}):(\d{2})(?::(\d{0,2}))?\s*([AP]M)?$", re.I)
_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], 1)}
_NONE = {"", "n/a", "na", "none", "ongoing", "unknown"}


def parse_time(text: str) -> dt.datetime | None:
    """A naive UTC datetime from one of the artifact's time spellings; None if it is none."""
    s = " ".join(str(text or "").split())
    m = _LONG.match(s)
    if m:
        month = _MONTHS.get(m[1].lower())
        if month is None:
            return None
        return _mk(int(m[3]), month, int(m[2]), int(m[4]), int(m[5]), m[6], m[7])
    m = _US.match(s)
    if m:
        return _mk(int(m[3]), int(m[1]), int(m[2]), int(m[4]), int(m[5]), m[6], m[7])
    return None


def _mk(y, mo, d, h, mi, sec, ampm):
    if ampm and h <= 12:       # "17:00:00 PM", "23:40:00 AM": a 24-hour time, marker astray
        if h == 0:
            return None
        h = h % 12 + (12 if ampm.upper() == "PM" else 0)
    try:
        return dt.datetime(y, mo, d, h, mi, int(sec) if sec else 0)
    except ValueError:
        return None


def _flag(v: str) -> bool | None:
    t = (v or "").strip().upper()
    return True if t == "TRUE" else False if t == "FALSE" else None


def scope_of(text: str) -> tuple[str, tuple[str, ...], tuple[int, ...]] | None:
    """("national", (), ()), ("regional", (name,), ()) or ("network", (), (asn,))."""
    t = " ".join((text or "").split())
    if t.lower() == "country":
        return "national", (), ()
    m = re.fullmatch(r"Region\s*\((.+)\)", t, re.I)
    if m:
        return "regional", (m[1].strip(),), ()
    m = re.fullmatch(r"AS\s*\(\s*(?:AS)?(\d{1,10})\s*\)", t, re.I)
    if m and 0 < int(m[1]) < 2**32:
        return "network", (), (int(m[1]),)
    return None


def read(path) -> Documents:
    path = Path(path)
    sh = sheets.read_csv(path)[0]
    head = {h.strip(): i for i, h in enumerate(sh.header) if h.strip()}
    missing = [v for k, v in COLUMNS.items() if v not in head and k not in _OPTIONAL]
    if missing:
        raise InputError("not IODA's investigated-outages layout: lacks the column(s) "
                         + ", ".join(repr(m) for m in missing), path=path)
    col = {k: head.get(v) for k, v in COLUMNS.items()}
    events, notes = [], []
    no_start = 0
    for rownum, cells in sh.rows:
        def get(k):
            i = col[k]
            return cells[i].strip() if i is not None and i < len(cells) else ""

        where = f"row {rownum}"
        begin_text = get("begin")
        start = parse_time(begin_text)
        if start is None:
            if not begin_text:
                no_start += 1           # the notebook drops these rows too (dropna)
                continue
            raise InputError(f"not a time: {begin_text[:50]!r}; write e.g. 'Wednesday, March 17, "
                             "2021, 4:40:00 PM' (UTC)", path=path, where=where, field="Begin time")
        end_text = get("end")
        end = parse_time(end_text)
        if end is None and end_text.lower() not in _NONE:
            raise InputError(f"not a time: {end_text[:50]!r}; write it like 'Begin time', or N/A",
                             path=path, where=where, field="End time")
        note = ""
        if end is not None and end <= start:
            note, end = f"end {end:%Y-%m-%d %H:%M} not after the start: read as not given", None
        scope = scope_of(get("scope"))
        if scope is None:
            raise InputError(f"unknown scope {get('scope')[:50]!r}; IODA's are 'Country', "
                             "'Region (Name)' and 'AS (number)'", path=path, where=where,
                             field=COLUMNS["scope"])
        name = get("country").replace("&", "and")
        cc = countries.code(name)
        ident = get("id") or f"r{rownum}"
        events.append(Documented(
            id=f"ioda-{ident}-r{rownum}", documenter=DOCUMENTER, country=cc, scope=scope[0],
            kinds=("shutdown",), start=start, end=end, precision="minute", timezone="UTC",
            citation=f"{TITLE} (SIGCOMM'23 artifact), row {rownum}, ID {ident}",
            country_name=get("country"), areas=scope[1], asns=scope[2],
            cause=get("cause"), status=get("status"), note=note,
            signals=tuple((k, _flag(get(k))) for k in ("bgp", "ap", "ibr")),
            raw={"begin": begin_text, "end": end_text, "country": get("country"),
                 "scope": get("scope"), "bgp": get("bgp"), "ap": get("ap"), "ibr": get("ibr"),
                 "_row": rownum}))
    if no_start:
        notes.append(f"{no_start} row(s) without a begin time: not read")
    unknown = sorted({e.country_name for e in events if not e.country})
    if unknown:
        notes.append(f"{sum(1 for e in events if not e.country)} row(s) name no ISO 3166 "
                     f"country ({', '.join(unknown)}): kept, country left empty")
    return Documents(DOCUMENTER, TITLE, str(path), events, notes, sees=SEES, resolves=RESOLVES)


def looks_like(sheet_header: list[str]) -> bool:
    h = {x.strip() for x in sheet_header}
    return COLUMNS["begin"] in h and COLUMNS["scope"] in h
