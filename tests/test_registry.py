"""The source registry: every upstream declares itself once, and the rest of the tool
reads the declaration -- a new source module needs no edit anywhere else."""
from __future__ import annotations

import sys
import textwrap

import pytest

from shutdown import config
from shutdown.errors import InputError
from shutdown.sources import registry
from standin_source import installed

FAKE = '''
DECLARATION = {
    "name": "fakeprobe", "title": "Fake Probe", "order": 90,
    "default_url": "https://fake.example/api/",
    "auth": {"env": "FAKEPROBE_TOKEN", "header": "Authorization", "scheme": "Bearer",
             "required": True, "how": "ask the fake team"},
    "min_interval": 2.5,
    "signals": [{"signal": "reach", "unit": "hosts", "meaning": "hosts answering", "role": "connectivity",
                 "label": "Fake reach", "floor": 0.42}],
}


def plan(case):
    return []


def requests(case):
    return []
    yield


def normalize(case, cache):
    import pandas as pd
    return pd.DataFrame()
'''


def _sources(value: str):
    """A write_case edit setting the case's sources."""
    from test_reliability import CASE
    line = next(ln for ln in CASE.splitlines() if ln.startswith("sources"))
    return (line, f"sources = {value}")


@pytest.fixture
def fake_source(tmp_path, monkeypatch):
    """A source module outside the package, found as if it lay in shutdown/sources/."""
    with installed(tmp_path, monkeypatch, "fakeprobe", FAKE) as src:
        yield src


def test_the_four_upstreams_are_declared_in_order():
    # then the live documenters (issue 19), which a case opts into
    assert registry.names() == ("ioda", "ooni", "atlas", "radar", "radar_anomalies",
                                "ooni_findings", "tor")
    assert registry.default_names() == ("ioda", "ooni", "atlas")     # radar needs a token: opt in
    for src in registry.sources().values():
        # a source measures (signals), documents outages of its own, or both
        assert (src.signals or src.documents) and all(s.role in registry.ROLES for s in src.signals)
        assert config.base_url(src.name) == src.default_url
    assert registry.signal("ioda", "bgp").family == "ioda/bgp"        # each IODA method its own
    assert registry.signal("radar", "netflows").family == "radar"
    assert registry.signal("nope", "x") is None and registry.signal("ioda", "nope") is None


def test_a_new_module_is_read_everywhere(fake_source, monkeypatch, tmp_path):
    from shutdown.detect import thresholds
    from shutdown.detect.fusion import family
    from shutdown.timeline import expected_for
    assert "fakeprobe" in registry.names() and "fakeprobe" not in registry.default_names()
    monkeypatch.delenv("SHUTDOWN_FAKEPROBE_URL", raising=False)
    assert config.base_url("fakeprobe") == "https://fake.example/api"
    monkeypatch.setenv("SHUTDOWN_FAKEPROBE_URL", "http://127.0.0.1:9999")
    assert config.base_url("fakeprobe") == "http://127.0.0.1:9999"
    assert config.parse_url_options(["fakeprobe=http://h:1"]) == {"fakeprobe": "http://h:1"}
    # expected to fall in a shutdown and to return at a restoration, said with its meaning
    down = [e for e in expected_for("shutdown") if e.source == "fakeprobe"]
    assert [(e.signal, e.shows) for e in down] == [("reach", "down")] and "hosts answering" in down[0].why
    assert [e.shows for e in expected_for("restoration") if e.source == "fakeprobe"] == ["up"]
    assert not [e for e in expected_for("restriction") if e.source == "fakeprobe"]
    assert family("fakeprobe", "reach") == "fakeprobe"
    assert thresholds.min_drop("fakeprobe", "reach") == 0.42
    assert thresholds.min_drop("ioda", "bgp") == registry.signal("ioda", "bgp").floor == 0.10
    assert fake_source.min_interval == 2.5
    # the credential: sent as declared, and how to get it when it is missing
    assert fake_source.auth_headers({"FAKEPROBE_TOKEN": "t0k"}) == {"Authorization": "Bearer t0k"}
    assert fake_source.missing_credential({}) == "needs $FAKEPROBE_TOKEN: ask the fake team"
    assert fake_source.missing_credential({"FAKEPROBE_TOKEN": "t0k"}) is None
    # a case may name it
    from shutdown.case import load_case
    from test_reliability import write_case
    case = load_case(write_case(tmp_path, _sources('["ioda", "fakeprobe"]')))
    assert case.sources == ("ioda", "fakeprobe")


def test_a_declared_witness_joins_the_tables_rows(tmp_path, monkeypatch):
    """What a signal witnesses (its declaration) and how a witness moves per event kind
    (shutdown.expect.TABLE) make its expectations: a new source declaring that its hosts
    stay online in a restriction is a no-change control there, after IODA's (registry
    order), and a rank puts it first among the signals reached from abroad."""
    from shutdown.timeline import expected_for
    text = FAKE.replace('"floor": 0.42}', '"floor": 0.42, "witnesses": {"hosts-online": "its hosts stay up", '
                        '"reached-from-abroad": {"why": "pinged from abroad", "rank": -1, "subtype": "v4"}}}')
    with installed(tmp_path, monkeypatch, "fakeprobe", text):
        restriction = [(e.source, e.signal, e.shows) for e in expected_for("restriction")]
        assert restriction[4:] == [("ioda", "ping-slash24", "no-change"), ("fakeprobe", "reach", "no-change"),
                                   ("atlas", "probes_reachable", "no-change")]
        abroad = expected_for("unreachable-from-abroad")
        assert [(e.source, e.shows, e.subtype, e.why) for e in abroad[:2]] == [
            ("fakeprobe", "down", "v4", "pinged from abroad"), ("ioda", "down", None, abroad[1].why)]
        # the whitelist's row gives its own reason, whatever the signal's
        assert [e.why for e in expected_for("whitelist") if e.source == "fakeprobe"] == [
            "a whitelist opens a few sites, not general connectivity"]
        # no access witness declared: it still falls in a shutdown by its role
        assert [(e.signal, e.shows) for e in expected_for("shutdown") if e.source == "fakeprobe"] == [("reach", "down")]


def test_an_unknown_witness_is_refused_naming_the_module(tmp_path, monkeypatch):
    text = FAKE.replace('"floor": 0.42}', '"floor": 0.42, "witnesses": {"acess": "typo"}}')
    (tmp_path / "fakeprobe.py").write_text(textwrap.dedent(text))
    import shutdown.sources as pkg
    monkeypatch.setattr(pkg, "__path__", [*pkg.__path__, str(tmp_path)])
    registry.sources.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="fakeprobe.DECLARATION.*unknown 'acess'"):
            registry.sources()
    finally:
        registry.sources.cache_clear()
        sys.modules.pop("shutdown.sources.fakeprobe", None)


@pytest.mark.parametrize("value, message", [
    ("ooni", "expected SOURCE=URL"),
    ("ooni=", "expected SOURCE=URL"),
    ("nosuch=http://h", "unknown source 'nosuch'; known: ioda, ooni, atlas, radar"),
])
def test_url_option_errors_name_the_problem(value, message):
    with pytest.raises(InputError, match=message) as ei:
        config.parse_url_options([value])
    assert "--url" in str(ei.value)


def test_unknown_source_in_a_case_lists_the_known_ones(tmp_path):
    from shutdown.case import load_case
    from test_reliability import write_case
    with pytest.raises(InputError, match="unknown source 'cloudflare'; known: ioda, ooni, atlas, radar"):
        load_case(write_case(tmp_path, _sources('["ioda", "cloudflare"]')))


@pytest.mark.parametrize("extra, message", [
    ('"network_series": [{"signal": "reach", "transform": "level_ratio"}]', "a signal, a label and a transform"),
    ('"region_panels": [{"subtype": "v4"}]', "region_panels: a signal per panel"),
    ('"region_panels": [{"signal": "latency"}]', "'latency', not one of its signals"),
    ('"network_series": [{"signal": "rtt", "label": "RTT", "transform": "none"}]', "'rtt', not one of its signals"),
])
def test_a_malformed_figure_declaration_is_refused_naming_the_module(tmp_path, monkeypatch, extra, message):
    """The figures trust the declarations: one that cannot be drawn stops at discovery,
    naming the module to fix, never half-way through a report."""
    import shutdown.sources as pkg
    (tmp_path / "fakeprobe.py").write_text(textwrap.dedent(FAKE).replace(
        '"min_interval": 2.5,', '"min_interval": 2.5, ' + extra + ','))
    monkeypatch.setattr(pkg, "__path__", [*pkg.__path__, str(tmp_path)])
    registry.sources.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="shutdown.sources.fakeprobe.DECLARATION") as ei:
            registry.sources()
        assert message in str(ei.value)
    finally:
        registry.sources.cache_clear()
        sys.modules.pop("shutdown.sources.fakeprobe", None)
