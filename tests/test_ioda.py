"""IODA collector: replayed responses in IODA v2's own shapes (see shutdown/sources/ioda.py)."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import responses

from localserver import responses_callbacks, small_case
from shutdown.collect import fetch_source, fetched
from shutdown.sources import walk
from shutdown.case import Region
from shutdown.http import Fetcher, SourceError
from shutdown.sources import ioda
from shutdown.store import RawCache

FIX = Path(__file__).parent / "fixtures" / "ioda"
URL = "https://ioda.test/v2"


def fixture(name):
    return json.loads((FIX / name).read_text())


def fetcher(tmp_path, **kw):
    return Fetcher(RawCache(tmp_path / "cache"), "ioda", URL, sleep=lambda s: None, **kw)


def test_parse_signals_scalar_values_and_nulls():
    df = ioda.parse_signals(fixture("signals_bgp_country.json"))
    assert list(df["value"].iloc[:2]) == [9200.0, 9198.0]
    assert np.isnan(df["value"].iloc[2])                       # null is a gap, kept as NaN
    assert df["ts_utc"].iloc[0] == pd.Timestamp("2022-01-05T00:00:00Z")
    assert df["ts_utc"].iloc[5] == pd.Timestamp("2022-01-05T00:25:00Z")   # from + 5*300 s
    assert set(df["datasource"]) == {"bgp"} and set(df["subtype"]) == {""}


def test_parse_signals_gtr_one_series_per_product():
    df = ioda.parse_signals(fixture("signals_gtr_products.json"))
    web = df[df["subtype"] == "WEB_SEARCH"]
    assert list(web["value"].iloc[[0, 1, 3]]) == [955040520.0, 761764750.5, 12.0]
    assert np.isnan(web["value"].iloc[2])
    yt = df[df["subtype"] == "YOUTUBE"]
    assert list(yt["value"]) == [40.0, 41.0, 3.0, 2.0]
    assert yt["ts_utc"].iloc[3] - yt["ts_utc"].iloc[0] == pd.Timedelta(seconds=3 * 1800)


def test_plan_asks_gtr_for_the_products_shown():
    p = ioda.signals_params(pd.Timestamp("2022-01-05", tz="UTC"), pd.Timestamp("2022-01-06", tz="UTC"), "gtr")
    assert p["sourceParams"] == "WEB_SEARCH,YOUTUBE" and "maxPoints" not in p
    assert "sourceParams" not in ioda.signals_params(pd.Timestamp(0, tz="UTC"), pd.Timestamp(1, tz="UTC"), "bgp")


def test_nested_agg_values_are_refused_per_datasource_never_a_crash():
    env = fixture("signals_nested_agg_values.json")
    assert ioda.check_signals(env) is None
    df = ioda.parse_signals(env)
    assert set(df["datasource"]) == {"gtr"} and len(df) == 4          # the flat series is kept
    assert ioda.nested_datasources(env) == ["upstream-delay-penult-asns"]
    assert ioda.nested_datasources(fixture("signals_gtr_products.json")) == []


def test_parse_signals_empty_window():
    df = ioda.parse_signals(fixture("signals_empty.json"))
    assert df.empty and "value" in df.columns


def test_silent_failure_is_told_apart_from_no_data():
    assert ioda.check_signals(fixture("signals_silent_failure_200.json")) is None   # a valid envelope...
    assert "backend" in ioda.silent_failure(fixture("signals_silent_failure_200.json"))   # ...but not final
    assert ioda.silent_failure(fixture("signals_empty.json")) is None                # [[]]: no data
    assert ioda.silent_failure(fixture("signals_bgp_country.json")) is None
    assert ioda.check_signals(fixture("signals_bgp_country.json")) is None
    assert ioda.check_signals([1, 2]).startswith("unexpected body")


@pytest.mark.parametrize("ask", ["Almaty City", "almaty city"])
def test_region_match_reports_every_candidate(tmp_path, ask):
    case = region_case(tmp_path, f'[[regions]]\nname = "Almaty"\nioda_name = "{ask}"')
    table = ioda.parse_entities(fixture("entities_regions_kz.json"))
    codes, notes = ioda.match_regions(case, table)
    assert codes == {"Almaty": "990088"}
    assert len(notes) == 1 and "'Almaty City' (code 990088) chosen by the case's ioda_name" in notes[0]
    assert "other candidates: 'Almaty' (code 990084)" in notes[0] and "Astana" not in notes[0]


def test_plan_chunks_entities_and_region_code(tmp_path):
    case = small_case(tmp_path, ioda_region="4321")
    reqs = ioda.plan(case)
    sig = [r for r in reqs if r.path.startswith("/signals/")]
    # country, AS9198, region 4321 x 4 datasources x 1 chunk (2 days < 7)
    assert len(sig) == 12
    assert {r.path for r in sig} == {"/signals/raw/country/KZ", "/signals/raw/asn/9198",
                                     "/signals/raw/region/4321"}
    reg = [r for r in sig if "region" in r.path][0]
    assert reg.entity_code == "Almaty"
    assert sig[0].params["from"] == int(pd.Timestamp("2022-01-03T18:00Z").timestamp())
    assert {r.params["datasource"] for r in sig} == set(ioda.DATASOURCES)
    # without a code: the region lookup first, then country and AS only (stage one)
    first = ioda.plan(small_case(tmp_path, ioda_region=None))
    assert len(first) == 1 + 8 + 4 and first[0].path == "/entities/query"
    assert first[0].params == {"entityType": "region", "relatedTo": "country/KZ"}
    # stage two: with the resolved code the region's requests follow
    second = ioda.plan(small_case(tmp_path, ioda_region=None), {"Almaty": "4107"})
    assert len(second) == 1 + 12 + 6 and "/signals/raw/region/4107" in {r.path for r in second}


def test_plan_chunks_long_window(tmp_path):
    from shutdown.case import load_case
    case = load_case("kz-2022-01")
    sig = [r for r in ioda.plan(case) if r.path == "/signals/raw/country/KZ" and r.params["datasource"] == "bgp"]
    spans = [(r.params["from"], r.params["until"]) for r in sig]
    assert all(u - f <= 7 * 86400 for f, u in spans)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))       # contiguous, no gaps
    start, end = case.fetch_utc
    assert spans[0][0] == int(start.timestamp()) and spans[-1][1] == int(end.timestamp())


@responses.activate
def test_silent_failure_is_cached_provisional_and_asked_again(tmp_path):
    params = {"from": 1, "until": 2, "datasource": "bgp"}
    responses.get(URL + "/signals/raw/country/KZ", json=fixture("signals_silent_failure_200.json"))
    f = fetcher(tmp_path)
    f.get_json("/signals/raw/country/KZ", params, validate=ioda.check_signals, provisional=ioda.silent_failure)
    (meta,) = f.cache.entries()
    assert "backend" in meta["provisional"]
    responses.replace("GET", URL + "/signals/raw/country/KZ", json=fixture("signals_bgp_country.json"))
    again = fetcher(tmp_path)
    obj = again.get_json("/signals/raw/country/KZ", params, validate=ioda.check_signals,
                         provisional=ioda.silent_failure)
    assert again.stats.requests == 1 and again.stats.cache_hits == 0 and obj["data"][0]
    (meta,) = again.cache.entries()
    assert "provisional" not in meta                       # final now: the next run reads the cache
    third = fetcher(tmp_path)
    third.get_json("/signals/raw/country/KZ", params, validate=ioda.check_signals, provisional=ioda.silent_failure)
    assert third.stats.requests == 0 and third.stats.cache_hits == 1


@responses.activate
def test_silent_failure_cached_before_the_mark_existed_is_asked_again(tmp_path):
    params = {"from": 1, "until": 2, "datasource": "bgp"}
    cache = RawCache(tmp_path / "cache")
    cache.put("ioda", "/signals/raw/country/KZ", params, (FIX / "signals_silent_failure_200.json").read_bytes(),
              url=URL, status=200)                      # an older run stored it as final
    responses.get(URL + "/signals/raw/country/KZ", json=fixture("signals_bgp_country.json"))
    f = fetcher(tmp_path)
    obj = f.get_json("/signals/raw/country/KZ", params, validate=ioda.check_signals, provisional=ioda.silent_failure)
    assert f.stats.requests == 1 and obj["data"][0]


@responses.activate
def test_http_400_error_envelope_message(tmp_path):
    responses.get(URL + "/signals/raw/country/KZ", json=fixture("error_400.json"), status=400)
    with pytest.raises(SourceError) as ei:
        fetcher(tmp_path).get_json("/signals/raw/country/KZ", {"from": 9, "until": 1, "datasource": "bgp"},
                                   validate=ioda.check_signals)
    assert "HTTP 400" in str(ei.value) and "must be earlier than until" in str(ei.value)


@responses.activate
def test_alerts_pagination_and_events(tmp_path):
    case = small_case(tmp_path, ioda_region=None)
    first = fixture("alerts.json")
    responses.get(URL + "/outages/alerts", json=fixture("alerts_page1.json"),
                  match=[responses.matchers.query_param_matcher({"page": "1"}, strict_match=False)])
    responses.get(URL + "/outages/alerts", json=first)
    responses.get(URL + "/outages/events", json=fixture("events.json"))
    f = fetcher(tmp_path)
    req = [r for r in ioda.plan(case) if r.path == "/outages/alerts"][0]
    req = type(req)(req.source, req.path, {**req.params, "limit": 2}, req.entity_type, req.entity_code)
    walk(ioda.pages(req), fetched(f))
    assert f.stats.requests == 2                     # page 0 was full (2 of limit 2): page 1 fetched
    assert f.cache.get("ioda", req.path, {**req.params, "page": 1}) is not None
    parsed = pd.concat([ioda.parse_alerts(first), ioda.parse_alerts(fixture("alerts_page1.json"))])
    assert list(parsed["level"]) == ["critical", "warning", "normal"]
    assert parsed["start_utc"].iloc[0] == pd.Timestamp(1641390600, unit="s", tz="UTC")
    ev = ioda.parse_events(fixture("events.json"))
    assert ev["end_utc"].iloc[0] - ev["start_utc"].iloc[0] == pd.Timedelta(days=5)
    assert ev["score"].iloc[0] == 81234.5 and ev["entity_code"].iloc[0] == "KZ"
    # still open at the query's until: IODA clipped it there (overlaps_window); the end is unknown
    assert ev["start_utc"].iloc[1] == pd.Timestamp(1641423600, unit="s", tz="UTC")
    assert pd.isna(ev["end_utc"].iloc[1])
    assert pd.isna(ioda.parse_events(fixture("events.json"), until=1641427200)["end_utc"].iloc[1])
    assert ioda.parse_events(fixture("events.json"), until=1641513600)["end_utc"].notna().all()


@responses.activate
def test_collect_and_normalize_small_case(tmp_path):
    case = small_case(tmp_path, ioda_region="4321")
    responses_callbacks(responses, ioda_url=URL)
    f = fetcher(tmp_path)
    fetch_source(ioda, case, f)
    assert f.stats.requests == len(ioda.plan(case)) == 18
    df = ioda.normalize(case, f.cache)
    bgp = df[(df["signal"] == "bgp") & (df["entity_code"] == "KZ")]
    assert len(bgp) == 2 * 86400 // 300                        # 2 days at native 300 s
    assert bgp["value"].iloc[0] == 1000.0 and bgp["value"].iloc[8] == 1001.0   # BASE + i % 7
    assert set(df[df["entity_type"] == "region"]["entity_code"]) == {"Almaty"}  # named as in the case
    gtr = df[df["signal"] == "gtr"]
    assert set(gtr["subtype"]) == {"WEB_SEARCH", "YOUTUBE"} and set(gtr["entity_type"]) == {"country"}
    assert set(df["unit"][df["signal"] == "bgp"]) == {"visible /24 prefixes"}
    assert not df["simulated"].any()
    out = ioda.normalize_outages(case, f.cache)
    assert set(out["kind"]) == {"alert", "event"}
    assert set(out["entity_code"]) == {"KZ", "9198", "Almaty"}
    # the declaration's documents entry: the country's events only (not alerts, networks, regions)
    assert ioda.DECLARATION["documents"]["function"] == "documented_events"
    doc = ioda.documented_events(case, f.cache)
    kz = out[(out["kind"] == "event") & (out["entity_type"] == "country")]
    assert len(doc) == len(kz) > 0 and len(out[out["kind"] == "event"]) > len(kz)
    assert doc["end_utc"].isna().sum() == kz["end_utc"].isna().sum()
    assert doc["id"].is_unique and doc["description"].str.startswith(("IODA", "Google")).all()


def test_normalize_marks_simulated_payloads(tmp_path):
    """The simulator stores payloads under plan(case) keys; normalize labels them."""
    case = small_case(tmp_path, ioda_region=None)
    cache = RawCache(tmp_path / "sim")
    req = [r for r in ioda.plan(case) if r.path.startswith("/signals/")][0]
    body = json.dumps(fixture("signals_bgp_country.json")).encode()
    cache.put("ioda", req.path, req.params, body, url="sim://", status=200, simulated=True, scenario="t")
    df = ioda.normalize(case, cache)
    assert len(df) and df["simulated"].all()


@responses.activate
def test_region_codes_lookup(tmp_path):
    """A made-up country (XX): the shape is IODA's, the codes are not real ones."""
    responses.get(URL + "/entities/query", json=fixture("entities_regions.json"),
                  match=[responses.matchers.query_param_matcher(
                      {"entityType": "region", "relatedTo": "country/XX"})])
    df = ioda.region_codes("xx", fetched(fetcher(tmp_path)))
    assert list(df["name"]) == ["First City", "Second Region"] and list(df["code"]) == ["9001", "9002"]


def test_malformed_series_is_rejected_before_caching():
    env = fixture("signals_bgp_country.json")
    del env["data"][0][0]["values"]
    assert "lacks" in ioda.check_signals(env)
    env = fixture("signals_bgp_country.json")
    env["data"] = {"KZ": []}                      # not the list of lists IODA sends
    assert "expected a list" in ioda.check_signals(env)


def test_mixed_nested_values_are_refused_not_guessed():
    env = fixture("signals_bgp_country.json")
    env["data"][0][0]["values"] = [5, [6], [7, 8], None]
    assert ioda.parse_signals(env).empty                 # no single value per bin: no guess
    assert ioda.nested_datasources(env) == ["bgp"]


# -- regions found by name (/entities/query) ---------------------------------------------
REGION_CASE = """\
name = "kz-region"
country = "KZ"
timezone = "Asia/Almaty"
start = 2022-01-05
end = 2022-01-05
baseline_days = 1
timeline = "none.toml"
sources = ["ioda"]
{regions}
"""


def region_case(tmp_path, *regions):
    from shutdown.case import load_case
    p = tmp_path / "kz-region.toml"
    p.write_text(REGION_CASE.format(regions="\n".join(regions)))
    return load_case(p)


def replay_regions(payload):
    """The KZ region lookup answered with ``payload``; signals and outages as the local server."""
    responses.get(URL + "/entities/query", json=payload,
                  match=[responses.matchers.query_param_matcher(
                      {"entityType": "region", "relatedTo": "country/KZ"})])
    responses_callbacks(responses, ioda_url=URL)


@responses.activate
def test_region_resolved_by_name_then_collected_and_normalized_offline(tmp_path):
    case = region_case(tmp_path, '[[regions]]\nname = "almaty"')       # case-insensitive
    replay_regions(fixture("entities_regions_kz.json"))
    f = fetcher(tmp_path)
    notes = fetch_source(ioda, case, f)
    assert notes == ["region 'almaty': IODA region 'Almaty' (code 990084) chosen by its name; "
                     "other candidates: 'Almaty City' (code 990088)"]
    paths = [c.request.url for c in responses.calls]
    assert paths[0].startswith(URL + "/entities/query?")
    assert sum("/signals/raw/region/990084?" in u for u in paths) == 4    # "Almaty", exactly
    assert not any("/region/990088" in u for u in paths)
    assert f.stats.requests == 1 + 2 * 4 + 2 * 2          # lookup; KZ and Almaty x 4; alerts, events
    # offline: normalize resolves the code from the cached lookup, names the rows as the case
    df = ioda.normalize(case, RawCache(tmp_path / "cache"))
    reg = df[df["entity_type"] == "region"]
    assert set(reg["entity_code"]) == {"almaty"} and set(reg["signal"]) == set(ioda.DATASOURCES) - {"gtr"}
    assert len(reg[reg["signal"] == "bgp"]) == 2 * 86400 // 300
    out = ioda.normalize_outages(case, RawCache(tmp_path / "cache"))
    assert set(out.loc[out["entity_type"] == "region", "entity_code"]) == {"almaty"}
    # a second run asks nothing
    again = fetcher(tmp_path)
    fetch_source(ioda, case, again)
    assert again.stats.requests == 0 and again.stats.cache_hits == f.stats.requests


@responses.activate
def test_ioda_name_picks_the_region_the_case_means(tmp_path):
    case = region_case(tmp_path, '[[regions]]\nname = "Almaty"\nioda_name = "Almaty City"')
    replay_regions(fixture("entities_regions_kz.json"))
    fetch_source(ioda, case, fetcher(tmp_path))
    df = ioda.normalize(case, RawCache(tmp_path / "cache"))
    assert set(df.loc[df["entity_type"] == "region", "entity_code"]) == {"Almaty"}
    assert any("/signals/raw/region/990088?" in c.request.url for c in responses.calls)
    assert not any("/signals/raw/region/990084?" in c.request.url for c in responses.calls)


@responses.activate
def test_ambiguous_region_is_left_out_with_one_message_naming_the_candidates(tmp_path):
    payload = fixture("entities_regions_kz.json")
    twin = json.loads(json.dumps(payload["data"][0]))
    twin.update(code="990199", name="ALMATY")
    payload["data"].append(twin)
    case = region_case(tmp_path, '[[regions]]\nname = "Almaty"')
    replay_regions(payload)
    f = fetcher(tmp_path)
    notes = fetch_source(ioda, case, f)
    assert len(notes) == 1
    assert "ambiguous" in notes[0] and "'Almaty' (code 990084)" in notes[0] and "'ALMATY' (code 990199)" in notes[0]
    assert "ioda_name" in notes[0] and "ioda =" in notes[0]
    assert not any("/region/" in c.request.url for c in responses.calls)
    df = ioda.normalize(case, f.cache)                # country and AS data still there
    assert set(df["entity_type"]) == {"country"} and len(df)


@responses.activate
def test_unknown_region_name_lists_similar_names_and_the_rest_is_collected(tmp_path):
    case = small_case(tmp_path, sources=("ioda",), ioda_region=None)
    case = dataclasses.replace(case, regions=(Region(name="Almaty", codes={"ioda_name": "Almaty Qalasy"}),))
    replay_regions(fixture("entities_regions_kz.json"))
    f = fetcher(tmp_path)
    notes = fetch_source(ioda, case, f)
    assert len(notes) == 1 and "no IODA region of KZ is named 'Almaty Qalasy'" in notes[0]
    assert "'Almaty' (code 990084), 'Almaty City' (code 990088)" in notes[0]
    assert "Astana" not in notes[0]      # similar names only
    df = ioda.normalize(case, f.cache)
    assert set(df["entity_code"]) == {"KZ", "9198"}


def test_cli_summary_says_which_region_was_left_out(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from localserver import LocalServer
    from shutdown.cli import app
    case = small_case(tmp_path, sources=("ioda",), ioda_region=None)
    text = case.path.read_text().replace('name = "Almaty"', 'name = "Almaty"\nioda_name = "Almaty Qalasy"')
    case.path.write_text(text)
    with LocalServer() as srv:
        r = CliRunner().invoke(app, ["collect", str(case.path), "--cache", str(tmp_path / "c"),
                                     "--url", "ioda=" + srv.url + "/v2", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "no IODA region of KZ is named 'Almaty Qalasy'" in r.output
