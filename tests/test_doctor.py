"""``shutdown doctor`` against the local server (both OONI services), a changed upstream, and offline."""
import re

import pytest
from typer.testing import CliRunner

from localserver import LocalServer
from shutdown import doctor
from shutdown.cli import app


def invoke(srv, *extra):
    return CliRunner().invoke(app, ["doctor", "--ioda-url", srv.url + "/v2", "--ooni-url", srv.url,
                                    "--atlas-url", srv.url, "--timeout", "10", *extra])


@pytest.mark.parametrize("flavour", ["fastapi", "legacy"])
def test_all_good_against_the_local_server(flavour):
    with LocalServer(ooni=flavour) as srv:
        r = invoke(srv)
        asked = list(srv.requests)
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == ["ioda", "ooni", "atlas"]
    assert all(re.search(r"reachable +\d+\.\d\d s .*schema as expected$", ln) for ln in lines), r.output
    ooni_line = lines[1]
    assert ("X-RateLimit-Remaining: 3990" in ooni_line) == (flavour == "fastapi")
    # the smallest requests that exercise what collect needs
    assert sum(p.startswith("/v2/signals/raw/country/KZ?") for p in asked) == 1
    (agg,) = [p for p in asked if p.startswith("/api/v1/aggregation?")]
    assert "axis_y=probe_asn" in agg and re.search(r"since=\d{4}-\d\d-\d\d&until=\d{4}-\d\d-\d\d&", agg)
    assert any(p.startswith("/api/v2/probes/?") for p in asked)
    assert any(p.startswith("/api/v2/measurements/1001/results?") for p in asked)


def test_a_changed_field_is_named_and_the_exit_is_some():
    def change(path, body):
        if path == "/api/v1/aggregation":
            for row in body["result"]:
                row["probe_asn"] = f"AS{row['probe_asn']}"
        if path.startswith("/v2/signals/raw/"):
            for s in body["data"][0]:
                s["step_seconds"] = s.pop("step")
        return body

    with LocalServer(mutate=change) as srv:
        r = invoke(srv)
    assert r.exit_code == 3, r.output
    ioda_line, ooni_line, atlas_line = r.output.strip().splitlines()
    assert "changed: data[][].step missing" in ioda_line
    assert "changed: result[].probe_asn: expected int, got string" in ooni_line
    assert atlas_line.endswith("schema as expected")


def test_ooni_error_and_ioda_silent_failure_are_reported():
    with LocalServer(ioda_silent_failure=lambda path, q: True,
                     mutate=lambda path, body: ({"detail": [{"loc": ["query", "since"], "msg": "bad date"}]}
                                                if path == "/api/v1/aggregation" else body)) as srv:
        r = invoke(srv, "--source", "ioda,ooni")
    assert r.exit_code == 4, r.output
    ioda_line, ooni_line = r.output.strip().splitlines()
    assert "data is [] (IODA's backend failed" in ioda_line
    assert "HTTP 200: since: bad date" in ooni_line


def test_offline_one_line_per_upstream_exit_4():
    r = CliRunner().invoke(app, ["doctor", "--ioda-url", "http://127.0.0.1:9/v2", "--ooni-url",
                                 "http://127.0.0.1:9", "--atlas-url", "http://127.0.0.1:9", "--timeout", "5"])
    assert r.exit_code == 4
    lines = r.output.strip().splitlines()
    assert len(lines) == 3 and all(" unreachable " in ln and "127.0.0.1:9" in ln for ln in lines)


def test_field_check_names_what_changed():
    assert doctor.fields({"a": 1, "b": True}, {"a": int, "b": int, "c": str}, "x") == [
        "x.b: expected int, got bool", "x.c missing"]
    assert doctor.fields([], {"a": int}, "x") == ["x: expected an object, got list"]


def test_bad_input_exits_2():
    r = CliRunner().invoke(app, ["doctor", "--country", "Kazakhstan"])
    assert r.exit_code == 2 and "--country" in r.output
