"""The SIGCOMM'23 rule: "Destination Unreachable" (Bischof et al.) matched STOP rows against
IODA's investigated outages like this, in InetIntel/internet_outages
notebooks/merge-kio-ioda.ipynb (commit 087e15774ea8f94f4f62e14718577dfdbd32aa8c):

* preprocessing: both files' labels as ``stop.labels`` and ``stop.GEO_SCOPE`` read them; STOP
  dates through dateutil's fuzzy parser ("ongoing"/"unknown"/"unkown" -> none), IODA times
  the same after its ": " -> ":00" fix, IODA rows without a start dropped;
* the two Syria fixes (Access Now confirmed them to the authors): Syria 2018-05-27 .. 05-28 ends
  2018-06-12; Syria 2019-06-13 .. 06-30 starts 2019-06-09 (the 2016-2022 workbook already
  carries both, so they change nothing there);
* countries standardised by pycountry (``countries.resolve``: same country <=> same code);
* the SQL join: same country, A's row a full-network shutdown, and
  ``date(A.start, '-1 day') <= B.start AND (B.start <= date(A.start, '+2 day') OR
  B.start <= date(A.end, '+1 day'))`` -- SQLite compares the text "YYYY-MM-DD" with
  "YYYY-MM-DD HH:MM:SS", so the lower bound is midnight of the day before A's start,
  inclusive, and each upper bound is the midnight it names, exclusive;
* the base selection: A's rows starting 2018-01-01 .. 2021-08-01 (the notebook's; our
  ``--from``/``--to``), matched = with at least one B row.

The paper compares A's local days with B's UTC times as they are: so do we, here only.
One deviation: dateutil fills a day missing from a free-text date ("April/2017 following
...") with today's day; we fill the 1st, so a run does not depend on its date.
"""
from __future__ import annotations

import datetime as dt

from shutdown.documented.model import Documented

NAME = "sigcomm23"
FROM, TO = dt.date(2018, 1, 1), dt.date(2021, 8, 1)     # the paper's base selection
_DEFAULT = dt.datetime(2000, 1, 1)
SYRIA_FIXES = (  # (start, end) as written -> field, value
    ((dt.date(2018, 5, 27), dt.date(2018, 5, 28)), "end", dt.date(2018, 6, 12)),
    ((dt.date(2019, 6, 13), dt.date(2019, 6, 30)), "start", dt.date(2019, 6, 9)),
)


def _fuzzy(v) -> dt.datetime | None:
    """parse_date_kio / parse_timestamp_ioda of the notebook."""
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    if v is None or isinstance(v, float):
        return None
    s = str(v).strip()
    if s.lower() in ("ongoing", "unknown", "unkown", ""):
        return None
    import dateutil.parser
    try:
        return dateutil.parser.parse(s.replace(": ", ":00") if ": " in s else s, fuzzy=True,
                                     default=_DEFAULT)
    except (ValueError, OverflowError):
        return None


def a_days(e: Documented) -> tuple[dt.date | None, dt.date | None]:
    """A's start and end day as the notebook reads them (raw cells when the record has them)."""
    if "start_date" in e.raw:
        s, x = _fuzzy(e.raw.get("start_date")), _fuzzy(e.raw.get("end_date"))
        s, x = (s.date() if s else None), (x.date() if x else None)
    else:
        s = e.start if not isinstance(e.start, dt.datetime) else e.start.date()
        x = e.end if not isinstance(e.end, dt.datetime) else e.end.date()
    if e.country == "SY":
        for (s0, e0), fld, val in SYRIA_FIXES:
            if (s, x) == (s0, e0):
                s, x = (val, x) if fld == "start" else (s, val)
    return s, x


def b_start(e: Documented) -> dt.datetime | None:
    if "begin" in e.raw:
        return _fuzzy(e.raw["begin"])
    if isinstance(e.start, dt.datetime):
        return e.start
    return dt.datetime.combine(e.start, dt.time())


def full_network(e: Documented) -> bool:
    return bool(e.raw["full_network_shutdown"]) if "full_network_shutdown" in e.raw \
        else "shutdown" in e.kinds


def judge(a: list[Documented], b) -> list[dict]:
    """One row per A record: matched B ids (of ``b.events``) and, when none, why."""
    by_country: dict[str, list[tuple[dt.datetime, Documented]]] = {}
    for e in b.events:
        t = b_start(e)
        if t is not None and e.country:
            by_country.setdefault(e.country, []).append((t, e))
    out = []
    for e in a:
        s, x = a_days(e)
        row = {"id": e.id, "expected": full_network(e), "matches": [], "reason": "", "why": ""}
        if not full_network(e):
            row["why"] = "not-full-network"
            row["reason"] = "not a full-network shutdown (the rule matches only those)"
        elif not e.country:
            row["why"] = "no-country-code"
            row["reason"] = f"country {e.country_name!r} has no ISO 3166 code"
        elif s is None:
            row["why"], row["reason"] = "no-start", "no start date"
        else:
            lo = dt.datetime.combine(s - dt.timedelta(days=1), dt.time())
            hi = [dt.datetime.combine(s + dt.timedelta(days=2), dt.time())]
            if x is not None:
                hi.append(dt.datetime.combine(x + dt.timedelta(days=1), dt.time()))
            cands = by_country.get(e.country, [])
            row["matches"] = [f.id for t, f in cands if lo <= t and any(t < h for h in hi)]
            if not row["matches"]:
                row["why"] = "none-in-country" if not cands else "none-in-window"
                row["reason"] = ("B records no outage in this country" if not cands else
                                 "no B start from the day before A's start to two days after "
                                 "it (or to the day after its end)")
        out.append(row)
    return out


def base(e: Documented, start: dt.date | None, end: dt.date | None) -> bool:
    s, _ = a_days(e)
    return s is not None and (start is None or s >= start) and (end is None or s <= end)

