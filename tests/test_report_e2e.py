"""End to end through the CLI, offline: `shutdown report CASE --demo`, then `shutdown check`,
on the small synthetic case (the simulator renders upstream-shaped payloads; collectors'
normalize, detection and alignment all run for real). Then the timeline is moved."""
from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from shutdown import plot
from shutdown.cli import app


def test_demo_report_then_check_then_moved_event(tmp_path, repo, monkeypatch):
    monkeypatch.setattr(plot.style, "DPI", 50)            # speed; sizes are in inches
    monkeypatch.setattr(plot.style, "FORMATS", ("png",))
    for d in ("cases", "events"):
        (tmp_path / d).mkdir()
        shutil.copy(repo / f"data/{d}/sim-short-national-cut.toml", tmp_path / d)
    case = tmp_path / "cases/sim-short-national-cut.toml"
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["report", str(case), "--demo", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert "from SIMULATED data" in r.output and "1/1 expectations hold" in r.output

    side = json.loads((out / "figures/overview.json").read_text())
    assert side["simulated"] is True
    ev = {e["id"]: e for e in side["events"]}
    # the timeline's event, as drawn; and the simulated cut is shaded over it
    assert set(ev) == {"sim-national-cut"}
    s, e = ev["sim-national-cut"]["drawn_start_utc"], ev["sim-national-cut"]["drawn_end_utc"]
    assert (s, e) == ("2022-03-03T10:00:00Z", "2022-03-03T14:00:00Z")
    assert any(d["drawn_start_utc"] <= e and d["drawn_end_utc"] >= s for d in side["detected"])
    assert "SIMULATED" in (out / "report.md").read_text().splitlines()[0]

    r = CliRunner().invoke(app, ["check", str(out)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"check passed: {len(plot.FIGURES)} figures current;")

    # move the event two hours later: the figures no longer show the documented dates
    tl = tmp_path / "events/sim-short-national-cut.toml"
    tl.write_text(tl.read_text().replace('start = "10:00"', 'start = "12:00"'))
    r = CliRunner().invoke(app, ["check", str(out)])
    assert r.exit_code == 1
    assert ("FAIL sim-national-cut: the timeline says 2022-03-03T12:00:00Z–2022-03-03T14:00:00Z but "
            "figure overview draws 2022-03-03T10:00:00Z–2022-03-03T14:00:00Z") in r.output


def test_workers_started_ahead_draw_what_one_process_draws(tmp_path, repo, monkeypatch):
    """`shutdown report` starts its workers before the analysis and draws the evidence
    figure meanwhile (report.build); the files are those gather + write draw in one
    process, and nothing of the early drawing is left beside the report."""
    import pytest

    from shutdown import parallel, report, sidecar
    from shutdown.case import load_case
    if parallel.workers(4) == 1:
        pytest.skip("one core or no fork here: the parallel path is the serial one")
    monkeypatch.setattr(plot.style, "DPI", 50)
    for d in ("cases", "events"):
        (tmp_path / d).mkdir()
        shutil.copy(repo / f"data/{d}/sim-short-national-cut.toml", tmp_path / d)
    case = tmp_path / "cases/sim-short-national-cut.toml"
    r = CliRunner().invoke(app, ["report", str(case), "--demo", "--out", str(tmp_path / "ahead"), "-q"])
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("SHUTDOWN_WORKERS", "1")
    data = report.gather(load_case(case), demo=True, progress=False)
    report.write(data, tmp_path / "one", formats=("png",), redraw=True)
    files = lambda out: {p.name: sidecar.sha256_file(p) for p in sorted((out / "figures").iterdir())}
    assert files(tmp_path / "ahead") == files(tmp_path / "one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ahead", "cache", "cases", "events", "one"]
