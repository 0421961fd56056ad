"""The simulator end to end: payloads in the upstream schemas, read back by the
collectors' own parsers, showing the scenario's episodes where it says."""
import gzip
import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ripe.atlas.sagan import Result
from typer.testing import CliRunner

from shutdown.case import load_case
from shutdown.cli import app
from shutdown.errors import InputError
from shutdown.scenario import load_scenario
from shutdown.simulate import demo_cache, load_ground_truth, simulate
from shutdown.simulation import render_atlas, render_ioda, render_ooni
from shutdown.simulation.world import World, layered
from shutdown.sources import atlas, ioda, ooni
from shutdown.sources.atlas_reduce import result_reachable
from shutdown.store import RawCache

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kz(tmp_path_factory):
    """The KZ scenario rendered for a short KZ case (3-7 Jan local, 1 baseline day)."""
    d = tmp_path_factory.mktemp("kz")
    text = (REPO / "data/cases/kz-2022-01.toml").read_text()
    text = re.sub(r"(?m)^start = .*$", "start = 2022-01-04", text)
    text = re.sub(r"(?m)^end = .*$", "end = 2022-01-07", text)
    text = re.sub(r"(?m)^baseline_days = .*$", "baseline_days = 1", text)
    text = re.sub(r'(?m)^timeline = .*$', f'timeline = "{REPO / "data/events/kz-2022-01.toml"}"', text)
    (d / "kz-short.toml").write_text(text)
    case = load_case(d / "kz-short.toml")
    out = simulate("kz-2022-01", seed=0, cache_root=d / "cache", case=case)
    cache = RawCache(out["cache"])
    tidy = {m.SOURCE: m.normalize(case, cache) for m in (ioda, ooni, atlas)}
    return {"case": case, "cache": cache, "out": out, "tidy": tidy}


def series(df, code, signal, subtype=None):
    sel = (df["entity_code"] == code) & (df["signal"] == signal)
    if subtype is not None:
        sel &= df["subtype"] == subtype
    return df[sel].groupby("ts_utc")["value"].sum()


def _utc(t):
    t = pd.Timestamp(t)
    return t.tz_localize("UTC") if t.tzinfo is None else t


def window(s, a, b):
    return s[(s.index >= _utc(a)) & (s.index < _utc(b))]


# -- the collectors read the simulated cache with their own parsers ------------------
def test_every_source_normalizes_and_is_marked_simulated(kz):
    for src, df in kz["tidy"].items():
        assert len(df) > 0, src
        assert df["simulated"].all(), src
    assert kz["cache"].simulated
    assert kz["cache"].kind()["scenario"] == "kz-2022-01"
    metas = list(kz["cache"].entries())
    assert metas and all(m["simulated"] and m["fetched_utc"] == "2022-02-01T00:00:00Z" for m in metas)
    # every request the collectors plan has an answer in the cache
    for m in (ioda, ooni):
        for req in m.plan(kz["case"]):
            assert kz["cache"].get(m.SOURCE, req.path, req.params) is not None, req.label
    assert kz["out"]["files"]["atlas"] == len(atlas.plan(kz["case"], atlas.load_probes(kz["case"], kz["cache"])))


def test_national_cut_in_ioda_bgp_stays(kz):
    df = kz["tidy"]["ioda"]
    ping = series(df, "KZ", "ping-slash24")
    normal = window(ping, "2022-01-03", "2022-01-04").median()
    inside = window(ping, "2022-01-05T11:00Z", "2022-01-05T23:30Z")
    assert inside.max() < 0.1 * normal
    bgp = series(df, "KZ", "bgp")
    assert window(bgp, "2022-01-05T11:00Z", "2022-01-05T23:30Z").min() > 0.9 * window(
        bgp, "2022-01-03", "2022-01-04").median()
    # the three-hour partial restoration early on 6 Jan is visible
    early6 = window(ping, "2022-01-06T00:30Z", "2022-01-06T02:30Z").mean()
    assert 0.3 * normal < early6 < 0.7 * normal
    # the mobile network Kcell falls on 4 Jan evening, before the national cut
    kcell = series(df, "29355", "merit-nt")
    assert window(kcell, "2022-01-04T17:00Z", "2022-01-05T10:00Z").mean() < 0.6 * window(
        kcell, "2022-01-03", "2022-01-04").mean()


def test_ooni_messenger_block_and_volume(kz):
    df = kz["tidy"]["ooni"]

    def share(a, b):
        anom = window(series(df, "KZ", "telegram", "anomaly"), a, b).sum()
        total = sum(window(series(df, "KZ", "telegram", o), a, b).sum()
                    for o in ("ok", "anomaly", "confirmed", "failure"))
        return anom / total
    assert share("2022-01-03", "2022-01-04") < 0.15
    assert share("2022-01-04T06:00Z", "2022-01-04T16:00Z") > 0.5
    vol = series(df, "KZ", "measurements", "all")
    assert window(vol, "2022-01-05T12:00Z", "2022-01-05T23:00Z").sum() < 0.1 * window(
        vol, "2022-01-03T12:00Z", "2022-01-03T23:00Z").sum()


def test_atlas_infrastructure_returns_before_end_users(kz):
    df = kz["tidy"]["atlas"]
    infra = series(df, "KZ", "probes_connected", "infrastructure")
    user = series(df, "KZ", "probes_connected", "end-user")
    n_infra = window(infra, "2022-01-03", "2022-01-04").median()
    n_user = window(user, "2022-01-03", "2022-01-04").median()
    assert n_infra >= 5 and n_user >= 20
    assert window(user, "2022-01-05T13:00Z", "2022-01-05T23:00Z").mean() < 0.15 * n_user
    assert window(infra, "2022-01-05T13:00Z", "2022-01-05T23:00Z").mean() < 0.15 * n_infra
    assert window(infra, "2022-01-07T09:00Z", "2022-01-07T17:00Z").mean() > 0.8 * n_infra
    assert window(user, "2022-01-07T09:00Z", "2022-01-07T17:00Z").mean() < 0.2 * n_user
    # buffered results are uploaded after reconnection: probes keep *reporting*
    rep = series(df, "KZ", "probes_reporting", "end-user")
    assert window(rep, "2022-01-05T13:00Z", "2022-01-05T23:00Z").mean() > 0.8 * n_user


# -- the payloads are in the upstream schemas -----------------------------------------
def _bodies(cache, source):
    for m in cache.entries(source):
        yield m, cache.get(source, m["path"], m["params"]).json()


def test_ioda_envelope_and_series_shape(kz):
    seen = 0
    for meta, obj in _bodies(kz["cache"], "ioda"):
        assert list(obj) == ["type", "metadata", "requestParameters", "error", "perf", "data",
                             "copyright"]
        assert obj["error"] is None and isinstance(obj["data"], list)
        if obj["type"] == "entities.lookup":          # EntitiesController / MetadataEntityNormalizer
            assert list(obj["requestParameters"]) == ["relatedTo", "search", "limit", "page",
                                                      "entityType", "entityCode"]
            for e in obj["data"]:
                assert list(e) == ["code", "name", "type", "subnames", "attrs"] and e["type"] == "region"
                assert e["attrs"]["fqid"].endswith("." + e["code"]) and e["attrs"]["country_code"] == "KZ"
            continue
        if obj["type"] != "signals":
            assert obj["type"] in ("outages.alerts", "outages.events") and obj["data"] == []
            continue
        rp = obj["requestParameters"]
        assert rp["from"] == int(meta["params"]["from"]) and rp["datasource"] == meta["params"]["datasource"]
        for s in obj["data"][0]:
            assert list(s) == ["entityType", "entityCode", "entityName", "entityFqid", "datasource",
                               "subtype", "from", "until", "step", "nativeStep", "values"]
            assert s["entityFqid"].startswith("geo.provider.") or s["entityFqid"].startswith("asn.")
            assert s["from"] % s["step"] == 0 and s["from"] <= rp["from"]
            assert len(s["values"]) == math.ceil((s["until"] - s["from"]) / s["step"])
            assert s["step"] == {"bgp": 300, "merit-nt": 300, "ping-slash24": 600, "gtr": 1800}[s["datasource"]]
            if s["datasource"] != "gtr":
                assert all(v is None or isinstance(v, int) for v in s["values"])
            else:       # one series per product asked in sourceParams (WEB_SEARCH only without it)
                assert s["subtype"] in meta["params"].get("sourceParams", "WEB_SEARCH").split(",")
            seen += 1
        if "/asn/" in meta["path"] and meta["params"]["datasource"] == "gtr":
            assert obj["data"] == [[]]          # no Google traffic data per network
    assert seen > 0


def test_ooni_aggregation_shape(kz):
    for meta, obj in _bodies(kz["cache"], "ooni"):
        assert list(obj) == ["v", "dimension_count", "db_stats", "result"]
        p = meta["params"]
        assert obj["dimension_count"] == (2 if "axis_y" in p else 1)
        lo, hi = pd.Timestamp(p["since"], tz="UTC"), pd.Timestamp(p["until"], tz="UTC")
        keys = []
        for row in obj["result"]:
            want = ["anomaly_count", "confirmed_count", "failure_count", "ok_count",
                    "measurement_count", "measurement_start_day"] + ([p["axis_y"]] if "axis_y" in p else [])
            assert list(row) == want
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z", row["measurement_start_day"])
            assert lo <= pd.Timestamp(row["measurement_start_day"]) < hi
            assert row["measurement_count"] == sum(row[k] for k in want[:4]) > 0
            if p.get("axis_y") == "probe_asn":
                assert isinstance(row["probe_asn"], int)
            keys.append(tuple(row.get(k) for k in ("measurement_start_day", p.get("axis_y"))))
        assert keys == sorted(keys)


def test_ooni_refuses_hour_grain_over_a_week(kz):
    world = World(load_scenario("kz-2022-01"), kz["case"], 0)
    status, body = render_ooni.render(world, "/api/v1/aggregation", {
        "probe_cc": "KZ", "since": "2022-01-01T00:00:00", "until": "2022-01-09T00:00:00",
        "axis_x": "measurement_start_day", "time_grain": "hour"})
    assert status == 400
    assert json.loads(body) == {"msg": "Choose time_grain between day, week, auto for the "
                                       "given time range", "v": 0}


def test_ooni_since_with_a_time_is_the_fastapi_422(kz):
    world = World(load_scenario("kz-2022-01"), kz["case"], 0)
    status, body = render_ooni.render(world, "/api/v1/aggregation", {
        "probe_cc": "KZ", "since": "2022-01-01T18:00:00", "until": "2022-01-03",
        "axis_x": "measurement_start_day", "time_grain": "hour"})
    assert status == 422
    (item,) = json.loads(body)["detail"]
    assert item["type"] == "date_from_datetime_inexact" and item["loc"] == ["query", "since"]


def test_ooni_day_grain_adds_up_the_hours(kz):
    world = World(load_scenario("kz-2022-01"), kz["case"], 0)
    q = {"probe_cc": "KZ", "probe_asn": "AS9198", "since": "2022-01-04", "until": "2022-01-06",
         "axis_x": "measurement_start_day"}
    _, day = render_ooni.render(world, "/api/v1/aggregation", {**q, "time_grain": "day"})
    _, hour = render_ooni.render(world, "/api/v1/aggregation", {**q, "time_grain": "hour"})
    days = {r["measurement_start_day"]: r["measurement_count"] for r in json.loads(day)["result"]}
    assert set(days) == {"2022-01-04", "2022-01-05"}
    for d, n in days.items():
        assert n == sum(r["measurement_count"] for r in json.loads(hour)["result"]
                        if r["measurement_start_day"].startswith(d))


def test_atlas_listing_and_results_parse_with_sagan(kz):
    cache, case = kz["cache"], kz["case"]
    first = atlas.probe_listing_request(case)
    listing = cache.get("atlas", first.path, first.params).json()
    assert set(listing) == {"count", "next", "previous", "results"}
    assert listing["count"] == len(listing["results"]) and listing["next"] is None
    p = listing["results"][0]
    for k in ("id", "asn_v4", "country_code", "is_anchor", "status", "status_since",
              "first_connected", "last_connected", "tags", "geometry"):
        assert k in p
    assert set(p["status"]) == {"id", "name", "since"}
    gone = [q for q in listing["results"] if q["status"]["name"] in ("Abandoned", "Disconnected")]
    assert gone and not any(atlas.active_in_window(q, *case.fetch_utc) for q in gone)

    res = {1001: [], 5001: [], 7000: []}
    for req in atlas.plan(case, atlas.load_probes(case, cache))[1:]:
        res[atlas.request_msm(req)].extend(cache.get("atlas", req.path, req.params).json())
    pings, traces, events = res[1001], res[5001], res[7000]
    assert len(pings) > 5 * len(traces) > 0 and events          # 240 s vs 1800 s cadence
    # sagan (RIPE's own parser) reads them; our reachability agrees with its notion
    for r in pings[::997][:40] + traces[::97][:40]:
        parsed = Result.get(r)
        assert not parsed.is_malformed
        if r["type"] == "ping":
            assert parsed.packets_sent == 3 and parsed.packets_received == r["rcvd"]
            assert result_reachable(r) == (parsed.packets_received > 0)
        else:
            assert result_reachable(r) == bool(parsed.destination_ip_responded)
    assert any(not result_reachable(r) for r in pings) and any(result_reachable(r) for r in pings)
    by_probe = {}
    for e in sorted(events, key=lambda e: e["timestamp"]):
        assert e["type"] == "connection" and e["msm_id"] == 7000
        by_probe.setdefault(e["prb_id"], []).append(e["event"])
    for seq in by_probe.values():                  # events alternate per probe
        assert all(a != b for a, b in zip(seq, seq[1:]))


def test_atlas_listing_pages_follow_next(kz):
    world = World(load_scenario("kz-2022-01"), kz["case"], 0)
    first = atlas.probe_listing_request(kz["case"])
    path, params, seen = first.path, {**first.params, "page_size": "10"}, []
    while True:
        status, body = render_atlas.render(world, path, params)
        page = json.loads(body)
        assert status == 200 and page["count"] == len(world.probes)
        seen += [p["id"] for p in page["results"]]
        if not page["next"]:
            break
        path, params = atlas._next_page(page["next"])      # the collector's own link handling
    assert seen == sorted(p.id for p in world.probes) and len(seen) > 30


def test_scenario_naming_a_missing_case(tmp_path):
    text = (REPO / "data/scenarios/short-national-cut.toml").read_text()
    p = tmp_path / "s.toml"
    p.write_text(text.replace('case = "sim-short-national-cut"', 'case = "no-such-case"'))
    with pytest.raises(InputError) as exc:
        simulate(p, cache_root=tmp_path / "c")
    assert str(p) in str(exc.value) and "'case'" in str(exc.value)


# -- ground truth -----------------------------------------------------------------------
def test_ground_truth_written_and_loadable(kz):
    gt = load_ground_truth(kz["out"]["cache"])
    for c in ("entity_type", "entity_code", "source", "signal", "subtype", "start_utc",
              "end_utc", "kind", "depth"):
        assert c in gt.columns
    assert str(gt["start_utc"].dtype) == "datetime64[ns, UTC]"
    cut = gt[(gt.episode == "national-cut") & (gt.source == "ioda") & (gt.signal == "ping-slash24")
             & (gt.entity_code == "KZ")]
    assert len(cut) == 1 and cut.iloc[0]["depth"] == 0.97 and cut.iloc[0]["kind"] == "full"
    assert cut.iloc[0]["start_utc"] == pd.Timestamp("2022-01-05T10:45Z")
    assert not (gt.signal == "bgp").any()
    tg = gt[(gt.signal == "telegram")]
    assert (tg.subtype == "anomaly").all() and (tg.direction == "up").all()
    doc = json.loads((kz["out"]["cache"] / "ground_truth.json").read_text())
    assert doc["SIMULATED"] is True and any(e["sources"] for e in doc["episodes"])


# -- reproducibility, separation, demo cache --------------------------------------------
def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path):
    a = simulate("short-national-cut", seed=7, cache_root=tmp_path / "a")["cache"]
    b = simulate("short-national-cut", seed=7, cache_root=tmp_path / "b")["cache"]
    ta, tb = _tree(a), _tree(b)
    assert ta == tb and len(ta) > 80
    c = simulate("short-national-cut", seed=8, cache_root=tmp_path / "c")["cache"]
    assert _tree(c) != ta
    # a body is a gzip of exactly the JSON the upstream would send
    body = next((a / "raw/ioda").rglob("*.body.gz")).read_bytes()
    assert json.loads(gzip.decompress(body))["type"] in ("signals", "outages.alerts", "outages.events")


def test_never_writes_into_a_measured_cache(tmp_path):
    cache = RawCache(tmp_path)
    cache.put("ioda", "/x", {}, b"{}", url="https://example.invalid/x", status=200)
    with pytest.raises(InputError, match="measured"):
        simulate("short-national-cut", cache_root=tmp_path)
    assert cache.get("ioda", "/x", {}) is not None and not cache.simulated


def test_demo_cache_is_idempotent_and_separate(tmp_path, monkeypatch):
    monkeypatch.setenv("SHUTDOWN_CACHE", str(tmp_path / "home"))
    root = demo_cache("sim-short-national-cut")
    assert root == tmp_path / "home" / "simulated" / "short-national-cut"
    stamp = root / "SIMULATION.json"
    before = stamp.stat().st_mtime_ns
    assert demo_cache("sim-short-national-cut") == root
    assert stamp.stat().st_mtime_ns == before               # not rebuilt
    demo_cache("sim-short-national-cut", seed=3)
    assert json.loads(stamp.read_text())["seed"] == 3       # another seed: rebuilt
    df = ioda.normalize(load_case("sim-short-national-cut"), RawCache(root))
    assert df["simulated"].all() and len(df) > 0
    with pytest.raises(InputError, match="scenario"):
        demo_cache(_case_without_scenario(tmp_path))


def _case_without_scenario(tmp_path):
    text = (REPO / "data/cases/sim-short-national-cut.toml").read_text()
    text = text.replace('scenario = "short-national-cut"', "")
    text = re.sub(r'(?m)^timeline = .*$',
                  f'timeline = "{REPO / "data/events/sim-short-national-cut.toml"}"', text)
    p = tmp_path / "noscen.toml"
    p.write_text(text)
    return load_case(p)


def test_cli_simulate(tmp_path):
    res = CliRunner().invoke(app, ["simulate", "regional-cut", "--seed", "1",
                                   "--cache", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert "SIMULATED" in res.output and "ground_truth.json" in res.output
    gt = load_ground_truth(tmp_path / "r")
    assert set(gt.entity_type) == {"region", "country"}
    df = ioda.normalize(load_case("sim-regional-cut"), RawCache(tmp_path / "r"))
    north = series(df, "Northtown", "ping-slash24")       # IODA region code mapped to the name
    assert window(north, "2022-03-03T07:00Z", "2022-03-03T17:00Z").mean() < 0.2 * window(
        north, "2022-03-01", "2022-03-02").mean()


# -- the model --------------------------------------------------------------------------
def test_more_specific_episode_overrides():
    sc = load_scenario("kz-2022-01")
    region = next(e for e in sc.episodes if e.id == "almaty-window")
    national = next(e for e in sc.episodes if e.id == "almaty-window-national")
    t = np.arange(pd.Timestamp("2022-01-07T02:00Z").timestamp(),
                  pd.Timestamp("2022-01-07T09:00Z").timestamp(), 3600.0)
    r = layered([[national], [region]], t, 3600, 1.0, lambda ep: 1 - ep.depth)
    assert r[0] == 1.0 and r[-1] == 1.0
    assert np.allclose(r[1:6], 0.8)                          # Almaty's 1 - 0.2, not 1 - 0.8
    only_country = layered([[national]], t, 3600, 1.0, lambda ep: 1 - ep.depth)
    assert np.allclose(only_country[1:6], 0.2)


# -- the Almaty region: IODA found by name, RIPE Atlas by probe location -------------------

def test_almaty_region_resolved_from_the_simulated_lookup(kz):
    codes, notes = ioda.resolve_regions(kz["case"], cache=kz["cache"])
    assert list(codes) == ["Almaty"]            # the city, pinned by ioda_name; the other candidate named
    assert notes == [f"region 'Almaty': IODA region 'Almaty City' (code {codes['Almaty']}) chosen by the "
                     "case's ioda_name; other candidates: 'Almaty' (code "
                     f"{render_ioda.region_code('KZ', 'Almaty')})"]
    assert kz["cache"].get("ioda", f"/signals/raw/region/{codes['Almaty']}", {
        **[r for r in ioda.plan(kz["case"], codes) if "/region/" in r.path][0].params}) is not None


def test_almaty_window_of_7_jan_in_region_rows(kz):
    """IODA ping-slash24 and the Almaty probes are up 03:00-08:00Z on 7 Jan, cut around it."""
    df = kz["tidy"]["ioda"]
    reg = df[df["entity_type"] == "region"]
    assert set(reg["entity_code"]) == {"Almaty"} and reg["simulated"].all()
    ps = series(reg, "Almaty", "ping-slash24")
    before = window(ps, "2022-01-07T00:00", "2022-01-07T03:00").mean()
    inside = window(ps, "2022-01-07T03:00", "2022-01-07T08:00").mean()
    after = window(ps, "2022-01-07T08:00", "2022-01-07T11:00").mean()
    assert inside > 5 * before and inside > 5 * after
    at = kz["tidy"]["atlas"]
    ar = at[at["entity_type"] == "region"]
    assert set(ar["entity_code"]) == {"Almaty"}
    assert set(ar["signal"]) == {"probes_reporting", "probes_reachable", "probes_connected"}
    up = series(ar, "Almaty", "probes_reachable", "end-user")
    assert window(up, "2022-01-07T04:00", "2022-01-07T08:00").min() > \
        2 * window(up, "2022-01-07T09:00", "2022-01-07T12:00").max()
    # the region's probes are those placed there, fewer than the country's
    meta = atlas.probe_metadata(kz["case"], kz["cache"])
    inside_ids = set(atlas.probes_in_region(meta, kz["case"].regions[0]))
    world = World(load_scenario("kz-2022-01"), kz["case"], 0)
    assert inside_ids == {p.id for p in world.probes if p.region == "Almaty"} and 0 < len(inside_ids) < len(meta)


def test_sites_answer_per_domain_with_the_whitelist(kz):
    """Per-domain web_connectivity: low volume (< 1 test an hour per domain), the listed
    sites accessible on the whitelist day while the control sites fail (control
    unreachable: OONI's failure), everything accessible before the cut."""
    world = World(load_scenario("kz-2022-01"), kz["case"], 0)
    params = {"probe_cc": "KZ", "test_name": "web_connectivity",
              "domain": "inform.kz,nur.kz", "since": "2022-01-08",
              "until": "2022-01-09", "axis_x": "measurement_start_day",
              "axis_y": "domain", "time_grain": "hour"}
    status, body = render_ooni.render(world, "/api/v1/aggregation", params)
    assert status == 200
    rows = json.loads(body)["result"]
    assert {r["domain"] for r in rows} <= {"inform.kz", "nur.kz"}
    by = {d: np.array([[r["ok_count"], r["failure_count"], r["measurement_count"]]
                       for r in rows if r["domain"] == d and r["measurement_start_day"] >= "2022-01-08T03"])
          for d in ("inform.kz", "nur.kz")}
    assert by["inform.kz"][:, 0].sum() > by["inform.kz"][:, 1].sum()   # listed: mostly ok
    assert by["nur.kz"][:, 0].sum() < by["nur.kz"][:, 2].sum() / 2      # control: mostly failing
    # volume: well under one test an hour per domain, before the cut too
    counts = world.site_counts["inform.kz"]
    before = (world.ooni_hours < pd.Timestamp("2022-01-04T00:00Z").timestamp())
    assert 0 < counts[:, before].sum() / before.sum() < 1
    assert counts[0, before].sum() > 0.85 * counts[:, before].sum()


# What each source's walk may skip: a data chunk no later request depends on (not the
# IODA region lookup, an alerts/events or Outage Center page, or an Atlas listing page).
_DATA_REQUEST = {"ioda": lambda r: r.path.startswith("/signals/"),
                 "ooni": lambda r: True,
                 "atlas": lambda r: atlas.request_kind(r) != "probes",
                 "radar": lambda r: r.path != "/radar/annotations/outages"}


@pytest.mark.parametrize("source", sorted(_DATA_REQUEST))
def test_normalize_walks_requests_past_a_chunk_the_cache_lacks(kz, tmp_path, source):
    """normalize reads what its source's ``requests`` walk finds in the cache (the same
    sequence collect and the simulator answer): a data chunk the cache lacks is
    answered missing and the walk goes on, so the rest is still in the table."""
    import shutil

    from shutdown.sources import from_cache, registry
    from shutdown.store import request_key
    case, mod = kz["case"], registry.module(source)
    full = [(r, a.missing) for r, a in from_cache(mod.requests(case), kz["cache"], source)]
    assert full and not any(m for _, m in full)
    data = [r for r, _ in full if _DATA_REQUEST[source](r)]
    victim = data[len(data) // 2]
    root = shutil.copytree(kz["cache"].root, tmp_path / "cache")
    cache = RawCache(root)
    for p in cache._paths(source, request_key(source, victim.path, victim.params)):
        p.unlink()
    got = [(r, a.missing) for r, a in from_cache(mod.requests(case), cache, source)]
    assert [r for r, _ in got] == [r for r, _ in full]          # the walk went on past it
    assert [r for r, m in got if m] == [victim]
    whole, table = mod.normalize(case, kz["cache"]), mod.normalize(case, cache)
    assert 0 < len(table) < len(whole)
    # the requests after the missing one still gave their rows
    last = next(r for r, _ in reversed(full) if _DATA_REQUEST[source](r) and r != victim)
    assert (table["entity_code"].astype(str) == str(last.entity_code)).any()
