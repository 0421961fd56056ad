"""A stand-in ``trials`` source (issue 21): a module that only declares itself -- k of n
trials (``kind = "trials"``, ratio shape: ``reached`` of ``tried``) -- reaches detection
(pooled statistics and the share's intervals), alignment (a verdict with its counts), the
overview figure (its declared panel, ``trial_share``) and the interactive chart, with no
edit anywhere outside its own module: nothing in detect/, align/, plot/ or interactive
names it."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shutdown.case import load_case
from shutdown.result import Result
from shutdown.schema import TIDY_COLUMNS
from shutdown.sources import registry
from standin_source import installed
from shutdown.timeline import load_timeline

STANDIN = '''
DECLARATION = {
    "name": "handcount", "title": "Hand Count", "order": 95, "default": False,
    "default_url": "https://handcount.example",
    "signals": [
        {"signal": "reached", "unit": "tests", "meaning": "tests that reached their target",
         "role": "connectivity", "label": "Hand Count: tests reaching", "kind": "trials",
         "trials": {"metric": "reached_share", "moves": "down", "unit": "tests",
                    "what": "reaching their target", "share_unit": "share of tests reaching",
                    "of": "tried"}},
        {"signal": "tried", "unit": "tests", "meaning": "tests run", "role": "volume",
         "label": "Hand Count: tests run", "kind": "level"},
    ],
    "panels": [{"title": "Hand Count: share of tests reaching their target",
                "missing": "no Hand Count tests for {code}", "ylim": [0, 1.05],
                "series": [{"signal": "reached", "label": "tests reaching", "transform": "trial_share"}]}],
}


def plan(case):
    return []


def requests(case):
    return []
    yield


def normalize(case, cache):
    raise NotImplementedError("a stand-in: the test hands its table in")
'''
CUT = (pd.Timestamp("2022-01-05T10:45Z"), pd.Timestamp("2022-01-10T00:00Z"))   # the scenario's cut
TRIED = 40.0


@pytest.fixture
def standin(tmp_path, monkeypatch):
    """The module, found as if it lay in shutdown/sources/ (nothing else is edited)."""
    with installed(tmp_path, monkeypatch, "handcount", STANDIN) as src:
        yield src


def table(case) -> pd.DataFrame:
    """Hourly: TRIED tests, nearly all reaching, few while the country is cut off."""
    lo, hi = case.fetch_utc
    ts = pd.date_range(lo, hi, freq="h", inclusive="left")
    rng = np.random.default_rng(7)
    cut = (ts >= CUT[0]) & (ts < CUT[1])
    reached = np.where(cut, rng.binomial(int(TRIED), 0.05, len(ts)), rng.binomial(int(TRIED), 0.95, len(ts)))
    rows = [pd.DataFrame({"signal": sig, "value": v.astype(float)})
            for sig, v in (("reached", reached), ("tried", np.full(len(ts), TRIED)))]
    out = pd.concat(rows, ignore_index=True)
    out["ts_utc"] = np.tile(ts, 2)
    out = out.assign(source="handcount", entity_type="country", entity_code="KZ", subtype="",
                     unit="tests", simulated=True)
    return out[TIDY_COLUMNS]


def test_a_trials_source_reaches_detection_alignment_the_overview_and_the_chart(standin):
    from shutdown import interactive, pipeline, plot
    assert standin.signals[0].trials.shape == "ratio"
    case = dataclasses.replace(load_case("kz-2022-01"), sources=["handcount"], networks=[], regions=[])
    events = load_timeline(case.timeline_path, case)
    inputs = Result(case=case, events=events, tidy=table(case), simulated=True, demo=True)
    res = pipeline.analyse(inputs)
    # detection: its share is a series, and its counts are judged by pooled statistics
    det = res.detection
    assert ((det.series["source"] == "handcount") & (det.series["metric"] == "reached_share")).any()
    assert any(sid[0] == "handcount" and sid[5] == "reached_share" for sid in det.counts)
    # alignment: expected to fall in the shutdown (a connectivity signal) and judged on its counts
    rows = res.alignment[(res.alignment["source"] == "handcount")]
    shut = rows[rows["event"] == "kz-03-shutdown"].iloc[0]
    assert (shut["metric"], shut["verdict"]) == ("reached_share", "confirmed")
    assert "reaching their target" in shut["evidence"] and shut["n_after"] > 0
    back = rows[rows["event"] == "kz-08-restored"].iloc[0]
    assert back["verdict"] in ("confirmed", "confirmed-earlier", "confirmed-later")
    # the overview: its declared panel, its share as trial_share draws it
    data = res                            # the analysed record is what the report draws
    fig, rec = plot.figure(data, "overview")
    desc = plot.describe(fig, rec)
    (s,) = [r for r in desc["series"] if r.get("source") == "handcount"]
    assert s["transform"] == "reached/tried" and s["label"] == "tests reaching"
    # the interactive chart is built from the same record as the figure
    spec = interactive.chart("overview", rec, dict(desc, event_kinds=plot.FIGURES["overview"].event_kinds), data)
    assert "tests reaching" in str(spec)
    assert len(spec["datasets"]) and any(len(v) for v in spec["datasets"].values())
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_nothing_outside_its_module_names_it():
    root = Path(__file__).parents[1] / "shutdown"
    assert not [p for p in root.rglob("*.py") if "handcount" in p.read_text(encoding="utf-8")]
