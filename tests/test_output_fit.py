"""Tables fit the terminal (shutdown.output): the least important columns are hidden first,
then the widest shortened; the last line names them and how to see everything."""
import json

from typer.testing import CliRunner

from localserver import LocalServer
from shutdown import output
from shutdown.cli import app

ROWS = [{"id": f"event-{i}", "verdict": "confirmed", "title": "word " * 20, "extra": "x" * 30,
         "minor": i} for i in range(5)]


def test_a_wide_table_hides_the_named_columns_first_and_says_so():
    full = output.render(ROWS, "table")
    assert max(map(len, full.splitlines())) > 100
    out = output.render(ROWS, "table", width=100, drop=["minor", "extra"])
    lines = out.splitlines()
    assert max(map(len, lines)) <= 100
    header = lines[0].split()
    assert header == ["id", "verdict", "title"]          # the others kept, in order
    assert "hidden to fit 100 columns: minor, extra" in out.replace("\n", " ")
    assert "--wide" in out and "--format csv|json" in out.replace("\n", " ")


def test_what_hiding_cannot_fit_is_shortened_and_named():
    out = output.render(ROWS, "table", width=45, drop=["minor"])
    assert max(map(len, out.splitlines())) <= 45
    flat = out.replace("\n", " ")
    assert "…" in out and "shortened (…): title, extra" in flat
    # a table that fits is untouched: no note, nothing hidden
    narrow = [{"a": 1, "b": 2}]
    assert output.render(narrow, "table", width=40) == output.render(narrow, "table")


def test_timeline_fits_columns_and_wide_shows_every_column(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = CliRunner().invoke(app, ["timeline", "kz-2022-01"])
    assert r.exit_code == 0, r.output
    assert max(map(len, r.output.splitlines())) <= 80
    assert "start_utc" not in r.output.splitlines()[0] and "hidden to fit 80 columns" in r.output
    wide = CliRunner().invoke(app, ["timeline", "kz-2022-01", "--wide"])
    assert "start_utc" in wide.output.splitlines()[0] and "hidden" not in wide.output
    assert max(map(len, wide.output.splitlines())) > 80


def test_align_and_detect_fit_a_100_column_terminal(monkeypatch, shared_cache):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("SHUTDOWN_CACHE", str(shared_cache))
    for args in (["align", "kz-2022-01", "--demo"], ["align", "kz-2022-01", "--demo", "--view", "sources"],
                 ["detect", "kz-2022-01", "--demo"]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
        table = [ln for ln in r.stdout.splitlines()]
        assert table and max(map(len, table)) <= 100, (args, r.stdout)
        assert "--wide" in r.stdout
        # csv keeps every column whatever the terminal
        csv = CliRunner().invoke(app, args + ["--format", "csv"])
        assert len(csv.stdout.splitlines()[0].split(",")) > len(table[1].split())


def test_doctor_lines_wrap_to_the_terminal_and_json_has_every_field(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    with LocalServer(ooni="fastapi") as srv:
        base = ["doctor", "--url", "ioda=" + srv.url + "/v2", "--url", "ooni=" + srv.url, "--url", "atlas=" + srv.url,
                "--timeout", "10", "--source", "ioda,ooni,atlas"]     # what the local server plays
        r = CliRunner().invoke(app, base)
        js = CliRunner().invoke(app, base + ["--format", "json"])
    assert r.exit_code == 0, r.output
    assert max(map(len, r.output.splitlines())) <= 60 and len(r.output.splitlines()) > 3
    recs = json.loads(js.stdout)
    assert [x["source"] for x in recs] == ["ioda", "ooni", "atlas"] and all(x["schema_ok"] for x in recs)
    assert any("X-RateLimit-Remaining" in x["quota"] for x in recs)
