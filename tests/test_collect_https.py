"""The live path end to end over HTTPS with a port, for every source of the case.

A local HTTPS server (self-signed certificate made for the test, trusted via
REQUESTS_CA_BUNDLE) plays the three upstreams: it answers each request with the
body a simulated cache holds for it. The cache `shutdown collect` fills is a
different directory: from the collector's side the server *is* the upstream, so
what it fetched is stored as measured, and its table must equal the one built
from the simulated cache directly.
"""
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from localserver import LocalServer
from shutdown.case import load_case
from shutdown.cli import app
from shutdown.normalize import build_table, load_table
from shutdown.simulate import simulate
from shutdown.store import RawCache

REPO = Path(__file__).resolve().parents[1]


def short_kz_case(d: Path):
    """kz-2022-01 cut to one local day (7 Jan, the Almaty window) and one baseline day."""
    text = (REPO / "data/cases/kz-2022-01.toml").read_text()
    text = re.sub(r"(?m)^start = .*$", "start = 2022-01-07", text)
    text = re.sub(r"(?m)^end = .*$", "end = 2022-01-07", text)
    text = re.sub(r"(?m)^baseline_days = .*$", "baseline_days = 1", text)
    text = re.sub(r"(?m)^timeline = .*$", f'timeline = "{REPO / "data/events/kz-2022-01.toml"}"', text)
    p = d / "kz-short.toml"
    p.write_text(text)
    return load_case(p)


def fewer_probes(d: Path) -> Path:
    """The KZ scenario with a third of its RIPE Atlas probes (the path is under test, not the data)."""
    text = (REPO / "data/scenarios/kz-2022-01.toml").read_text()
    text = re.sub(r"(probes|infrastructure) = (\d+)", lambda m: f"{m[1]} = {-(-int(m[2]) // 3)}", text)
    p = d / "kz-fewer-probes.toml"
    p.write_text(text)
    return p


def test_collect_every_source_over_https_then_rerun_makes_zero_requests(tmp_path, monkeypatch):
    case = short_kz_case(tmp_path)
    upstream = RawCache(simulate(fewer_probes(tmp_path), seed=0, cache_root=tmp_path / "upstream",
                                 case=case)["cache"])
    try:
        srv = LocalServer(tls=True, replay=upstream)
    except RuntimeError as exc:           # neither openssl nor cryptography
        pytest.skip(str(exc))
    cache = tmp_path / "collected"
    args = ["collect", str(case.path), "--cache", str(cache), "--min-interval", "0", "--quiet"]
    with srv:
        assert srv.url.startswith("https://127.0.0.1:")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", srv.ca_bundle)
        monkeypatch.setenv("SHUTDOWN_IODA_URL", srv.url + "/v2")
        monkeypatch.setenv("SHUTDOWN_OONI_URL", srv.url)
        monkeypatch.setenv("SHUTDOWN_ATLAS_URL", srv.url)
        monkeypatch.setenv("SHUTDOWN_RADAR_URL", srv.url)
        monkeypatch.setenv("SHUTDOWN_TOR_URL", srv.url)       # the case uses Tor Metrics too
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "test-token-not-a-secret")
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
        first = len(srv.requests)
        for source in case.sources:                    # radar too: the case opts in
            assert re.search(rf"(?m)^{source}\s+ok\s+requests [1-9]\d*, cache hits 0", r.output), r.output
        assert f"total  requests {first}, cache hits 0" in r.output
        assert {p.split("/")[1] for p in srv.requests} >= {"v2", "api"}
        assert any(p.startswith("/api/v2/measurements/1001/results") for p in srv.requests)

        r2 = CliRunner().invoke(app, args)
        assert r2.exit_code == 0, r2.output
        assert len(srv.requests) == first                        # nothing asked the second time
        assert f"total  requests 0, cache hits {first}" in r2.output

    collected = RawCache(cache)
    assert not collected.simulated                               # fetched from "upstream"
    metas = list(collected.entries())
    assert len(metas) == first
    assert all(m["url"].startswith(srv.url) and m["status"] == 200 for m in metas)
    table = load_table(case, cache=cache)
    assert set(table["source"]) == set(case.sources) and not table["simulated"].any()
    # exactly what the upstream served, region rows included
    direct = build_table(case, upstream).drop(columns="simulated")
    pd.testing.assert_frame_equal(table.drop(columns="simulated"), direct)
    regions = table[table["entity_type"] == "region"]
    assert set(regions["entity_code"]) == {"Almaty"} and set(regions["source"]) == {"ioda", "atlas"}
