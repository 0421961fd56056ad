"""Case files: the analysis window in UTC, and bad case files."""
import textwrap

import pandas as pd
import pytest
from typer.testing import CliRunner

from shutdown import load_case
from shutdown.cli import app

runner = CliRunner()


def test_kz_case_window_and_networks():
    c = load_case("kz-2022-01")
    assert c.country == "KZ" and c.timezone == "Asia/Almaty"
    # 2 Jan 00:00 Almaty (UTC+6) to the end of 11 Jan local.
    assert c.window_utc == (pd.Timestamp("2022-01-01T18:00Z"), pd.Timestamp("2022-01-11T18:00Z"))
    assert c.baseline_utc[1] == c.window_utc[0]
    assert c.window_utc[0] - c.baseline_utc[0] == pd.Timedelta(days=c.baseline_days)
    assert c.baseline_days >= 7
    assert 9198 in {n.asn for n in c.networks}          # Kazakhtelecom
    assert ("region", "Almaty") in c.entities()
    assert c.timeline_path.is_file()


def test_case_by_path_equals_case_by_name(repo):
    assert load_case(repo / "data/cases/kz-2022-01.toml") == load_case("kz-2022-01")


@pytest.mark.parametrize("line, replacement, field", [
    ('timezone = "Asia/Almaty"', 'timezone = "Asia/Nowhere"', "timezone"),
    ('end = 2022-01-11', 'end = 2021-12-01', "end"),
    ('country = "KZ"', 'country = "KAZ"', "country"),
    ('country = "KZ"\n', '', "country"),
    ('sources = ["ioda"]', 'sources = ["ioda", "netflix"]', "sources"),
])
def test_bad_case_exits_2(tmp_path, line, replacement, field):
    (tmp_path / "events.toml").write_text("")
    text = textwrap.dedent("""\
        country = "KZ"
        timezone = "Asia/Almaty"
        start = 2022-01-02
        end = 2022-01-11
        timeline = "events.toml"
        sources = ["ioda"]
        """)
    assert line in text
    p = tmp_path / "bad.toml"
    p.write_text(text.replace(line, replacement))
    res = runner.invoke(app, ["timeline", str(p)])
    assert res.exit_code == 2, res.output
    assert "bad.toml" in res.stderr and f"field {field!r}" in res.stderr
    assert "Traceback" not in res.output


def test_missing_case_file(tmp_path):
    res = runner.invoke(app, ["timeline", str(tmp_path / "nope.toml")])
    assert res.exit_code == 2 and "case file not found" in res.stderr


def test_version_option():
    from shutdown import __version__
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"shutdown {__version__}"


@pytest.mark.parametrize("command", ["timeline", "collect", "simulate", "detect", "align",
                                     "report", "check"])
def test_every_command_has_help(command):
    res = runner.invoke(app, [command, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.stdout and "Example:" in res.stdout
