"""``shutdown.pipeline``: inputs loaded once (with the simulated-vs-measured guard), one
wiring of detection into alignment for every entry point, thresholds as a value."""
from __future__ import annotations

import threading

import pandas as pd
import pytest
from typer.testing import CliRunner

from shutdown import align, detect, pipeline, report, store
from shutdown.case import load_case
from shutdown.cli import app
from shutdown.detect import thresholds
from shutdown.errors import InputError
from synthetic import Cut, Spec, make_tidy
from test_plot_fixtures import make_cache
from test_plot_fixtures import make_tidy as make_case_tidy

T = pd.Timestamp
START = T("2022-01-01T00:00:00Z")
WIN = (START + pd.Timedelta(days=14), START + pd.Timedelta(days=21))
BASE = (START, WIN[0])
THROTTLE = Cut(T("2022-01-18T04:00:00Z"), T("2022-01-18T09:00:00Z"), 0.5, sources=("ioda",))


@pytest.fixture(scope="module")
def kz(tmp_path_factory):
    """A case with a simulated cache holding its table; loaded once through the pipeline."""
    case = load_case("kz-2022-01")
    root = tmp_path_factory.mktemp("pipeline") / "cache"
    make_cache(root, case, make_case_tidy(case, simulated=True, asns=False), simulated=True)
    return case, root, pipeline.load_inputs(case, cache=root)


def test_inputs_loaded_once_with_the_guard(kz, tmp_path):
    case, root, inputs = kz
    assert inputs.case is case and inputs.simulated is True and len(inputs.tidy)
    assert [e.id for e in inputs.events] == [e.id for e in pipeline.load_inputs(case, cache=root).events]
    assert inputs.cache_root == str(root)
    # the guard: a table mixing the two kinds, or disagreeing with its cache, is refused
    mixed = inputs.tidy.copy()
    mixed.loc[mixed.index[:3], "simulated"] = False
    with pytest.raises(InputError, match="mixes simulated and measured"):
        store.simulated_only(mixed, inputs.raw)
    p = tmp_path / "mixed.parquet"
    mixed.to_parquet(p)
    with pytest.raises(InputError, match="mixes simulated and measured"):
        pipeline.load_inputs(case, table=p)
    # a measured table file is measured, and nothing is read from a cache
    measured = inputs.tidy.assign(simulated=False)
    measured.to_parquet(p)
    got = pipeline.load_inputs(case, table=p)
    assert got.simulated is False and got.raw is None and got.cache_root == ""
    with pytest.raises(InputError, match="--demo"):
        pipeline.load_inputs(case, demo=True, table=p)


def test_empty_cache_is_a_note_for_commands_and_an_error_for_the_report(tmp_path):
    inputs = pipeline.load_inputs("kz-2022-01", cache=tmp_path / "nothing")
    assert len(inputs.tidy) == 0 and any("no data for kz-2022-01" in n for n in inputs.notes)
    with pytest.raises(InputError, match="no source returned any data.*nothing to draw"):
        inputs.require_data("nothing to draw")


def test_analyse_is_what_report_and_commands_show(kz):
    case, root, inputs = kz
    res = pipeline.analyse(inputs)
    # the same stages wired by hand give the same verdicts
    det = detect.run(inputs.tidy, case.window_utc, case.baseline_utc, tz=case.timezone)
    rows = align.align(inputs.events, det, case)
    pd.testing.assert_frame_equal(res.summary, align.summarize(rows, inputs.events))
    assert res.alignment["det_start_utc"].notna().any()          # detected span added
    assert {x["event"] for x in res.expectations} == {e.event for e in case.expectations}
    # one record: the analysis is the inputs' record with its findings, the inputs' own
    # left as it was; what is derived from the inputs is carried over, not made again
    assert res.tidy is inputs.tidy and res.events is inputs.events and res.raw is inputs.raw
    assert res.intervals is res.detection.intervals and res.fused is res.detection.fused
    assert inputs.detection is None and inputs.summary is None and inputs.intervals is None
    assert res.simulated and res.cache_root == str(root)
    hashes = inputs.hashes
    assert pipeline.analyse(inputs).hashes is hashes
    assert inputs.replace(lang="kk").entries is inputs.entries
    assert inputs.replace(tidy=inputs.tidy.iloc[:10]).hashes["tidy_rows"] == 10
    # the align command prints the same verdicts
    r = CliRunner().invoke(app, ["align", str(case.path), "--cache", str(root), "-f", "json"])
    assert r.exit_code == 0, r.output
    import json
    printed = json.loads(r.stdout[r.stdout.index("["):])
    assert {x["event"]: x["verdict"] for x in printed} == dict(zip(res.summary["event"],
                                                                   res.summary["verdict"]))


def test_analysis_reuses_the_detection_it_has(kz, monkeypatch):
    """Other documenters are compared with the detection's fused outages, not fused again."""
    case, root, inputs = kz
    det = pipeline.detect(inputs)
    seen, real = [], pipeline.other_documenters
    monkeypatch.setattr(pipeline, "other_documenters",
                        lambda case, events, fused, raw: seen.append(fused) or real(case, events, fused, raw))
    monkeypatch.setattr(detect, "fuse", lambda *a, **k: pytest.fail("fused again"))
    res = pipeline.analyse(inputs, detection=det)
    assert len(seen) == 1 and seen[0] is res.fused is det.fused


def test_thresholds_are_a_value():
    assert thresholds.resolve(None) is thresholds.DEFAULT
    assert thresholds.DEFAULT.K_NOISE == thresholds.K_NOISE
    assert thresholds.DEFAULT.min_drop("ioda", "bgp") == thresholds.MIN_DROP[("ioda", "bgp")]
    t = thresholds.resolve({"K_NOISE": 5.0})
    assert t.K_NOISE == 5.0 and thresholds.K_NOISE == 4.0 and thresholds.resolve(t) is t
    with pytest.raises(InputError, match="unknown detection threshold.*K_NOIZE"):
        thresholds.resolve({"K_NOIZE": 3})
    with pytest.raises(TypeError):
        t.MIN_DROP[("ioda", "bgp")] = 0.9        # read-only: a value, not shared state
    with pytest.raises(Exception):
        t.K_NOISE = 1.0


def _strict():
    return {"MIN_DROP": {**thresholds.MIN_DROP, ("ioda", "ping-slash24"): 0.6}}


def _throttle_found(det) -> bool:
    iv = det.intervals
    return bool(((iv["source"] == "ioda") & (iv["signal"] == "ping-slash24")
                 & (iv["start_utc"] == THROTTLE.start)).any())


def test_two_threshold_values_in_two_threads_do_not_interfere():
    tidy = make_tidy(Spec(cuts=(THROTTLE,)))

    def run(values):
        return detect.run(tidy, WIN, BASE, tz="Asia/Almaty", thresholds=values)
    default, strict = run(None), run(_strict())
    assert _throttle_found(default) and not _throttle_found(strict)
    assert strict.thresholds.min_drop("ioda", "ping-slash24") == 0.6
    got, errors = {}, []
    barrier = threading.Barrier(2)

    def worker(name, values):
        try:
            barrier.wait()
            for i in range(3):
                got[(name, i)] = run(values)
        except Exception as exc:          # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=worker, args=("default", None)),
               threading.Thread(target=worker, args=("strict", _strict()))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for (name, _), det in got.items():
        want = default if name == "default" else strict
        pd.testing.assert_frame_equal(det.intervals, want.intervals)
    assert thresholds.MIN_DROP[("ioda", "ping-slash24")] == 0.2     # the module is untouched


def test_alignment_judges_with_the_thresholds_detection_used(kz):
    case, root, inputs = kz
    base = pipeline.analyse(inputs)
    strict = pipeline.analyse(inputs, thresholds={"EVIDENCE_ALPHA": 1e-300})
    assert strict.detection.thresholds.EVIDENCE_ALPHA == 1e-300
    # no count change is significant at that level: no count series confirms a change

    def counts(res):
        al = res.alignment
        return al[al["metric"].isin(["anomaly_share", "reachable_share"]) & (al["role"] == "primary")]
    counts, base_counts = counts(strict), counts(base)
    assert base_counts["verdict"].str.startswith("confirmed").any()
    assert not counts["verdict"].str.startswith("confirmed").any()
