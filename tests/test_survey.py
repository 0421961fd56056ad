"""`shutdown survey`: documented records measured by the report's pipeline.

Against a local stand-in answering like IODA for several countries (tests/survey_world.py)
whose outages we set: a documented national shutdown the data shows is confirmed, one with
no outage (or an outage days away) is not-observed, never confirmed; a regional one is judged
on its region; a service block is judged only by sources that can see it; throttling gets
no verdict of absence. Then resuming, the demo, and the output files.
"""
from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

import documented_files as F
from survey_world import IodaWorld

D = F.D
# Our own STOP rows (2019 layout), and the world the stand-in plays.
ROWS = [
    dict(id=1, start_date=D(2019, 6, 10), end_date=D(2019, 6, 11), country="Iraq",
         geo_scope="Level 3", shutdown_type_new="Shutdown", affected_network="Mobile and broadband",
         **{"fullorservice-based": "Full"}),
    dict(id=2, start_date=D(2019, 6, 3), end_date=D(2019, 6, 5), country="Sudan",
         geo_scope="Level 3", shutdown_type_new="Shutdown", affected_network="Mobile",
         **{"fullorservice-based": "Full"}),
    dict(id=3, start_date=D(2019, 6, 22), end_date=D(2019, 6, 22), country="Ethiopia",
         geo_scope="Level 2", area_name="Oromia", shutdown_type_new="Shutdown",
         affected_network="Mobile", **{"fullorservice-based": "Full"}),
    dict(id=4, start_date=D(2019, 3, 1), end_date=D(2019, 3, 3), country="Chad",
         geo_scope="Level 3", shutdown_type_new="Shutdown", affected_network="Mobile",
         **{"fullorservice-based": "Service-based", "whatsapp_affected": True}),
    dict(id=5, start_date=D(2019, 1, 15), end_date=D(2019, 1, 16), country="Zimbabwe",
         geo_scope="Level 3", shutdown_type_new="Shutdown", affected_network="Mobile",
         **{"fullorservice-based": "Full"}),
    dict(id=6, start_date=D(2019, 8, 1), end_date=D(2019, 8, 2), country="Chad",
         geo_scope="Level 3", shutdown_type_new="Throttle", affected_network="Mobile",
         **{"fullorservice-based": "Full"}),
]
WORLD = {
    "IQ": {"outages": [("country:IQ", "2019-06-10T06:00:00Z", "2019-06-10T14:00:00Z"),
                       ("country:IQ", "2019-07-20T06:00:00Z", "2019-07-20T12:00:00Z")]},
    "SD": {"outages": [("country:SD", "2019-07-20T06:00:00Z", "2019-07-20T12:00:00Z")]},
    "ET": {"regions": ["Oromia", "Amhara"],
           "outages": [("region:Oromia", "2019-06-22T08:00:00Z", "2019-06-22T16:00:00Z")]},
    "TD": {},
    "ZW": {"outages": [("country:ZW", "2019-01-25T06:00:00Z", "2019-01-25T12:00:00Z")]},
}


def run(*args):
    from shutdown.cli import app
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("survey")
    stop = F.write_stop_xlsx(tmp / "stop.xlsx", [("2019", F.H_2019, ROWS)])
    with pytest.MonkeyPatch.context() as mp, IodaWorld(tmp, WORLD) as srv:
        mp.setenv("SHUTDOWN_CACHE", str(tmp / "cache"))
        out = tmp / "out"
        res = run("survey", stop, "--from", "2019-01-01", "--to", "2019-12-31", "--source", "ioda",
                  "--url", f"ioda={srv.url}", "--out", out, "--no-progress", "--baseline", "7")
        first_requests = srv.requests
        again = run("survey", stop, "--from", "2019-01-01", "--to", "2019-12-31", "--source",
                    "ioda", "--url", f"ioda={srv.url}", "--out", out, "--no-progress",
                    "--baseline", "7")
        yield {"res": res, "again": again, "out": out, "stop": stop, "srv": srv,
               "first": first_requests, "tmp": tmp}


def rows_of(out):
    with open(out / "survey.csv") as f:
        return {r["event_id"]: r for r in csv.DictReader(f)}


def test_verdicts_are_right_where_the_world_is_known(surveyed):
    assert surveyed["res"].exit_code == 0, surveyed["res"].output
    rows = rows_of(surveyed["out"])
    assert set(rows) == {f"stop-2019-r{i}" for i in range(2, 8)}
    assert rows["stop-2019-r2"]["verdict"].startswith("confirmed")          # Iraq: outage in window
    assert int(rows["stop-2019-r2"]["n_sources"]) >= 2
    assert rows["stop-2019-r2"]["transition_utc"].startswith("2019-06-10T06")
    assert rows["stop-2019-r3"]["verdict"] == "not-observed"                # Sudan: none then
    assert rows["stop-2019-r4"]["verdict"].startswith("confirmed")          # Ethiopia: the region
    assert "ioda/ping-slash24=confirmed" in rows["stop-2019-r4"]["sources"]
    assert rows["stop-2019-r4"]["transition_utc"].startswith("2019-06-22T08")
    assert rows["stop-2019-r6"]["verdict"] == "not-observed"                # Zimbabwe: 10 days off
    chad = rows["stop-2019-r5"]                                             # a WhatsApp block
    assert not chad["verdict"].startswith("confirmed") and chad["verdict"] != "not-observed"
    assert int(chad["n_sources"]) == 0 and "can see" in chad["evidence"]
    assert rows["stop-2019-r7"]["verdict"] == "not-measurable"              # throttling only
    assert "throttling" in rows["stop-2019-r7"]["evidence"]
    for r in rows.values():
        assert r["data"] == "measured" and r["simulated"] == "False"
        assert r["documenter"] == "accessnow-stop" and r["country"]


def test_detection_through_the_dataset_path_equals_the_in_memory_one(surveyed):
    """Every record's series are a partitioned dataset (one file per source and entity) and
    its row is what ``report``'s in-memory path (``pipeline.analyse`` on the case's table)
    says of the same case and cache."""
    from shutdown import pipeline, store
    out = surveyed["out"]
    judged = {k: r for k, r in rows_of(out).items() if r["case"]}
    assert len(judged) == 5
    for r in judged.values():
        case = out / r["case"]
        ds = out / "series" / case.stem
        inputs = pipeline.load_inputs(case, cache=surveyed["tmp"] / "cache")
        tidy = inputs.tidy
        assert len(store.dataset_files(ds)) == len(tidy.groupby(list(store.DATASET_KEY), observed=True))
        s = pipeline.analyse(inputs).summary.iloc[0]
        t = s["transition_utc"]
        assert (s["verdict"], int(s["n_sources"]), s["sources"] or "") == \
            (r["verdict"], int(r["n_sources"]), r["sources"]), r["event_id"]
        assert r["evidence"] == (s["evidence"] or r["evidence"])       # the survey fills a blank
        assert (t.strftime("%Y-%m-%dT%H:%M:%SZ") if t == t and t is not None else "") == r["transition_utc"]


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_on_a_dask_cluster_the_rows_are_the_same(surveyed, cluster, tmp_path, monkeypatch):
    """--scheduler: the records' detection runs on that cluster (a small survey otherwise
    runs the same tasks in its own process) and every row is the same."""
    from distributed import Client
    monkeypatch.setenv("SHUTDOWN_CACHE", str(surveyed["tmp"] / "cache"))
    with IodaWorld(tmp_path, WORLD) as srv:
        common = [surveyed["stop"], "--from", "2019-01-01", "--to", "2019-12-31", "--source", "ioda",
                  "--url", f"ioda={srv.url}", "--no-progress", "--baseline", "7"]
        res = run("survey", *common, "--out", tmp_path / "o", "--scheduler", cluster.scheduler_address)
        assert res.exit_code == 0, res.output
        monkeypatch.setattr("shutdown.detect.cluster.CONNECT_TIMEOUT", "1s")
        bad = run("survey", *common, "--out", tmp_path / "bad", "--scheduler", "tcp://127.0.0.1:9")
    assert bad.exit_code == 2 and "cannot reach the Dask scheduler" in bad.stderr
    assert len([x for x in bad.stderr.splitlines() if x.startswith("error")]) == 1
    with Client(cluster) as c:
        assert c.run_on_scheduler(lambda dask_scheduler: "judge_jobs" in dask_scheduler.task_prefixes)
    assert rows_of(tmp_path / "o") == rows_of(surveyed["out"])


def test_the_case_files_rerun_alone(surveyed):
    case = surveyed["out"] / "cases" / "stop-2019-r2.toml"
    from shutdown.case import load_case
    c = load_case(case)
    assert (c.country, c.timezone, str(c.start), str(c.end)) == ("IQ", "Asia/Baghdad",
                                                                "2019-06-08", "2019-06-13")
    assert (surveyed["out"] / "cases" / "stop-2019-r4.toml").read_text().count("[[regions]]") == 1


def test_a_rerun_judges_nothing_twice(surveyed):
    assert surveyed["again"].exit_code == 0, surveyed["again"].output
    assert surveyed["srv"].requests == surveyed["first"]      # nothing asked again
    assert rows_of(surveyed["out"]) == rows_of(surveyed["out"])


def test_an_interrupted_survey_resumes_to_the_same_rows(surveyed, tmp_path, monkeypatch):
    """A row cut short by a kill is judged again; the others are kept; the table is the
    uninterrupted one's."""
    import shutil
    out = tmp_path / "out"
    shutil.copytree(surveyed["out"], out)
    monkeypatch.setenv("SHUTDOWN_CACHE", str(surveyed["tmp"] / "cache"))
    (out / "rows" / "stop-2019-r3.json").write_text('{"event_id": "stop-2019-r3", "verd')
    (out / "rows" / "stop-2019-r6.json").unlink()
    (out / "survey.csv").unlink()
    with IodaWorld(tmp_path, WORLD) as srv:
        res = run("survey", surveyed["stop"], "--from", "2019-01-01", "--to", "2019-12-31",
                  "--source", "ioda", "--url", f"ioda={srv.url}", "--out", out, "--no-progress",
                  "--baseline", "7")
        assert res.exit_code == 0, res.output
        assert srv.requests == 0                       # judged again from the cache
    assert rows_of(out) == rows_of(surveyed["out"])


def test_outputs_and_their_figures(surveyed):
    out = surveyed["out"]
    import pandas as pd
    pq = pd.read_parquet(out / "survey.parquet")
    assert len(pq) == 6 and {"event_id", "verdict", "n_sources", "transition_utc", "minutes_off",
                             "evidence", "simulated", "documented_start", "documented_end",
                             "scope", "area", "kind"} <= set(pq.columns)
    side = json.loads((out / "figures" / "verdicts.json").read_text())
    drawn = {(b["group"], b["value"], b["verdict"]): b["count"] for b in side["drawn"]["bars"]
             if b["count"]}
    rows = rows_of(out)
    for g in ("scope", "kind"):
        want = {}
        for r in rows.values():
            k = (g, r[g] or "unstated", r["verdict"])
            want[k] = want.get(k, 0) + 1
        assert {k: v for k, v in drawn.items() if k[0] == g} == want
    small = sorted(p.name for p in (out / "figures").glob("event-*.png"))
    assert "event-stop-2019-r2.png" in small
    s = json.loads((out / "figures" / "event-stop-2019-r2.json").read_text())
    assert s["drawn"]["documented"] == [[rows["stop-2019-r2"]["window_start_utc"],
                                         rows["stop-2019-r2"]["window_end_utc"]]]
    assert (out / "figures" / "event-stop-2019-r2.csv").exists()
    page = (out / "survey.html").read_text()
    assert "SIMULATED" not in page and "stop-2019-r2" in page


def test_demo_says_simulated_everywhere(tmp_path):
    stop = F.write_stop_xlsx(tmp_path / "stop.xlsx", [("2019", F.H_2019, ROWS[:3])])
    res = run("survey", stop, "--demo", "--out", tmp_path / "d", "--no-progress")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("SIMULATED")
    rows = rows_of(tmp_path / "d")
    assert all(r["data"] == "SIMULATED" and r["simulated"] == "True" for r in rows.values())
    assert "SIMULATED" in (tmp_path / "d" / "survey.md").read_text().splitlines()[0]
    assert json.loads((tmp_path / "d" / "figures" / "verdicts.json").read_text())["simulated"]


def test_bad_filters_are_one_line(tmp_path):
    stop = F.write_stop_xlsx(tmp_path / "stop.xlsx", [("2019", F.H_2019, ROWS)])
    for args, word in ((["--kind", "outage"], "--kind"), (["--country", "Atlantis"], "--country"),
                       (["--from", "2030-01-01"], "no record left"),
                       (["--demo", "--cache", str(tmp_path)], "--demo")):
        res = run("survey", stop, "--out", tmp_path / "o", "--no-progress", *args)
        assert res.exit_code == 2, (args, res.output)
        lines = [x for x in res.stderr.splitlines() if x.startswith("error")]
        assert len(lines) == 1 and word in lines[0], res.stderr


def test_run_budget_stops_between_records_and_a_rerun_continues(tmp_path, monkeypatch):
    """A run budget too small for the survey: exit 3, one line saying how far it got; the
    rows judged are kept and a rerun with room finishes with the same rows a whole run gives."""
    stop = F.write_stop_xlsx(tmp_path / "stop.xlsx", [("2019", F.H_2019, ROWS[:3])])
    monkeypatch.setenv("SHUTDOWN_CACHE", str(tmp_path / "cache"))
    with IodaWorld(tmp_path, WORLD) as srv:
        common = [stop, "--source", "ioda", "--url", f"ioda={srv.url}", "--no-progress",
                  "--baseline", "7"]
        res = run("survey", *common, "--out", tmp_path / "o", "--run-budget", "0.001")
        assert res.exit_code == 3, res.output
        assert "run's time budget" in res.stderr and "rerun the same command" in res.stderr
        again = run("survey", *common, "--out", tmp_path / "o")
        assert again.exit_code == 0, again.output
        whole = run("survey", *common, "--out", tmp_path / "w")
    assert rows_of(tmp_path / "o") == rows_of(tmp_path / "w")
