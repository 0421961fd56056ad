"""``shutdown check``: passes on a fresh report; fails (1) on a moved event, an edited sidecar,
a changed figure, a failed expectation; exit 2 on unusable input."""
from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
from typer.testing import CliRunner

from shutdown import check, pipeline, plot
from shutdown.case import load_case
from shutdown.cli import app
from shutdown.errors import InputError
import test_plot_fixtures as F


@pytest.fixture(scope="module")
def base(tmp_path_factory, repo_root):
    """The shared report (case copy + cache + report dir) that each test clones and damages."""
    return F.shared_report(tmp_path_factory, repo_root)[0]


@pytest.fixture(scope="module")
def repo_root():
    from pathlib import Path
    return Path(__file__).resolve().parents[1]


@pytest.fixture
def rep(base, tmp_path, monkeypatch):
    """A private copy of the base report, its manifest pointing at the copied case and cache."""
    dst = tmp_path / "r"
    shutil.copytree(base, dst)
    m = json.loads((dst / "out/manifest.json").read_text())
    m["case_file"] = str(dst / "cases/kz-2022-01.toml")
    m["cache_root"] = str(dst / "cache")
    (dst / "out/manifest.json").write_text(json.dumps(m))
    return dst


def run(out, *extra):
    return CliRunner().invoke(app, ["check", str(out), *extra])


def fails(res):
    return [l for l in res.output.splitlines() if l.startswith("FAIL ")]


def test_fresh_report_passes(rep):
    r = run(rep / "out")
    assert r.exit_code == 0, r.output
    assert fails(r) == []
    assert f"check passed: {len(plot.FIGURES)} figures current; " in r.output
    assert "2 of 2 expectations hold" in r.output
    assert "interactive event drawings match the timeline" in r.output


def test_expectation_that_no_longer_holds_fails(rep):
    """The case now asks more than the data gives: the check names the event and what was found."""
    cf = rep / "cases/kz-2022-01.toml"
    cf.write_text(cf.read_text().replace("min_sources = 2", "min_sources = 9", 1))
    r = run(rep / "out")
    assert r.exit_code == 1
    exp = [l for l in fails(r) if l.startswith("FAIL kz-03-shutdown: expected")]
    assert len(exp) == 1
    assert exp[0].startswith("FAIL kz-03-shutdown: expected confirmed or confirmed-earlier or confirmed-later "
                             "from at least 9 source(s); found confirmed by ")
    assert "atlas" in exp[0] and "ioda/ping-slash24" in exp[0]
    assert any("not current: the case file kz-2022-01.toml changed" in l for l in fails(r))


_ANALYSED = {}


def _pass_expectations(monkeypatch):
    """Let the expectations hold, to look at the other checks alone (the alignment of the
    unchanged data is computed once and reused: these tests are about files and drawings)."""
    real = pipeline.analyse

    def analyse(inputs, thresholds=None):
        if "r" not in _ANALYSED:
            _ANALYSED["r"] = real(inputs, thresholds)
        return dataclasses.replace(_ANALYSED["r"], expectations=[
            dict(x, ok=True) for x in _ANALYSED["r"].expectations])
    monkeypatch.setattr(pipeline, "analyse", analyse)


def test_moved_event_fails(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    tl = rep / "events/kz-2022-01.toml"
    text = tl.read_text()
    i = text.index('id = "kz-03-shutdown"')
    text = text[:i] + text[i:].replace("date = 2022-01-05", "date = 2022-01-06", 1)
    tl.write_text(text)
    r = run(rep / "out")
    assert r.exit_code == 1
    lines = fails(r)
    # the figures are stale, and the moved event is named with both windows
    assert any("not current: the timeline kz-2022-01.toml changed" in l for l in lines)
    assert ("FAIL kz-03-shutdown: the timeline says 2022-01-05T18:00:00Z–2022-01-06T18:00:00Z but figure "
            "overview draws 2022-01-04T18:00:00Z–2022-01-05T18:00:00Z") in lines
    assert not any("kz-08-restored" in l for l in lines)   # untouched events still match
    # the interactive charts of report.html too
    assert ("FAIL kz-03-shutdown: the timeline says 2022-01-05T18:00:00Z–2022-01-06T18:00:00Z but interactive "
            "chart overview draws 2022-01-04T18:00:00Z–2022-01-05T18:00:00Z") in lines
    assert any(l.startswith("FAIL kz-03-shutdown: the timeline says") and "interactive chart alignment" in l
               for l in lines)


def test_new_undrawn_event_fails(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    tl = rep / "events/kz-2022-01.toml"
    tl.write_text(tl.read_text() + '''
[[events]]
id = "kz-09-later"
kind = "shutdown"
scope = "national"
date = 2022-01-09
precision = "day"
quote_kk = "x"
text_en = "x"
citation = "x"
''')
    r = run(rep / "out")
    assert r.exit_code == 1
    assert any(l.startswith("FAIL kz-09-later: documented 2022-01-08T18:00:00Z–2022-01-09T18:00:00Z, "
                            "but figure overview does not draw it") for l in fails(r))


def test_hand_edited_sidecar_fails(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    p = rep / "out/figures/overview.json"
    side = json.loads(p.read_text())
    for e in side["events"]:
        if e["id"] == "kz-03-shutdown":
            e["drawn_start_utc"] = "2022-01-05T00:00:00Z"
    side["events"].append({"id": "kz-99-invented", "drawn_start_utc": "2022-01-03T00:00:00Z",
                           "drawn_end_utc": "2022-01-03T01:00:00Z"})
    p.write_text(json.dumps(side))
    r = run(rep / "out")
    assert r.exit_code == 1
    lines = fails(r)
    assert any("figure overview: sidecar figures/overview.json was edited after the report was made" in l
               for l in lines)
    assert "FAIL kz-99-invented: figure overview labels it as documented, but the timeline has no such event" in lines
    assert any(l.startswith("FAIL kz-03-shutdown: the timeline says 2022-01-04T18:00:00Z") for l in lines)


def test_other_documenters_lane_is_not_read_as_report_events(rep, monkeypatch):
    """The shared report's overview draws another documenter's lane, one entry on a day no
    report event covers: check passes (it is not a report event, nor an undrawn one);
    and a report event whose drawing is deleted still fails, the lane notwithstanding."""
    _pass_expectations(monkeypatch)
    side = json.loads((rep / "out/figures/overview.json").read_text())
    assert {d["entry"] for d in side["documenters"]} == {i for i, _, _ in F.OTHER_ENTRIES}
    assert not any(e["id"].startswith("ent-") for e in side["events"])
    svg = (rep / "out/figures/overview.svg").read_text()
    assert 'id="documenter:d0:ent-2"' in svg and 'id="event:kz-03-shutdown"' in svg
    from shutdown.interactive import embedded
    spec = embedded((rep / "out/report.html").read_text(encoding="utf-8"))["overview"]
    assert {d["entry"] for d in spec["datasets"]["documenters"]} == {i for i, _, _ in F.OTHER_ENTRIES}
    r = run(rep / "out")
    assert r.exit_code == 0 and fails(r) == [], r.output

    # a report event's drawing deleted from the figure's sidecar (hash rewritten) and from
    # the interactive overview: both still fail
    p = rep / "out/figures/overview.json"
    side["events"] = [e for e in side["events"] if e["id"] != "kz-03-shutdown"]
    p.write_text(json.dumps(side))
    m = json.loads((rep / "out/manifest.json").read_text())
    from shutdown import sidecar
    next(f for f in m["figures"] if f["name"] == "overview")["sidecar"]["sha256"] = sidecar.sha256_file(p)
    (rep / "out/manifest.json").write_text(json.dumps(m))
    _edit_chart(rep / "out/report.html", "overview", lambda s: s["datasets"].update(
        events=[e for e in s["datasets"]["events"] if e["id"] != "kz-03-shutdown"]))
    r = run(rep / "out")
    assert r.exit_code == 1
    lines = fails(r)
    assert [l for l in lines if "does not draw it" in l] == [
        "FAIL kz-03-shutdown: documented 2022-01-04T18:00:00Z–2022-01-05T18:00:00Z, but figure overview "
        "does not draw it",
        "FAIL kz-03-shutdown: documented 2022-01-04T18:00:00Z–2022-01-05T18:00:00Z, but interactive chart "
        "overview does not draw it"]
    assert not any("ent-" in l for l in lines)


def _edit_chart(page, name, edit):
    """Rewrite the embedded spec of one interactive chart in report.html."""
    from shutdown.interactive import embedded
    text = page.read_text(encoding="utf-8")
    old = json.dumps(embedded(text)[name], ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    assert old in text
    spec = json.loads(json.dumps(embedded(text)[name]))
    edit(spec)
    new = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    page.write_text(text.replace(old, new), encoding="utf-8")


def test_hand_edited_interactive_chart_fails(rep, monkeypatch):
    _pass_expectations(monkeypatch)

    def edit(spec):
        for e in spec["datasets"]["events"]:
            if e["id"] == "kz-03-shutdown":
                e["drawn_start_utc"] = "2022-01-05T00:00:00Z"
            if e["id"] == "kz-08-restored":
                e["verdict"] = "contradicted"
    _edit_chart(rep / "out/report.html", "overview", edit)
    lines = fails(run(rep / "out"))
    assert "FAIL report.html was changed after the report was made" in lines
    assert ("FAIL kz-03-shutdown: the timeline says 2022-01-04T18:00:00Z–2022-01-05T18:00:00Z but interactive "
            "chart overview draws 2022-01-05T00:00:00Z–2022-01-05T18:00:00Z") in lines
    verdict = [l for l in lines if l.startswith("FAIL kz-08-restored:")]
    assert len(verdict) == 1 and verdict[0].startswith(
        "FAIL kz-08-restored: interactive chart overview shows verdict contradicted but the report's verdict is ")
    assert not any("interactive chart networks" in l for l in lines)


def test_missing_interactive_chart_fails(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    page = rep / "out/report.html"
    page.write_text(page.read_text(encoding="utf-8").replace('id="chart-networks"', 'id="gone"'),
                    encoding="utf-8")
    lines = fails(run(rep / "out"))
    assert "FAIL interactive chart networks: not found in report.html" in lines


def test_changed_or_missing_figure_fails(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    (rep / "out/figures/region.png").unlink()
    with open(rep / "out/figures/networks.png", "ab") as fh:
        fh.write(b"x")
    lines = fails(run(rep / "out"))
    assert "FAIL figure region: figures/region.png is missing" in lines
    assert "FAIL figure networks: figures/networks.png was changed after the report was made" in lines


def test_changed_cache_makes_figures_stale(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    from shutdown.store import RawCache
    RawCache(rep / "cache").put("atlas", "/api/v2/probes/", {"country_code": "KZ"}, b"[]", url="u",
                                status=200, simulated=True)
    lines = fails(run(rep / "out"))
    assert len([l for l in lines if "not current: the raw cache entries changed" in l]) == 5


def test_unusable_input_exits_2(tmp_path, rep):
    r = run(tmp_path / "nope")
    assert r.exit_code == 2 and "report directory not found" in r.output
    (tmp_path / "empty").mkdir()
    r = run(tmp_path / "empty")
    assert r.exit_code == 2 and "report directory is empty" in r.output
    (rep / "out/manifest.json").write_text("{not json")
    r = run(rep / "out")
    assert r.exit_code == 2 and "report manifest is not valid JSON" in r.output
    (rep / "out/manifest.json").unlink()
    r = run(rep / "out")
    assert r.exit_code == 2 and "report manifest not found" in r.output


def test_broken_sidecar_json_exits_2(rep):
    (rep / "out/figures/alignment.json").write_text("{")
    r = run(rep / "out")
    assert r.exit_code == 2 and "sidecar of figure alignment is not valid JSON" in r.output


def test_missing_cache_fails(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    shutil.rmtree(rep / "cache")
    r = run(rep / "out")
    assert r.exit_code == 1
    assert any("cannot tell whether the figures are current" in l for l in fails(r))


def test_check_dir_api(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    res = check.check_dir(rep / "out")
    assert res.ok and res.status == 0
    assert any("event drawings match the timeline" in n for n in res.notes)
    with pytest.raises(InputError):
        check.check_dir(rep / "missing")
