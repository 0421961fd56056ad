"""Fetcher: cache, retries with backoff, error messages, provenance; base-URL resolution."""
import gzip
import hashlib
import json

import pytest
import requests
import responses

from shutdown.config import DEFAULT_URLS, base_url
from shutdown.errors import InputError
from shutdown.http import Fetcher, SourceError
from shutdown.store import RawCache

BASE = "https://127.0.0.1:8443/v2"      # a host with a port and a path prefix


def make(tmp_path, **kw):
    waits = []
    kw.setdefault("sleep", waits.append)
    return Fetcher(RawCache(tmp_path / "c"), "ioda", BASE, **kw), waits


@responses.activate
def test_url_with_port_and_prefix(tmp_path):
    responses.get(BASE + "/datasources", json={"data": []})
    f, _ = make(tmp_path)
    assert f.get_json("/datasources") == {"data": []}
    assert responses.calls[0].request.url == "https://127.0.0.1:8443/v2/datasources"


@responses.activate
def test_5xx_retried_with_bounded_exponential_backoff(tmp_path):
    responses.get(BASE + "/x", status=503)
    f, waits = make(tmp_path, max_attempts=4, backoff=1.0, max_backoff=3.0)
    with pytest.raises(SourceError) as ei:
        f.get_json("/x", {"a": 1})
    assert f.stats.requests == 4 and waits == [1.0, 2.0, 3.0]
    assert "gave up after 4 attempts: HTTP 503" in str(ei.value)
    assert list(f.cache.entries()) == []


@responses.activate
def test_timeout_then_success(tmp_path):
    responses.get(BASE + "/x", body=requests.Timeout("read timed out"))
    responses.get(BASE + "/x", json={"data": [[]]})
    f, waits = make(tmp_path)
    assert f.get_json("/x") == {"data": [[]]}
    assert f.stats.retries == 1 and len(waits) == 1


@responses.activate
def test_4xx_is_not_retried_and_names_source_url_problem(tmp_path):
    responses.get(BASE + "/signals/raw/country/XX", status=404, json={"error": "Not Found", "data": None})
    f, waits = make(tmp_path)
    with pytest.raises(SourceError) as ei:
        f.get_json("/signals/raw/country/XX", {"from": 1, "until": 2, "token": "s3cret"})
    e = ei.value
    assert f.stats.requests == 1 and waits == []
    assert e.source == "ioda" and "/signals/raw/country/XX" in e.url and "HTTP 404: Not Found" in e.problem
    assert "s3cret" not in str(e)                    # no credential in a message


@responses.activate
def test_cache_hit_makes_no_request_and_refresh_refetches(tmp_path):
    responses.get(BASE + "/x", json={"data": [1]})
    f, _ = make(tmp_path)
    f.get_json("/x", {"b": 2, "a": 1})
    g = Fetcher(f.cache, "ioda", "https://mirror.example/v2")     # base URL is not part of the key
    assert g.get_json("/x", {"a": 1, "b": 2}) == {"data": [1]}
    assert g.stats.requests == 0 and g.stats.cache_hits == 1
    h = Fetcher(f.cache, "ioda", BASE, refresh=True)
    h.get_json("/x", {"a": 1, "b": 2})
    assert h.stats.requests == 1 and len(responses.calls) == 2


@responses.activate
def test_provenance_of_a_cached_response(tmp_path):
    body = b'{"data": [[]], "error": null}'
    responses.get(BASE + "/x", body=body, content_type="application/json")
    f, _ = make(tmp_path)
    f.get_json("/x", {"from": 5, "api_key": "s3cret"})
    (meta,) = list(f.cache.entries())
    assert meta["params"] == {"from": "5"} and "s3cret" not in json.dumps(meta)
    assert meta["url"].startswith(BASE + "/x?") and meta["status"] == 200
    assert meta["sha256"] == hashlib.sha256(body).hexdigest() and meta["tool_version"]
    assert meta["fetched_utc"].endswith("Z") and meta["simulated"] is False
    (gz,) = list((tmp_path / "c" / "raw" / "ioda").rglob("*.body.gz"))
    assert gzip.decompress(gz.read_bytes()) == body            # stored as it came


@responses.activate
def test_retry_after_http_date_and_min_interval(tmp_path):
    responses.get(BASE + "/x", status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    responses.get(BASE + "/x", json={"data": []})
    f, waits = make(tmp_path, backoff=0.5)
    f.get_json("/x")
    assert waits == [0.5]                  # a date in the past: plain backoff


def test_base_url_resolution(monkeypatch):
    monkeypatch.delenv("SHUTDOWN_OONI_URL", raising=False)
    assert base_url("ooni") == DEFAULT_URLS["ooni"] == "https://api.ooni.org"
    assert base_url("ioda") == "https://api.ioda.inetintel.cc.gatech.edu/v2"
    assert base_url("atlas") == "https://atlas.ripe.net"
    monkeypatch.setenv("SHUTDOWN_OONI_URL", "https://127.0.0.1:8443/")
    assert base_url("ooni") == "https://127.0.0.1:8443"
    assert base_url("ooni", "http://localhost:9000/api-mirror") == "http://localhost:9000/api-mirror"
    with pytest.raises(InputError, match="base URL for ooni"):
        base_url("ooni", "api.ooni.io")
    with pytest.raises(InputError, match="bad port"):
        base_url("ooni", "https://127.0.0.1:http")
    with pytest.raises(InputError, match="unknown source"):
        base_url("gopher")


@responses.activate
def test_refused_connection_gives_up_early_as_unreachable(tmp_path):
    from shutdown.http import SourceUnreachable
    responses.get(BASE + "/x", body=requests.ConnectionError("Connection refused"))
    f, waits = make(tmp_path, max_attempts=6, backoff=1.0)
    with pytest.raises(SourceUnreachable) as ei:
        f.get_json("/x")
    assert f.stats.requests == 3 and waits == [1.0, 2.0]        # connect_attempts=3, not 6
    assert "unreachable" in str(ei.value) and "\n" not in str(ei.value)
