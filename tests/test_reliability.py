"""Issue 11: bad input, damaged caches, mixed kinds of data -- each is one line naming the
file, item and field, exit 2, never a traceback, never lost or half-written data."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from localserver import LocalServer
from shutdown.case import load_case
from shutdown.cli import app
from shutdown.errors import InputError
from shutdown.store import RawCache, atomic_write, write_table
from shutdown.timeline import load_timeline

runner = CliRunner()

CASE = """\
name = "t-case"
title = "test"
country = "KZ"
timezone = "{tz}"
start = 2022-03-10
end = 2022-03-15
baseline_days = 7
timeline = "events.toml"
sources = ["ioda", "ooni"]

[[networks]]
asn = 9198
name = "Kazakhtelecom"

[[regions]]
name = "Almaty"
center = [43.25, 76.9]
radius_km = 50

[[expectations]]
event = "ev-1"
verdict = ["confirmed"]
min_sources = 1
"""

EVENT = """\
[[events]]
id = "ev-1"
kind = "shutdown"
scope = "national"
date = {date}
precision = "{precision}"
{times}
title = "t"
quote_kk = "q"
text_en = "t"
citation = "c"
"""


def write_case(tmp_path, case_edit=None, tz="Asia/Almaty", date="2022-03-12",
               precision="day", times="", extra_event=""):
    case = CASE.format(tz=tz)
    edits = case_edit if isinstance(case_edit, list) else [case_edit] if case_edit else []
    for old, new in edits:
        assert old in case
        case = case.replace(old, new, 1)
    events = f'timezone = "{tz}"\n\n' + EVENT.format(date=date, precision=precision, times=times) \
        + extra_event
    (tmp_path / "events.toml").write_text(events)
    p = tmp_path / "case.toml"
    p.write_text(case)
    return p


def one_line_error(res, *needles, code=2):
    """Exit ``code``, no traceback, one ``error:`` line holding every needle."""
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output
    errors = [l for l in res.output.splitlines() if l.startswith("error:")]
    assert len(errors) == 1, res.output
    for n in needles:
        assert n in errors[0], errors[0]
    return errors[0]


def timeline_cli(path):
    return runner.invoke(app, ["timeline", str(path), "--format", "json"])


# --- 1. simulated data never overwrite measured data ------------------------------------
def measured_cache(root: Path) -> RawCache:
    c = RawCache(root)
    c.put("ioda", "/signals/raw/country/XS", {"from": 1, "until": 2}, b'{"data": "measured"}',
          url="https://x.test/v2/signals/raw/country/XS", status=200)
    return c


def test_marker_less_measured_cache_refuses_simulated_data(tmp_path):
    c = measured_cache(tmp_path / "m")
    c.marker_path.unlink()                      # the marker is gone, the entries remain
    files = lambda: {p: p.read_bytes() for p in (tmp_path / "m").rglob("*")
                     if p.is_file() and p.name != ".lock"}
    before = files()
    res = runner.invoke(app, ["simulate", "short-national-cut", "--cache", str(tmp_path / "m")])
    one_line_error(res, "measured data", str(tmp_path / "m"))
    after = files()
    assert after == before                      # nothing written, nothing replaced
    with pytest.raises(InputError, match="holds measured data"):
        c.put("ioda", "/other", {}, b"{}", url="u", status=200, simulated=True)


def test_no_entry_is_replaced_by_one_of_the_other_kind(tmp_path):
    c = measured_cache(tmp_path / "m")
    body = next((tmp_path / "m").rglob("*.body.gz")).read_bytes()
    c.marker_path.write_text(json.dumps({"simulated": True}))   # a lying marker
    with pytest.raises(InputError, match="never replaced"):
        c.put("ioda", "/signals/raw/country/XS", {"from": 1, "until": 2}, b"{}", url="u",
              status=200, simulated=True)
    assert next((tmp_path / "m").rglob("*.body.gz")).read_bytes() == body


def test_live_collect_refuses_a_simulated_cache(tmp_path):
    sim = RawCache(tmp_path / "s")
    sim.put("ioda", "/x", {}, b"{}", url="u", status=200, simulated=True)
    with LocalServer() as srv:
        res = runner.invoke(app, ["collect", "sim-short-national-cut", "--cache", str(sim.root),
                                  "--source", "ioda", "--url", "ioda=" + srv.url + "/v2", "-q"])
        assert srv.requests == []               # refused before any request
    one_line_error(res, "simulated data", str(sim.root))


def test_detect_refuses_a_table_whose_label_disagrees_with_the_cache(tmp_path):
    c = measured_cache(tmp_path / "m")
    tidy = pd.DataFrame({"source": ["ioda"], "entity_type": ["country"], "entity_code": ["XS"],
                         "signal": ["bgp"], "subtype": [""],
                         "ts_utc": [pd.Timestamp("2022-03-03", tz="UTC")], "value": [1.0],
                         "unit": [""], "simulated": [False]})
    write_table(tidy, c.table_path("sim-short-national-cut"))
    c.marker_path.write_text(json.dumps({"simulated": True}))
    res = runner.invoke(app, ["detect", "sim-short-national-cut", "--cache", str(c.root)])
    one_line_error(res, "labelled measured", "holds simulated")


# --- 3. daylight-saving time: windows in UTC, skipped times refused ------------------------
@pytest.mark.parametrize("tz,date,precision,times,fold,want", [
    # clocks go back at 02:00 EDT: 01:00 happens twice; an hour is an hour
    ("America/New_York", "2022-11-06", "hour", 'start = "01:00"', None,
     ("2022-11-06T05:00:00Z", "2022-11-06T06:00:00Z")),
    ("America/New_York", "2022-11-06", "hour", 'start = "01:00"', 1,
     ("2022-11-06T06:00:00Z", "2022-11-06T07:00:00Z")),
    ("America/New_York", "2022-11-06", "minute", 'start = "00:30"\nend = "03:00"', None,
     ("2022-11-06T04:30:00Z", "2022-11-06T08:00:00Z")),
    ("Europe/London", "2022-10-30", "hour", 'start = "01:00"', None,
     ("2022-10-30T00:00:00Z", "2022-10-30T01:00:00Z")),
    ("Europe/London", "2022-10-30", "hour", 'start = "01:00"', 1,
     ("2022-10-30T01:00:00Z", "2022-10-30T02:00:00Z")),
    # a day with a skipped hour has 23 hours
    ("America/New_York", "2022-03-13", "day", "", None,
     ("2022-03-13T05:00:00Z", "2022-03-14T04:00:00Z")),
    ("Europe/London", "2022-03-27", "minute", 'start = "00:30"\nend = "03:00"', None,
     ("2022-03-27T00:30:00Z", "2022-03-27T02:00:00Z")),
])
def test_dst_windows_are_computed_in_utc(tmp_path, tz, date, precision, times, fold, want):
    if fold is not None:
        times += f"\nfold = {fold}"
    p = write_case(tmp_path, tz=tz, date=date, precision=precision, times=times)
    res = timeline_cli(p)
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output)[0]
    assert (rec["start_utc"], rec["end_utc"]) == want


@pytest.mark.parametrize("tz,date,precision,times,field", [
    ("America/New_York", "2022-03-13", "hour", 'start = "02:00"\nend = "03:00"', "start"),
    ("America/New_York", "2022-03-13", "minute", 'start = "02:30"\nend = "03:00"', "start"),
    ("America/New_York", "2022-03-13", "minute", 'start = "01:30"\nend = "02:15"', "end"),
    ("Europe/London", "2022-03-27", "minute", 'start = "01:30"', "start"),
])
def test_dst_skipped_local_times_are_refused(tmp_path, tz, date, precision, times, field):
    p = write_case(tmp_path, tz=tz, date=date, precision=precision, times=times)
    one_line_error(timeline_cli(p), "does not exist", f"field '{field}'", "event 'ev-1'",
                   str(tmp_path / "events.toml"))


def test_case_window_across_dst_is_in_utc(tmp_path):
    c = load_case(write_case(tmp_path, tz="America/New_York"))
    s, e = c.window_utc                         # 2022-03-10 .. 2022-03-15 local, DST on the 13th
    assert (s, e) == (pd.Timestamp("2022-03-10T05:00Z"), pd.Timestamp("2022-03-16T04:00Z"))


# --- 4. a case name never writes outside the cache --------------------------------------
@pytest.mark.parametrize("name", ["../../escaped", "a/b", "..", "Upper", "/abs", ""])
def test_case_names_are_validated(tmp_path, name):
    p = write_case(tmp_path, case_edit=('name = "t-case"', f'name = "{name}"'))
    res = runner.invoke(app, ["detect", str(p), "--cache", str(tmp_path / "x" / "y" / "c")])
    one_line_error(res, "field 'name'", "not a valid name")
    assert not list(tmp_path.rglob("*.parquet"))
    with pytest.raises(InputError):
        RawCache(tmp_path / "c").table_path(name)


# --- 8, 9, 14. values out of range, wrong types, typos: refused, naming the field --------------
CASE_FAULTS = [
    (("start = 2022-03-10", "start = 0001-01-01"), "start"),
    (("end = 2022-03-15", "end = 9999-12-31"), "end"),
    (("baseline_days = 7", "baseline_days = 1000000000000"), "baseline_days"),
    (("start = 2022-03-10", "start = 1677-09-21"), "start"),
    (('country = "KZ"', 'country = "ҚЗ"'), "country"),
    (("asn = 9198", "asn = -5"), "asn"),
    (("asn = 9198", "asn = 99999999999"), "asn"),
    (("asn = 9198", "asn = true"), "asn"),
    (("radius_km = 50", "radius_km = inf"), "radius_km"),
    (("radius_km = 50", "radius_km = nan"), "radius_km"),
    (('verdict = ["confirmed"]', 'verdict = "maybe"'), "verdict"),
    (('verdict = ["confirmed"]', "verdict = 5"), "verdict"),
    (("min_sources = 1", "min_sources = true"), "min_sources"),
    (("min_sources = 1", "min_sources = 0"), "min_sources"),
    (("[[networks]]\nasn = 9198\nname = \"Kazakhtelecom\"", "networks = 5"), "networks"),
    ([("[[regions]]\nname = \"Almaty\"\ncenter = [43.25, 76.9]\nradius_km = 50", ""),
      ("[[networks]]", "regions = 5\n[[networks]]")], "regions"),
    (("baseline_days = 7", "baseline_day = 7"), "baseline_day"),
    (('timezone = "Asia/Almaty"', 'timezone = "Asia/Almaty"\ntitel = "x"'), "titel"),
    (("asn = 9198", "asn = 9198\nnmae = \"x\""), "nmae"),
    (('event = "ev-1"', 'event = "ev-2"'), "event"),
    (('title = "test"', 'title = "test"\nscenario = "../x"'), "scenario"),
]


@pytest.mark.parametrize("edit,field", CASE_FAULTS, ids=[f"{(e if isinstance(e, tuple) else e[-1])[1][:24]}"
                                                   for e, _ in CASE_FAULTS])
def test_bad_case_values_are_refused(tmp_path, edit, field):
    p = write_case(tmp_path, case_edit=edit)
    one_line_error(timeline_cli(p), f"field '{field}'", str(p))


def test_typo_names_the_closest_known_field(tmp_path):
    p = write_case(tmp_path, case_edit=("baseline_days = 7", "baseline_day = 7"))
    one_line_error(timeline_cli(p), "unknown field", "did you mean 'baseline_days'?")


EVENT_FAULTS = [
    ("date = 0001-01-01", "", "date"),
    ("date = 2022-03-12\nend_date = 9999-12-31", "", "end_date"),
    ("date = 2022-03-12", 'start = 09:00:59', "start"),
    ("date = 2022-03-12", 'start = "09:00:59"', "start"),
    ("date = 2022-03-12\nend_dat = 2022-03-13", "", "end_dat"),
    ("date = 2022-03-12\nscope = \"network:abc\"", "", "scope"),
    ("date = 2022-03-12\nfold = 2", 'start = "09:00"', "fold"),
]


@pytest.mark.parametrize("date,times,field", EVENT_FAULTS, ids=[f[2] + str(i) for i, f in
                                                                  enumerate(EVENT_FAULTS)])
def test_bad_event_values_are_refused(tmp_path, date, times, field):
    precision = "minute" if times else "day"
    p = write_case(tmp_path, date=date.replace("date = ", "", 1), precision=precision, times=times)
    text = (tmp_path / "events.toml").read_text()
    if "network:abc" in date:       # scope given twice above: keep the bad one only
        text = text.replace('scope = "national"\n', "", 1)
    (tmp_path / "events.toml").write_text(text)
    one_line_error(timeline_cli(p), f"field '{field}'", str(tmp_path / "events.toml"))


SCENARIO_FAULTS = [
    ("noise = 0.002", "noise = 1e308", "noise"),
    ("level = 800", "level = inf", "level"),
    ("level = 800", "level = nan", "level"),
    ("probes = 12", "probes = 100000000", "probes"),
    ("start = 2022-03-03T10:00:00Z", "start = 3000-03-03T10:00:00Z", "start"),
    ("depth = 0.95", "depht = 0.95", "depht"),
]


def scenario_text(repo):
    return (repo / "data/scenarios/short-national-cut.toml").read_text()


@pytest.mark.parametrize("old,new,field", SCENARIO_FAULTS, ids=[f[2] for f in SCENARIO_FAULTS])
def test_bad_scenario_values_are_refused(tmp_path, repo, old, new, field):
    text = scenario_text(repo)
    if old not in text:
        pytest.fail(f"fixture drift: {old!r} not in the scenario")
    p = tmp_path / "sc.toml"
    p.write_text(text.replace(old, new, 1))
    res = runner.invoke(app, ["simulate", str(p), "--cache", str(tmp_path / "c")])
    one_line_error(res, f"field '{field}'", str(p))
    assert not (tmp_path / "c" / "raw").exists()


def test_scenario_episode_outside_the_case_is_refused(tmp_path, repo):
    text = scenario_text(repo).replace("2022-03-03T", "2022-06-03T")
    p = tmp_path / "sc.toml"
    p.write_text(text)
    res = runner.invoke(app, ["simulate", str(p), "--cache", str(tmp_path / "c")])
    one_line_error(res, "lies outside case sim-short-national-cut's data", str(p))
    assert not (tmp_path / "c" / "raw").exists()


# --- 10. files that are not files ----------------------------------------------------------
@pytest.mark.parametrize("kind", ["loop", "devzero", "fifo", "directory", "huge"])
def test_timeline_that_is_not_a_regular_file(tmp_path, kind):
    p = write_case(tmp_path)
    t = tmp_path / "events.toml"
    t.unlink()
    if kind == "loop":
        os.symlink(tmp_path / "loop2", t)
        os.symlink(t, tmp_path / "loop2")
    elif kind == "devzero":
        os.symlink("/dev/zero", t)
    elif kind == "fifo":
        os.mkfifo(t)
    elif kind == "directory":
        t.mkdir()
    else:
        t.write_bytes(b"# " + b"x" * (9 * 1024 * 1024))
    needle = {"loop": "field 'timeline'", "devzero": "/dev/zero: not a regular file",
              "fifo": "events.toml: not a regular file", "directory": "events.toml: is a directory",
              "huge": "events.toml: too large"}[kind]
    one_line_error(timeline_cli(p), needle)


def test_case_given_as_a_device_or_fifo(tmp_path):
    os.mkfifo(tmp_path / "c.toml")
    one_line_error(timeline_cli(tmp_path / "c.toml"), "not a regular file")
    one_line_error(timeline_cli("/dev/zero"), "not a regular file")


# --- 11. cache damage: one line naming the file and what to do ----------------------------------
def demo_like_cache(tmp_path) -> RawCache:
    """A small simulated cache of the synthetic case, built by the simulator."""
    root = tmp_path / "sim"
    res = runner.invoke(app, ["simulate", "short-national-cut", "--cache", str(root)])
    assert res.exit_code == 0, res.output
    return RawCache(root)


@pytest.fixture(scope="module")
def sim_cache(tmp_path_factory):
    return demo_like_cache(tmp_path_factory.mktemp("simcache"))


@pytest.fixture
def sim_copy(sim_cache, tmp_path):
    dst = tmp_path / "sim"
    shutil.copytree(sim_cache.root, dst)
    return RawCache(dst)


@pytest.mark.parametrize("content", ["[]", "[1]", '"x"', "{", '{"simulated": "yes"}'])
def test_damaged_cache_marker(sim_copy, content):
    sim_copy.marker_path.write_text(content)
    res = runner.invoke(app, ["detect", "sim-short-national-cut", "--cache", str(sim_copy.root)])
    one_line_error(res, "CACHE.json", "damaged cache marker", "delete it")


@pytest.mark.parametrize("content", ["[]", "[1]", "5", "{"])
def test_damaged_provenance_record(sim_copy, content):
    meta = sorted(sim_copy.root.rglob("*.meta.json"))[0]
    meta.write_text(content)
    with pytest.raises(InputError, match="damaged cache entry") as ei:
        list(sim_copy.entries())
    assert str(meta) in str(ei.value) and "shutdown collect" in str(ei.value)


def test_damaged_provenance_record_is_refetched_as_absent(tmp_path):
    c = measured_cache(tmp_path / "m")
    meta = next(c.root.rglob("*.meta.json"))
    for content in ("[]", "[1]", "{"):
        meta.write_text(content)
        assert c.get("ioda", "/signals/raw/country/XS", {"from": 1, "until": 2}) is None


def test_truncated_table(sim_copy):
    res = runner.invoke(app, ["detect", "sim-short-national-cut", "--cache", str(sim_copy.root)])
    assert res.exit_code == 0, res.output
    t = sim_copy.table_path("sim-short-national-cut")
    t.write_bytes(t.read_bytes()[: t.stat().st_size // 2])
    res = runner.invoke(app, ["detect", "sim-short-national-cut", "--cache", str(sim_copy.root)])
    one_line_error(res, str(t), "damaged table", "delete it")


def test_cache_that_is_a_file(tmp_path):
    (tmp_path / "notadir").write_text("x")
    with LocalServer() as srv:
        res = runner.invoke(app, ["collect", "sim-short-national-cut", "--cache",
                                  str(tmp_path / "notadir"), "--source", "ioda",
                                  "--url", "ioda=" + srv.url + "/v2", "-q"])
    one_line_error(res, "notadir")


@pytest.mark.parametrize("writer", ["atomic_write", "write_table"])
def test_full_disk_leaves_no_half_written_file(tmp_path, monkeypatch, writer):
    import errno

    def enospc(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "d" / "f.bin"
    if writer == "atomic_write":
        monkeypatch.setattr(os, "fsync", enospc)
        call = lambda: atomic_write(target, b"data")
    else:
        monkeypatch.setattr(pd.DataFrame, "to_parquet", enospc)
        call = lambda: write_table(pd.DataFrame({"a": [1]}), target)
    with pytest.raises(InputError) as ei:
        call()
    assert str(target) in str(ei.value) and "No space left on device" in str(ei.value)
    assert list((tmp_path / "d").iterdir()) == []          # no temporary file, no target


def test_read_only_cache_directory_is_one_line(tmp_path, monkeypatch):
    """Root ignores permissions, so the failure is injected where the OS would raise it."""
    import errno
    import tempfile
    real = tempfile.mkstemp

    def readonly(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", readonly)
    with LocalServer() as srv:
        res = runner.invoke(app, ["collect", "sim-short-national-cut", "--cache",
                                  str(tmp_path / "c"), "--source", "ioda",
                                  "--url", "ioda=" + srv.url + "/v2", "-q"])
    monkeypatch.setattr(tempfile, "mkstemp", real)
    one_line_error(res, "Read-only file system", str(tmp_path / "c"))


# --- two collects on one cache --------------------------------------------------------------
def test_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    cache = RawCache(tmp_path / "c")
    with LocalServer() as srv:
        args = ["collect", "sim-short-national-cut", "--cache", str(cache.root), "--source",
                "ioda", "--url", "ioda=" + srv.url + "/v2", "-q"]
        with cache.lock("collect"):                       # the first run, still writing
            res = runner.invoke(app, args)
            one_line_error(res, "in use", f"pid {os.getpid()}")
            assert srv.requests == [] and not (cache.root / "raw").exists()
        res = runner.invoke(app, args)                    # after it: runs normally
        assert res.exit_code == 0, res.output
        assert srv.requests


def test_simulate_is_refused_while_a_collect_holds_the_cache(tmp_path):
    cache = RawCache(tmp_path / "c")
    with cache.lock("collect"):
        res = runner.invoke(app, ["simulate", "short-national-cut", "--cache", str(cache.root)])
    one_line_error(res, "in use")


def test_lock_of_a_killed_run_is_released(tmp_path):
    """Another process holds the lock (a collect in progress): refused; after that process
    is killed with SIGKILL, the next run goes ahead (the kernel drops the lock)."""
    import signal
    import subprocess
    import sys
    cache = RawCache(tmp_path / "c")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom shutdown.store import RawCache\n"
         f"cm = RawCache({str(cache.root)!r}).lock('collect')\ncm.__enter__()\n"
         "print('locked', flush=True)\ntime.sleep(120)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(InputError, match=f"in use \\(collect, pid {holder.pid}\\)"):
            with cache.lock("collect"):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with cache.lock("collect"):
        assert (cache.root / ".lock").read_text() == f"collect, pid {os.getpid()}"


def test_truncated_grouped_table_is_one_line(tmp_path):
    from shutdown import store
    p = tmp_path / "g.parquet"
    store.write_grouped_table([pd.DataFrame({"entity_type": ["country"], "entity_code": ["XS"],
                                             "ts_utc": [pd.Timestamp("2022-03-03", tz="UTC")]})], p)
    p.write_bytes(p.read_bytes()[:40])
    for read in (store.table_groups, lambda q: store.read_table_group(q, 0), store.table_time_range):
        with pytest.raises(InputError, match="damaged table") as ei:
            read(p)
        assert str(p) in str(ei.value)
