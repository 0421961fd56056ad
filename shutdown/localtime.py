"""Local wall-clock times to UTC, with daylight-saving time handled explicitly.

Windows are computed in UTC, never on the wall clock: an hour-long event that
starts at 01:00 on the night clocks go back lasts one hour, not two.

* A local time that does not exist (skipped when clocks go forward, e.g. 02:30
  on 2022-03-13 in America/New_York) is refused where a user wrote it.
* A local time that happens twice (when clocks go back) is the *first*
  occurrence (``fold = 0``, still on summer time) unless the user says
  ``fold = 1`` (the second occurrence, after the change).
* Computed boundaries (midnight of a day, 22:00/06:00 of a night) that fall in a
  skipped hour are the first instant after it.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd

UTC = dt.timezone.utc


def status(day: dt.date, time: dt.time, zone: ZoneInfo) -> str | None:
    """"skipped" when the local time does not exist, "repeated" when it occurs twice, else None."""
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return None
    back = first.astimezone(zone).replace(tzinfo=None)
    return "repeated" if back == naive else "skipped"


def to_utc(day: dt.date, time: dt.time, zone: ZoneInfo, fold: int = 0) -> pd.Timestamp:
    """The UTC instant of a local date and time (see the module doc for DST)."""
    naive = dt.datetime.combine(day, time)
    if status(day, time, zone) == "skipped":
        fold = 0    # read in the offset before the change: lands just after the skipped hour
    return pd.Timestamp(naive.replace(tzinfo=zone, fold=fold).astimezone(UTC))
