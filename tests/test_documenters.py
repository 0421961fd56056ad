"""Another documenter's outages (Cloudflare Radar's Outage Center) against the report's
windows and against the detected outage."""
from __future__ import annotations

import pandas as pd

from shutdown import documenters
from shutdown.case import load_case
from shutdown.timeline import load_timeline

T = pd.Timestamp


def _fused(start, end):
    return pd.DataFrame({"entity_type": ["country"], "entity_code": ["KZ"],
                         "start_utc": [T(start)], "end_utc": [T(end)]})


def _entries(*rows):
    return pd.DataFrame([{"id": i, "start_utc": T(s), "end_utc": None if e is None else T(e),
                          "description": "d", "simulated": False} for i, s, e in rows])


def test_entry_against_report_windows_and_data(repo):
    case = load_case("kz-2022-01")
    events = load_timeline(case.timeline_path, case=case)
    # kz-03-shutdown: 5 Jan local day = 04T18:00Z..05T18:00Z; kz-08-restored: 10 Jan local day
    got = documenters.compare(events, _entries(("a", "2022-01-05T10:45Z", "2022-01-11T02:15Z")),
                              _fused("2022-01-05T10:00Z", "2022-01-10T20:00Z"), case, "Outage Center")
    r = got.iloc[0]
    assert r["report_event"] == "kz-03-shutdown"
    assert r["start_vs_report"] == "agrees (inside kz-03-shutdown's window)"
    assert r["end_event"] == "kz-08-restored"
    assert r["end_vs_report"] == "495 min later than kz-08-restored's window"     # 11T02:15 - 10T18:00
    assert r["start_vs_data"] == "45 min later than the detected start"
    assert r["end_vs_data"] == "375 min later than the detected end"
    assert len(got) == 1              # every national shutdown of the report is covered


def test_open_entry_missing_event_and_no_detection(repo):
    case = load_case("kz-2022-01")
    events = load_timeline(case.timeline_path, case=case)
    got = documenters.compare(events, _entries(("late", "2022-01-20T00:00Z", None)),
                              None, case, "Outage Center")
    first = got.iloc[0]
    assert first["start_vs_report"] == "no report shutdown within 2 days"
    assert first["end_vs_report"] == "still open"
    assert first["start_vs_data"] == "no detected outage overlaps it"
    missing = got[got["entry"] == ""]
    assert set(missing["report_event"]) >= {"kz-03-shutdown"}
    assert all(m == "not documented by Outage Center" for m in missing["start_vs_report"])
