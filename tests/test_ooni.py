"""OONI collector: replayed aggregation answers in OONI API v1's own shapes."""
import json
from pathlib import Path

import pandas as pd
import pytest
import responses

from localserver import small_case
from shutdown.collect import fetch_source
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


def test_plan_whole_utc_days_at_most_7_all_networks_per_request():
    from shutdown.case import load_case
    case = load_case("kz-2022-01")
    reqs = ooni.plan(case)
    start, end = case.fetch_utc            # 2021-12-18T18:00Z .. 2022-01-11T18:00Z
    # whole days 2021-12-18 .. 2022-01-12 = 25 days -> 4 chunks; volume + 5 tests each
    assert len(reqs) == 4 * (1 + len(ooni.OONI_TESTS))
    for r in reqs:
        since, until = pd.Timestamp(r.params["since"]), pd.Timestamp(r.params["until"])
        assert len(r.params["since"]) == len(r.params["until"]) == 10     # dates only
        assert since == since.normalize() and pd.Timedelta(0) < until - since <= pd.Timedelta(days=7)
        assert r.params["time_grain"] == "hour" and r.params["axis_x"] == "measurement_start_day"
        assert r.params["axis_y"] == "probe_asn" and r.params["probe_cc"] == "KZ"
        assert "probe_asn" not in r.params
    assert reqs[0].params["since"] == "2021-12-18" and reqs[-1].params["until"] == "2022-01-12"
    assert {r.params.get("test_name") for r in reqs} == {None, *ooni.OONI_TESTS}


def test_aggregation_params_refuses_what_the_services_refuse():
    t = pd.Timestamp
    p = ooni.aggregation_params(t("2022-01-01", tz="UTC"), t("2022-01-08", tz="UTC"), probe_cc="KZ",
                                probe_asn=9198, domain="twitter.com")
    assert p["since"] == "2022-01-01" and p["probe_asn"] == "AS9198" and p["domain"] == "twitter.com"
    with pytest.raises(ValueError, match="midnight"):
        ooni.aggregation_params(t("2022-01-01T18:00", tz="UTC"), t("2022-01-03", tz="UTC"), probe_cc="KZ")
    with pytest.raises(ValueError, match="7 days"):
        ooni.aggregation_params(t("2022-01-01", tz="UTC"), t("2022-01-09", tz="UTC"), probe_cc="KZ")
    # day grain may cover more
    assert ooni.aggregation_params(t("2022-01-01", tz="UTC"), t("2022-02-01", tz="UTC"), probe_cc="KZ",
                                   time_grain="day")["until"] == "2022-02-01"


@pytest.mark.parametrize("name", ["fastapi_hour_by_asn.json", "legacy_hour_by_asn.json"])
def test_parse_aggregation_both_services(name):
    df = ooni.parse_aggregation(fixture(name))
    assert list(df["measurement_count"]) == [63.0, 12.0, 32.0, 5.0, 2.0, 7.0, 5.0]
    assert list(df["probe_asn"]) == [9198, 21299, 9198, 29355, 48503, 9198, 9198]
    assert df["ts_utc"].iloc[2] == pd.Timestamp("2022-01-04T01:00:00Z")
    assert ooni.check_aggregation(fixture(name)) is None


@pytest.mark.parametrize("name, said", [
    ("fastapi_422_since_until_inexact.json",
     "since: Datetimes provided to dates should have zero time - e.g. be exact dates "
     "(got '2021-12-18T18:00:00'); until: "),
    ("fastapi_error_axis_200.json", "Axis X and Y cannot be the same"),
    ("fastapi_error_grain_400.json", "Choose time_grain between day, week, auto"),
    ("fastapi_error_asn_400.json", "Invalid ASN value in parameter probe_asn"),
    ("fastapi_429_quota.json", "quota exceeded"),
    ("legacy_error_param_200.json", "Invalid ASN value in parameter probe_asn"),
    ("legacy_error_grain_400.json", "Choose time_grain between day, week, auto"),
])
def test_error_message_both_services_both_shapes(name, said):
    assert ooni.error_message(fixture(name)).startswith(said)
    assert ooni.check_aggregation(fixture(name)) == "OONI error: " + ooni.error_message(fixture(name))


def test_check_aggregation_needs_rows_with_a_time_axis():
    assert ooni.check_aggregation({"v": 0, "dimension_count": 0, "result": {"measurement_count": 1}})
    assert "lacks" in ooni.check_aggregation({"v": 0, "result": [{"measurement_count": 1}]})
    assert ooni.error_message(fixture("fastapi_hour_by_asn.json")) is None


def _store(cache, req, name):
    body = (FIX / name).read_bytes()
    cache.put("ooni", req.path, req.params, body, url=AGG, status=200)


def test_normalize_trims_to_window_splits_networks_fills_absent_hours(tmp_path):
    case = small_case(tmp_path)                   # fetch window 2022-01-03T18Z..2022-01-05T18Z
    cache = RawCache(tmp_path / "c")
    reqs = ooni.plan(case)
    assert [(r.params["since"], r.params["until"]) for r in reqs][0] == ("2022-01-03", "2022-01-06")
    vol = next(r for r in reqs if "test_name" not in r.params)
    wa = next(r for r in reqs if r.params.get("test_name") == "whatsapp")
    _store(cache, vol, "fastapi_hour_by_asn.json")
    _store(cache, wa, "legacy_hour_by_asn.json")
    df = ooni.normalize(case, cache).set_index(["entity_code", "signal", "subtype", "ts_utc"])["value"]
    t = pd.Timestamp
    kz = df.loc[("KZ", "measurements", "all")]
    assert len(kz) == 48 and kz.index.min() == t("2022-01-03T18:00Z") and kz.index.max() == t("2022-01-05T17:00Z")
    assert kz[t("2022-01-04T00:00Z")] == 63 + 12          # the country: every network's rows
    assert kz[t("2022-01-04T01:00Z")] == 32 + 5 and kz[t("2022-01-04T02:00Z")] == 0
    assert kz[t("2022-01-05T17:00Z")] == 7 and kz.sum() == 63 + 12 + 32 + 5 + 2 + 7   # 18:00 trimmed
    assert df[("9198", "measurements", "all", t("2022-01-04T00:00Z"))] == 63
    assert df[("9198", "measurements", "all")].sum() == 63 + 32 + 7
    assert df[("9198", "measurements", "all", t("2022-01-04T03:00Z"))] == 0   # another network's hour
    assert df[("KZ", "whatsapp", "anomaly", t("2022-01-04T01:00Z"))] == 1 + 3
    assert df[("KZ", "whatsapp", "failure", t("2022-01-04T01:00Z"))] == 2
    assert df[("9198", "whatsapp", "confirmed", t("2022-01-04T01:00Z"))] == 1
    assert df[("KZ", "whatsapp", "ok", t("2022-01-04T00:00Z"))] == 72
    assert df[("KZ", "measurements", "whatsapp", t("2022-01-04T01:00Z"))] == 37
    full = ooni.normalize(case, cache)
    assert "telegram" not in set(full["signal"])           # never fetched: no rows invented
    assert set(full["entity_code"]) == {"KZ", "9198"} and not full["simulated"].any()


@responses.activate
@pytest.mark.parametrize("name, status", [("fastapi_error_grain_400.json", 400),
                                          ("legacy_error_grain_400.json", 400),
                                          ("fastapi_422_since_until_inexact.json", 422),
                                          ("fastapi_error_asn_400.json", 400)])
def test_http_errors_end_source_with_ooni_message(tmp_path, name, status):
    responses.get(AGG, json=fixture(name), status=status)
    with pytest.raises(SourceError) as ei:
        fetcher(tmp_path).get_json("/api/v1/aggregation", {"probe_cc": "KZ"}, validate=ooni.check_aggregation,
                                   explain=ooni.error_message)
    msg = str(ei.value)
    assert msg.startswith("ooni: ") and "/api/v1/aggregation" in msg and f"HTTP {status}: " in msg
    assert ooni.error_message(fixture(name))[:150] in msg and "{" not in msg.split(f"HTTP {status}: ")[1]


@responses.activate
@pytest.mark.parametrize("name", ["legacy_error_param_200.json", "fastapi_error_axis_200.json"])
def test_error_on_http_200_is_not_cached(tmp_path, name):
    responses.get(AGG, json=fixture(name))
    f = fetcher(tmp_path)
    with pytest.raises(SourceError, match=ooni.error_message(fixture(name))):
        f.get_json("/api/v1/aggregation", {"probe_asn": "ASx"}, validate=ooni.check_aggregation)
    assert list(f.cache.entries()) == []


@responses.activate
def test_429_then_success(tmp_path):
    waits = []
    responses.get(AGG, json={"error": "Rate limit exceeded"}, status=429, headers={"Retry-After": "3"})
    responses.get(AGG, json=fixture("fastapi_hour_by_asn.json"))
    f = Fetcher(RawCache(tmp_path / "c"), "ooni", URL, sleep=waits.append)
    obj = f.get_json("/api/v1/aggregation", {"probe_cc": "KZ"}, validate=ooni.check_aggregation)
    assert obj["result"][0]["measurement_count"] == 63
    assert f.stats.requests == 2 and f.stats.retries == 1
    assert waits and waits[0] >= 3                      # honoured Retry-After
    assert f.cache.get("ooni", "/api/v1/aggregation", {"probe_cc": "KZ"}) is not None


@responses.activate
@pytest.mark.parametrize("kind", ["fastapi", "legacy"])
def test_429_without_retry_after_waits_for_the_quota_and_says_so(tmp_path, kind):
    if kind == "fastapi":
        responses.get(AGG, json=fixture("fastapi_429_quota.json"), status=429,
                      headers={"X-RateLimit-Remaining": "0"})
    else:
        responses.get(AGG, body=(FIX / "legacy_429.txt").read_bytes(), status=429, content_type="text/plain")
    responses.get(AGG, json=fixture("fastapi_hour_by_asn.json"))
    waits, said = [], []
    f = Fetcher(RawCache(tmp_path / "c"), "ooni", URL, sleep=waits.append, quota_wait=ooni.QUOTA_WAIT,
                say=said.append)
    f.get_json("/api/v1/aggregation", {"probe_cc": "KZ"}, validate=ooni.check_aggregation)
    assert waits == [ooni.QUOTA_WAIT] and len(said) == 1 and "\n" not in said[0]
    assert "429 without Retry-After" in said[0] and "900 s" in said[0]


@responses.activate
def test_truncated_json_ends_source(tmp_path):
    body = (FIX / "fastapi_hour_by_asn.json").read_text()[:150]
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
    fetch_source(ooni, case, f)
    assert f.stats.requests == len(list(ooni.requests(case))) == len(ooni.plan(case)) + 1 == 7   # + circumvention
    assert len(waits) >= 5 and all(0 < w <= ooni.MIN_INTERVAL for w in waits)   # paced between requests
    df = ooni.normalize(case, f.cache)
    vol = df[(df["signal"] == "measurements") & (df["subtype"] == "all") & (df["entity_code"] == "9198")]
    # the server's day starts 2022-01-03T00Z, every 5th hour absent; the window starts at 18:00
    hours = pd.date_range("2022-01-03", periods=72, freq="h", tz="UTC")
    absent = {h for i, h in enumerate(hours) if i % 5 == 4}
    want = [0.0 if h in absent else 10.0 for h in hours if pd.Timestamp("2022-01-03T18Z") <= h
            < pd.Timestamp("2022-01-05T18Z")]
    assert list(vol.sort_values("ts_utc")["value"]) == want
    kz = df[(df["signal"] == "measurements") & (df["subtype"] == "all") & (df["entity_code"] == "KZ")]
    assert kz["value"].max() == 30                       # 3 networks in the server's answers


# -- per-domain web_connectivity and circumvention tests (sources/ooni_targeted.py) -----------
# aggregation_sites_hour.json: the FastAPI answer to axis_x=measurement_start_day&axis_y=domain,
# time_grain=hour (ooni/backend 32d8349d, ooniapi/services/oonimeasurements/src/
# oonimeasurements/routers/v1/aggregation.py: MeasurementAggregation v, dimension_count,
# db_stats, result; AggregationResult field order; rows ordered by the group-by axes; hour
# bins formatted %Y-%m-%dT%H:%M:%SZ; a (domain, hour) without measurements has no row).
def test_targeted_plan_names_the_whitelist_the_control_sites_and_the_tools():
    from shutdown.case import load_case
    from shutdown.schema import OONI_CIRCUMVENTION_TESTS
    from shutdown.sources import ooni_targeted
    case = load_case("kz-2022-01")
    sites, circ = ooni_targeted.plan_sites(case), ooni_targeted.plan_circumvention(case)
    assert len(sites) == len(circ) == len(ooni.plan(case)) // (1 + len(ooni.OONI_TESTS))  # one per chunk
    p = sites[0].params
    doms = p["domain"].split(",")
    assert doms[:3] == ["inform.kz", "qazaqstan.kz", "tengrinews.kz"]      # the timeline's sites
    assert set(case.control_sites) <= set(doms) and len(doms) == len(set(doms)) == 20
    assert (p["test_name"], p["axis_x"], p["axis_y"], p["time_grain"]) == (
        "web_connectivity", "measurement_start_day", "domain", "hour")
    assert "probe_asn" not in p and p["probe_cc"] == "KZ" and len(p["since"]) == 10   # a date
    c = circ[0].params
    assert c["axis_y"] == "test_name" and c["test_name"].split(",") == list(OONI_CIRCUMVENTION_TESTS)
    assert [r.params for r in list(ooni.requests(case))[-2 * len(sites):]] == \
        [r.params for r in sites + circ]


def test_site_rows_per_domain_and_outcome(tmp_path):
    from shutdown.case import load_case
    from shutdown.sources import ooni_targeted
    case = load_case("kz-2022-01")
    cache = RawCache(tmp_path / "c")
    req = next(r for r in ooni_targeted.plan_sites(case)
               if pd.Timestamp(r.params["since"], tz="UTC") <= pd.Timestamp("2022-01-08T04:00Z")
               < pd.Timestamp(r.params["until"], tz="UTC"))
    assert ooni.check_aggregation(fixture("aggregation_sites_hour.json")) is None
    _store(cache, req, "aggregation_sites_hour.json")
    df = ooni.normalize(case, cache)            # the walk finds this one answer cached
    assert set(df["signal"]) == {"site"} and set(df["entity_code"]) == {"KZ"}
    v = df.set_index(["subtype", "ts_utc"])["value"]
    t = pd.Timestamp
    assert v[("inform.kz/ok", t("2022-01-08T04:00Z"))] == 2
    assert v[("nur.kz/failure", t("2022-01-08T04:00Z"))] == 2
    assert v[("nur.kz/failure", t("2022-01-08T02:00Z"))] == 1
    assert v[("vlast.kz/anomaly", t("2022-01-08T05:00Z"))] == 1
    assert v[("inform.kz/ok", t("2022-01-08T05:00Z"))] == 0               # absent hour -> 0
    assert v[("akorda.kz/ok", t("2022-01-08T04:00Z"))] == 0               # absent domain -> 0
    # one row per domain, outcome and hour of the chunk inside the case's fetch window
    lo, hi = ooni.window(req.params)
    f0, f1 = case.fetch_utc
    hours = len(pd.date_range(max(lo, f0.ceil("h")), min(hi, f1), freq="h", inclusive="left"))
    assert len(df) == 20 * 4 * hours
