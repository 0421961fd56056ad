"""Writing a report again: an unchanged figure is copied from the report already there, or
from the figure cache (same render key, files hash as recorded), a changed one is drawn
again; the files are the same either way. Figures are drawn in worker processes or here,
with the same result."""
from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from shutdown import parallel, plot, report, sidecar
from shutdown.errors import InputError
from test_plot_fixtures import shared_report


@pytest.fixture
def fast_plots(monkeypatch):
    monkeypatch.setattr(plot.style, "DPI", 60)


@pytest.fixture
def base(tmp_path_factory, repo):
    root, case, data = shared_report(tmp_path_factory, repo)
    return case, data


def _drawn(monkeypatch):
    """Count figures drawn (in this process: one worker)."""
    monkeypatch.setenv("SHUTDOWN_WORKERS", "1")
    calls = []
    real = report.figures.draw_figure
    monkeypatch.setattr(report.figures, "draw_figure",
                        lambda data, name, *a: calls.append(name) or real(data, name, *a))
    return calls


def _hashes(out):
    return {p.name: sidecar.sha256_file(p) for p in sorted((out / "figures").iterdir())}


def test_unchanged_figures_are_copied_not_drawn(base, tmp_path, monkeypatch, fast_plots):
    case, data = base
    out = tmp_path / "out"
    calls = _drawn(monkeypatch)
    report.write(data, out, formats=("png",))
    assert calls == list(plot.FIGURES)
    first = _hashes(out)
    calls.clear()
    report.write(data, out, formats=("png",))
    assert calls == []                                   # all reused
    assert _hashes(out) == first
    man = json.loads((out / "manifest.json").read_text())
    assert [f["render_key"] for f in man["figures"]] == [report.render_key(data, n, ("png",))
                                                          for n in plot.FIGURES]
    report.write(data, out, formats=("png",), redraw=True)
    assert calls == list(plot.FIGURES)                 # --redraw draws them all
    assert _hashes(out) == first


def test_changed_input_or_damaged_file_is_drawn_again(base, tmp_path, monkeypatch, fast_plots):
    case, data = base
    out = tmp_path / "out"
    calls = _drawn(monkeypatch)
    report.write(data, out, formats=("png",))
    calls.clear()
    # a damaged figure in the old report is not copied
    (out / "figures/region.png").write_bytes(b"not a png")
    # another format set is another render
    report.write(data, out, formats=("png", "svg"))
    assert calls == list(plot.FIGURES)
    calls.clear()
    (out / "figures/region.png").write_bytes(b"not a png")
    report.write(data, out, formats=("png", "svg"))
    assert calls == []                                   # the figure cache has it
    (out / "figures/region.png").write_bytes(b"not a png")
    (report.figures.cache_dir() / report.render_key(data, "region", ("png", "svg")) / "region.png").write_bytes(b"x")
    report.write(data, out, formats=("png", "svg"))
    assert calls == ["region"]                           # damaged there too: drawn
    # an edited timeline changes every figure's inputs
    tl = tmp_path / "timeline.toml"
    shutil.copy(case.timeline_path, tl)
    tl.write_text(tl.read_text().replace("Kazakhtelecom", "Kazakhtelecom JSC", 1), encoding="utf-8")
    moved = dataclasses.replace(data, case=dataclasses.replace(case, timeline_path=tl))
    calls.clear()
    report.write(moved, out, formats=("png",))
    assert calls == list(plot.FIGURES)


def test_workers_draw_the_same_files_as_one_process(base, tmp_path, monkeypatch, fast_plots):
    case, data = base
    if parallel.workers(4) == 1:
        pytest.skip("one core or no fork here: the parallel path is the serial one")
    report.write(data, tmp_path / "par", formats=("png", "svg"))
    monkeypatch.setenv("SHUTDOWN_WORKERS", "1")
    report.write(data, tmp_path / "one", formats=("png", "svg"), redraw=True)
    assert _hashes(tmp_path / "par") == _hashes(tmp_path / "one")


def test_a_new_directory_gets_unchanged_figures_from_the_figure_cache(base, tmp_path, monkeypatch,
                                                                      fast_plots):
    """A figure drawn once is copied into a new --out while its render key holds; the cache
    keeps the last KEEP renders."""
    case, data = base
    calls = _drawn(monkeypatch)
    report.write(data, tmp_path / "a", formats=("png",))
    assert calls == list(plot.FIGURES)
    calls.clear()
    report.write(data, tmp_path / "b", formats=("png",))
    assert calls == []
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    from shutdown import check
    res = check.check_dir(tmp_path / "b", cache=data.cache_root, recompute=False)
    assert res.ok, res.failures
    monkeypatch.setattr(report.figures, "KEEP", 2)
    report.write(data, tmp_path / "c", formats=("png", "svg"), redraw=True)
    assert calls == list(plot.FIGURES)
    assert len(list(report.figures.cache_dir().iterdir())) == 2


def test_formats_checked():
    assert plot.check_formats("svg") == ("png", "svg")            # PNG always
    assert plot.check_formats(["pdf", "png"]) == ("png", "pdf")
    with pytest.raises(InputError, match="unknown figure format 'tiff'"):
        plot.check_formats("png,tiff")


def test_a_figure_added_to_the_registry_is_drawn_captioned_and_checked(base, tmp_path, monkeypatch,
                                                                       fast_plots):
    """Adding a figure is one entry in plot.FIGURES: the report draws it, writes its files
    and sidecar with its caption and event kinds, lists it in the manifest, and check
    verifies it like the others."""
    from shutdown import check
    case, data = base
    monkeypatch.setenv("SHUTDOWN_WORKERS", "1")
    overview = plot.FIGURES["overview"]
    monkeypatch.setitem(plot.FIGURES, "extra", plot.FigureDef(overview.draw, "An extra figure.", "non-context"))
    out = tmp_path / "out"
    report.write(data, out, formats=("png",))
    man = json.loads((out / "manifest.json").read_text())
    assert [f["name"] for f in man["figures"]] == list(plot.FIGURES)
    side = json.loads((out / "figures/extra.json").read_text())
    assert side["caption"] == "An extra figure." and side["event_kinds"] == "non-context"
    assert "An extra figure." in (out / "report.md").read_text()
    assert (out / "figures/extra.png").read_bytes()[:4] == b"\x89PNG"
    res = check.check_dir(out, cache=data.cache_root, recompute=False)
    assert f"{len(plot.FIGURES)} figures current" in res.notes, res.failures
    (out / "figures/extra.png").write_bytes(b"not a png")
    res = check.check_dir(out, cache=data.cache_root, recompute=False)
    assert any(f.startswith("figure extra:") for f in res.failures)


def test_the_chart_library_is_bundled_once_and_kept(tmp_path, monkeypatch):
    """vl-convert's bundle is written under the cache once; later runs read it back."""
    import vl_convert

    from shutdown import interactive
    monkeypatch.setenv("SHUTDOWN_CACHE", str(tmp_path))
    interactive.library_js.cache_clear()
    calls = []
    real = vl_convert.javascript_bundle
    monkeypatch.setattr(vl_convert, "javascript_bundle", lambda **k: calls.append(k) or real(**k))
    first = interactive.library_js()
    kept = list((tmp_path / "vendor").glob("vega-bundle-*.js"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == first and "</script" not in first
    interactive.library_js.cache_clear()
    assert interactive.library_js() == first and len(calls) == 1      # read back, not bundled again
    interactive.library_js.cache_clear()


def test_an_edited_case_or_timeline_is_seen_before_the_inputs_are_read(base, tmp_path, monkeypatch,
                                                                       fast_plots):
    """``edited_since``: what lets ``build`` start its workers before reading the inputs."""
    case, data = base
    out = tmp_path / "out"
    assert not report.figures.edited_since(None, case)
    assert not report.figures.edited_since(tmp_path, case)           # no report there
    monkeypatch.setenv("SHUTDOWN_WORKERS", "1")
    report.write(data, out, formats=("png",))
    assert not report.figures.edited_since(out, case)
    tl = tmp_path / "timeline.toml"
    shutil.copy(case.timeline_path, tl)
    moved = dataclasses.replace(case, timeline_path=tl)
    assert not report.figures.edited_since(out, moved)               # the same bytes elsewhere
    tl.write_text(tl.read_text() + "\n# edited\n", encoding="utf-8")
    assert report.figures.edited_since(out, moved)
    (out / "manifest.json").write_text("{", encoding="utf-8")        # damaged: no guess
    assert not report.figures.edited_since(out, moved)


@pytest.mark.parametrize("case_arg", ["no-such-case", "bad"])
def test_a_redraw_that_fails_early_ends_its_workers(tmp_path, case_arg):
    """``report --redraw`` starts its workers before it reads the case: a bad case still
    ends in one line, exit 2, with no worker left behind (a worker holding the pipes open
    would make the run time out)."""
    import os
    import subprocess
    import sys
    if parallel.workers(len(plot.FIGURES)) == 1:
        pytest.skip("one core or no fork here: no workers are started")
    if case_arg == "bad":
        (tmp_path / "bad.toml").write_text('name = "x"\n', encoding="utf-8")
        case_arg = str(tmp_path / "bad.toml")
    p = subprocess.run([sys.executable, "-c", "from shutdown.cli import app; app()", "report", case_arg,
                        "--demo", "--redraw", "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "SHUTDOWN_WORKERS": "2"})
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("error:") and "Traceback" not in p.stderr
    assert not (tmp_path / "out").exists()
