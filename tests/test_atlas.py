"""RIPE Atlas source: plan, collect (replayed responses), normalize.

The fixtures in tests/fixtures/atlas/ are in the upstream shapes: the v2 probe
listing ({count, next, previous, results}), built-in ping (1001) and
traceroute (5001) results, and connection events (7000). A small replay server
(``AtlasReplay``) answers like the API: the listing by page, results filtered
by ``probe_ids`` and ``start``/``stop`` (inclusive).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import requests
import responses

from shutdown.collect import fetch_source
from shutdown.case import load_case
from shutdown.http import Fetcher, SourceError
from shutdown.schema import ATLAS_PROBE_CLASSES, TIDY_COLUMNS
from shutdown.sources import atlas, atlas_reduce
from shutdown.store import RawCache

FIX = Path(__file__).parent / "fixtures" / "atlas"
BASE = "https://atlas.ripe.net"


def load(name):
    return json.loads((FIX / name).read_text())


def small_case():
    """Kazakhstan, one local day (5 Jan 2022) plus one baseline day:
    fetch window 2022-01-03T18:00Z .. 2022-01-05T18:00Z -> UTC days 3, 4, 5 Jan."""
    return dataclasses.replace(load_case("kz-2022-01"), start=dt.date(2022, 1, 5),
                               end=dt.date(2022, 1, 5), baseline_days=1)


class AtlasReplay:
    """Answers the Atlas API paths from the fixture files; records every request."""

    def __init__(self, rsps, base=BASE, listing_next_host=BASE, fail=None):
        self.calls = []
        self.fail = fail or {}      # (msm, start) -> HTTP status answered every time
        self.results = {1001: load("results_1001_ping.json"),
                        5001: load("results_5001_traceroute.json"),
                        7000: load("results_7000_connection.json")}
        self.pages = [load("probes_kz_page1.json"), load("probes_kz_page2.json")]
        if listing_next_host != BASE:   # e.g. a simulator that links back to the public host
            self.pages[0]["next"] = self.pages[0]["next"].replace(BASE, listing_next_host)
        rsps.add_callback(responses.GET, re.compile(re.escape(base) + r"/api/v2/probes/.*"),
                          callback=self.listing)
        rsps.add_callback(responses.GET,
                          re.compile(re.escape(base) + r"/api/v2/measurements/\d+/results.*"),
                          callback=self.results_cb)

    def listing(self, request):
        self.calls.append(request)
        q = parse_qs(urlsplit(request.url).query)
        page = int(q.get("page", ["1"])[0])
        return 200, {"Content-Type": "application/json"}, json.dumps(self.pages[page - 1])

    def results_cb(self, request):
        self.calls.append(request)
        parts = urlsplit(request.url)
        msm = int(parts.path.split("/")[4])
        q = parse_qs(parts.query)
        status = self.fail.get((msm, int(q["start"][0])))
        if status:
            return status, {}, ""
        ids = {int(i) for i in q["probe_ids"][0].split(",")}
        lo, hi = int(q["start"][0]), int(q["stop"][0])
        out = [r for r in self.results.get(msm, [])
               if r["prb_id"] in ids and lo <= r["timestamp"] <= hi]
        return 200, {"Content-Type": "application/json"}, json.dumps(out)


def fetcher(tmp_path, base=BASE, **kw):
    kw.setdefault("sleep", lambda s: None)
    return Fetcher(RawCache(tmp_path / "cache"), "atlas", base, **kw)


def value(df, entity, code, signal, subtype, ts):
    sel = df[(df.entity_type == entity) & (df.entity_code == code) & (df.signal == signal)
             & (df.subtype == subtype) & (df.ts_utc == pd.Timestamp(ts, tz="UTC"))]
    assert len(sel) == 1, (entity, code, signal, subtype, ts, len(sel))
    return float(sel["value"].iloc[0])


def all_probes():
    return load("probes_kz_page1.json")["results"] + load("probes_kz_page2.json")["results"]


# -- plan ----------------------------------------------------------------------------------
def test_plan_without_probes_is_the_first_listing_page():
    reqs = atlas.plan(small_case())
    assert len(reqs) == 1
    assert reqs[0].path == "/api/v2/probes/"
    assert reqs[0].params == {"country_code": "KZ", "page_size": "500"}
    assert atlas.request_kind(reqs[0]) == "probes"


def test_plan_with_probes_lists_days_measurements_and_drops_inactive_probes():
    case = small_case()
    reqs = atlas.plan(case, all_probes())[1:]
    assert len(reqs) == 3 * 3          # 3 UTC days x (ping, traceroute, connection) x 1 batch
    assert {r.params["probe_ids"] for r in reqs} == {"10001,10002,10003,10004"}   # not 10005/10006
    assert {atlas.request_kind(r) for r in reqs} == {"ping", "traceroute", "connection"}
    assert {r.path for r in reqs} == {f"/api/v2/measurements/{m}/results" for m in (1001, 5001, 7000)}
    starts = sorted({int(r.params["start"]) for r in reqs})
    assert starts == [int(pd.Timestamp(d, tz="UTC").timestamp())
                      for d in ("2022-01-03", "2022-01-04", "2022-01-05")]
    for r in reqs:   # stop is inclusive upstream: the last second of the UTC day
        assert int(r.params["stop"]) - int(r.params["start"]) == 86400 - 1


def test_plan_batches_probe_ids_to_keep_urls_short():
    reqs = atlas.plan(small_case(), list(range(1, 121)))[1:]
    assert len(reqs) == 3 * 3 * 3     # 120 probes -> 3 batches of <= 50
    for r in reqs:
        assert len(r.params["probe_ids"].split(",")) <= atlas.PROBE_BATCH
        assert len(r.path) + sum(len(k) + len(v) + 2 for k, v in r.params.items()) < 2000


def test_kz_case_plan_covers_baseline_and_window():
    case = load_case("kz-2022-01")
    start, end = case.fetch_utc
    reqs = atlas.plan(case, list(range(1000, 1080)))
    days = sorted({int(r.params["start"]) for r in reqs[1:]})
    assert pd.Timestamp(days[0], unit="s", tz="UTC") == start.floor("D")
    assert pd.Timestamp(days[-1], unit="s", tz="UTC") == (end - pd.Timedelta(seconds=1)).floor("D")
    assert len(reqs) == 1 + len(days) * 3 * 2     # 80 probes -> 2 batches


# -- collect + normalize --------------------------------------------------------------
@responses.activate
def test_collect_follows_next_then_normalize_counts_probes(tmp_path):
    replay = AtlasReplay(responses)
    case = small_case()
    f = fetcher(tmp_path)
    fetch_source(atlas, case, f)
    assert f.stats.requests == 2 + 9 and f.stats.cache_hits == 0
    assert sum("/probes/" in c.url for c in replay.calls) == 2     # page 1 and its `next`

    df = atlas.normalize(case, f.cache)
    assert list(df.columns) == TIDY_COLUMNS
    assert set(df.subtype) == set(ATLAS_PROBE_CLASSES)
    assert (df.source == "atlas").all() and not df.simulated.any()
    start, end = case.fetch_utc
    assert df.ts_utc.min() == start and df.ts_utc.max() == end - pd.Timedelta(hours=1)
    # the ping from 2022-01-03T12:00 lies before the fetch window: no row, no count
    assert not (df.ts_utc < start).any()

    x = "2022-01-04T10:00"  # 10001 ping ok, 10003 ping lost + traceroute stuck at hop 255
    assert value(df, "country", "KZ", "probes_reporting", "end-user", x) == 2
    assert value(df, "country", "KZ", "probes_reachable", "end-user", x) == 1
    # anchor 10002: ping lost but traceroute reached k-root; datacentre 10004: two pings ok
    assert value(df, "country", "KZ", "probes_reporting", "infrastructure", x) == 2
    assert value(df, "country", "KZ", "probes_reachable", "infrastructure", x) == 2
    assert value(df, "country", "KZ", "probes_reachable", "end-user", "2022-01-04T11:00") == 2
    y = "2022-01-05T05:00"
    assert value(df, "country", "KZ", "probes_reporting", "end-user", y) == 1
    assert value(df, "country", "KZ", "probes_reachable", "end-user", y) == 0
    assert value(df, "country", "KZ", "probes_reachable", "infrastructure", y) == 1
    # an hour with no result at all is a measured zero, not a gap
    assert value(df, "country", "KZ", "probes_reporting", "end-user", "2022-01-04T02:00") == 0

    # connection events: 10003 gone at 04:10, 10001 away 06:30-09:15
    for ts, n in [("2022-01-05T03:00", 2), ("2022-01-05T04:00", 2), ("2022-01-05T05:00", 1),
                  ("2022-01-05T06:00", 1), ("2022-01-05T07:00", 0), ("2022-01-05T08:00", 0),
                  ("2022-01-05T09:00", 1)]:
        assert value(df, "country", "KZ", "probes_connected", "end-user", ts) == n, ts
    assert (df[(df.signal == "probes_connected") & (df.subtype == "infrastructure")
               & (df.entity_type == "country")].value == 2).all()

    # networks: only case networks with probes; abandoned 10005 (AS21299) does not count
    assert set(df[df.entity_type == "asn"].entity_code) == {"9198", "29355", "41798"}
    assert value(df, "asn", "29355", "probes_reporting", "end-user", x) == 1
    assert value(df, "asn", "29355", "probes_reachable", "end-user", x) == 0
    assert not ((df.entity_code == "29355") & (df.subtype == "infrastructure")).any()
    assert value(df, "asn", "9198", "probes_reachable", "infrastructure", x) == 1


class Bar:
    """What the driver uses of a tqdm bar."""

    def __init__(self, total):
        self.total, self.n, self.labels = total, 0, []

    def update(self, k):
        self.n += k

    def set_postfix_str(self, text, refresh=False):
        self.labels.append(text)


@responses.activate
def test_the_listing_sets_the_progress_total_once_it_tells_how_many_requests_follow(tmp_path):
    replay = AtlasReplay(responses)
    case = small_case()
    bar = Bar(len(atlas.plan(case)))              # before any answer: the first listing page only
    assert bar.total == 1
    fetch_source(atlas, case, fetcher(tmp_path), bar)
    assert bar.n == bar.total == len(replay.calls) == 11      # 2 listing pages + 9 results
    assert bar.labels[:2] == [f"probes in {case.country} (page 1)", f"probes in {case.country} (page 2)"]


@responses.activate
def test_second_run_reads_the_cache_and_refresh_refetches(tmp_path):
    replay = AtlasReplay(responses)
    case = small_case()
    fetch_source(atlas, case, fetcher(tmp_path))
    n = len(replay.calls)
    again = fetcher(tmp_path)
    fetch_source(atlas, case, again)
    assert again.stats.requests == 0 and again.stats.cache_hits == 11
    assert len(replay.calls) == n
    fresh = fetcher(tmp_path, refresh=True)
    fetch_source(atlas, case, fresh)
    assert fresh.stats.requests == 11 and len(replay.calls) == n + 11


@responses.activate
def test_provenance_records_each_raw_response(tmp_path):
    AtlasReplay(responses)
    f = fetcher(tmp_path)
    fetch_source(atlas, small_case(), f)
    metas = list(f.cache.entries("atlas"))
    assert len(metas) == 11
    paths = {m["path"] for m in metas}
    assert "/api/v2/probes/" in paths and "/api/v2/measurements/7000/results" in paths
    page2 = [m for m in metas if m["params"].get("page") == "2"]
    assert len(page2) == 1 and page2[0]["url"].startswith(BASE + "/api/v2/probes/")
    body = f.cache.get("atlas", "/api/v2/probes/", page2[0]["params"]).body
    assert json.loads(body) == load("probes_kz_page2.json")    # stored as it came


@responses.activate
def test_custom_base_url_with_port_is_used_for_every_page(tmp_path, monkeypatch):
    from shutdown.config import base_url
    custom = "https://127.0.0.1:8443"
    monkeypatch.setenv("SHUTDOWN_ATLAS_URL", custom)
    base = base_url("atlas")
    assert base == custom
    # the simulator's `next` link names the public host: we stay on our base URL
    replay = AtlasReplay(responses, base=custom, listing_next_host=BASE)
    f = fetcher(tmp_path, base=base)
    fetch_source(atlas, small_case(), f)
    assert len(replay.calls) == 11
    assert all(c.url.startswith(custom + "/api/v2/") for c in replay.calls)
    assert len(atlas.normalize(small_case(), f.cache)) > 0


def test_cousteau_builds_the_same_url_for_a_host_with_a_port():
    from ripe.atlas.cousteau import AtlasResultsRequest
    custom = "https://127.0.0.1:8443"
    server = atlas.cousteau_server(custom)
    assert server == "127.0.0.1:8443"
    req = atlas.plan(small_case(), [10001])[1]
    c = AtlasResultsRequest(msm_id=atlas.request_msm(req), server=server,
                            start=dt.datetime(2022, 1, 3), stop=dt.datetime(2022, 1, 3, 23, 59, 59),
                            probe_ids=[10001])
    c.build_url()
    assert c.url == Fetcher(RawCache("/nonexistent"), "atlas", custom).url(req.path)
    assert {k: str(v) for k, v in c.http_method_args["params"].items()} == req.params
    with pytest.raises(ValueError):
        atlas.cousteau_server("http://127.0.0.1:8080")     # cousteau always speaks https


@responses.activate
def test_429_then_success_is_retried(tmp_path):
    sleeps = []
    responses.add(responses.GET, BASE + "/api/v2/probes/", status=429,
                  headers={"Retry-After": "3"}, body="")
    AtlasReplay(responses)
    f = fetcher(tmp_path, sleep=sleeps.append)
    fetch_source(atlas, small_case(), f)
    assert f.stats.retries == 1 and sleeps and sleeps[0] >= 3
    assert f.stats.requests == 12


@responses.activate
def test_timeout_then_success_is_retried(tmp_path):
    responses.add(responses.GET, re.compile(BASE + r"/api/v2/measurements/5001/results.*"),
                  body=requests.exceptions.ReadTimeout("read timed out"))
    AtlasReplay(responses)
    f = fetcher(tmp_path)
    fetch_source(atlas, small_case(), f)
    assert f.stats.retries == 1


@responses.activate
def test_404_ends_the_source_with_one_clear_message(tmp_path):
    responses.add(responses.GET, re.compile(BASE + r"/api/v2/measurements/5001/results.*"), status=404,
                  json={"error": {"detail": "Not found.", "status": 404, "title": "Not Found"}})
    AtlasReplay(responses)
    f = fetcher(tmp_path)
    with pytest.raises(SourceError) as exc:
        fetch_source(atlas, small_case(), f)
    msg = str(exc.value)
    assert msg.startswith("atlas: " + BASE + "/api/v2/measurements/5001/results")
    assert "HTTP 404" in msg and "Not found" in msg
    assert f.stats.retries == 0        # a 4xx is not retried


@responses.activate
def test_truncated_json_is_a_clear_error_and_not_cached(tmp_path):
    text = (FIX / "probes_kz_page1.json").read_text()
    responses.add(responses.GET, BASE + "/api/v2/probes/", body=text[: len(text) // 2])
    f = fetcher(tmp_path)
    with pytest.raises(SourceError) as exc:
        fetch_source(atlas, small_case(), f)
    assert "malformed JSON" in str(exc.value) and str(exc.value).startswith("atlas: ")
    assert list(f.cache.entries("atlas")) == []


@responses.activate
def test_results_that_are_not_a_list_are_refused(tmp_path):
    responses.add(responses.GET, re.compile(BASE + r"/api/v2/measurements/1001/results.*"),
                  json={"detail": "unexpected"})
    AtlasReplay(responses)
    with pytest.raises(SourceError, match="expected a JSON list of measurement results"):
        fetch_source(atlas, small_case(), fetcher(tmp_path))


@responses.activate
def test_interrupted_collect_resumes_and_normalize_leaves_gaps_not_zeros(tmp_path):
    case = small_case()
    day4 = int(pd.Timestamp("2022-01-04", tz="UTC").timestamp())
    # 1001 for 4 Jan keeps failing: the run stops there
    AtlasReplay(responses, fail={(1001, day4): 503})
    f = fetcher(tmp_path, max_attempts=2)
    with pytest.raises(SourceError, match="gave up after 2 attempts: HTTP 503"):
        fetch_source(atlas, case, f)
    partial = atlas.normalize(case, f.cache)
    reach = partial[partial.signal == "probes_reporting"]
    assert len(reach) and not (reach.ts_utc.dt.floor("D") == pd.Timestamp("2022-01-04", tz="UTC")).any()
    with pytest.raises(SourceError, match="not in the cache"):
        atlas.probe_table(case, f.cache)

    responses.reset()
    AtlasReplay(responses)
    again = fetcher(tmp_path)
    fetch_source(atlas, case, again)
    assert again.stats.requests == 11 - 5      # listing 2 + first 3 results were cached
    full = atlas.normalize(case, again.cache)
    assert value(full, "country", "KZ", "probes_reporting", "end-user", "2022-01-04T10:00") == 2


def test_normalize_of_an_empty_cache_is_empty(tmp_path):
    df = atlas.normalize(small_case(), RawCache(tmp_path / "cache"))
    assert df.empty and list(df.columns) == TIDY_COLUMNS


@responses.activate
def test_api_key_goes_in_the_header_and_is_never_written(tmp_path, monkeypatch):
    key = "0f0e0d0c-aaaa-bbbb-cccc-secretsecret"
    monkeypatch.setenv("RIPE_ATLAS_KEY", key)
    replay = AtlasReplay(responses)
    f = fetcher(tmp_path)
    fetch_source(atlas, small_case(), f)
    assert all(c.headers.get("Authorization") == f"Key {key}" for c in replay.calls)
    assert all(key not in c.url for c in replay.calls)
    for p in (tmp_path / "cache").rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            assert key.encode() not in data, p
    monkeypatch.setenv("SHUTDOWN_ATLAS_KEY", "other")
    from shutdown.sources import registry
    assert registry.get("atlas").credential() == "other"      # the project's own variable wins


# -- pure functions ---------------------------------------------------------------------
def test_reachability_agrees_with_sagan_on_every_fixture_result():
    from ripe.atlas.sagan import PingResult, TracerouteResult
    pings, traces = load("results_1001_ping.json"), load("results_5001_traceroute.json")
    assert {atlas.result_reachable(r) for r in pings} == {True, False}
    assert {atlas.result_reachable(r) for r in traces} == {True, False}
    for r in pings:
        assert atlas.result_reachable(r) == (PingResult(r).packets_received > 0)
    for r in traces:
        assert atlas.result_reachable(r) == TracerouteResult(r).destination_ip_responded


SAGAN = "RIPE-NCC/ripe.atlas.sagan tests/ping.py and tests/traceroute.py at 242bd920bfc7712768cdce02c4dabfe93e41c190"


@pytest.mark.parametrize("kind", ["ping", "traceroute"])
def test_reachability_agrees_with_sagan_on_its_own_real_test_results(kind):
    """Every ping and traceroute result in sagan's test suite (real results, old firmware
    included: see tests/fixtures/SOURCES.md), judged by sagan and by us, alike."""
    from ripe.atlas.sagan import Result
    results = load(f"sagan_{kind}_results.json")
    assert len(results) == {"ping": 15, "traceroute": 21}[kind]        # all of them, per SAGAN
    sagan = []
    for r in results:
        parsed = Result.get(json.dumps(r), on_error=Result.ACTION_IGNORE, on_malformation=Result.ACTION_IGNORE)
        sagan.append((parsed.packets_received or 0) > 0 if kind == "ping" else parsed.destination_ip_responded)
    ours = [atlas.result_reachable(r) for r in results]
    assert ours == sagan and True in sagan and False in sagan
    arr, _ = atlas_reduce.body_result_arrays(json.dumps(results).encode())   # the path normalize takes
    assert list(arr.reachable) == sagan
    # the two cases the old rule got wrong are in there
    if kind == "ping":
        assert any(isinstance(r.get("rcvd"), str) and int(r["rcvd"]) > 0 for r in results)
    else:
        assert any(any("late" in p for p in r["result"][-1].get("result", [])) for r in results)


def test_connection_events_with_string_or_int_asn(tmp_path):
    events = load("results_7000_connection.json")
    assert all(isinstance(e["asn"], str) and "fw" not in e for e in events)   # as the public sample
    meta = atlas.probe_frame(load("probes_kz_page1.json")["results"])
    start, end = pd.Timestamp("2022-01-05", tz="UTC"), pd.Timestamp("2022-01-06", tz="UTC")
    as_str = atlas_reduce.connection_bins(meta, events, start, end)
    as_int = atlas_reduce.connection_bins(meta, [{**e, "asn": int(e["asn"])} for e in events], start, end)
    pd.testing.assert_frame_equal(as_str, as_int)
    assert len(as_str)


def test_probe_metadata_classes_and_activity():
    probes = all_probes()
    start, end = small_case().fetch_utc
    active = [p["id"] for p in probes if atlas.active_in_window(p, start, end)]
    assert active == [10001, 10002, 10003, 10004]     # not abandoned 10005, never-connected 10006
    meta = atlas.probe_frame(probes)
    infra = dict(zip(meta.probe_id, meta.is_infrastructure))
    assert infra == {10001: False, 10002: True, 10003: False, 10004: True, 10005: False, 10006: False}
    assert meta.set_index("probe_id").loc[10002, "is_anchor"]
    assert meta.set_index("probe_id").loc[10003, "asn"] == 29355
    assert pd.isna(meta.set_index("probe_id").loc[10006, "asn"])
    assert meta.set_index("probe_id").loc[10003, "status_since"] == pd.Timestamp("2022-01-05T04:10Z")


def test_probe_bins_one_row_per_probe_hour_and_any_success_counts():
    meta = atlas.probe_frame(all_probes())
    start, end = small_case().fetch_utc
    rows = load("results_1001_ping.json") + load("results_5001_traceroute.json")
    b = atlas.probe_bins(rows + rows, meta, start, end)       # duplicates do not double
    assert list(b.columns) == ["probe_id", "asn", "is_infrastructure", "ts_utc", "reachable"]
    assert not b.duplicated(["probe_id", "ts_utc"]).any()
    at = b.set_index(["probe_id", "ts_utc"])["reachable"]
    x = pd.Timestamp("2022-01-04T10:00Z")
    assert at[(10002, x)] and at[(10004, x)] and at[(10001, x)] and not at[(10003, x)]


def test_connection_state_without_events_comes_from_status():
    start, end = pd.Timestamp("2022-01-04T00:00Z"), pd.Timestamp("2022-01-05T00:00Z")
    lo, hi = int(start.timestamp()), int(end.timestamp())
    up = {"status": "connected", "status_since": pd.Timestamp("2021-01-01T00:00Z"),
          "first_connected": pd.Timestamp("2020-01-01T00:00Z")}
    assert atlas_reduce.connection_intervals(up, [], start, end) == [(lo, hi)]
    went = {"status": "disconnected", "status_since": pd.Timestamp("2022-01-04T06:00Z"),
            "first_connected": pd.Timestamp("2020-01-01T00:00Z")}
    assert atlas_reduce.connection_intervals(went, [], start, end) == [(lo, lo + 6 * 3600)]
    never = {"status": "never connected", "status_since": None, "first_connected": None}
    assert atlas_reduce.connection_intervals(never, [], start, end) == []
    # an event before the window fixes the initial state
    evs = [(lo - 60, "disconnect"), (lo + 3600, "connect")]
    assert atlas_reduce.connection_intervals(up, evs, start, end) == [(lo + 3600, hi)]


@responses.activate
def test_rows_from_a_simulated_cache_are_marked_simulated(tmp_path):
    AtlasReplay(responses)
    f = fetcher(tmp_path)
    fetch_source(atlas, small_case(), f)
    sim = RawCache(tmp_path / "sim")
    for m in f.cache.entries("atlas"):
        hit = f.cache.get("atlas", m["path"], m["params"])
        sim.put("atlas", m["path"], m["params"], hit.body, url=m["url"], status=m["status"],
                simulated=True, scenario="test")
    df = atlas.normalize(small_case(), sim)
    assert len(df) == len(atlas.normalize(small_case(), f.cache)) and df.simulated.all()


# -- regions: probes located inside the case's circle ----------------------------------------
def test_distance_km_haversine():
    # Almaty to Astana: about 970 km (great circle); one degree of latitude ~111.2 km
    d = atlas_reduce.distance_km([51.1694], [71.4491], 43.2775, 76.8958)[0]
    assert 940 < d < 1000
    assert atlas_reduce.distance_km([44.0], [10.0], 43.0, 10.0)[0] == pytest.approx(111.19, abs=0.05)


@responses.activate
def test_region_rows_count_the_probes_inside_the_circle(tmp_path):
    case = small_case()
    region = case.regions[0]
    assert region.name == "Almaty" and region.radius_km == 25
    lat0, lon0 = region.center
    east = lambda km: lon0 + km / (111.19 * math.cos(math.radians(lat0)))  # noqa: E731
    replay = AtlasReplay(responses)
    where = {10001: [lon0, lat0],                 # centre: inside
             10002: None,                         # no location: never inside
             10003: [east(30), lat0],             # 30 km east: outside
             10004: [east(20), lat0]}             # 20 km east: inside
    for page in replay.pages:
        for p in page["results"]:
            if p["id"] in where:
                p["geometry"] = None if where[p["id"]] is None else {"type": "Point", "coordinates": where[p["id"]]}
    f = fetcher(tmp_path)
    fetch_source(atlas, case, f)
    meta = atlas.probe_metadata(case, f.cache)
    assert set(atlas.probes_in_region(meta, region)) == {10001, 10004}
    df = atlas.normalize(case, f.cache)
    reg = df[df.entity_type == "region"]
    assert set(reg.entity_code) == {"Almaty"}
    # every hour of the fetch window, 3 signals, both classes (10001 end-user, 10004 infrastructure)
    hours = int((case.fetch_utc[1] - case.fetch_utc[0]) / pd.Timedelta("1h"))
    assert len(reg) == hours * 3 * 2
    x = "2022-01-04T10:00"
    assert value(df, "country", "KZ", "probes_reporting", "end-user", x) == 2        # 10001 and 10003
    assert value(df, "region", "Almaty", "probes_reporting", "end-user", x) == 1     # 10001 only
    assert value(df, "region", "Almaty", "probes_reachable", "end-user", x) == 1
    assert value(df, "region", "Almaty", "probes_reporting", "infrastructure", x) == 1   # 10004, not 10002
    # the region's counts are the per-probe bins of its probes
    bins = atlas.probe_table(case, f.cache)
    mine = bins[bins.probe_id == 10001].set_index("ts_utc")["reachable"]
    got = reg[(reg.signal == "probes_reachable") & (reg.subtype == "end-user")].set_index("ts_utc")["value"]
    assert (got.reindex(mine.index) == mine.astype(float)).all() and got.sum() == mine.sum()


def test_ping_text_fast_path_agrees_with_the_full_parse():
    pings = load("results_1001_ping.json")
    full = atlas_reduce.result_arrays(pings)
    for body in (json.dumps(pings).encode(), json.dumps(pings, separators=(",", ":")).encode()):
        fast, parsed = atlas_reduce.body_result_arrays(body)
        assert parsed is None                                   # read from the text
        assert (fast.prb_id == full.prb_id).all() and (fast.timestamp == full.timestamp).all()
        assert (fast.reachable == full.reachable).all() and full.reachable.any() and not full.reachable.all()
    # a result without "rcvd" (counts differ) or another type: the full parse decides
    odd = [dict(pings[0])] + pings[1:]
    del odd[0]["rcvd"]
    arr, parsed = atlas_reduce.body_result_arrays(json.dumps(odd).encode())
    assert parsed == odd and not arr.reachable[0] and len(arr) == len(odd)
    traces = load("results_5001_traceroute.json")
    arr, parsed = atlas_reduce.body_result_arrays(json.dumps(traces).encode())
    assert parsed == traces and list(arr.reachable) == [atlas.result_reachable(r) for r in traces]
    arr, parsed = atlas_reduce.body_result_arrays(json.dumps([{**traces[0], "type": "x"}]).encode())
    assert parsed is not None and not arr.reachable.any()
    empty, parsed = atlas_reduce.body_result_arrays(b"[]")
    assert len(empty) == 0
