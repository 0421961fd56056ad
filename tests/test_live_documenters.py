"""Live documenters (Radar's Outage Center and traffic anomalies, OONI Findings, Tor Metrics):
fetched through the Fetcher from the local server into a raw cache, read again from that
cache without a request, rendered by the simulator for --demo, and matched against the
report's timeline. Fixtures follow tests/fixtures/{ooni_findings,tor,radar_anomalies}/SOURCES.md
(and tests/fixtures/radar/SOURCES.md for the Outage Center)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shutdown.cli import app
from shutdown.documented.live import Window, window
from shutdown.sources import radar, radar_anomalies, ooni_findings, tor
from shutdown.store import RawCache
from tests.localserver import LocalServer

FIX = Path(__file__).parent / "fixtures"
DAYS = ["--country", "KZ", "--from", "2022-01-01", "--to", "2022-01-12"]
WIN = window("KZ", dt.date(2022, 1, 1), dt.date(2022, 1, 12))


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def served(tmp_path, source, req, body: bytes) -> RawCache:
    """A cache the local server replays: ``body`` as the answer to ``req``."""
    c = RawCache(tmp_path / "upstream")
    c.put(source, req.path, req.params, body, url="http://upstream.test", status=200)
    return c


def live_json(tmp_path, name, source, req, body, *extra, env=None, monkeypatch=None):
    """``shutdown documented NAME`` against the local server playing the upstream, twice:
    the second run must answer from the cache (no request)."""
    with LocalServer(replay=served(tmp_path, source, req, body)) as srv:
        args = ["documented", name, *DAYS, "--cache", tmp_path / "c", "--url",
                f"{source}={srv.url}", "--format", "json", *extra]
        first = run(*args)
        assert first.exit_code == 0, first.output
        n = len(srv.requests)
        second = run(*args)
        assert second.exit_code == 0 and len(srv.requests) == n      # the cache answered
    meta = list(RawCache(tmp_path / "c").entries(source))
    assert meta and all(m["url"].startswith("http://127.0.0.1") and not m["simulated"] for m in meta)
    return json.loads(first.stdout), n


# -- OONI Findings -------------------------------------------------------------------------
def test_ooni_findings_keep_their_precision_and_name_kinds_services_and_countries(tmp_path):
    req = ooni_findings.plan(WIN)[0]
    assert req.path == "/api/v1/incidents/search" and req.params == {"country_code": "KZ"}
    recs, n = live_json(tmp_path, "ooni-findings", "ooni_findings", req,
                        (FIX / "ooni_findings" / "incidents_search_kz.json").read_bytes())
    assert n == 1
    by = {r["id"]: r for r in recs}
    apps = by["ooni-finding-330022197701-KZ"]          # Explorer's dates: day precision, UTC
    assert (apps["precision"], apps["start"], apps["end"], apps["timezone"]) == \
        ("day", "2022-01-04", "2022-01-10", "UTC")
    assert apps["end_utc"] == "2022-01-11T00:00:00Z"          # the end date is its last day
    assert apps["kinds"] == ["service-based"] and apps["scope"] == "national"
    assert apps["services"] == ["web.telegram.org", "Telegram", "WhatsApp"]
    # minutes kept; one record per country (--country keeps KZ); the ASNs make it network
    cut = by["ooni-finding-330022197702-KZ"]
    assert (cut["precision"], cut["start"], cut["end"]) == ("minute", "2022-01-05T10:45", None)
    assert cut["kinds"] == ["shutdown"] and cut["scope"] == "network" and cut["asns"] == [29355, 21299]
    assert "ooni-finding-330022197702-KG" not in by and len(recs) == 2


def test_ooni_findings_for_every_country_it_names(tmp_path):
    from shutdown import documented
    from shutdown.documented.live import ooni_findings as live
    cache = RawCache(tmp_path / "c")
    req = ooni_findings.plan(WIN)[0]
    cache.put("ooni_findings", req.path, req.params,
              (FIX / "ooni_findings" / "incidents_search_kz.json").read_bytes(), url="x", status=200)
    docs = live.read("KZ", dt.date(2022, 1, 1), dt.date(2022, 1, 12), cache=cache)
    assert {e.country for e in docs.events} == {"KZ", "KG"}        # both CCs of the second
    assert docs.sees == ("service-based", "throttling")
    assert documented.LIVE["ooni-findings"].endswith("ooni_findings:read")


# -- Tor Metrics -------------------------------------------------------------------------------
def test_tor_downturns_are_day_precision_events_and_the_rest_is_said(tmp_path):
    req = tor.plan(WIN)[0]
    assert (req.path, req.params["country"], req.params["events"]) == \
        ("/userstats-relay-country.csv", "kz", "on")
    assert (req.params["start"], req.params["end"]) == ("2021-12-31", "2022-01-13")   # the last UTC day before the end
    with LocalServer(replay=served(tmp_path, "tor", req,
                                   (FIX / "tor" / "userstats-relay-country-kz.csv").read_bytes())) as srv:
        r = run("documented", "tor", *DAYS, "--cache", tmp_path / "c", "--url", f"tor={srv.url}",
                "--format", "json")
    assert r.exit_code == 0, r.output
    recs = json.loads(r.stdout)
    # 5-6 Jan below the range (one run), 7 Jan inside it, 8 Jan below again; 10 Jan is above
    assert [(x["start"], x["end"]) for x in recs] == [("2022-01-05", "2022-01-06"),
                                                      ("2022-01-08", "2022-01-08")]
    assert all(x["precision"] == "day" and x["timezone"] == "UTC" and x["scope"] == "national"
               and x["kinds"] == ["shutdown", "service-based"] and x["services"] == ["Tor"]
               for x in recs)
    assert "1 day(s) above the expected range" in r.stderr
    assert "2 of 12 day(s) without an expected range" in r.stderr
    # the CSV was cached as it came, byte for byte
    (entry,) = RawCache(tmp_path / "c").entries("tor")
    hit = RawCache(tmp_path / "c").get("tor", req.path, req.params)
    assert hit.body == (FIX / "tor" / "userstats-relay-country-kz.csv").read_bytes()
    assert entry["sha256"]


def test_tor_declares_its_users_per_day_in_the_tidy_table(tmp_path):
    cache = RawCache(tmp_path / "c")
    req = tor.plan(WIN)[0]
    cache.put("tor", req.path, req.params, (FIX / "tor" / "userstats-relay-country-kz.csv").read_bytes(),
              url="x", status=200)
    df = tor.normalize(WIN, cache)
    assert set(df["signal"]) == {"relay_users"} and len(df) == 11       # the empty day left out
    assert df.loc[df["ts_utc"] == "2022-01-06", "value"].item() == 2210


def test_a_body_that_is_not_the_users_csv_is_one_line_and_caches_nothing(tmp_path):
    req = tor.plan(WIN)[0]
    with LocalServer(replay=served(tmp_path, "tor", req, b"<html>maintenance</html>")) as srv:
        r = run("documented", "tor", *DAYS, "--cache", tmp_path / "c", "--url", f"tor={srv.url}")
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1
    assert "not Tor Metrics' relay-users CSV" in r.output and "Traceback" not in r.output
    assert not list(RawCache(tmp_path / "c").entries("tor"))


# -- Cloudflare Radar --------------------------------------------------------------------------
def test_radar_outage_center_pages_read_through_the_radar_source(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "tok-test")
    req = next(radar.pages(__import__("shutdown.sources", fromlist=["Request"]).Request(
        "radar", radar.OUTAGES_PATH, radar.outages_params(WIN))))
    recs, n = live_json(tmp_path, "radar", "radar", req,
                        (FIX / "radar" / "outages_kz.json").read_bytes())
    assert n == 1                                          # outages only, no traffic series
    first = next(x for x in recs if x["id"] == "radar-101")
    assert (first["start"], first["end"], first["precision"], first["timezone"], first["scope"]) == \
        ("2022-01-05T10:30", "2022-01-11T06:00", "minute", "UTC", "national")
    assert first["cause"] == "GOVERNMENT_DIRECTED" and "https://example.com/kz-shutdown" in first["citation"]
    assert first["kinds"] == ["shutdown"]


def test_radar_without_a_token_says_how_to_get_one_in_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    r = run("documented", "radar", *DAYS, "--cache", tmp_path / "c")
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1
    assert "CLOUDFLARE_API_TOKEN" in r.output


def test_radar_traffic_anomalies_are_national_or_network_to_the_minute(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "tok-test")
    req = radar_anomalies.plan(WIN)[0]
    assert req.params["status"] == "VERIFIED" and req.path == "/radar/traffic_anomalies"
    recs, n = live_json(tmp_path, "radar-anomalies", "radar_anomalies", req,
                        (FIX / "radar_anomalies" / "traffic_anomalies_kz.json").read_bytes())
    by = {x["scope"]: x for x in recs}
    assert (by["national"]["start"], by["national"]["end"]) == ("2022-01-05T10:30", "2022-01-10T23:45")
    assert by["network"]["asns"] == [29355] and by["network"]["end"] is None
    assert by["network"]["operators"] == ["KCELL-AS"]
    # cached under its own source: a Radar report's raw entries stay what they were
    assert not list(RawCache(tmp_path / "c").entries("radar"))


# -- windows and refusals ----------------------------------------------------------------------
def test_the_window_widens_local_days_by_a_day_each_side_and_refuses_what_is_missing():
    assert isinstance(WIN, Window) and WIN.fetch_utc[0].isoformat() == "2021-12-31T00:00:00+00:00"
    assert WIN.fetch_utc[1].isoformat() == "2022-01-14T00:00:00+00:00"
    for args, word in ((["--country", "KZ"], "--from"), (["--from", "2022-01-01", "--to", "2022-01-02"],
                                                         "--country"),
                       (["--country", "KZ", "--from", "2022-01-01"], "--to")):
        r = run("documented", "ooni-findings", *args)
        assert r.exit_code == 2 and word in r.output and len(r.output.strip().splitlines()) == 1
    r = run("documented", "tor", *DAYS, "--demo")
    assert r.exit_code == 2 and "--demo needs a case" in r.output


# -- the demo ------------------------------------------------------------------------------------
@pytest.fixture
def demo_env(shared_cache, monkeypatch):
    monkeypatch.setenv("SHUTDOWN_CACHE", str(shared_cache))
    return shared_cache


@pytest.mark.parametrize("name,documenter", [("radar", "radar-outage-center"),
                                              ("radar-anomalies", "radar-anomalies"),
                                              ("ooni-findings", "ooni-findings"),
                                              ("tor", "tor-metrics")])
def test_every_live_documenter_runs_offline_on_the_demo_marked_simulated(demo_env, name, documenter):
    r = run("documented", name, "--case", "kz-2022-01", "--demo", "--format", "json")
    assert r.exit_code == 0, r.output
    recs = json.loads(r.stdout)
    assert recs and all(x["simulated"] and x["citation"].startswith("SIMULATED")
                        and x["documenter"] == documenter and x["country"] == "KZ" for x in recs)
    # the case's own demo cache (what its report rests on) holds none of these answers
    from shutdown.simulation.run import demo_cache_dir
    src = {"radar-anomalies": "radar_anomalies", "ooni-findings": "ooni_findings"}.get(name, name)
    if src not in ("radar", "tor"):      # (Radar and Tor Metrics are series sources of the case too)
        assert not list(RawCache(demo_cache_dir("kz-2022-01")).entries(src))
    assert list(RawCache(demo_cache_dir("kz-2022-01") / "documenters").entries(src))


def test_the_report_timeline_against_the_simulated_outage_center(demo_env, case, events):
    """`shutdown match data/events/kz-2022-01.toml radar --rule windows --demo`: every national
    shutdown of the report that overlaps the simulated Outage Center entry is matched, the
    report's service restrictions are not expected there."""
    from shutdown.scenario import load_scenario
    from shutdown.simulation import render_radar
    from shutdown.simulation.world import World
    import pandas as pd
    r = run("match", "data/events/kz-2022-01.toml", "radar", "--rule", "windows", "--demo",
            "--format", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["b"]["title"] == "Cloudflare Radar Outage Center (SIMULATED)"
    # independently: the simulator's entries, and the report's national shutdown-like events
    anns = render_radar.annotations(World(load_scenario("kz-2022-01"), case, 0))
    spans = [(pd.Timestamp(a["startDate"]), pd.Timestamp(a.get("endDate") or "2100-01-01T00:00Z"))
             for a in anns]
    # (a whitelist's listed sites are the exception, not its scope: the country is cut)
    shut = [e for e in events if e.kind in ("shutdown", "whitelist", "unreachable-from-abroad")
            and e.scope_type not in ("region", "network")]
    want = {e.id for e in shut if any(s < e.window_utc[1] and e.window_utc[0] < t for s, t in spans)}
    expected = {x["id"] for x in out["rows"] if x["expected"]}
    assert expected == {e.id for e in shut}
    assert want and {p["a"] for p in out["pairs"]} & expected == want
    assert out["total"] == {"matched": len(want), "of": len(shut), "share": round(len(want) / len(shut), 4)}
    rows = {x["id"]: x for x in out["rows"]}
    assert rows["kz-02-messengers"]["expected"] is False      # service-based: Radar cannot see it
    assert "records only shutdown" in rows["kz-02-messengers"]["reason"]
    table = run("match", "data/events/kz-2022-01.toml", "radar", "--rule", "windows", "--demo")
    assert f"matched {len(want)} of {len(shut)}" in table.stdout
