"""The orchestrator and the ``shutdown collect`` command, against replayed and local-server responses."""
import dataclasses
import re
import types

import pandas as pd
import pytest
import responses
from typer.testing import CliRunner

import shutdown.collect as collect_mod
from localserver import LocalServer, responses_callbacks, small_case
from shutdown.case import load_case
from shutdown.cli import app
from shutdown.collect import EXIT_ALL, EXIT_NOTHING, EXIT_PARTIAL, collect_case
from shutdown import documenters
from shutdown.normalize import load_table
from shutdown.schema import IODA_OUTAGE_COLUMNS, TIDY_COLUMNS
from shutdown.sources import ioda
from shutdown.store import RawCache

IODA, OONI = "https://ioda.test/v2", "https://ooni.test"
URLS = {"ioda": IODA, "ooni": OONI}


def run(case, tmp_path, **kw):
    kw.setdefault("min_interval", 0)
    kw.setdefault("progress", False)
    kw.setdefault("fetcher_options", {"sleep": lambda s: None})
    return collect_case(case, kw.pop("sources", ["ioda", "ooni"]), cache=tmp_path / "cache",
                        base_urls=kw.pop("base_urls", URLS), **kw)


@responses.activate
def test_collect_then_rerun_reads_cache_only(tmp_path):
    case = small_case(tmp_path)
    responses_callbacks(responses, IODA, OONI)
    rep = run(case, tmp_path)
    assert rep.exit_status == EXIT_ALL
    n = len(responses.calls)
    assert n == rep.requests == 18 + 6 + 1           # OONI: 6 by network + circumvention
    table = load_table(case, cache=tmp_path / "cache")
    assert list(table.columns) == TIDY_COLUMNS
    assert {s.source: s.rows for s in rep.sources} == table.groupby("source").size().to_dict()
    rep2 = run(case, tmp_path)
    assert len(responses.calls) == n and rep2.requests == 0 and rep2.cache_hits == n
    assert rep2.rows == rep.rows
    # --refresh refetches everything
    rep3 = run(case, tmp_path, refresh=True)
    assert rep3.requests == n and len(responses.calls) == 2 * n


@responses.activate
def test_the_pipeline_takes_the_table_collect_built(tmp_path, monkeypatch):
    """``collect_case`` writes the tidy table and hands it over: the pipeline's record holds
    that table (equal to the one written), without reading the file back."""
    import shutdown.normalize
    import shutdown.store
    from shutdown import pipeline
    from shutdown.schema import keyed
    case = small_case(tmp_path)
    responses_callbacks(responses, IODA, OONI)
    rep = run(case, tmp_path)
    written = load_table(case, cache=tmp_path / "cache")
    pd.testing.assert_frame_equal(rep.table, written)
    for mod, name in ((shutdown.normalize, "load_table"), (shutdown.store, "read_table")):
        monkeypatch.setattr(mod, name, lambda *a, **k: pytest.fail("read back"))
    rec = pipeline.collected(case, RawCache(tmp_path / "cache"), rep, events=[])   # (no timeline)
    pd.testing.assert_frame_equal(rec.tidy, keyed(written))
    assert rec.complete and rec.simulated is False
    assert [s["source"] for s in rec.source_status] == ["ioda", "ooni"]
    assert rec.source_status[0]["requests"] == rep.sources[0].requests


@responses.activate
def test_failed_source_does_not_stop_the_others(tmp_path):
    case = small_case(tmp_path)
    responses_callbacks(responses, IODA, OONI)
    responses.replace("GET", OONI + "/api/v1/aggregation", json={"error": "Invalid ASN value", "v": 0})   # legacy
    rep = run(case, tmp_path)
    by = {s.source: s for s in rep.sources}
    assert by["ioda"].status == "ok" and by["ioda"].rows > 0
    assert by["ooni"].status == "failed"
    assert by["ooni"].message.startswith("ooni: ") and "/api/v1/aggregation" in by["ooni"].message
    assert "Invalid ASN value" in by["ooni"].message
    assert rep.exit_status == EXIT_PARTIAL


@responses.activate
def test_resume_after_interruption(tmp_path):
    """A run that dies half way keeps what it fetched; the rerun fetches only the rest."""
    case = small_case(tmp_path)
    responses_callbacks(responses, IODA, OONI)
    calls = {"n": 0}
    real = collect_mod.Fetcher.get_json

    def flaky(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return real(self, *a, **k)

    collect_mod.Fetcher.get_json = flaky
    try:
        with pytest.raises(KeyboardInterrupt):
            run(case, tmp_path)
    finally:
        collect_mod.Fetcher.get_json = real
    # sources run side by side, so which requests made it before the interrupt varies;
    # what must hold: every one of them is reused, none is asked again
    kept = sum(1 for _ in RawCache(tmp_path / "cache").entries())
    assert 6 <= kept < 25
    rep = run(case, tmp_path)
    assert rep.exit_status == EXIT_ALL
    assert rep.cache_hits == kept and rep.requests == 25 - kept


def test_unreachable_source_one_line(tmp_path):
    case = small_case(tmp_path)
    rep = run(case, tmp_path, sources=["ooni"], base_urls={"ooni": "http://127.0.0.1:9"},
              fetcher_options={"sleep": lambda s: None, "max_attempts": 2})
    (s,) = rep.sources
    assert s.status == "unreachable" and "\n" not in s.message
    assert "127.0.0.1:9" in s.message and "unreachable" in s.message
    assert rep.exit_status == EXIT_NOTHING


def test_missing_collector_is_unavailable_not_a_crash(tmp_path, monkeypatch):
    case = small_case(tmp_path, sources=("ioda", "ooni", "atlas"))
    real = collect_mod.source_module
    monkeypatch.setattr(collect_mod, "source_module",
                        lambda n: None if n == "atlas" else real(n))
    rep = run(case, tmp_path, sources=["atlas"])
    assert rep.sources[0].status == "unavailable" and rep.exit_status == EXIT_NOTHING
    # a module lacking plan/collect/normalize counts as missing
    from shutdown.sources import registry
    monkeypatch.setattr(registry.importlib, "import_module", lambda n: types.ModuleType(n))
    assert real("atlas") is None


@responses.activate
def test_no_credential_reaches_cache_or_provenance(tmp_path):
    case = small_case(tmp_path)
    responses_callbacks(responses, IODA, OONI)
    run(case, tmp_path, sources=["ooni"],
        fetcher_options={"sleep": lambda s: None, "headers": {"Authorization": "Bearer s3cret"}})
    f = collect_mod.Fetcher(RawCache(tmp_path / "cache"), "ooni", OONI, sleep=lambda s: None)
    f.get_json("/api/v1/aggregation", {"probe_cc": "KZ", "since": "2022-01-05", "until": "2022-01-06",
                                       "axis_x": "measurement_start_day", "api_key": "s3cret"})
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert len(files) > 4
    for p in files:
        data = p.read_bytes()
        if p.suffix == ".gz":
            import gzip
            data = gzip.decompress(data)
        assert b"s3cret" not in data, p
    assert responses.calls[0].request.headers["Authorization"] == "Bearer s3cret"   # it was sent


def test_bad_input_exits_2(tmp_path):
    r = CliRunner().invoke(app, ["collect", "kz-2022-01", "--source", "ioda,foo", "--cache", str(tmp_path)])
    assert r.exit_code == 2 and "unknown source 'foo'" in r.output
    r = CliRunner().invoke(app, ["collect", "kz-2022-01", "--url", "ioda=" + "ftp://x", "--cache", str(tmp_path)])
    assert r.exit_code == 2 and "base URL for ioda" in r.output
    r = CliRunner().invoke(app, ["collect", "kz-2022-01", "--baseline-days", "3", "--cache", str(tmp_path)])
    assert r.exit_code == 2 and "baseline must be 7..366 days" in r.output


@pytest.mark.parametrize("flavour", ["fastapi", "legacy"])
def test_cli_against_local_server_fills_cache_then_makes_zero_requests(tmp_path, monkeypatch, flavour):
    """`shutdown collect kz-2022-01` (IODA, OONI, RIPE Atlas: test_radar covers Radar) with
    base URLs on a local HTTP server (host:port) playing each OONI service in turn."""
    cache = tmp_path / "kzcache"
    with LocalServer(ooni=flavour) as srv:
        monkeypatch.setenv("SHUTDOWN_IODA_URL", srv.url + "/v2")
        monkeypatch.setenv("SHUTDOWN_ATLAS_URL", srv.url)
        args = ["collect", "kz-2022-01", "--source", "ioda,ooni,atlas", "--cache", str(cache),
                "--url", "ooni=" + srv.url, "--min-interval", "0", "--quiet", "--baseline-days", "7"]
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
        for source in ("ioda", "ooni", "atlas"):
            assert re.search(rf"(?m)^{source}\s+ok\s+requests [1-9]", r.output), r.output
        first = len(srv.requests)
        atlas_asked = sum(p.startswith("/api/v2/") for p in srv.requests)
        # 17 days (7 baseline + 10 window) = 3 chunks; 7 IODA entities (country, 5 ASNs and
        # Almaty City, found by name in the region lookup); OONI: 18 whole UTC days = 3 chunks,
        # 6 requests each (all tests + 5 tests, every network at once) and 2 for the
        # circumvention tests and the per-domain sites; RIPE Atlas: one listing page, then per
        # UTC day (18) msm 1001, 5001 and 7000 for the one batch of probes
        assert atlas_asked == 1 + 18 * 3
        assert first == 1 + 7 * 4 * 3 + 7 * 2 + 3 * (6 + 2) + atlas_asked
        assert "other candidates: 'Almaty' (code 990084)" in r.output
        assert f"requests {first}," in r.output and "cache hits 0" in r.output
        table = load_table("kz-2022-01", cache=cache)
        r2 = CliRunner().invoke(app, args)
        assert r2.exit_code == 0, r2.output
        assert len(srv.requests) == first                      # zero requests the second time
        assert f"requests 0, cache hits {first}" in r2.output
    assert (cache / "tables" / "kz-2022-01.parquet").is_file()
    # every raw response kept with its provenance
    metas = list(RawCache(cache).entries())
    assert len(metas) == first
    m = metas[0]
    assert {"url", "params", "fetched_utc", "status", "sha256", "tool_version"} <= set(m)
    assert m["url"].startswith(srv.url) and m["status"] == 200
    # the normalized values are those the server sent
    kz = table[(table["source"] == "ioda") & (table["entity_code"] == "KZ") & (table["signal"] == "bgp")]
    start, end = load_case("kz-2022-01").window_utc
    start -= pd.Timedelta(days=7)
    assert kz["ts_utc"].min() == start and kz["ts_utc"].max() == end - pd.Timedelta(seconds=300)
    assert set(kz["value"].unique()) == {1000.0 + i for i in range(7)}
    vol = table[(table["source"] == "ooni") & (table["subtype"] == "all") & (table["entity_code"] == "KZ")]
    assert len(vol) == 17 * 24 and set(vol["value"].unique()) == {0.0, 30.0}     # 3 networks x 10
    kcell = table[(table["source"] == "ooni") & (table["subtype"] == "all") & (table["entity_code"] == "29355")]
    assert set(kcell["value"].unique()) == {0.0, 10.0}
    case = dataclasses.replace(load_case("kz-2022-01"), baseline_days=7)     # as collected
    out = ioda.normalize_outages(case, RawCache(cache))
    assert list(out.columns) == IODA_OUTAGE_COLUMNS and len(out) == 7 * (3 + 2)
    almaty = table[(table["source"] == "ioda") & (table["entity_type"] == "region")]
    assert set(almaty["entity_code"]) == {"Almaty"} and len(almaty)
    assert set(out.loc[out["entity_type"] == "region", "entity_code"]) == {"Almaty"}
    assert set(table["source"]) == {"ioda", "ooni", "atlas"}
    # IODA's country events are another documenter's entries, read as Radar's Outage Center is
    found = dict(documenters.documented(case, RawCache(cache)))
    country = out[(out["kind"] == "event") & (out["entity_type"] == "country") & (out["entity_code"] == "KZ")]
    entries = found["IODA outage events"]
    assert len(entries) == len(country) > 0 and entries["id"].str.startswith("ioda-").all()
    assert set(entries["start_utc"]) == set(country["start_utc"])


@pytest.mark.parametrize("flavour", ["fastapi", "legacy"])
def test_ooni_both_services_collect_then_zero_requests(tmp_path, monkeypatch, flavour):
    cache = tmp_path / "c"
    case = small_case(tmp_path, sources=("ooni",))
    with LocalServer(ooni=flavour) as srv:
        args = ["collect", str(case.path), "--cache", str(cache), "--url", "ooni=" + srv.url,
                "--min-interval", "0", "--quiet"]
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
        # 6 by network and 1 for the circumvention tests (the small case names no sites)
        assert len(srv.requests) == 7 and all("since=2022-01-03&until=2022-01-06" in p for p in srv.requests)
        r2 = CliRunner().invoke(app, args)
        assert r2.exit_code == 0 and len(srv.requests) == 7


def test_ooni_error_ends_source_with_its_own_message(tmp_path):
    """The FastAPI 422 body (a list of pydantic errors) becomes one readable line."""
    case = small_case(tmp_path, sources=("ooni",))
    bad = lambda path, body: ({"detail": [{"type": "date_from_datetime_inexact", "loc": ["query", "since"],
                                           "msg": "Datetimes provided to dates should have zero time",
                                           "input": "2022-01-03T18:00:00"}]}
                              if path == "/api/v1/aggregation" else body)
    with LocalServer(mutate=bad) as srv:
        rep = run(case, tmp_path, sources=["ooni"], base_urls={"ooni": srv.url})
    (s,) = rep.sources
    assert s.status == "failed" and "\n" not in s.message
    assert "since: Datetimes provided to dates should have zero time (got '2022-01-03T18:00:00')" in s.message


def test_ioda_silent_failure_is_named_and_asked_again_next_run(tmp_path):
    case = small_case(tmp_path, sources=("ioda",))
    hit = lambda path, q: path == "/signals/raw/country/KZ" and q.get("datasource") == "ping-slash24"
    with LocalServer(ioda_silent_failure=hit) as srv:
        urls = {"ioda": srv.url + "/v2"}
        rep = run(case, tmp_path, sources=["ioda"], base_urls=urls)
        (s,) = rep.sources
        assert s.status == "incomplete" and rep.exit_status == EXIT_PARTIAL
        assert "ping-slash24 country/KZ 2022-01-03..2022-01-05: no data, IODA's silent backend failure" in s.message
        assert "incomplete" in rep.summary() and "asked again next run" in rep.summary()
        n = len(srv.requests)
        rep2 = run(case, tmp_path, sources=["ioda"], base_urls=urls)
        assert len(srv.requests) == n + 1 and rep2.requests == 1      # only the failed chunk again
        srv.httpd.ioda_silent_failure = None                         # the backend is back
        rep3 = run(case, tmp_path, sources=["ioda"], base_urls=urls)
        assert rep3.requests == 1 and rep3.exit_status == EXIT_ALL and rep3.sources[0].status == "ok"
        rep4 = run(case, tmp_path, sources=["ioda"], base_urls=urls)
        assert rep4.requests == 0
    table = load_table(case, cache=tmp_path / "cache")
    assert len(table[(table["signal"] == "ping-slash24") & (table["entity_code"] == "KZ")]) == 2 * 144
