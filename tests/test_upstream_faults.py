"""Issue 11: a hostile or broken upstream, played by the local server's fault modes
(tests/localserver.py FAULTS): credentials never printed or stored, no credential header
to another host, a total deadline, a size cap, a bounded Retry-After, a page cap, and
garbage values counted instead of costing the source."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from localserver import LocalServer, small_case
from shutdown.case import load_case
from shutdown.cli import app
from shutdown.collect import EXIT_ALL, collect_case
from shutdown.http import MAX_PAGES, Fetcher, SourceError
from shutdown.normalize import load_table
from shutdown.sources import ioda
from shutdown.store import RawCache

runner = CliRunner()
KEY = "SeCrEt-AtLaS-KeY-0123"


def fetcher(tmp_path, url, **kw):
    kw.setdefault("sleep", lambda s: None)
    return Fetcher(RawCache(tmp_path / "c"), "ioda", url, **kw)


def files_text(root) -> str:
    return "".join(p.read_text(errors="replace") for p in root.rglob("*.json"))


# --- 5. a 403 echoing the key: redacted everywhere -----------------------------------------
def test_key_echoed_by_an_error_page_is_never_printed(tmp_path, monkeypatch):
    monkeypatch.setenv("SHUTDOWN_ATLAS_KEY", KEY)
    with LocalServer(fault="echo_403") as srv:
        res = runner.invoke(app, ["collect", "sim-short-national-cut", "--source", "atlas",
                                  "--url", "atlas=" + srv.url, "--cache", str(tmp_path / "c"), "-q"])
        assert srv.headers_seen[0]["Authorization"] == f"Key {KEY}"   # the key was sent ...
    assert res.exit_code == 4, res.output
    assert "HTTP 403" in res.output and "[redacted]" in res.output
    assert KEY not in res.output                                        # ... and never shown
    assert KEY not in files_text(tmp_path / "c")


def test_secret_query_parameter_echoed_is_redacted(tmp_path):
    with LocalServer(fault="echo_403") as srv:
        f = fetcher(tmp_path, srv.url)
        with pytest.raises(SourceError) as ei:
            f.get_json("/x", {"token": "tok-" + KEY, "a": 1})
    assert "tok-" + KEY not in str(ei.value) and "[redacted]" in str(ei.value)


# --- 6. user info in a base URL: never stored, never shown ---------------------------------
def test_user_info_is_stripped_from_stored_and_shown_urls(tmp_path):
    cache = tmp_path / "c"
    with LocalServer() as srv:
        base = srv.url.replace("http://", "http://user:PaSsWoRd9@") + "/v2"
        res = runner.invoke(app, ["collect", str(small_case(tmp_path, ("ioda",)).path),
                                  "--source", "ioda", "--url", "ioda=" + base, "--cache", str(cache),
                                  "-q"])
        assert srv.headers_seen[0]["Authorization"].startswith("Basic ")  # used, as asked
    assert res.exit_code == 0, res.output
    metas = list(cache.rglob("*.meta.json"))
    assert metas and all("127.0.0.1" in json.loads(m.read_text())["url"] for m in metas)
    assert "PaSsWoRd9" not in files_text(cache) and "user:" not in files_text(cache)
    with LocalServer(fault="echo_403") as srv:      # and in error lines (URL and echoed header)
        base = srv.url.replace("http://", "http://user:PaSsWoRd9@") + "/v2"
        res = runner.invoke(app, ["collect", str(small_case(tmp_path, ("ioda",)).path),
                                  "--source", "ioda", "--url", "ioda=" + base, "--cache",
                                  str(tmp_path / "c2"), "-q"])
    assert "HTTP 403" in res.output and "127.0.0.1" in res.output
    assert "PaSsWoRd9" not in res.output and "dXNlcjpQYVNzV29SZDk" not in res.output


@pytest.mark.parametrize("url", ["ftp://user:PaSsWoRd9@host/v2", "http://user:PaSsWoRd9@host:xx/v2"])
def test_bad_base_url_with_user_info_is_refused_without_the_password(tmp_path, url):
    res = runner.invoke(app, ["collect", "sim-short-national-cut", "--source", "ioda",
                              "--url", "ioda=" + url, "--cache", str(tmp_path / "c")])
    assert res.exit_code == 2 and "base URL for ioda" in res.output
    assert "PaSsWoRd9" not in res.output and "Traceback" not in res.output


# --- 7. a redirect to another host carries no credential header ----------------------------
def test_cross_host_redirect_drops_credential_headers(tmp_path):
    creds = {"Authorization": f"Key {KEY}", "X-Api-Key": KEY}
    with LocalServer() as other, LocalServer(fault="redirect", fault_arg=other.url) as first:
        f = fetcher(tmp_path, first.url + "/v2", headers=creds)
        obj = f.get_json("/entities/query", {"entityType": "region", "relatedTo": "country/KZ"})
        assert obj["data"]                                   # the other host answered
        assert first.headers_seen[0]["Authorization"] == f"Key {KEY}"
        assert first.headers_seen[0]["X-Api-Key"] == KEY
        seen = other.headers_seen[0]
        assert "Authorization" not in seen and "X-Api-Key" not in seen
        assert seen["User-Agent"].startswith("shutdown/")


def test_same_host_redirects_keep_headers_and_are_bounded(tmp_path):
    with LocalServer(fault="redirect") as srv:
        srv.httpd.fault_arg = srv.url                        # redirects to itself, forever
        f = fetcher(tmp_path, srv.url, headers={"X-Api-Key": KEY}, max_attempts=1)
        with pytest.raises(SourceError, match="more than 5 redirects"):
            f.get_json("/x")
        assert len(srv.requests) == 6
        assert all(h.get("X-Api-Key") == KEY for h in srv.headers_seen)


# --- not yet tried: deadline, trickle, slow, size cap, Retry-After ------------------------------
def test_trickled_body_ends_at_the_total_deadline(tmp_path):
    with LocalServer(fault="trickle", fault_arg=0.05) as srv:
        f = fetcher(tmp_path, srv.url, deadline=0.5, timeout=10, max_attempts=2)
        with pytest.raises(SourceError) as ei:
            f.get_json("/x")
    assert "gave up after 2 attempts: no complete answer within the 0.5s deadline" in str(ei.value)
    assert list(f.cache.entries()) == []


def test_trickled_headers_end_at_the_total_deadline(tmp_path):
    with LocalServer(fault="trickle_headers", fault_arg=0.05) as srv:
        f = fetcher(tmp_path, srv.url, deadline=0.5, timeout=10, max_attempts=2)
        with pytest.raises(SourceError) as ei:
            f.get_json("/x")
        sent = list(srv.httpd.fault_sent)    # now: closing the server lets a handler finish
    assert "gave up after 2 attempts: no complete answer within the 0.5s deadline" in str(ei.value)
    # the connection was cut at the deadline, not after the server finished its headers
    assert len(sent) == 2 and all(n < 390 for n in sent), sent


def test_response_slower_than_the_timeout(tmp_path):
    with LocalServer(fault="slow", fault_arg=1.5) as srv:
        f = fetcher(tmp_path, srv.url + "/v2", timeout=0.2, max_attempts=2)
        with pytest.raises(SourceError, match="gave up after 2 attempts: timed out"):
            f.get_json("/entities/query", {"entityType": "region"})


@pytest.mark.parametrize("fault,arg,cap", [("huge", 3_000_000, 1_000_000),   # counted bytes
                                           ("trickle", 0.05, 1000)])          # Content-Length
def test_body_larger_than_the_cap_is_refused(tmp_path, fault, arg, cap):
    with LocalServer(fault=fault, fault_arg=arg) as srv:
        f = fetcher(tmp_path, srv.url, max_bytes=cap, deadline=60)
        with pytest.raises(SourceError, match=f"larger than the {cap}-byte cap"):
            f.get_json("/x")
        assert len(srv.requests) == 1                        # not retried
    assert list(f.cache.entries()) == []


@pytest.mark.parametrize("retry_after,asked", [("86400", "86400s"), ("inf", "infs"),
                                               ("Fri, 01 Jan 2100 00:00:00 GMT", "s before")])
def test_huge_retry_after_is_not_waited_for(tmp_path, retry_after, asked):
    waits = []
    with LocalServer(fault="retry_after", fault_arg=retry_after) as srv:
        f = fetcher(tmp_path, srv.url, sleep=waits.append)
        with pytest.raises(SourceError) as ei:
            f.get_json("/x")
        assert len(srv.requests) == 1
    msg = str(ei.value)
    assert "asks to wait" in msg and asked in msg and "rerun later" in msg and "\n" not in msg
    assert waits == []


def test_moderate_retry_after_is_honoured(tmp_path):
    waits = []
    with LocalServer(fault="retry_after", fault_arg="120") as srv:
        f = fetcher(tmp_path, srv.url, sleep=waits.append, max_attempts=2)
        with pytest.raises(SourceError, match="gave up after 2 attempts: HTTP 429"):
            f.get_json("/x")
    assert waits == [120.0]


# --- 13. endless pagination is capped --------------------------------------------------------
def test_endless_atlas_listing_stops_at_the_page_cap(tmp_path):
    case = small_case(tmp_path, ("atlas",))
    with LocalServer(fault="endless_pages") as srv:
        rep = collect_case(case, ["atlas"], cache=tmp_path / "c", base_urls={"atlas": srv.url},
                           min_interval=0, progress=False)
        assert len(srv.requests) == MAX_PAGES
    atlas = rep.sources[0]
    assert atlas.status == "failed" and f"past {MAX_PAGES} pages" in atlas.message


# --- numeric garbage inside valid bodies: skipped and counted -----------------------------------
def test_garbage_values_are_counted_gaps_not_a_lost_source(tmp_path):
    case = small_case(tmp_path, ("ioda", "ooni"))
    tables = {}
    reports = {}
    for fault in (None, "garbage"):
        with LocalServer(fault=fault) as srv:
            cache = tmp_path / f"c-{fault}"
            reports[fault] = collect_case(case, ["ioda", "ooni"], cache=cache,
                                          base_urls={"ioda": srv.url + "/v2", "ooni": srv.url},
                                          min_interval=0, progress=False)
            tables[fault] = load_table(case, cache=cache)
    rep = reports["garbage"]
    assert rep.exit_status == EXIT_ALL                        # no source lost
    clean, dirty = tables[None], tables["garbage"]
    by = {s.source: s for s in rep.sources}
    # IODA: two bad values per series became gaps (NaN), every other value kept
    ci, di = clean[clean.source == "ioda"], dirty[dirty.source == "ioda"]
    assert len(di) == len(ci) and len(di) > 0
    n_ioda = int(di.value.isna().sum() - ci.value.isna().sum())
    assert n_ioda > 0 and f"ioda: {n_ioda} unreadable values or records left out" in by["ioda"].message
    # OONI: three bad rows per answer are left out; the rest of each answer is kept
    co, do = clean[clean.source == "ooni"], dirty[dirty.source == "ooni"]
    assert len(do) == len(co) and (do.value.sum() < co.value.sum())
    assert do.value.isna().sum() > co.value.isna().sum()       # unknown hours are gaps, not 0
    assert "unreadable values or records left out" in by["ooni"].message
    # IODA's own alerts and events: the unreadable field is empty, the rest kept
    outages = ioda.normalize_outages(case, RawCache(tmp_path / "c-garbage"))
    clean_outages = ioda.normalize_outages(case, RawCache(tmp_path / "c-None"))
    assert len(outages) == len(clean_outages) > 0
    alerts, events = outages[outages.kind == "alert"], outages[outages.kind == "event"]
    assert alerts.start_utc.isna().sum() >= 1 and alerts.start_utc.notna().sum() >= 1
    clean_events = clean_outages[clean_outages.kind == "event"]
    assert events.end_utc.isna().sum() > clean_events.end_utc.isna().sum()
    assert events.score.isna().sum() > clean_events.score.isna().sum()
    res = runner.invoke(app, ["collect", str(case.path), "--source", "ioda,ooni", "--cache",
                              str(tmp_path / "c-garbage"), "-q"])
    assert res.exit_code == 0 and "Traceback" not in res.output


def test_atlas_results_with_garbage_fields_are_counted(tmp_path):
    """RIPE Atlas: results whose probe id or time is unreadable are left out and counted;
    the rest of the body, and the source, are kept."""
    from shutdown.normalize import build_table
    from shutdown.sources import atlas
    res = runner.invoke(app, ["simulate", "short-national-cut", "--cache", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    cache = RawCache(tmp_path / "s")
    case = load_case("sim-short-national-cut")
    clean = atlas.normalize(case, cache)
    assert clean.attrs["skipped_values"] == 0 and len(clean)
    meta = next(m for m in cache.entries("atlas")
                if m["path"].endswith(f"/{atlas.REACHABILITY_MSMS[0]}/results"))
    body = json.loads(cache.get("atlas", meta["path"], meta["params"]).body)
    assert len(body) >= 3
    body[0]["prb_id"], body[1]["timestamp"], body[2]["timestamp"] = "x", "soon", None
    cache.put("atlas", meta["path"], meta["params"], json.dumps(body).encode(), url=meta["url"],
              status=200, simulated=True)
    dirty = atlas.normalize(case, cache)
    assert dirty.attrs["skipped_values"] == 3 and len(dirty) == len(clean)
    notes = {}
    table = build_table(case, cache, sources=["atlas"], on_note=notes.__setitem__)
    assert len(table) == len(clean)
    assert notes == {"atlas": "3 unreadable values or records left out as gaps"}
