"""The analysis kept in the cache (``shutdown.memo``): the same inputs are analysed once;
after a timeline edit detection is kept and alignment runs again; other thresholds, a
damaged entry or an entry of another kind are computed again; and what comes back is
what the analysis gives."""
from __future__ import annotations

import dataclasses
import shutil

import pandas as pd
import pytest

from shutdown import align, detect, memo, pipeline
from shutdown.result import Result
from shutdown.timeline import load_timeline
from test_plot_fixtures import make_tidy


@pytest.fixture
def inputs(case, events):
    return Result(case=case, events=events, tidy=make_tidy(case))


@pytest.fixture
def runs(monkeypatch, tmp_path):
    """Counts of detection and alignment runs, with the memo in a fresh directory."""
    monkeypatch.setattr(memo, "cache_dir", lambda: tmp_path / "analysis")
    calls = {"detect": 0, "align": 0}
    real_detect, real_align = detect.run, align.align

    def counted(name, real):
        def f(*a, **k):
            calls[name] += 1
            return real(*a, **k)
        return f
    monkeypatch.setattr(detect, "run", counted("detect", real_detect))
    monkeypatch.setattr(align, "align", counted("align", real_align))
    return calls


def _same(a: Result, b: Result) -> None:
    for name in ("alignment", "summary", "unexplained", "expectation_table"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.intervals, b.intervals)
    pd.testing.assert_frame_equal(a.fused, b.fused)
    assert a.expectations == b.expectations


def test_the_same_inputs_are_analysed_once(inputs, runs):
    first = memo.analyse(inputs)
    assert runs == {"detect": 1, "align": 1}
    seen = []
    again = memo.analyse(inputs, detected=seen.append)
    assert runs == {"detect": 1, "align": 1}           # read, not run
    _same(first, again)
    # the report starts drawing from what ``detected`` gets: the detection is there
    assert len(seen) == 1 and seen[0].detection is not None and seen[0].alignment is None
    assert len(list(memo.cache_dir().glob("*.pickle"))) == 2     # detection, analysis


def test_after_a_timeline_edit_detection_is_kept_and_alignment_runs(inputs, runs, tmp_path):
    memo.analyse(inputs)
    tl = tmp_path / "timeline.toml"
    shutil.copy(inputs.case.timeline_path, tl)
    # the messenger block documented a day later: its verdicts change
    text = tl.read_text(encoding="utf-8")
    assert "2022-01-04" in text
    tl.write_text(text.replace("2022-01-04", "2022-01-05"), encoding="utf-8")
    case = dataclasses.replace(inputs.case, timeline_path=tl)
    edited = Result(case=case, events=load_timeline(tl, case=case), tidy=inputs.tidy)
    got = memo.analyse(edited)
    assert runs == {"detect": 1, "align": 2}
    fresh = pipeline.analyse(edited)
    _same(got, fresh)
    assert not got.alignment.equals(memo.analyse(inputs).alignment)


def test_other_thresholds_are_another_detection(inputs, runs):
    memo.analyse(inputs)
    other = memo.analyse(inputs, thresholds={"K_NOISE": 6.0})
    assert runs == {"detect": 2, "align": 2}
    _same(other, pipeline.analyse(inputs, thresholds={"K_NOISE": 6.0}))


@pytest.mark.parametrize("damage", [b"", b"not a pickle", None])
def test_a_damaged_or_foreign_entry_is_computed_again(inputs, runs, damage):
    first = memo.analyse(inputs)
    for p in memo.cache_dir().glob("*.pickle"):
        if damage is None:           # a readable pickle of something else
            memo.store(p.stem, {"not": "an analysis"})
        else:
            p.write_bytes(damage)
    again = memo.analyse(inputs)
    assert runs == {"detect": 2, "align": 2}
    _same(first, again)
    assert memo.analyse(inputs) is not None and runs == {"detect": 2, "align": 2}   # kept anew


def test_only_the_last_entries_are_kept(inputs, runs, monkeypatch):
    monkeypatch.setattr(memo, "KEEP", 3)
    for k in (5.0, 6.0, 7.0):
        memo.analyse(inputs, thresholds={"K_NOISE": k})
    assert len(list(memo.cache_dir().glob("*.pickle"))) == 3


def test_a_cache_that_cannot_be_written_costs_only_time(inputs, runs, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(memo, "cache_dir", lambda: blocker / "analysis")
    a = memo.analyse(inputs)
    b = memo.analyse(inputs)
    assert runs == {"detect": 2, "align": 2}
    _same(a, b)


def test_what_cannot_be_kept_costs_only_time(tmp_path, monkeypatch):
    monkeypatch.setattr(memo, "cache_dir", lambda: tmp_path / "analysis")
    memo.store("k", {"a": lambda: 1})                   # does not pickle: not kept, no error
    assert memo.load("k") is None and not list((tmp_path / "analysis").iterdir())
