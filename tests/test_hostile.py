"""Issue 24: what a hostile user and a hostile upstream try, family by family. Each case
passes when the tool holds: a bad value is a counted gap or a refusal naming source and
field, a bad input one line and exit 2 (or a check failure, exit 1), never a traceback,
a hang, a leaked secret or a wrong answer that looks right.

Families (docs/reliability.md): numbers from upstreams, tampered reports, secrets from
doctor, inputs that explode, wrong answers that look right, error text. Stand-in upstreams
are tests/localserver.py on 127.0.0.1."""
from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from typer.testing import CliRunner

from localserver import LocalServer, small_case
from shutdown.cli import app
from shutdown.errors import InputError

runner = CliRunner()
KEY = "SeCrEt-HoStIlE-KeY-0451"
SERIES = {"entityType": "country", "entityCode": "KZ", "datasource": "bgp", "subtype": "",
          "from": 1641319200, "until": 1641319200 + 3000, "step": 300, "nativeStep": 300,
          "values": [1000 + i for i in range(10)]}


def one_line(res, code=2, *needles):
    """Exit ``code``, no traceback, exactly one line on the error path holding every needle."""
    out = res.output
    assert res.exit_code == code, out
    assert "Traceback" not in out
    errors = [l for l in out.splitlines() if l.startswith("error:")]
    assert len(errors) == 1, out
    for n in needles:
        assert n in errors[0], errors[0]
    return errors[0]


# === 1. numbers that are not numbers, from an upstream ===================================
def _envelope(**series):
    return {"type": "signals", "metadata": {}, "requestParameters": {}, "error": None,
            "data": [[dict(SERIES, **series)]]}


IODA_BAD = {
    "step-1e300": {"step": 1e300, "nativeStep": 1e300},
    "step-negative": {"step": -300, "nativeStep": -300},
    "step-string": {"step": "300s", "nativeStep": "300s"},
    "step-inf": {"step": math.inf, "nativeStep": math.inf},
    "step-fraction": {"step": 0.5, "nativeStep": 0.5},
    "from-1e300": {"from": 1e300},
    "from-negative-huge": {"from": -1e300},
    "from-string": {"from": "yesterday"},
    "values-1e300": {"values": [1e300] * 10},
    "values-nan": {"values": [math.nan] * 10},
    "values-strings": {"values": ["1000"] * 10},
    "values-negative": {"values": [-1] * 10},
    "values-object": {"values": 5},
}


@pytest.mark.parametrize("name", IODA_BAD)
def test_ioda_bad_numbers_are_refused_or_gaps(name):
    """Refused before caching (naming the field) or parsed with every kept value a sane count."""
    from shutdown.sources import ioda
    obj = _envelope(**IODA_BAD[name])
    problem = ioda.check_signals(obj)
    if problem is not None:
        assert isinstance(problem, str) and any(f in problem for f in ("step", "from", "values"))
        return
    df = ioda.parse_signals(obj)
    vals = df["value"].dropna().to_numpy()
    assert ((vals >= 0) & (vals < 1e15)).all(), vals
    assert df["ts_utc"].notna().all()


ATLAS_BAD = {
    "timestamp-1e300": {"timestamp": 1e300},
    "timestamp-string": {"timestamp": "noon"},
    "timestamp-negative": {"timestamp": -5},
    "timestamp-inf": {"timestamp": math.inf},
    "prb-1e300": {"prb_id": 1e300},
    "prb-string": {"prb_id": "seven"},
    "prb-negative": {"prb_id": -7},
}


@pytest.mark.parametrize("name", ATLAS_BAD)
def test_atlas_bad_result_numbers_are_left_out(name):
    from shutdown.sources.atlas_reduce import body_result_arrays, result_arrays
    good = {"type": "ping", "prb_id": 7, "timestamp": 1641340800, "rcvd": 3, "dst_addr": "1.1.1.1"}
    bad = dict(good, **ATLAS_BAD[name])
    for arr in (result_arrays([good, bad]),
                body_result_arrays(json.dumps([good, bad]).encode())[0]):
        assert len(arr) in (1, 2)
        ok = (arr.prb_id > 0) & np.isfinite(arr.timestamp)
        assert ok.sum() == 1, (arr.prb_id, arr.timestamp)
        assert (arr.timestamp[ok] == 1641340800).all()


@pytest.mark.parametrize("pid", [1e300, "x", -3, math.inf, None])
def test_atlas_bad_probe_id_in_listing(tmp_path, pid):
    """A listed probe whose id is not an id is refused (naming the field) or left out."""
    from shutdown.sources import atlas
    case = small_case(tmp_path, ("atlas",))
    listing = {"count": 2, "next": None, "results": [{"id": 5, "asn_v4": 9198}, {"id": pid}]}
    problem = atlas._check_listing(listing)
    if problem is not None:
        assert "id" in problem
        return
    reqs = atlas.plan(case, listing["results"])
    ids = {i for r in reqs for i in str(r.params.get("probe_ids", "")).split(",") if i}
    assert ids <= {"5"}


OONI_BAD = {
    "count-1e300": {"measurement_count": 1e300},
    "count-negative": {"measurement_count": -1},
    "count-string": {"measurement_count": "12"},
    "ok-over-count": {"ok_count": 50},
    "anomaly-over-count": {"anomaly_count": 11},
    "day-garbage": {"measurement_start_day": "soon"},
    "day-1e300": {"measurement_start_day": 1e300},
    "asn-huge": {"probe_asn": 1e300},
}


@pytest.mark.parametrize("name", OONI_BAD)
def test_ooni_bad_counts_are_gaps_not_numbers(name):
    import pandas as pd
    from shutdown.sources import ooni_api
    hours = pd.date_range("2022-01-05T00:00Z", periods=3, freq="h")
    row = {"measurement_start_day": "2022-01-05T01:00:00Z", "measurement_count": 10, "ok_count": 6,
           "anomaly_count": 2, "confirmed_count": 1, "failure_count": 1, "probe_asn": 9198}
    payload = {"v": 0, "dimension_count": 2, "result": [dict(row, **OONI_BAD[name])]}
    problem = ooni_api.check_aggregation(payload)
    if problem is not None:
        assert isinstance(problem, str)
        return
    grid = ooni_api.hourly_counts(payload, hours, [9198])
    h1 = grid[0, 1]
    assert np.isnan(h1).all() or (h1 == [10, 6, 2, 1, 1]).all() or not h1.any(), h1
    assert not (np.nan_to_num(grid) > 1e12).any()
    if "day" not in name:
        assert not (h1 == [10, 6, 2, 1, 1]).all() or name == "asn-huge"


@pytest.mark.parametrize("value", ["1e300", "nan", "-5", "inf", "-inf", "9" * 400, "Thu, 01 Jan 1970"])
def test_retry_after_garbage_is_a_number_of_seconds(value):
    from shutdown.http import _retry_after_seconds
    s = _retry_after_seconds(value)
    assert s == math.inf or (math.isfinite(s) and s >= 0)


# === 2. check on a tampered or damaged report ============================================
from test_check import base, rep, repo_root, run  # noqa: E402,F401


def _edit(path, fn):
    obj = json.loads(path.read_text())
    path.write_text(json.dumps(fn(obj)))


def _held_check(r, codes=(1, 2)):
    assert r.exit_code in codes, r.output
    assert "Traceback" not in r.output
    if r.exit_code == 2:
        assert len([l for l in r.output.splitlines() if l.startswith("error:")]) == 1, r.output


MANIFEST_TAMPER = {
    "simulated-string": lambda m: dict(m, simulated="no"),
    "inputs-list": lambda m: dict(m, inputs=[1]),
    "verdicts-int": lambda m: dict(m, verdicts=5),
    "verdicts-garbage": lambda m: dict(m, verdicts=[5, "x"]),
    "charts-int": lambda m: dict(m, charts=5),
    "expectations-garbage": lambda m: dict(m, expectations=[{"ok": False}]),
    "path-outside": lambda m: (m["figures"][0]["files"].update(
        png=dict(m["figures"][0]["files"]["png"], path="../../../../../../etc/hostname")) or m),
    "sidecar-absolute": lambda m: (m["figures"][0]["sidecar"].update(path="/etc/hostname") or m),
    "report-outside": lambda m: dict(m, reports={"report.md": {"path": "../r.md", "sha256": "0"}}),
}


@pytest.mark.parametrize("name", MANIFEST_TAMPER)
def test_tampered_manifest_is_a_failed_or_unusable_check(rep, monkeypatch, name):
    from test_check import _pass_expectations
    _pass_expectations(monkeypatch)
    _edit(rep / "out/manifest.json", MANIFEST_TAMPER[name])
    _held_check(run(rep / "out"))


def _chart_edit(rep, fn):
    page = rep / "out/report.html"
    html = page.read_text()
    from shutdown.interactive import embedded
    charts = embedded(html)
    name, spec = next(iter(charts.items()))
    new = fn(json.loads(json.dumps(spec)))
    old_json, new_json = json.dumps(spec), json.dumps(new) if not isinstance(new, str) else new
    if old_json in html:
        html = html.replace(old_json, new_json, 1)
    else:                          # written with other separators: replace the events' first id
        ev = spec["datasets"]["events"][0]["id"]
        html = html.replace(f'"id": "{ev}"', '"idx": "gone"', 1).replace(f'"id":"{ev}"', '"idx":"gone"', 1)
    page.write_text(html)


def _no_id(spec):
    spec["datasets"]["events"][0].pop("id")
    return spec


def _bad_time(spec):
    spec["datasets"]["events"][0]["drawn_start_utc"] = "not a time"
    return spec


def _events_int(spec):
    spec["datasets"]["events"] = 5
    return spec


@pytest.mark.parametrize("fn", [_no_id, _bad_time, _events_int, lambda s: "{broken"],
                         ids=["event-without-id", "time-not-a-time", "events-int", "broken-json"])
def test_tampered_interactive_chart(rep, monkeypatch, fn):
    from test_check import _pass_expectations
    _pass_expectations(monkeypatch)
    _chart_edit(rep, fn)
    _held_check(run(rep / "out"))


def test_manifest_that_is_a_fifo_does_not_hang(rep):
    mp = rep / "out/manifest.json"
    mp.unlink()
    os.mkfifo(mp)
    try:
        p = subprocess.run([sys.executable, "-c", "from shutdown.cli import app; app()",
                            "check", str(rep / "out")], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("check hangs on a FIFO manifest")
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert len([l for l in p.stderr.splitlines() if l.startswith("error:")]) == 1


def test_figure_removed_with_its_files_fails(rep, monkeypatch):
    from test_check import _pass_expectations
    _pass_expectations(monkeypatch)
    mp = rep / "out/manifest.json"
    m = json.loads(mp.read_text())
    gone = m["figures"].pop(0)
    for f in [gone["sidecar"], *gone["files"].values()]:
        (rep / "out" / f["path"]).unlink()
    mp.write_text(json.dumps(m))
    r = run(rep / "out")
    assert r.exit_code == 1, r.output
    assert gone["name"] in r.output


def _png(width, height) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_png_swapped_with_its_hash_edited_fails(rep, monkeypatch):
    from shutdown import sidecar
    from test_check import _pass_expectations
    _pass_expectations(monkeypatch)
    mp = rep / "out/manifest.json"
    m = json.loads(mp.read_text())
    f = m["figures"][0]["files"]["png"]
    p = rep / "out" / f["path"]
    p.write_bytes(_png(64, 48))
    f["sha256"] = sidecar.sha256_file(p)
    mp.write_text(json.dumps(m))
    r = run(rep / "out")
    assert r.exit_code == 1, r.output
    assert m["figures"][0]["name"] in r.output


# === 3. secrets from doctor ===============================================================
@pytest.mark.parametrize("source", ["atlas", "ioda", "ooni"])
def test_doctor_never_prints_a_key_an_upstream_echoes(monkeypatch, source):
    monkeypatch.setenv("SHUTDOWN_ATLAS_KEY", KEY)
    with LocalServer(fault="echo_403") as srv:
        base = srv.url.replace("http://", f"http://user:{KEY}@")
        res = runner.invoke(app, ["doctor", "-s", source, "--url", f"{source}={base}",
                                  "--format", "json"])
    import base64
    assert KEY not in res.output, res.output
    assert base64.b64encode(f"user:{KEY}".encode()).decode() not in res.output    # the Basic header
    assert "Traceback" not in res.output and res.exit_code in (3, 4)


# === 4. inputs that make a run explode ====================================================
def _case_file(tmp_path, edit):
    from test_reliability import write_case
    return write_case(tmp_path, edit)


def test_ten_year_window_is_refused(tmp_path):
    p = _case_file(tmp_path, ("end = 2022-03-15", "end = 2032-03-15"))
    res = runner.invoke(app, ["timeline", str(p)])
    one_line(res, 2, "end")


def test_ten_year_simulation_is_refused(tmp_path, repo):
    text = (repo / "data/cases/sim-short-national-cut.toml").read_text()
    import re
    text = re.sub(r"(?m)^end = (\d{4})", lambda mm: f"end = {int(mm.group(1)) + 10}", text, count=1)
    text = re.sub(r'(?m)^timeline = "(.*)"', lambda mm: f'timeline = "{repo}/data/cases/{mm.group(1)}"',
                  text, count=1)
    (tmp_path / "c.toml").write_text(text)
    res = runner.invoke(app, ["simulate", "short-national-cut", "--case", str(tmp_path / "c.toml"),
                              "--cache", str(tmp_path / "sim")])
    one_line(res, 2)


@pytest.mark.parametrize("days", ["100000", "-3", "0"])
def test_huge_baseline_is_refused(tmp_path, days):
    res = runner.invoke(app, ["collect", "sim-short-national-cut", "--baseline-days", days,
                              "--cache", str(tmp_path / "c"), "--url", "ioda=http://127.0.0.1:9", "-q"])
    one_line(res, 2, "baseline")


def test_thousands_of_networks_are_refused(tmp_path):
    nets = "".join(f'\n[[networks]]\nasn = {64512 + i}\nname = "n{i}"\n' for i in range(5000))
    p = _case_file(tmp_path, ('[[networks]]\nasn = 9198\nname = "Kazakhtelecom"\n', nets))
    res = runner.invoke(app, ["collect", str(p), "--cache", str(tmp_path / "c"),
                              "--url", "ioda=http://127.0.0.1:9", "-q"])
    one_line(res, 2, "networks")


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_bad_min_interval(tmp_path, value):
    res = runner.invoke(app, ["collect", "sim-short-national-cut", "--min-interval", value,
                              "--cache", str(tmp_path / "c"), "-q"])
    one_line(res, 2, "--min-interval")


@pytest.mark.parametrize("url", ["http://[::1", "http://[zz]:80/", "http://127.0.0.1:99999/",
                                 "http://exa mple.org/"])
def test_unparseable_url_in_environment(tmp_path, monkeypatch, url):
    monkeypatch.setenv("SHUTDOWN_IODA_URL", url)
    res = runner.invoke(app, ["collect", "sim-short-national-cut", "--source", "ioda",
                              "--cache", str(tmp_path / "c"), "-q"])
    one_line(res, 2, "ioda")


# === 5. wrong answers that look right =====================================================
def test_detect_with_the_cache_a_file(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("SHUTDOWN_CACHE", str(tmp_path / "f"))
    res = runner.invoke(app, ["detect", "sim-short-national-cut"])
    one_line(res, 2, str(tmp_path / "f"))


def test_ioda_answer_outside_the_window_is_not_a_clean_run(tmp_path):
    case = small_case(tmp_path, ("ioda",), ioda_region=None)
    with LocalServer(fault="out_of_window") as srv:
        res = runner.invoke(app, ["collect", str(case.path), "--source", "ioda", "--url",
                                  f"ioda={srv.url}/v2", "--cache", str(tmp_path / "c"), "-q"])
    assert res.exit_code in (3, 4), res.output
    assert "outside" in res.output


def test_scenario_episode_outside_its_window_is_an_error(tmp_path, repo):
    text = (repo / "data/scenarios/short-national-cut.toml").read_text().replace("2022-03-03T", "2022-06-03T")
    p = tmp_path / "sc.toml"
    p.write_text(text)
    res = runner.invoke(app, ["simulate", str(p), "--cache", str(tmp_path / "c")])
    one_line(res, 2, "outside")


# === 6. error text ========================================================================
def test_damaged_tidy_table_in_the_cache_is_one_line(tmp_path):
    from shutdown.case import load_case
    from shutdown.normalize import load_table
    from shutdown.store import RawCache
    case = load_case("sim-short-national-cut")
    cache = RawCache(_sim(tmp_path))
    load_table(case, cache)
    t = cache.table_path(case.name)
    t.write_bytes(b"PAR1" + os.urandom(200) + b"PAR1")
    for cmd in (["detect"], ["align"]):
        res = runner.invoke(app, [*cmd, "sim-short-national-cut", "--cache", str(cache.root)])
        one_line(res, 2, str(t))


HEADER = "source,entity_type,entity_code,signal,subtype,unit,ts_utc,value,simulated\n"
BAD_TABLES = {
    "value-text": HEADER + "ioda,country,XS,bgp,,x,2022-03-02T00:00:00Z,abc,true\n",
    "time-text": HEADER + "ioda,country,XS,bgp,,x,notatime,1,true\n",
    "no-columns": "a,b\n1,2\n",
    "binary": "\x00PAR1garbage",
}


@pytest.mark.parametrize("name", BAD_TABLES)
def test_damaged_table_file_is_one_line(tmp_path, name):
    p = tmp_path / "t.csv"
    p.write_text(BAD_TABLES[name])
    res = runner.invoke(app, ["detect", "sim-short-national-cut", "--table", str(p)])
    one_line(res, 2, str(p))


def test_a_multi_line_message_is_printed_on_one_line(monkeypatch):
    import shutdown.case as C
    def boom(*a, **k):
        raise InputError("first line\nsecond line\n  third")
    monkeypatch.setattr(C, "load_case", boom)
    res = runner.invoke(app, ["timeline", "sim-short-national-cut"])
    line = one_line(res, 2, "first line | second line | third")
    assert res.output.strip() == line


def _sim(tmp_path):
    res = runner.invoke(app, ["simulate", "short-national-cut", "--cache", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    return tmp_path / "c"
