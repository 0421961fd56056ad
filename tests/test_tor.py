"""Tor Metrics as a source (issue 21's proof that a new source is one module): users per
country and day, directly connecting and through bridges (``level`` signals), collected
through the Fetcher from a local server answering in the upstream's CSV shapes
(tests/fixtures/tor/SOURCES.md), read into the tidy table, simulated for --demo, expected
to move with access, drawn in the overview; its possible censorship events are tested in
tests/test_live_documenters.py."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from shutdown import timeline
from shutdown.case import load_case
from shutdown.collect import fetch_source
from shutdown.http import Fetcher
from shutdown.scenario import load_scenario
from shutdown.simulation import render_tor
from shutdown.simulation.run import answers
from shutdown.simulation.world import World
from shutdown.sources import Gap, registry, tor
from shutdown.store import RawCache
from tests.localserver import LocalServer

FIX = Path(__file__).parent / "fixtures" / "tor"
RELAY = (FIX / "userstats-relay-country-kz.csv").read_bytes()
BRIDGE = (FIX / "userstats-bridge-country-kz.csv").read_bytes()


def case():
    """Kazakhstan, 1-12 January 2022 local, no baseline: fetch days 2021-12-31 .. 2022-01-12."""
    return dataclasses.replace(load_case("kz-2022-01"), start=dt.date(2022, 1, 1),
                               end=dt.date(2022, 1, 12), baseline_days=0)


def upstream(tmp_path, bodies: dict) -> RawCache:
    """What the local server replays: ``bodies`` by path, as answers to tor's requests."""
    c = RawCache(tmp_path / "upstream")
    for req in tor.plan(case()):
        if req.path in bodies:
            c.put("tor", req.path, req.params, bodies[req.path], url="http://upstream.test", status=200)
    return c


def collect(tmp_path, srv) -> tuple[list, RawCache]:
    cache = RawCache(tmp_path / "cache")
    f = Fetcher(cache, "tor", srv.url, sleep=lambda s: None)
    return fetch_source(tor, case(), f), cache


def test_declared_as_two_level_signals_with_a_panel_and_a_documenter():
    src = registry.get("tor")
    assert {s.signal: (s.kind, s.role) for s in src.signals} == {
        "relay_users": ("level", "traffic"), "bridge_users": ("level", "volume")}
    assert all(s.trials is None for s in src.signals)
    (panel,) = src.panels
    assert [(g["signal"], g["transform"]) for g in panel["series"]] == [
        ("relay_users", "level_ratio"), ("bridge_users", "level_ratio")]
    assert src.documents["function"] == "normalize_events"
    # directly connecting users fall with access and return with it; bridge users are drawn only
    for kind, shows in (("shutdown", "down"), ("restoration", "up")):
        tor_exp = [(e.signal, e.shows) for e in timeline.expected_for(kind) if e.source == "tor"]
        assert tor_exp == [("relay_users", shows)]
    assert "tor" in load_case("kz-2022-01").sources


def test_collected_from_a_local_server_in_the_upstream_csv_shapes(tmp_path):
    relay, bridge = tor.plan(case())
    assert (relay.path, bridge.path) == ("/userstats-relay-country.csv", "/userstats-bridge-country.csv")
    assert bridge.params == {"start": "2021-12-31", "end": "2022-01-12", "country": "kz"}   # no events
    with LocalServer(replay=upstream(tmp_path, {relay.path: RELAY, bridge.path: BRIDGE})) as srv:
        notes, cache = collect(tmp_path, srv)
        assert notes == [] and len(srv.requests) == 2
    df = tor.normalize(case(), cache)
    got = df.pivot_table(index="ts_utc", columns="signal", values="value")
    assert list(got.columns) == ["bridge_users", "relay_users"] and len(got) == 11   # 11 Jan empty
    day = pd.Timestamp("2022-01-06", tz="UTC")
    assert (got.loc[day, "relay_users"], got.loc[day, "bridge_users"]) == (2210, 640)
    assert not df["simulated"].any() and set(df["unit"]) == {"users per day (estimate)"}
    # the raw CSVs are cached as they came, from the local server
    assert cache.get("tor", bridge.path, bridge.params).body == BRIDGE


def test_without_bridge_users_the_relay_users_stand_and_the_gap_is_said(tmp_path):
    relay, bridge = tor.plan(case())
    with LocalServer(replay=upstream(tmp_path, {relay.path: RELAY})) as srv:     # bridge: 404
        notes, cache = collect(tmp_path, srv)
    assert len(notes) == 1 and isinstance(notes[0], Gap) and "bridge users not read" in notes[0]
    assert set(tor.normalize(case(), cache)["signal"]) == {"relay_users"}


def test_a_bridge_body_that_is_not_the_csv_is_refused_before_caching():
    _, bridge = tor.plan(case())
    assert "not Tor Metrics' bridge-users CSV" in bridge.validate("<html>maintenance</html>")
    assert bridge.validate(BRIDGE.decode()) is None


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    c, sc = load_case("kz-2022-01"), load_scenario("kz-2022-01")
    cache = RawCache(tmp_path_factory.mktemp("sim"))

    def put(path, params, status, body):       # the simulator's driver of tor.requests
        assert status == 200
        cache.put("tor", path, params, body, url="http://sim" + path, status=status, simulated=True,
                  scenario=sc.name)
    answers(World(sc, c, 0), "tor", put)
    return c, cache


def test_simulated_users_fall_in_the_national_cut_in_the_same_shapes(simulated):
    c, cache = simulated
    for req in tor.plan(c):
        body = cache.get("tor", req.path, req.params).body.decode()
        assert req.validate(body) is None
    df = tor.normalize(c, cache)
    assert df["simulated"].all() and set(df["signal"]) == {"relay_users", "bridge_users"}
    s = df.pivot_table(index="ts_utc", columns="signal", values="value")
    before = s.loc[:"2022-01-03"].median()
    cut = s.loc["2022-01-06":"2022-01-08"].median()         # the country cut off (scenario)
    assert (cut < 0.5 * before).all()
    assert render_tor.render(World(load_scenario("kz-2022-01"), c, 0), "/other.csv", {})[0] == 404
