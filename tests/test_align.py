"""Alignment of documented events with detections, on synthetic data with known outages."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from shutdown import align as A
from shutdown import detect
from shutdown.cli import app
from shutdown.schema import VERDICTS, empty_tidy
from shutdown.timeline import Event
from synthetic import Block, Cut, Spec, make_tidy

T = pd.Timestamp
TZ = "Asia/Almaty"
NAT = (("country", "KZ"), ("asn", "9198"))
ALM = (("region", "Almaty"),)
# the synthetic Kazakhstan: cut 5 Jan 05:00Z, eased for the night 17:00-19:00Z, back on
# 10 Jan 06:00Z; Almaty let back on 7 Jan 03:00-08:00Z (09:00-14:00 local); messengers
# blocked from 4 Jan 06:00Z
CUTS = (Cut(T("2022-01-05T05:00Z"), T("2022-01-05T17:00Z"), 0.03, entities=NAT + ALM),
        Cut(T("2022-01-05T19:00Z"), T("2022-01-10T06:00Z"), 0.03, entities=NAT),
        Cut(T("2022-01-05T19:00Z"), T("2022-01-07T03:00Z"), 0.03, entities=ALM),
        Cut(T("2022-01-07T08:00Z"), T("2022-01-10T06:00Z"), 0.03, entities=ALM))
BLOCK = Block(T("2022-01-04T06:00Z"), T("2022-01-10T06:00Z"))


@pytest.fixture(scope="module")
def tidy(case):
    spec = Spec(start=case.fetch_utc[0], end=case.fetch_utc[1], entities=NAT + ALM, cuts=CUTS,
                blocks=(BLOCK,), ioda=("ping-slash24", "merit-nt", "gtr"))
    return make_tidy(spec)


@pytest.fixture(scope="module")
def det(case, tidy):
    return detect.run(tidy, case.window_utc, case.baseline_utc, tz=case.timezone)


@pytest.fixture(scope="module")
def rows(events, det, case):
    return A.align(events, det, case=case)


@pytest.fixture(scope="module")
def summary(rows, events):
    return A.summarize(rows, events)


def _ev(id, kind, date, scope="national", precision="day", **kw):
    return Event(id=id, kind=kind, scope=scope, date=date, precision=precision, tz=TZ,
                 quote_kk="-", text_en="-", citation="-", **kw)


def test_every_event_has_a_verdict(summary, events, rows):
    assert list(summary["event"]) == [e.id for e in events]
    assert set(summary["verdict"]) <= set(VERDICTS)
    assert set(rows["verdict"]) <= set(VERDICTS)
    assert summary["simulated"].all() and rows["simulated"].all()


def test_kazakhstan_events(summary):
    s = summary.set_index("event")
    assert s.loc["kz-01-protests", "verdict"] == "not-measurable"      # context
    assert s.loc["kz-02-messengers", "verdict"] == "confirmed"
    shut = s.loc["kz-03-shutdown"]
    assert shut["verdict"] == "confirmed" and shut["n_sources"] >= 4
    # measured start within an hour of the cut (hourly sources pull the median)
    assert abs(shut["transition_utc"] - T("2022-01-05T05:00Z")) <= pd.Timedelta(hours=1)
    assert shut["transition_local"].startswith("2022-01-05T1")      # 11:00 local
    night = s.loc["kz-05-night-restore"]                           # 22:00-06:00 local window
    assert night["verdict"] == "confirmed"
    assert night["transition_utc"] == T("2022-01-05T17:00Z")
    alm = s.loc["kz-06-almaty-window"]
    assert alm["verdict"] == "confirmed" and alm["via"] == ""        # the region has data
    assert alm["transition_utc"] == T("2022-01-07T03:00Z") and alm["minutes_off"] == 0
    back = s.loc["kz-08-restored"]
    assert back["verdict"] == "confirmed"
    assert abs(back["transition_utc"] - T("2022-01-10T06:00Z")) <= pd.Timedelta(hours=1)


def test_may_not_show_is_not_measurable_when_silent(rows):
    bgp = rows[(rows["event"] == "kz-03-shutdown") & (rows["expects"] == "may-not-show")
               & (rows["source"] == "atlas")]
    assert set(bgp["verdict"]) == {"not-measurable"}               # infra probes kept uplink
    assert bgp["reason"].str.contains("can miss").all()


def test_expectations_for_the_check(case, summary, rows):
    res = A.expectation_results(case, summary, rows)
    assert list(res["event"]) == ["kz-03-shutdown", "kz-08-restored", "kz-02-messengers",
                                  "kz-06-almaty-window", "kz-07-whitelist", "kz-09-circumvention",
                                  "kz-10-kz-unreachable-abroad"]
    r = res.set_index("event")
    national = r.loc[["kz-03-shutdown", "kz-08-restored"]]
    assert national["ok"].all() and (national["n_sources"] >= 2).all()
    assert r.loc[["kz-02-messengers", "kz-06-almaty-window", "kz-10-kz-unreachable-abroad"], "ok"].all()
    # this synthetic table has no per-domain or circumvention tests: those expectations
    # fail, and say why
    for eid in ("kz-07-whitelist", "kz-09-circumvention"):
        assert not r.loc[eid, "ok"] and "not-measurable" in r.loc[eid, "message"]
    # from the summary alone (what a sidecar file keeps) the answer is the same
    res2 = A.expectation_results(case, summary)
    assert list(res2["n_sources"]) == list(res["n_sources"])


def test_later_and_earlier_with_minutes(det, case):
    # the report says 4 Jan (local day = 3 Jan 18:00Z .. 4 Jan 18:00Z); data shows 5 Jan 05:00Z
    late = _ev("late", "shutdown", dt.date(2022, 1, 4))
    early = _ev("early", "shutdown", dt.date(2022, 1, 5), precision="hour",
                start_time=dt.time(14, 0), end_time=dt.time(15, 0))   # 08:00-09:00Z
    rows = A.align([late, early], det, case=case)
    s = A.summarize(rows, [late, early]).set_index("event")
    assert s.loc["late", "verdict"] == "confirmed-later"
    assert s.loc["late", "minutes_off"] == pytest.approx(11 * 60, abs=60)     # 18:00Z -> 05:00Z
    assert s.loc["early", "verdict"] == "confirmed-earlier"
    assert s.loc["early", "minutes_off"] == pytest.approx(-3 * 60, abs=60)    # 05:00Z vs 08:00Z


def test_not_observed_and_contradicted(det, case):
    quiet = _ev("quiet", "shutdown", dt.date(2022, 1, 3))                # nothing happened then
    still = _ev("still", "restoration", dt.date(2022, 1, 8))             # still cut on 8 Jan
    rows = A.align([quiet, still], det, case=case)
    s = A.summarize(rows, [quiet, still]).set_index("event")
    assert s.loc["quiet", "verdict"] == "not-observed"
    assert s.loc["still", "verdict"] == "contradicted"
    assert rows.loc[rows["event"] == "still", "reason"].str.contains("still down").any()


def test_not_measurable_without_data_or_baseline(case, tidy, events):
    # no Atlas rows at all, and no baseline for IODA: those rows are not measurable
    t = tidy[tidy["source"] != "atlas"]
    t = t[~((t["source"] == "ioda") & (t["ts_utc"] < case.window_utc[0]))]
    d = detect.run(t, case.window_utc, case.baseline_utc, tz=case.timezone)
    rows = A.align(events, d, case=case)
    shut = rows[rows["event"] == "kz-03-shutdown"]
    assert set(shut.loc[shut["source"].isin(["atlas", "ioda"]), "verdict"]) == {"not-measurable"}
    io = shut[(shut["source"] == "ioda") & (shut["signal"] != "bgp")]      # (no BGP rows at all)
    assert len(io) and io["reason"].str.contains("before the window").all()
    assert (A.summarize(rows, events).set_index("event").loc["kz-03-shutdown", "verdict"]
            == "confirmed")                                     # OONI still sees it


def test_empty_table_gives_not_measurable_everywhere(case, events):
    d = detect.run(empty_tidy(), case.window_utc, case.baseline_utc)
    rows = A.align(events, d, case=case)
    assert set(rows["verdict"]) == {"not-measurable"}
    s = A.summarize(rows, events)
    assert len(s) == len(events) and set(s["verdict"]) == {"not-measurable"}
    assert not A.expectation_results(case, s, rows)["ok"].any()


def test_region_without_data_uses_country_proxy(case, tidy, events):
    d = detect.run(tidy[tidy["entity_type"] != "region"], case.window_utc, case.baseline_utc)
    rows = A.align(events, d, case=case)
    s = A.summarize(rows, events).set_index("event")
    assert s.loc["kz-06-almaty-window", "via"].startswith("country")
    assert (rows.loc[rows["event"] == "kz-06-almaty-window", "role"] == "proxy").any()


def test_unexplained_outage_is_listed(case, events):
    extra = Cut(T("2022-01-03T06:00Z"), T("2022-01-03T10:00Z"), 0.0, entities=NAT)
    spec = Spec(start=case.fetch_utc[0], end=case.fetch_utc[1], entities=NAT, cuts=CUTS + (extra,),
                ioda=("ping-slash24", "merit-nt"), ooni=False)
    d = detect.run(make_tidy(spec), case.window_utc, case.baseline_utc)
    un = A.unexplained(events, d.fused, case)
    assert len(un) >= 1
    row = un[un["entity_code"] == "KZ"].iloc[0]
    assert row["start_utc"] == extra.start and row["end_utc"] == extra.end
    assert row["nearest_event"] in {e.id for e in events}
    # the documented shutdown itself is explained
    assert not ((un["start_utc"] <= T("2022-01-05T05:00Z")) & (un["end_utc"] > T("2022-01-05T05:00Z"))).any()
    # argument order of the report module is accepted too
    assert len(A.unexplained(d.fused, events, case)) == len(un)


# -- command line ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table_file(tidy, tmp_path_factory):
    p = tmp_path_factory.mktemp("t") / "kz.parquet"
    tidy.to_parquet(p)
    return p


def test_cli_detect_json_has_the_interval_fields(table_file):
    r = CliRunner().invoke(app, ["detect", "kz-2022-01", "--table", str(table_file), "-f", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    need = {"source", "entity_type", "entity_code", "signal", "start_utc", "end_utc", "depth",
            "kind", "simulated"}
    assert data and need <= set(data[0])
    assert all(d["simulated"] for d in data)
    assert "SIMULATED" in r.stderr


def test_cli_detect_table_shows_simulated_banner(table_file):
    r = CliRunner().invoke(app, ["detect", "kz-2022-01", "--table", str(table_file), "--view", "fused"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("SIMULATED")
    assert "n_sources" in r.stdout


def test_cli_align_md_and_expectations(table_file):
    r = CliRunner().invoke(app, ["align", "kz-2022-01", "--table", str(table_file), "-f", "md"])
    assert r.exit_code == 0, r.output
    assert "| kz-03-shutdown |" in r.stdout and "SIMULATED" in r.stdout
    r = CliRunner().invoke(app, ["align", "kz-2022-01", "--table", str(table_file), "-f", "json",
                                 "--view", "expectations"])
    assert r.exit_code == 0
    got = {x["event"]: x["ok"] for x in json.loads(r.stdout)}
    assert got["kz-03-shutdown"] and got["kz-08-restored"] and got["kz-02-messengers"]
    assert not got["kz-07-whitelist"]            # no per-domain data in this table


@pytest.mark.parametrize("args, msg", [
    (["--table", "/nonexistent.parquet"], "not found"),
    (["--table", "X", "--demo"], "--demo"),
    (["--format", "xml"], "unknown format"),
    (["--view", "nope"], "unknown view"),
])
def test_cli_bad_input_exits_2(args, msg):
    r = CliRunner().invoke(app, ["align", "kz-2022-01", *args])
    assert r.exit_code == 2
    assert msg in r.stderr and "Traceback" not in r.output


def test_cli_not_a_tidy_table(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    r = CliRunner().invoke(app, ["detect", "kz-2022-01", "--table", str(p)])
    assert r.exit_code == 2 and "not a tidy table" in r.stderr


def test_cli_empty_cache_says_so(tmp_path):
    r = CliRunner().invoke(app, ["detect", "kz-2022-01", "--cache", str(tmp_path / "empty")])
    assert r.exit_code == 0, r.output
    assert "no data" in r.stderr and "shutdown collect" in r.stderr


def test_cli_source_without_any_data_is_named(tidy, tmp_path):
    p = tmp_path / "no-atlas.parquet"
    tidy[tidy["source"] != "atlas"].to_parquet(p)
    r = CliRunner().invoke(app, ["align", "kz-2022-01", "--table", str(p), "--view", "sources",
                                 "-f", "csv"])
    assert r.exit_code == 0, r.output
    assert "no data at all from atlas" in r.stderr
    lines = [l for l in r.stdout.splitlines() if ",atlas," in l and "kz-03-shutdown" in l]
    assert lines and all("not-measurable" in l for l in lines)


def test_a_judgement_is_typed_a_misspelt_column_or_unknown_verdict_fails_where_made():
    from shutdown.align.common import Judged
    from shutdown.verdict import Verdict, CONFIRMING, RANK
    j = Judged.of({"verdict": "confirmed-later", "reason": "r", "minutes_off": 5.0})
    assert j.verdict is Verdict.CONFIRMED_LATER and j.verdict.confirms and j.row()["verdict"] == "confirmed-later"
    assert j.with_(verdict="not-observed").verdict.rank == RANK["not-observed"] == 3
    with pytest.raises(KeyError, match="verdikt"):
        Judged.of({"verdikt": "confirmed"})
    with pytest.raises(ValueError):
        Judged.of({"verdict": "probably"})
    assert set(CONFIRMING) == {v.value for v in Verdict if v.confirms} and \
        A.CONFIRMING == CONFIRMING and tuple(A.RANK) == tuple(v.value for v in Verdict)
