"""The documented timeline: windows from precision, and every way a file can be wrong."""
import json
import re
import textwrap

import pandas as pd
import pytest
from typer.testing import CliRunner

from shutdown import load_case, load_timeline
from shutdown.cli import app
from shutdown.errors import InputError

runner = CliRunner()
T = pd.Timestamp


def by_id(events):
    return {e.id: e for e in events}


@pytest.fixture(scope="module")
def kz():
    case = load_case("kz-2022-01")
    return case, by_id(load_timeline(case.timeline_path, case=case))


def test_every_event_of_the_brief_is_there(kz):
    _, ev = kz
    # The table of report-brief.md: rows 1, 2, 3, 3b, 4, 5, 6, 7, 8; and two of its "other
    # facts" (circumvention tools, lines 334-357; .kz hosting from abroad, lines 414-430).
    assert sorted(ev) == ["kz-01-protests", "kz-02-messengers", "kz-03-shutdown", "kz-03b-peak",
                          "kz-04-emergency", "kz-05-night-restore", "kz-06-almaty-window",
                          "kz-07-whitelist", "kz-08-restored", "kz-09-circumvention",
                          "kz-10-kz-unreachable-abroad"]
    kinds = {k: e.kind for k, e in ev.items()}
    assert kinds["kz-02-messengers"] == "restriction"
    assert kinds["kz-03-shutdown"] == "shutdown"
    assert kinds["kz-07-whitelist"] == "whitelist"
    assert kinds["kz-08-restored"] == "restoration"
    assert kinds["kz-09-circumvention"] == "circumvention-blocked"
    assert ev["kz-09-circumvention"].scope_values == ("tor", "psiphon", "riseupvpn")
    assert kinds["kz-10-kz-unreachable-abroad"] == "unreachable-from-abroad"


def test_day_precision_5_jan_is_the_whole_almaty_day(kz):
    _, ev = kz
    assert ev["kz-03-shutdown"].window_utc == (T("2022-01-04T18:00Z"), T("2022-01-05T18:00Z"))


def test_almaty_window_of_7_jan(kz):
    _, ev = kz
    e = ev["kz-06-almaty-window"]
    assert e.precision == "hour" and e.scope == "region:Almaty"
    assert e.window_utc == (T("2022-01-07T03:00Z"), T("2022-01-07T08:00Z"))


def test_10_jan_restoration_and_multi_day_and_night(kz):
    _, ev = kz
    assert ev["kz-08-restored"].window_utc == (T("2022-01-09T18:00Z"), T("2022-01-10T18:00Z"))
    assert ev["kz-03b-peak"].window_utc == (T("2022-01-04T18:00Z"), T("2022-01-06T18:00Z"))
    # Night of 6 Jan: 22:00 on 5 Jan to 06:00 on 6 Jan, Almaty time.
    assert ev["kz-05-night-restore"].window_utc == (T("2022-01-05T16:00Z"), T("2022-01-06T00:00Z"))


def test_quotes_are_kazakh_text_from_the_report(kz, repo):
    _, ev = kz
    report = (repo.parent / "shared" / "seeds" / "qazaqstan-shutdown-2022.kk.txt")
    if not report.exists():
        pytest.skip("the report text lives in ../shared beside the repo")
    # PDF extraction hyphenates at line ends ("Қасым-\nЖомарт"): join those first.
    text = re.sub(r"\s+", " ", re.sub(r"-\s*\n\s*", "-", report.read_text()))
    for e in ev.values():
        # Every unbracketed stretch of the quote appears in the report, modulo line breaks.
        for piece in re.split(r"\s*\[[^\]]*\]\s*|\s*…\s*", e.quote_kk):
            piece = piece.strip(" .")
            if len(piece) > 12:
                assert piece in text, (e.id, piece)


def test_cli_json_lists_every_event_with_utc_windows():
    res = runner.invoke(app, ["timeline", "kz-2022-01", "--format", "json"])
    assert res.exit_code == 0, res.output
    recs = json.loads(res.stdout)
    assert len(recs) == 11
    need = {"id", "kind", "scope", "precision", "start_utc", "end_utc", "local_tz",
            "quote_kk", "text_en", "citation"}
    for r in recs:
        assert need <= set(r)
        assert r["start_utc"].endswith("Z") and r["end_utc"].endswith("Z")
        assert r["local_tz"] == "Asia/Almaty"
    w = {r["id"]: (r["start_utc"], r["end_utc"]) for r in recs}
    assert w["kz-03-shutdown"] == ("2022-01-04T18:00:00Z", "2022-01-05T18:00:00Z")
    assert w["kz-06-almaty-window"] == ("2022-01-07T03:00:00Z", "2022-01-07T08:00:00Z")
    assert w["kz-08-restored"] == ("2022-01-09T18:00:00Z", "2022-01-10T18:00:00Z")


def test_cli_table_and_csv_show_local_and_utc():
    res = runner.invoke(app, ["timeline", "kz-2022-01"])
    assert res.exit_code == 0
    line = next(l for l in res.stdout.splitlines() if l.startswith("kz-06-almaty-window"))
    assert "2022-01-07T09:00+06:00" in line and "2022-01-07T03:00:00Z" in line
    res = runner.invoke(app, ["timeline", "kz-2022-01", "--format", "csv"])
    assert res.exit_code == 0
    rows = res.stdout.strip().splitlines()
    assert rows[0].startswith("id,kind,scope,precision,start_utc,end_utc")
    assert len(rows) == 12


# --- bad input ---------------------------------------------------------------------

GOOD_EVENT = """
[[events]]
id = "e1"
kind = "shutdown"
scope = "national"
date = 2022-01-05
precision = "day"
quote_kk = "интернет өшірілді"
text_en = "Internet was switched off"
citation = "line 1"
"""


def write_case(tmp_path, events_text, tz='"Asia/Almaty"'):
    (tmp_path / "events.toml").write_text(f"timezone = {tz}\n" + textwrap.dedent(events_text))
    case = tmp_path / "case.toml"
    case.write_text(textwrap.dedent("""
        country = "KZ"
        timezone = "Asia/Almaty"
        start = 2022-01-02
        end = 2022-01-11
        timeline = "events.toml"
        """))
    return case


def run_timeline(case_path):
    return runner.invoke(app, ["timeline", str(case_path)])


def test_good_file_passes(tmp_path):
    res = run_timeline(write_case(tmp_path, GOOD_EVENT))
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("mutate, where, field, words", [
    (lambda s: s.replace('kind = "shutdown"\n', ""), "event 'e1'", "kind", "missing"),
    (lambda s: s.replace('"shutdown"', '"meltdown"'), "event 'e1'", "kind", "unknown kind 'meltdown'"),
    (lambda s: s.replace("date = 2022-01-05", 'date = "2022-02-30"'), "event 'e1'", "date", "impossible date"),
    (lambda s: s.replace('precision = "day"', 'precision = "hour"\nstart = "14:00"\nend = "09:00"'),
     "event 'e1'", "end", "not after start"),
    (lambda s: s.replace('precision = "day"', 'precision = "minute"\nstart = "25:10"'),
     "event 'e1'", "start", "impossible time"),
    (lambda s: s.replace('precision = "day"', 'precision = "day"\nend_date = 2022-01-01'),
     "event 'e1'", "end_date", "before date"),
    (lambda s: s.replace('scope = "national"', 'scope = "region:"'), "event 'e1'", "scope", "needs values"),
    (lambda s: s.replace('quote_kk = "интернет өшірілді"\n', ""), "event 'e1'", "quote_kk", "missing"),
    (lambda s: s + s, "event 'e1'", "id", "duplicate id"),
    (lambda s: s.replace('precision = "day"', 'precision = "day"\ntimezone = "Asia/Almatyy"'),
     "event 'e1'", "timezone", "unknown time zone 'Asia/Almatyy'"),
])
def test_bad_event_exits_2_naming_file_event_field(tmp_path, mutate, where, field, words):
    res = run_timeline(write_case(tmp_path, mutate(GOOD_EVENT)))
    assert res.exit_code == 2, res.output
    msg = res.stderr.strip()
    assert len(msg.splitlines()) == 1, msg
    assert "events.toml" in msg and where in msg and f"field {field!r}" in msg and words in msg
    assert "Traceback" not in res.output


def test_unknown_default_time_zone(tmp_path):
    res = run_timeline(write_case(tmp_path, GOOD_EVENT, tz='"Mars/Olympus"'))
    assert res.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'" in res.stderr and "timezone" in res.stderr


def test_toml_syntax_error_names_the_file_and_line(tmp_path):
    res = run_timeline(write_case(tmp_path, GOOD_EVENT.replace('kind = "shutdown"', 'kind = "shutdown')))
    assert res.exit_code == 2
    assert "events.toml" in res.stderr and "TOML syntax error" in res.stderr and "line" in res.stderr


def test_toml_impossible_date_literal_is_a_syntax_error(tmp_path):
    res = run_timeline(write_case(tmp_path, GOOD_EVENT.replace("2022-01-05", "2022-02-30")))
    assert res.exit_code == 2
    assert "events.toml" in res.stderr and "Traceback" not in res.output


def test_unknown_case_lists_known_ones():
    res = runner.invoke(app, ["timeline", "kz-2099"])
    assert res.exit_code == 2
    assert "unknown case 'kz-2099'" in res.stderr and "kz-2022-01" in res.stderr


def test_load_timeline_raises_input_error_with_fields(tmp_path):
    case = write_case(tmp_path, GOOD_EVENT.replace('"shutdown"', '"meltdown"'))
    with pytest.raises(InputError) as err:
        load_timeline(tmp_path / "events.toml", case=load_case(case))
    assert err.value.field == "kind" and err.value.where == "event 'e1'"
