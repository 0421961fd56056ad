"""``shutdown doctor`` against the local server (both OONI services), a changed upstream, and offline."""
import re

import pytest
from typer.testing import CliRunner

from localserver import LocalServer
from shutdown import doctor
from shutdown.cli import app


def invoke(srv, *extra):
    sources = [] if "--source" in extra else ["--source", "ioda,ooni,atlas"]   # the local server's
    return CliRunner().invoke(app, ["doctor", "--url", "ioda=" + srv.url + "/v2", "--url", "ooni=" + srv.url,
                                    "--url", "atlas=" + srv.url, "--timeout", "10", *sources, *extra])


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
    from shutdown.sources import registry
    urls = [a for n in registry.names() for a in ("--url", f"{n}=http://127.0.0.1:9")]
    r = CliRunner().invoke(app, ["doctor", *urls, "--timeout", "5"], env={"CLOUDFLARE_API_TOKEN": ""})
    assert r.exit_code == 4
    lines = r.output.strip().splitlines()
    # every registered source has its line: asked (unreachable) or, lacking its credential, not
    assert [ln.split()[0] for ln in lines] == list(registry.names())
    for ln in lines:
        needs = registry.get(ln.split()[0]).missing_credential({})
        assert (" not checked " in ln and "CLOUDFLARE_API_TOKEN" in ln) if needs else \
            (" unreachable " in ln and "127.0.0.1:9" in ln), ln


def test_radar_and_tor_are_checked_by_their_own_requests_and_keys_redacted(monkeypatch):
    """Radar (a token, echoed by a 403) and Tor Metrics (a CSV judged by tor.check) are asked
    the first request their plan makes; the token never reaches the output."""
    import responses
    token = "cf-ToKeN-0123456789"
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(r"https://radar\.test/.*"), status=403,
                 json={"success": False, "errors": [{"code": 10000, "message": f"bad token Bearer {token}"}]})
        rsps.add(responses.GET, re.compile(r"https://tor\.test/userstats-relay-country\.csv.*"),
                 body="date,country,users,lower,upper,frac\n2022-01-01,kz,100,,,90\n")
        r = CliRunner().invoke(app, ["doctor", "-s", "radar,tor", "--url", "radar=https://radar.test",
                                     "--url", "tor=https://tor.test", "--timeout", "5"])
        asked = [c.request.url for c in rsps.calls]
    assert token not in r.output, r.output
    radar_line, tor_line = r.output.strip().splitlines()
    assert "HTTP 403" in radar_line and "[redacted]" in radar_line
    assert tor_line.startswith("tor") and tor_line.endswith("schema as expected"), tor_line
    assert any("/userstats-relay-country.csv?" in u and "country=kz" in u for u in asked)
    assert r.exit_code == 3


def test_an_error_status_without_an_explain_is_said_as_such():
    """A source checked by its first planned request (Tor Metrics), answering 503 with a
    body its request has no explain for: the line names the status and the body, never an
    "unreadable answer" from the check itself."""
    import responses
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(r"https://tor\.test/.*"), status=503,
                 json={"error": "backend down for maintenance"})
        r = CliRunner().invoke(app, ["doctor", "-s", "tor", "--url", "tor=https://tor.test",
                                     "--timeout", "5"])
    (line,) = r.output.strip().splitlines()
    assert "HTTP 503" in line and "backend down for maintenance" in line, line
    assert "unreadable answer" not in line, line
    assert r.exit_code != 0


def test_removed_per_source_url_flags_name_the_replacement():
    r = CliRunner().invoke(app, ["doctor", "--ioda-url", "http://127.0.0.1:9"])
    assert r.exit_code == 2 and r.output.strip().count("\n") == 0, r.output
    assert "--ioda-url was removed; use --url ioda=URL" in r.output


def test_field_check_names_what_changed():
    assert doctor.fields({"a": 1, "b": True}, {"a": int, "b": int, "c": str}, "x") == [
        "x.b: expected int, got bool", "x.c missing"]
    assert doctor.fields([], {"a": int}, "x") == ["x: expected an object, got list"]


def test_bad_input_exits_2():
    r = CliRunner().invoke(app, ["doctor", "--country", "Kazakhstan"])
    assert r.exit_code == 2 and "--country" in r.output
