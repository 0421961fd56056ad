"""Issue 25: a stalling upstream costs minutes, not an hour. A stalled body is given up
early (and retried), every source has a time budget, a run may have one; a source whose
budget is spent stops with one line saying how far it got, and a rerun resumes from the
cache to the table an uninterrupted run builds.

Played by the local server's trickling faults (tests/localserver.py): every loop there
is bounded and stops when the client hangs up. Budgets and stall windows are a fraction
of a second, so each test takes a few seconds; what shows a run ended within its budget
is how little the server managed to send, not a clock in this process."""
from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from localserver import LocalServer, small_case
from shutdown import budget as budget_mod
from shutdown.budget import Budget, default_seconds
from shutdown.case import load_case
from shutdown.cli import app
from shutdown.collect import EXIT_ALL, EXIT_NOTHING, EXIT_PARTIAL, collect_case, planned_requests
from shutdown.errors import InputError
from shutdown.http import BudgetSpent, Fetcher, SourceError
from shutdown.normalize import load_table
from shutdown.store import RawCache

runner = CliRunner()
PACE = 0.02                  # the trickle: one byte every 20 ms (50 bytes/s)


def fetcher(tmp_path, url, **kw):
    kw.setdefault("sleep", lambda s: None)
    return Fetcher(RawCache(tmp_path / "c"), "ooni", url, **kw)


def sorted_table(t: pd.DataFrame) -> pd.DataFrame:
    keys = ["source", "entity_type", "entity_code", "signal", "subtype", "ts_utc"]
    return t.sort_values(keys).reset_index(drop=True)


# --- the stall detector (shutdown/http.py) ---------------------------------------------------
def test_stalled_body_is_given_up_within_a_window_and_counted_as_a_retry(tmp_path):
    with LocalServer(fault="trickle", fault_arg=PACE) as srv:
        # the total deadline (60 s) would let each attempt trickle ~3000 bytes
        f = fetcher(tmp_path, srv.url, deadline=60, stall_window=0.3, max_attempts=3)
        with pytest.raises(SourceError) as ei:
            f.get_json("/x")
        sent = list(srv.httpd.fault_sent)
    msg = str(ei.value)
    assert "gave up after 3 attempts: stalled:" in msg and "under 1024 bytes/s" in msg
    assert f.stats.requests == 3 and f.stats.retries == 2
    # each attempt was dropped after about one window (~15 bytes), far from the deadline's 3000
    assert len(sent) == 3 and all(n < 300 for n in sent), sent
    assert list(f.cache.entries()) == []


def test_slow_but_flowing_body_is_not_a_stall(tmp_path):
    # 60 bytes at 100 bytes/s: spans three 0.2 s windows, each far above the 5 bytes/s floor
    with LocalServer(fault="drip", fault_arg=(60, 0.01)) as srv:
        f = fetcher(tmp_path, srv.url, stall_window=0.2, stall_rate=5, max_attempts=1)
        assert f.get_json("/x") == []
    assert f.stats.retries == 0 and len(list(f.cache.entries())) == 1
    with LocalServer(fault="drip", fault_arg=(60, 0.01)) as srv:    # the same body, a higher floor
        f = fetcher(tmp_path / "2", srv.url, stall_window=0.2, stall_rate=1000, max_attempts=1)
        with pytest.raises(SourceError, match="stalled"):
            f.get_json("/x")


# --- the budget inside the fetcher -----------------------------------------------------------
def test_spent_budget_stops_before_any_request(tmp_path):
    with LocalServer() as srv:
        f = fetcher(tmp_path, srv.url, budget=lambda: 0.0)
        with pytest.raises(BudgetSpent):
            f.get_json("/api/v1/aggregation", {"since": "2022-01-01", "until": "2022-01-02"})
        assert srv.requests == [] and f.stats.requests == 0


def test_budget_spent_is_not_a_failure_a_source_may_work_around():
    # a source's generator catches failed requests (Exception) it can do without; a spent
    # budget must reach the driver instead
    assert not issubclass(BudgetSpent, Exception)


def test_a_wait_longer_than_the_budget_left_is_not_waited_for(tmp_path):
    waits = []
    with LocalServer(fault="retry_after", fault_arg="120") as srv:
        f = fetcher(tmp_path, srv.url, sleep=waits.append, budget=lambda: 30.0)
        with pytest.raises(BudgetSpent) as ei:
            f.get_json("/x")
        assert len(srv.requests) == 1
    assert waits == [] and f.stats.retries == 0
    assert "HTTP 429" in ei.value.problem and "waiting 120 s" in ei.value.problem


def test_an_answer_in_flight_is_cut_when_the_budget_ends(tmp_path):
    left = {"t": None}

    def budget():                   # 0.4 s from the first question on
        import time
        if left["t"] is None:
            left["t"] = time.monotonic() + 0.4
        return left["t"] - time.monotonic()

    with LocalServer(fault="trickle", fault_arg=PACE) as srv:
        # no stall detection and a 60 s deadline: only the budget can end this attempt
        f = fetcher(tmp_path, srv.url, deadline=60, stall_window=0, budget=budget)
        with pytest.raises(BudgetSpent) as ei:
            f.get_json("/x")
        sent = list(srv.httpd.fault_sent)
    assert "cut when the time budget ran out" in ei.value.problem
    assert len(sent) == 1 and sent[0] < 300, sent       # 0.4 s of trickle, not 60 s


# --- budgets in collect ----------------------------------------------------------------------
def collect(case, tmp_path, urls, cache="c", **kw):
    kw.setdefault("fetcher_options", {"stall_window": 0.3, "backoff": 0.05})
    return collect_case(case, ["ioda", "ooni"], cache=tmp_path / cache, min_interval=0,
                        progress=False, base_urls=urls, **kw)


def test_source_over_budget_stops_with_one_line_and_a_rerun_resumes_to_the_same_table(tmp_path):
    case = small_case(tmp_path)
    # the uninterrupted run, in its own cache
    with LocalServer() as srv:
        whole = collect(case, tmp_path, {"ioda": srv.url + "/v2", "ooni": srv.url}, cache="whole")
    assert whole.exit_status == EXIT_ALL
    planned = next(s for s in whole.sources if s.source == "ooni").requests
    # OONI answers two requests, then trickles every answer; its budget is 3 s, and it may
    # retry more often than that lasts
    with LocalServer() as ioda, LocalServer(fault="trickle_after", fault_arg=(2, PACE)) as ooni:
        rep = collect(case, tmp_path, {"ioda": ioda.url + "/v2", "ooni": ooni.url},
                      budget=Budget.start({"ooni": 3}),
                      fetcher_options={"stall_window": 0.3, "backoff": 0.05, "max_backoff": 0.1,
                                       "max_attempts": 50})
        sent = list(ooni.httpd.fault_sent)
    by = {s.source: s for s in rep.sources}
    assert by["ioda"].status == "ok"
    o = by["ooni"]
    assert o.status == "over-budget" and o.budget == 3 and "\n" not in o.message
    assert o.message.startswith(f"ooni: its time budget (3 s) was spent after 2 of {planned} "
                                "requests (")
    assert "rerun to resume from the cache" in o.message and "--budget ooni=SECONDS" in o.message
    assert o.retries >= 1                       # stalled attempts were retried, then the budget ended
    # within its budget: all the stalled attempts together trickled about 3 s worth (150 bytes)
    assert sent and sum(sent) < 500, sent
    assert rep.exit_status == EXIT_PARTIAL
    cache = RawCache(tmp_path / "c")
    assert sum(1 for _ in cache.entries("ooni")) == 2       # nothing half-fetched
    partial = load_table(case, cache=cache)
    assert set(partial.source) == {"ioda", "ooni"}      # what OONI fetched is in the table
    # the rerun asks only what is missing and ends with the uninterrupted run's table
    with LocalServer() as ioda, LocalServer() as ooni:
        again = collect(case, tmp_path, {"ioda": ioda.url + "/v2", "ooni": ooni.url})
        assert ioda.requests == [] and len(ooni.requests) == planned - 2
    assert again.exit_status == EXIT_ALL
    pd.testing.assert_frame_equal(sorted_table(load_table(case, cache=tmp_path / "c")),
                                  sorted_table(load_table(case, cache=tmp_path / "whole")))
    assert len(partial) < len(load_table(case, cache=tmp_path / "whole"))


def test_run_budget_stops_every_source_and_nothing_is_written(tmp_path):
    case = small_case(tmp_path)
    with LocalServer(fault="trickle", fault_arg=PACE) as ioda, \
            LocalServer(fault="trickle", fault_arg=PACE) as ooni:
        # no stall detection: the run's budget alone ends the trickled answers
        rep = collect(case, tmp_path, {"ioda": ioda.url + "/v2", "ooni": ooni.url},
                      budget=Budget.start(run=0.5), fetcher_options={"stall_window": 0})
        sent = ioda.httpd.fault_sent + ooni.httpd.fault_sent
    assert {s.status for s in rep.sources} == {"over-budget"}
    for s in rep.sources:
        assert re.match(rf"{s.source}: the run's time budget \(0.5 s\) was spent after 0 of \d+ "
                        r"requests \(cut when the time budget ran out", s.message), s.message
        assert "--run-budget SECONDS" in s.message
    assert len(sent) == 2 and all(n < 300 for n in sent), sent     # one attempt each, cut
    assert rep.exit_status == EXIT_NOTHING and rep.rows == 0
    assert list(RawCache(tmp_path / "c").entries()) == []


def test_one_budget_spans_several_cases(tmp_path):
    """A survey starts one Budget and passes it to every case: a later case gets what is left."""
    case = small_case(tmp_path)
    b = Budget.start(run=60, clock=lambda: 0.0)
    later = b.for_source("ooni", 7, 1.0, clock=lambda: 59.5)
    assert later.remaining() == pytest.approx(0.5)
    assert b.started() is b                     # collect_case keeps its clock
    with LocalServer() as srv:
        rep = collect(case, tmp_path, {"ioda": srv.url + "/v2", "ooni": srv.url},
                      budget=Budget(run=60, deadline=-1.0))   # spent before this case began
        assert srv.requests == []
    assert {s.status for s in rep.sources} == {"over-budget"}


def test_planned_requests_count_what_is_known_before_any_answer():
    from shutdown.sources import registry
    case = load_case("kz-2022-01")
    ooni = registry.module("ooni")
    # OONI's plan lists the per-network requests; its requests add circumvention (and sites)
    n = planned_requests(ooni, case, "ooni")
    assert n == sum(1 for _ in ooni.requests(case)) > len(ooni.plan(case))
    atlas = registry.module("atlas")
    assert planned_requests(atlas, case, "atlas") == 1      # the listing; the rest follows it


def test_default_budget_grows_with_the_plan():
    sb = Budget().for_source("atlas", 1, 0.0, clock=lambda: 0.0)
    assert sb.seconds == default_seconds(1)
    sb.expect(50)                   # the probe listing named 49 more requests
    assert sb.seconds == default_seconds(50) > default_seconds(1)
    given = Budget.start({"atlas": 30}).for_source("atlas", 1, 0.0)
    given.expect(50)
    assert given.seconds == 30      # a budget given is kept


# --- the command line ------------------------------------------------------------------------
def test_cli_budget_ends_the_source_with_exit_3_and_one_line(tmp_path):
    case = small_case(tmp_path)
    with LocalServer() as ioda, LocalServer(fault="trickle_after", fault_arg=(3, PACE)) as ooni:
        res = runner.invoke(app, ["collect", str(case.path), "--cache", str(tmp_path / "c"),
                                  "--url", f"ioda={ioda.url}/v2", "--url", f"ooni={ooni.url}",
                                  "--min-interval", "0", "--budget", "ooni=1.5", "-q"])
    assert res.exit_code == EXIT_PARTIAL, res.output
    line = next(ln.strip() for ln in res.output.splitlines() if "time budget" in ln)
    assert re.fullmatch(r"ooni: its time budget \(1.5 s\) was spent after [0-3] of \d+ requests "
                        r"\(cut when the time budget ran out.*\); rerun to resume from the cache "
                        r"\(what was fetched is kept\), or allow more with --budget ooni=SECONDS",
                        line), line
    assert "over-budget" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("args,field", [(["--budget", "ooni=-1"], "--budget"),
                                        (["--budget", "ooni=soon"], "--budget"),
                                        (["--budget", "ooni"], "--budget"),
                                        (["--budget", "nosuch=5"], "--budget"),
                                        (["--run-budget", "0"], "--run-budget"),
                                        (["--run-budget", "inf"], "--run-budget")])
@pytest.mark.parametrize("command", ["collect", "report"])
def test_cli_bad_budget_is_one_line_exit_2(tmp_path, args, field, command):
    res = runner.invoke(app, [command, "kz-2022-01", "--cache", str(tmp_path / "c"), *args])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and f"field '{field}'" in lines[0]
    assert not (tmp_path / "c").exists()        # refused before any work


def test_report_passes_its_budget_to_collect(tmp_path, monkeypatch):
    import shutdown.collect as collect_mod
    seen = {}

    def fake(case, *a, budget=None, **k):
        seen["budget"] = budget
        raise InputError("stop here")
    monkeypatch.setattr(collect_mod, "collect_case", fake)
    res = runner.invoke(app, ["report", "kz-2022-01", "--cache", str(tmp_path / "c"),
                              "--budget", "ooni=90", "--run-budget", "600", "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "stop here" in res.output
    b = seen["budget"]
    assert b.sources == {"ooni": 90.0} and b.run == 600.0 and b.deadline is not None


def test_help_states_the_default_budget_as_computed():
    """The --help example (kz-2022-01) is what default_seconds gives for its plans."""
    from shutdown.sources import registry
    res = runner.invoke(app, ["collect", "--help"])
    text = " ".join(res.output.split())
    assert f"{budget_mod.BASE:g} s + {budget_mod.PER_REQUEST:g} s per planned request" in text
    case = load_case("kz-2022-01")
    for name, said in re.findall(r"(OONI|IODA) about (\d+) min", text):
        src = registry.get(name.lower())
        secs = default_seconds(planned_requests(src.module, case, src.name), src.min_interval)
        assert math.isclose(secs / 60, int(said), abs_tol=0.5), (name, secs)
    assert len(re.findall(r"(OONI|IODA) about (\d+) min", text)) == 2
