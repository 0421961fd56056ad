"""Scoring detected intervals against a simulation's ground truth."""
import pandas as pd
import pytest

from shutdown import detect
from shutdown.case import load_case
from shutdown.normalize import build_table
from shutdown.simulate import false_positives, load_ground_truth, score, simulate, summary
from shutdown.store import RawCache

T = pd.Timestamp


def truth_row(**kw):
    base = dict(entity_type="country", entity_code="XS", source="ioda", signal="ping-slash24",
                subtype="", start_utc=T("2022-03-03T10:00Z"), end_utc=T("2022-03-03T14:00Z"),
                kind="full", depth=0.95, direction="down", episode="cut", type="cut")
    base.update(kw)
    return base


def interval(start, end, **kw):
    base = dict(source="ioda", entity_type="country", entity_code="XS", signal="ping-slash24",
                subtype="", start_utc=T(start), end_utc=T(end), depth=0.9, level=0.1,
                direction="down", kind="full", simulated=True)
    base.update(kw)
    return base


def test_score_matches_keys_and_measures_errors():
    truth = pd.DataFrame([truth_row(),
                          truth_row(signal="telegram", subtype="anomaly", source="ooni",
                                    direction="up", episode="tg"),
                          truth_row(signal="merit-nt", episode="missed")])
    iv = pd.DataFrame([interval("2022-03-03T10:30Z", "2022-03-03T14:10Z"),
                       interval("2022-03-03T10:00Z", "2022-03-03T13:00Z", source="ooni",
                                signal="telegram", subtype="", direction="up"),
                       interval("2022-03-01T00:00Z", "2022-03-01T02:00Z"),          # far away
                       interval("2022-03-03T10:00Z", "2022-03-03T14:00Z", entity_code="64496")])
    s = score(iv, truth).set_index("episode")
    assert s.loc["cut", "detected"] and s.loc["cut", "start_error_min"] == 30
    assert s.loc["cut", "end_error_min"] == 10 and s.loc["cut", "covered"] == pytest.approx(3.5 / 4)
    assert s.loc["tg", "detected"] and s.loc["tg", "covered"] == pytest.approx(0.75)
    assert not s.loc["missed", "detected"] and s.loc["missed", "covered"] == 0
    fp = false_positives(iv, truth)
    assert len(fp) == 1 and fp.iloc[0]["start_utc"] == T("2022-03-01T00:00Z")
    summ = summary(score(iv, truth), fp)
    assert summ["detected"] == 2 and summ["recall"] == pytest.approx(2 / 3)
    assert summ["false_positives"] == 1


def test_detector_finds_the_synthetic_national_cut(tmp_path):
    out = simulate("short-national-cut", seed=0, cache_root=tmp_path / "c")
    case = load_case("sim-short-national-cut")
    tidy = build_table(case, RawCache(out["cache"]))
    assert tidy["simulated"].all()
    res = detect.run(tidy, window=case.window_utc, baseline=case.baseline_utc, tz=case.timezone)
    s = score(res.intervals, load_ground_truth(out["cache"]), tidy=tidy)
    ping = s[(s.entity_code == "XS") & (s.signal == "ping-slash24")].iloc[0]
    assert ping["detected"] and abs(ping["start_error_min"]) <= 60 and abs(ping["end_error_min"]) <= 60
    assert s["measurable"].all()
    assert summary(s)["recall"] >= 0.5
