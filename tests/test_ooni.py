"""OONI collector: replayed aggregation answers in OONI API v1's own shapes."""
import json
from pathlib import Path

import pandas as pd
import pytest
import responses

from localserver import small_case
from shutdown.http import Fetcher, SourceError
from shutdown.sources import ooni
from shutdown.store import RawCache

FIX = Path(__file__).parent / "fixtures" / "ooni"
URL = "https://ooni.test"
AGG = URL + "/api/v1/aggregation"


def fixture(name):
    return json.loads((FIX / name).read_text())


def fetcher(tmp_path, **kw):
    return Fetcher(RawCache(tmp_path / "cache"), "ooni", URL, sleep=lambda s: None, **kw)


def test_plan_splits_hour_grain_into_7_day_chunks():
    from shutdown.case import load_case
    case = load_case("kz-2022-01")
    reqs = ooni.plan(case)
    assert len(reqs) == (1 + len(case.networks)) * 4 * 2        # 24 days -> 4 chunks, 2 requests each
    for r in reqs:
        span = pd.Timestamp(r.params["until"]) - pd.Timestamp(r.params["since"])
        assert span <= pd.Timedelta(days=7)
        assert r.params["time_grain"] == "hour" and r.params["axis_x"] == "measurement_start_day"
    asn = [r for r in reqs if r.entity_type == "asn"]
    assert {r.params["probe_asn"] for r in asn} == {f"AS{n.asn}" for n in case.networks}
    tests = [r for r in reqs if "test_name" in r.params]
    assert tests[0].params["axis_y"] == "test_name"
    assert set(tests[0].params["test_name"].split(",")) == {"web_connectivity", "telegram", "whatsapp",
                                                           "signal", "facebook_messenger", "tor",
                                                           "vanilla_tor", "torsf", "psiphon",
                                                           "riseupvpn"}


def test_parse_aggregation_hour_rows():
    df = ooni.parse_aggregation(fixture("aggregation_volume_hour.json"))
    assert list(df["measurement_count"]) == [120.0, 40.0, 2.0]
    assert df["ts_utc"].iloc[2] == pd.Timestamp("2022-01-05T03:00:00Z")


def test_check_aggregation_errors():
    assert "time_grain" in ooni.check_aggregation(fixture("error_hour_grain_400.json"))
    assert "Invalid ASN" in ooni.check_aggregation(fixture("error_param_200.json"))
    assert ooni.check_aggregation({"v": 0, "dimension_count": 0, "result": {"measurement_count": 1}})
    assert ooni.check_aggregation(fixture("aggregation_tests_hour.json")) is None


def _store(cache, req, name):
    body = (FIX / name).read_bytes()
    cache.put("ooni", req.path, req.params, body, url=AGG, status=200)


def test_normalize_fills_absent_hours_with_zero(tmp_path):
    case = small_case(tmp_path)
    cache = RawCache(tmp_path / "c")
    vol, tests = [r for r in ooni.plan(case) if r.entity_type == "country"]
    _store(cache, vol, "aggregation_volume_hour.json")
    _store(cache, tests, "aggregation_tests_hour.json")
    df = ooni.normalize(case, cache).set_index(["signal", "subtype", "ts_utc"])["value"]
    t = pd.Timestamp
    # volume: hourly over the fetch window 2022-01-03T18Z..2022-01-05T18Z, absent hours are 0
    allv = df.loc[("measurements", "all")]
    assert len(allv) == 48
    assert allv[t("2022-01-05T00:00Z")] == 120 and allv[t("2022-01-05T01:00Z")] == 40
    assert allv[t("2022-01-05T02:00Z")] == 0 and allv[t("2022-01-05T03:00Z")] == 2
    assert allv[t("2022-01-04T12:00Z")] == 0
    # per test outcomes
    assert df[("web_connectivity", "ok", t("2022-01-05T00:00Z"))] == 86
    assert df[("web_connectivity", "confirmed", t("2022-01-05T00:00Z"))] == 1
    assert df[("whatsapp", "anomaly", t("2022-01-05T01:00Z"))] == 3
    assert df[("whatsapp", "failure", t("2022-01-05T01:00Z"))] == 2
    assert df[("signal", "ok", t("2022-01-05T00:00Z"))] == 0          # test absent -> zeros
    assert df[("measurements", "telegram", t("2022-01-05T00:00Z"))] == 4
    # the ASN was never fetched: no rows invented for it
    full = ooni.normalize(case, cache)
    assert set(full["entity_code"]) == {"KZ"} and not full["simulated"].any()


@responses.activate
def test_hour_grain_400_ends_source_with_message(tmp_path):
    responses.get(AGG, json=fixture("error_hour_grain_400.json"), status=400)
    with pytest.raises(SourceError) as ei:
        fetcher(tmp_path).get_json("/api/v1/aggregation", {"probe_cc": "KZ"}, validate=ooni.check_aggregation)
    msg = str(ei.value)
    assert msg.startswith("ooni: ") and "/api/v1/aggregation" in msg and "HTTP 400" in msg
    assert "Choose time_grain" in msg


@responses.activate
def test_error_on_http_200_is_not_cached(tmp_path):
    responses.get(AGG, json=fixture("error_param_200.json"))
    f = fetcher(tmp_path)
    with pytest.raises(SourceError, match="Invalid ASN"):
        f.get_json("/api/v1/aggregation", {"probe_asn": "ASx"}, validate=ooni.check_aggregation)
    assert list(f.cache.entries()) == []


@responses.activate
def test_429_then_success(tmp_path):
    waits = []
    responses.get(AGG, json={"error": "Rate limit exceeded"}, status=429, headers={"Retry-After": "3"})
    responses.get(AGG, json=fixture("aggregation_volume_hour.json"))
    f = Fetcher(RawCache(tmp_path / "c"), "ooni", URL, sleep=waits.append)
    obj = f.get_json("/api/v1/aggregation", {"probe_cc": "KZ"}, validate=ooni.check_aggregation)
    assert obj["result"][0]["measurement_count"] == 120
    assert f.stats.requests == 2 and f.stats.retries == 1
    assert waits and waits[0] >= 3                      # honoured Retry-After
    assert f.cache.get("ooni", "/api/v1/aggregation", {"probe_cc": "KZ"}) is not None


@responses.activate
def test_truncated_json_ends_source(tmp_path):
    body = (FIX / "aggregation_volume_hour.json").read_text()[:150]
    responses.get(AGG, body=body, content_type="application/json")
    f = fetcher(tmp_path)
    with pytest.raises(SourceError, match="malformed JSON"):
        f.get_json("/api/v1/aggregation", {"probe_cc": "KZ"}, validate=ooni.check_aggregation)
    assert list(f.cache.entries()) == []


@responses.activate
def test_collect_is_gentle(tmp_path):
    from localserver import responses_callbacks
    case = small_case(tmp_path)
    responses_callbacks(responses, ooni_url=URL)
    waits = []
    f = Fetcher(RawCache(tmp_path / "c"), "ooni", URL, sleep=waits.append, min_interval=ooni.MIN_INTERVAL)
    ooni.collect(case, f)
    assert f.stats.requests == len(ooni.plan(case)) == 4
    assert len(waits) >= 3 and all(0 < w <= ooni.MIN_INTERVAL for w in waits)   # paced between requests
    df = ooni.normalize(case, f.cache)
    vol = df[(df["signal"] == "measurements") & (df["subtype"] == "all") & (df["entity_code"] == "9198")]
    assert len(vol) == 48 and (vol["value"] == 0).sum() == 48 // 5 + (1 if 48 % 5 == 4 else 0)
    assert vol["value"].max() == 10


# -- per-domain web_connectivity (sources/ooni_sites.py) --------------------------------------
# aggregation_sites_hour.json: the FastAPI answer to axis_x=measurement_start_day&axis_y=domain,
# time_grain=hour (ooni/backend 32d8349d, ooniapi/services/oonimeasurements/src/
# oonimeasurements/routers/v1/aggregation.py: MeasurementAggregation v, dimension_count,
# db_stats, result; AggregationResult field order; rows ordered by the group-by axes; hour
# bins formatted %Y-%m-%dT%H:%M:%SZ; a (domain, hour) without measurements has no row).
def test_site_plan_names_the_whitelist_and_the_control_sites():
    from shutdown.case import load_case
    from shutdown.sources import ooni_sites
    case = load_case("kz-2022-01")
    reqs = ooni_sites.plan(case)
    assert len(reqs) == len(ooni.plan(case)) // (2 * (1 + len(case.networks)))   # one per chunk
    p = reqs[0].params
    doms = p["domain"].split(",")
    assert doms[:3] == ["inform.kz", "qazaqstan.kz", "tengrinews.kz"]      # the timeline's sites
    assert set(case.control_sites) <= set(doms) and len(doms) == len(set(doms)) == 20
    assert (p["test_name"], p["axis_x"], p["axis_y"], p["time_grain"]) == (
        "web_connectivity", "measurement_start_day", "domain", "hour")
    assert "probe_asn" not in p and p["probe_cc"] == "KZ"
    assert ooni.requests(case)[-len(reqs):] == reqs


def test_site_rows_per_domain_and_outcome(tmp_path):
    from shutdown.case import load_case
    from shutdown.sources import ooni_sites
    case = load_case("kz-2022-01")
    cache = RawCache(tmp_path / "c")
    req = next(r for r in ooni_sites.plan(case)
               if pd.Timestamp(r.params["since"], tz="UTC") <= pd.Timestamp("2022-01-08T04:00Z")
               < pd.Timestamp(r.params["until"], tz="UTC"))
    assert ooni.check_aggregation(fixture("aggregation_sites_hour.json")) is None
    _store(cache, req, "aggregation_sites_hour.json")
    df = ooni_sites.normalize(case, cache)
    assert set(df["signal"]) == {"site"} and set(df["entity_code"]) == {"KZ"}
    v = df.set_index(["subtype", "ts_utc"])["value"]
    t = pd.Timestamp
    assert v[("inform.kz/ok", t("2022-01-08T04:00Z"))] == 2
    assert v[("nur.kz/failure", t("2022-01-08T04:00Z"))] == 2
    assert v[("nur.kz/failure", t("2022-01-07T22:00Z"))] == 1
    assert v[("vlast.kz/anomaly", t("2022-01-08T05:00Z"))] == 1
    assert v[("inform.kz/ok", t("2022-01-08T05:00Z"))] == 0               # absent hour -> 0
    assert v[("akorda.kz/ok", t("2022-01-08T04:00Z"))] == 0               # absent domain -> 0
    # one row per domain, outcome and hour of the chunk
    hours = len(pd.date_range(req.params["since"], req.params["until"], freq="h", inclusive="left"))
    assert len(df) == 20 * 4 * hours
