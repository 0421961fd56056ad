"""Cloudflare Radar source: declaration, plan, parsing, collect (replayed with
``responses``), the token's handling, and the simulator's answers read back.

Fixtures in tests/fixtures/radar/ follow the shapes tests/fixtures/radar/SOURCES.md cites.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
import pytest
import responses

from shutdown.collect import fetch_source
from shutdown.simulation.run import answers
from shutdown.case import load_case
from shutdown.http import Fetcher, SourceError
from shutdown.schema import TIDY_COLUMNS
from shutdown.scenario import load_scenario
from shutdown.simulation import render_radar
from shutdown.simulation.world import World
from shutdown.sources import radar, registry
from shutdown.store import RawCache

FIX = Path(__file__).parent / "fixtures" / "radar"
BASE = "https://radar.test/client/v4"
TOKEN = "tok-SECRET-5f3a9c"           # made up; must never reach the cache or the output


def load(name):
    return json.loads((FIX / name).read_text())


def small_case():
    """Kazakhstan, one local day plus one baseline day: fetch window
    2022-01-03T18:00Z .. 2022-01-05T18:00Z (two days: one chunk per series)."""
    return dataclasses.replace(load_case("kz-2022-01"), start=dt.date(2022, 1, 5),
                               end=dt.date(2022, 1, 5), baseline_days=1)


def fetcher(tmp_path, headers=None, **kw):
    kw.setdefault("sleep", lambda s: None)
    return Fetcher(RawCache(tmp_path / "cache"), "radar", BASE, headers=headers, **kw)


def envelope(result):
    return {"success": True, "errors": [], "messages": [], "result": result}


class RadarReplay:
    """Answers Radar paths like the upstream (series from the request's dates,
    annotations paged by limit/offset); records each request's headers and query."""

    def __init__(self, rsps, annotations=(), fail=None):
        self.calls, self.annotations, self.fail = [], list(annotations), fail
        rsps.add_callback(responses.GET, re.compile(re.escape(BASE) + r"/radar/.*"), callback=self.answer)

    def answer(self, request):
        parts = urlsplit(request.url)
        path = parts.path.removeprefix(urlsplit(BASE).path)
        q = dict(parse_qsl(parts.query))
        self.calls.append((path, q, dict(request.headers)))
        if self.fail:
            hit = self.fail(path, q)
            if hit:
                return hit
        if path == radar.OUTAGES_PATH:
            lo, n = int(q["offset"]), int(q["limit"])
            return 200, {}, json.dumps(envelope({"annotations": self.annotations[lo:lo + n]}))
        t = pd.date_range(q["dateStart"], q["dateEnd"], freq="15min", inclusive="left")
        vals = [f"{0.5 + 0.5 * (i % 4) / 3:.6f}" for i in range(len(t))]
        return 200, {}, json.dumps(envelope({"meta": {"normalization": "MIN0_MAX"},
                                             "serie_0": {"timestamps": [x.strftime("%Y-%m-%dT%H:%M:%SZ") for x in t],
                                                         "values": vals}}))


def annotation(i, start="2022-01-05T10:30:00Z", end="2022-01-05T18:00:00Z"):
    a = dict(load("outages_kz.json")["result"]["annotations"][0])
    a.update({"id": str(i), "startDate": start, "endDate": end})
    return a


# -- declaration and plan ---------------------------------------------------------------
def test_declaration_names_each_signal_once_with_a_role_and_the_token_variable():
    d = radar.DECLARATION
    assert d["name"] == radar.SOURCE == "radar"
    assert d["auth"]["env"] == "CLOUDFLARE_API_TOKEN" and d["auth"]["required"] is True
    names = [s["signal"] for s in d["signals"]]
    assert names == ["http_requests", "netflows"] and len(set(names)) == len(names)
    assert all(s["role"] == "traffic" and s["unit"] and s["label"] for s in d["signals"])
    assert set(radar.TIMESERIES_PATHS) == set(names)
    assert d["min_interval"] > 0


def test_plan_cuts_the_fetch_window_into_overlapping_chunks_per_entity_and_signal():
    case = load_case("kz-2022-01")                # 24 days: several chunks
    start, end = case.fetch_utc
    reqs = radar.plan(case)
    series = [r for r in reqs if r.path != radar.OUTAGES_PATH]
    ents = [("country", "KZ")] + [("asn", str(n.asn)) for n in case.networks]
    chunks = radar.overlapping_chunks(start, end)
    assert len(chunks) > 1
    assert len(series) == len(ents) * 2 * len(chunks)
    assert chunks[0][0] == start and chunks[-1][1] == end
    for (a0, a1), (b0, b1) in zip(chunks, chunks[1:]):
        assert a1 - a0 <= radar.CHUNK and a1 - b0 == radar.OVERLAP
    kz = [r for r in series if r.entity_code == "KZ" and r.path == "/radar/http/timeseries"]
    assert [r.params["dateStart"] for r in kz] == [radar.iso(a) for a, _ in chunks]
    assert all(r.params["location"] == "KZ" and "asn" not in r.params for r in kz)
    net = [r for r in series if r.entity_type == "asn" and r.entity_code == "9198"]
    assert net and all(r.params["asn"] == "9198" and "location" not in r.params for r in net)
    for r in series:
        assert (r.params["aggInterval"], r.params["normalization"], r.params["format"]) == ("15m", "MIN0_MAX", "json")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.params["dateEnd"])
        assert r.params.get("product") == ("ALL" if r.path == "/radar/netflows/timeseries" else None)
    last = reqs[-1]
    assert last.path == radar.OUTAGES_PATH and last.params["location"] == "KZ"
    assert (last.params["offset"], last.params["limit"]) == (0, radar.PAGE_LIMIT)
    assert (last.params["dateStart"], last.params["dateEnd"]) == (radar.iso(start), radar.iso(end))


def test_a_window_shorter_than_a_chunk_is_one_request_and_a_bad_overlap_is_refused():
    s = pd.Timestamp("2022-01-01", tz="UTC")
    assert radar.overlapping_chunks(s, s + pd.Timedelta(days=2)) == [(s, s + pd.Timedelta(days=2))]
    with pytest.raises(ValueError):
        radar.overlapping_chunks(s, s + pd.Timedelta(days=30), size=pd.Timedelta(days=1))


def test_follow_up_pages_step_the_offset_by_the_limit():
    p = {"location": "KZ", "limit": 100, "offset": 0}
    assert [radar.page_params(p, k)["offset"] for k in (1, 2, 3)] == [100, 200, 300]


# -- parsing ---------------------------------------------------------------------------
def test_timeseries_values_are_strings_read_as_floats_at_their_timestamps():
    payload = load("http_timeseries_kz.json")
    assert radar.check_timeseries(payload) is None
    ts, v = radar.parse_timeseries(payload)
    assert str(ts.tz) == "UTC" and ts[0] == pd.Timestamp("2022-01-05T10:00Z")
    assert (ts[1:] - ts[:-1] == pd.Timedelta(minutes=15)).all()
    assert v.dtype == np.float64 and v[1] == 1.0 and v[0] == pytest.approx(0.961522)
    ts2, v2 = radar.parse_timeseries(load("netflows_timeseries_asn.json"))
    assert len(ts2) == 4 and v2[-1] == pytest.approx(0.02441)


def test_a_null_value_is_a_gap_and_a_series_under_another_key_is_read():
    payload = envelope({"meta": {}, "main": {"timestamps": ["2022-01-05T10:00:00Z", "2022-01-05T10:15:00Z",
                                                            "2022-01-05T10:30:00Z"],
                                             "values": ["0.5", None, "1"]}})
    assert radar.check_timeseries(payload) is None
    ts, v = radar.parse_timeseries(payload)
    assert len(ts) == 3 and np.isnan(v[1]) and v[2] == 1.0


@pytest.mark.parametrize("payload, words", [
    (load("error_400_validation.json"), "Cloudflare error: 2001 Input validation error"),
    ({"success": False, "errors": [], "messages": [], "result": None}, "success: false"),
    (envelope({"meta": {}}), "no series"),
    (envelope({"serie_0": {"timestamps": ["2022-01-05T10:00:00Z"], "values": []}}), "equal length"),
    ([1, 2], "Cloudflare envelope"),
    ({"result": {}}, "success: true"),
])
def test_unusable_timeseries_answers_are_named(payload, words):
    assert words in radar.check_timeseries(payload)


def test_stitch_puts_min0_max_chunks_on_one_scale_through_their_overlap():
    t = pd.date_range("2022-01-01", periods=12, freq="h", tz="UTC")
    level = np.array([2, 4, 8, 4, 2, 4, 1, 0, 6, 3, 12, 6], dtype=float)   # what Radar counts
    a, b = slice(0, 8), slice(5, 12)                # overlap: bins 5, 6, 7 (one is zero)
    pieces = [(t[a], level[a] / level[a].max()), (t[b], level[b] / level[b].max())]
    ts, v = radar.stitch(pieces)
    assert list(ts) == list(t)
    np.testing.assert_allclose(v, level / level[a].max())
    # no usable overlap (all zero there): the piece keeps its own scale
    ts, v = radar.stitch([(t[:3], np.array([1.0, 0.5, 0.0])), (t[2:5], np.array([0.0, 1.0, 0.5]))])
    np.testing.assert_allclose(v, [1.0, 0.5, 0.0, 1.0, 0.5])


def test_annotations_parse_with_an_ongoing_one_as_nat():
    df = radar.parse_annotations(load("outages_kz.json"))
    assert list(df.columns) == radar.ANNOTATION_COLUMNS and len(df) == 2
    first, second = df.iloc[0], df.iloc[1]
    assert first["id"] == "101" and first["start_utc"] == pd.Timestamp("2022-01-05T10:30Z")
    assert first["end_utc"] == pd.Timestamp("2022-01-11T06:00Z")
    assert (first["asns"], first["locations"], first["scope"]) == ("9198,29355", "KZ", "Kazakhstan")
    assert (first["cause"], first["outage_type"]) == ("GOVERNMENT_DIRECTED", "NATIONWIDE")
    assert first["linked_url"] == "https://example.com/kz-shutdown"
    assert pd.isna(second["end_utc"]) and second["linked_url"] == "" and second["asns"] == ""
    assert str(df["start_utc"].dtype) == "datetime64[ns, UTC]" and not df["simulated"].any()
    assert radar.check_annotations(load("outages_kz.json")) is None
    assert "annotations" in radar.check_annotations(envelope({}))


# -- the token -------------------------------------------------------------------------
def test_auth_headers_from_the_environment():
    """The declaration's auth, read by the registry's one reader of credentials."""
    src = registry.get("radar")
    assert src.auth_headers({"CLOUDFLARE_API_TOKEN": " abc "}) == {"Authorization": "Bearer abc"}
    assert src.auth_headers({"CLOUDFLARE_API_TOKEN": "  "}) == {}
    assert src.auth_headers({}) == {}


def test_without_a_token_collect_stops_in_one_line_saying_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        replay = RadarReplay(rsps)
        with pytest.raises(SourceError) as err:
            fetch_source(radar, small_case(), fetcher(tmp_path))
    msg = str(err.value)
    assert replay.calls == [] and "\n" not in msg
    assert "CLOUDFLARE_API_TOKEN" in msg and "Radar" in msg and "Read" in msg
    assert msg.startswith("radar: ")


def test_collect_py_reports_a_missing_token_as_this_source_unavailable_in_one_line(tmp_path, monkeypatch):
    """The run's driver turns the SourceError into this source's status, with the declared
    way to get a token; the others run."""
    from shutdown.collect import SourceReport, _collect_source
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    rep = SourceReport("radar")
    with responses.RequestsMock():
        _collect_source(small_case(), rep, RawCache(tmp_path / "c"), BASE, position=0,
                        stop=threading.Event(), refresh=False, session=None, progress=False,
                        min_interval=0.0, fetcher_options=None)
    assert rep.status == "unavailable" and "\n" not in rep.message
    assert "CLOUDFLARE_API_TOKEN" in rep.message and "Radar > Read" in rep.message and rep.requests == 0


def test_without_a_token_a_complete_cache_is_still_read(tmp_path, monkeypatch):
    case = small_case()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        RadarReplay(rsps, annotations=[annotation(1)])
        fetch_source(radar, case, fetcher(tmp_path, headers=registry.get("radar").auth_headers({"CLOUDFLARE_API_TOKEN": TOKEN})))
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        replay = RadarReplay(rsps)
        f = fetcher(tmp_path)
        fetch_source(radar, case, f)
    assert replay.calls == [] and f.stats.cache_hits == len(radar.plan(case))


# -- collect -----------------------------------------------------------------------------
def test_collect_sends_the_token_and_keeps_it_out_of_the_cache_and_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)     # found by collect itself
    case = small_case()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        replay = RadarReplay(rsps, annotations=[annotation(1)])
        f = fetcher(tmp_path)
        notes = fetch_source(radar, case, f)
    assert notes == []
    assert len(replay.calls) == len(radar.plan(case))
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _, _, h in replay.calls)
    assert all(TOKEN not in json.dumps(q) for _, q, _ in replay.calls)
    cache = RawCache(tmp_path / "cache")
    metas = list(cache.entries("radar"))
    assert len(metas) == len(radar.plan(case))
    for p in (tmp_path / "cache").rglob("*"):
        if p.is_file():
            assert TOKEN.encode() not in p.read_bytes(), p
    assert all(m["url"].startswith(BASE + "/radar/") and "Bearer" not in json.dumps(m) for m in metas)
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err

    table = radar.normalize(case, cache)
    assert list(table.columns) == TIDY_COLUMNS
    lo, hi = case.fetch_utc
    assert set(table["entity_code"]) == {"KZ", *(str(n.asn) for n in case.networks)}
    assert set(table["signal"]) == {"http_requests", "netflows"}
    one = table[(table.entity_code == "KZ") & (table.signal == "http_requests")]
    assert len(one) == (hi - lo) / pd.Timedelta(minutes=15)
    assert one["ts_utc"].min() == lo and one["ts_utc"].max() < hi
    assert set(one["value"].round(6)) == {0.5, 0.666667, 0.833333, 1.0}
    assert not table["simulated"].any() and set(table["source"]) == {"radar"}


def test_outage_center_pages_follow_the_offset_until_a_short_page(tmp_path, monkeypatch):
    monkeypatch.setattr(radar, "PAGE_LIMIT", 2)
    case = small_case()
    anns = [annotation(i, start=f"2022-01-0{3 + i % 3}T1{i}:00:00Z") for i in range(5)]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        replay = RadarReplay(rsps, annotations=anns)
        fetch_source(radar, case, fetcher(tmp_path, headers={"Authorization": f"Bearer {TOKEN}"}))
    pages = [q for p, q, _ in replay.calls if p == radar.OUTAGES_PATH]
    assert [(int(q["offset"]), int(q["limit"])) for q in pages] == [(0, 2), (2, 2), (4, 2)]
    df = radar.normalize_annotations(case, RawCache(tmp_path / "cache"))
    assert sorted(df["id"]) == [str(i) for i in range(5)]
    assert df["start_utc"].is_monotonic_increasing


def test_an_error_envelope_stops_the_source_with_cloudflares_words_and_caches_nothing(tmp_path):
    body = json.dumps(load("error_400_validation.json"))
    fail = lambda path, q: (400, {}, body) if path != radar.OUTAGES_PATH else None  # noqa: E731
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        RadarReplay(rsps, fail=fail)
        with pytest.raises(SourceError) as err:
            fetch_source(radar, small_case(), fetcher(tmp_path, headers={"Authorization": f"Bearer {TOKEN}"}))
    assert "HTTP 400" in err.value.problem and "2001 Input validation error" in err.value.problem
    assert list(RawCache(tmp_path / "cache").entries("radar")) == []


def test_success_false_on_http_200_is_refused_before_caching(tmp_path):
    body = json.dumps({"success": False, "errors": [{"code": 2000, "message": "Internal Error"}],
                       "messages": [], "result": None})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        RadarReplay(rsps, fail=lambda p, q: (200, {}, body))
        with pytest.raises(SourceError) as err:
            fetch_source(radar, small_case(), fetcher(tmp_path, headers={"Authorization": f"Bearer {TOKEN}"}))
    assert "Cloudflare error: 2000 Internal Error" in err.value.problem
    assert list(RawCache(tmp_path / "cache").entries("radar")) == []


def test_a_refused_token_says_which_permission_is_needed_and_never_the_token(tmp_path, capsys):
    body = json.dumps({"success": False, "errors": [{"code": 10000, "message": "Authentication error"}],
                       "messages": [], "result": None})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        RadarReplay(rsps, fail=lambda p, q: (403, {}, body))
        with pytest.raises(SourceError) as err:
            fetch_source(radar, small_case(), fetcher(tmp_path, headers={"Authorization": f"Bearer {TOKEN}"}))
    msg = str(err.value)
    assert "HTTP 403" in msg and "Authentication error" in msg and "Account > Radar > Read" in msg
    assert TOKEN not in msg and TOKEN not in "".join(capsys.readouterr())


# -- the simulator's answers, read back by the same normalize ------------------------------
@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    case, sc = load_case("kz-2022-01"), load_scenario("kz-2022-01")
    world = World(sc, case, 0)
    cache = RawCache(tmp_path_factory.mktemp("sim"))
    got = []

    def put(path, params, status, body):      # the simulator's driver of radar.requests
        assert status == 200
        cache.put("radar", path, params, body, url=BASE + path, status=status, simulated=True,
                  scenario=sc.name)
        got.append(path)

    answers(world, "radar", put)
    return case, sc, world, cache, len(got)


def test_the_renderer_answers_every_planned_request_in_checked_shapes(simulated):
    case, _, world, cache, n = simulated
    assert n == len(radar.plan(case))                    # one annotations page is enough here
    for req in radar.plan(case):
        obj = cache.get("radar", req.path, req.params).json()
        check = radar.check_annotations if req.path == radar.OUTAGES_PATH else radar.check_timeseries
        assert check(obj) is None, req.label
        if req.path != radar.OUTAGES_PATH:
            vals = obj["result"]["serie_0"]["values"]
            assert all(isinstance(v, str) for v in vals) and max(map(float, vals)) == 1.0


def test_simulated_traffic_falls_in_the_national_cut_and_stitches_onto_one_scale(simulated):
    case, sc, world, cache, _ = simulated
    table = radar.normalize(case, cache)
    assert table["simulated"].all()
    cut = next(ep for ep in sc.episodes if ep.id == "national-cut")
    for code in ("KZ", "9198"):
        s = table[(table.entity_code == code) & (table.signal == "http_requests")].set_index("ts_utc")["value"]
        before = s[cut.start - pd.Timedelta(days=7):cut.start - pd.Timedelta(days=1)].median()
        during = s[cut.start + pd.Timedelta(hours=1):cut.end].median()
        assert during < 0.1 * before, code
        # stitched chunks are one scale: a constant multiple of the world's own level
        starts, level = render_radar.series(world, "country" if code == "KZ" else "asn", code,
                                            "http_requests", 900)
        ref = pd.Series(level, index=pd.to_datetime(starts, unit="s", utc=True)).reindex(s.index)
        ratio = (s / ref)[ref > 0.05]
        assert ratio.std() / ratio.mean() < 1e-4, code


def test_simulated_outage_center_holds_the_national_shutdown_marked_simulated(simulated):
    case, sc, _, cache, _ = simulated
    ann = radar.normalize_annotations(case, cache)
    cut = next(ep for ep in sc.episodes if ep.id == "national-cut")
    hit = ann[ann["start_utc"] == cut.start]
    assert len(hit) == 1
    row = hit.iloc[0]
    assert row["simulated"] and row["description"].startswith("SIMULATED")
    assert row["locations"] == "KZ" and "9198" in row["asns"].split(",")
    assert row["end_utc"] > cut.end


def test_the_renderer_answers_bad_requests_with_cloudflares_failure_envelope(simulated):
    _, _, world, _, _ = simulated
    status, body = render_radar.render(world, "/radar/http/timeseries",
                                       {"dateStart": "2022-01-05T00:00:00Z", "dateEnd": "2022-01-06T00:00:00Z"})
    assert status == 400 and radar.check_timeseries(json.loads(body)).startswith("Cloudflare error: 2001")
    status, body = render_radar.render(world, "/radar/nowhere", {})
    assert status == 404 and "7003" in radar.check_envelope(json.loads(body))
