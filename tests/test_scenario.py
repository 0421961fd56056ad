"""Scenario files: the shipped ones load; every kind of malformed file is a clear InputError."""
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from shutdown.cli import app
from shutdown.errors import InputError
from shutdown.scenario import list_scenarios, load_scenario

GOOD = """
name = "t"
case = "sim-short-national-cut"
synthetic = true

[[entities]]
entity = "country:XS"
ioda.ping-slash24 = { level = 100, noise = 0.01 }

[[entities]]
entity = "asn:64496"

[[episodes]]
id = "a"
start = 2022-03-03T10:00:00Z
end = 2022-03-03T12:00:00Z
entities = ["country:XS"]
signals = ["ioda.ping-slash24"]
depth = 0.9
"""


def write(tmp_path, text, name="s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_shipped_scenarios_load():
    names = list_scenarios()
    for want in ("kz-2022-01", "short-national-cut", "regional-cut", "throttling"):
        assert want in names
    kz = load_scenario("kz-2022-01")
    assert not kz.synthetic
    assert all(load_scenario(n).synthetic for n in ("short-national-cut", "regional-cut", "throttling"))
    # every KZ episode cites where its time comes from
    assert all(ep.sources for ep in kz.episodes)
    # BGP stays visible: no KZ episode touches it
    assert not any(s.signal == "bgp" for ep in kz.episodes for s in ep.signals)
    cut = next(ep for ep in kz.episodes if ep.id == "national-cut")
    assert cut.start == pd.Timestamp("2022-01-05T10:45:00Z") and cut.kind == "full"


def test_good_minimal_scenario(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.entity("country", "XS").ioda["ping-slash24"]["level"] == 100
    # unspecified parameters fall back to built-in defaults
    assert sc.entity("country", "XS").ioda["bgp"]["level"] > 0
    ep = sc.episodes[0]
    assert ep.kind == "full" and ep.type == "cut"            # derived from depth 0.9
    assert ep.end - ep.start == pd.Timedelta(hours=2)


@pytest.mark.parametrize("change, field, words", [
    (('signals = ["ioda.ping-slash24"]', 'signals = ["ioda.ping-slash42"]'), "signals", "unknown signal"),
    (("end = 2022-03-03T12:00:00Z", "end = 2022-03-03T09:00:00Z"), "end", "not after start"),
    (('entities = ["country:XS"]', 'entities = ["asn:64999"]'), "entities", "unknown entity"),
    (("depth = 0.9", "depth = 1.5"), "depth", "between 0 and 1"),
    (("depth = 0.9", "depth = 0.9\ndepht = 2"), "depht", "unknown field"),
    (("start = 2022-03-03T10:00:00Z", "start = 2022-03-03T10:00:00"), "start", "time zone"),
    (('ioda.ping-slash24 = { level = 100, noise = 0.01 }', 'ioda.ping = { level = 100 }'), "ping",
     "unknown signal"),
    (('signals = ["ioda.ping-slash24"]', 'signals = ["ooni.telegram"]'), "signals", "service-block"),
])
def test_malformed_names_file_and_field(tmp_path, change, field, words):
    p = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert str(p) in msg and f"field {field!r}" in msg and words in msg, msg


def test_overlapping_contradictory_episodes(tmp_path):
    text = GOOD + """
[[episodes]]
id = "b"
start = 2022-03-03T11:00:00Z
end = 2022-03-03T13:00:00Z
entities = ["country:XS"]
signals = ["ioda.ping-slash24", "ioda.gtr"]
depth = 0.5
"""
    with pytest.raises(InputError) as exc:
        load_scenario(write(tmp_path, text))
    msg = str(exc.value)
    assert "episode 'b'" in msg and "overlaps episode 'a'" in msg and "ping-slash24" in msg


def test_overlap_that_agrees_or_touches_is_fine(tmp_path):
    same = GOOD + """
[[episodes]]
id = "b"
start = 2022-03-03T11:00:00Z
end = 2022-03-03T13:00:00Z
entities = ["country:XS"]
signals = ["ioda.ping-slash24"]
depth = 0.9
[[episodes]]
id = "c"
start = 2022-03-03T13:00:00Z
end = 2022-03-03T14:00:00Z
entities = ["country:XS"]
signals = ["ioda.ping-slash24"]
depth = 0.3
"""
    assert len(load_scenario(write(tmp_path, same)).episodes) == 3


def test_toml_syntax_error_and_unknown_name(tmp_path):
    with pytest.raises(InputError, match="TOML syntax error"):
        load_scenario(write(tmp_path, GOOD + "\n[[episodes]\n"))
    with pytest.raises(InputError, match="unknown scenario 'nope'.*kz-2022-01"):
        load_scenario("nope")


def test_cli_bad_scenario_exits_2_with_one_line(tmp_path):
    p = write(tmp_path, GOOD.replace('"ioda.ping-slash24"]', '"ioda.bogus"]'))
    res = CliRunner().invoke(app, ["simulate", str(p), "--cache", str(tmp_path / "c")])
    assert res.exit_code == 2
    assert "error:" in res.output and str(p) in res.output and "'signals'" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "c").exists()
