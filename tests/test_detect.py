"""Detection on synthetic tidy tables whose outages are known exactly (tests/synthetic.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shutdown import detect
from shutdown.errors import InputError
from shutdown.schema import INTERVAL_COLUMNS, INTERVAL_KINDS
from synthetic import Block, Cut, Spec, make_tidy

T = pd.Timestamp
START = T("2022-01-01T00:00:00Z")
WIN = (START + pd.Timedelta(days=14), START + pd.Timedelta(days=21))
BASE = (START, WIN[0])
CUT = Cut(T("2022-01-16T10:00:00Z"), T("2022-01-16T16:00:00Z"), 0.0)
THROTTLE = Cut(T("2022-01-18T04:00:00Z"), T("2022-01-18T09:00:00Z"), 0.5, sources=("ioda",))


def run(tidy, **kw):
    return detect.run(tidy, WIN, BASE, tz="Asia/Almaty", **kw)


@pytest.fixture(scope="module")
def res():
    spec = Spec(cuts=(CUT, THROTTLE),
                blocks=(Block(T("2022-01-17T00:00:00Z"), T("2022-01-19T00:00:00Z")),))
    return run(make_tidy(spec))


def _one(iv, **match):
    m = np.ones(len(iv), bool)
    for k, v in match.items():
        m &= (iv[k] == v).to_numpy()
    return iv[m]


def test_columns_and_kinds(res):
    iv = res.intervals
    assert list(iv.columns[:len(INTERVAL_COLUMNS)]) == INTERVAL_COLUMNS
    assert set(iv["kind"]) <= set(INTERVAL_KINDS)
    assert iv["simulated"].all()
    assert (iv["end_utc"] > iv["start_utc"]).all()


@pytest.mark.parametrize("signal", ["ping-slash24", "bgp", "merit-nt"])
def test_full_cut_found_to_the_bin(res, signal):
    iv = _one(res.intervals, source="ioda", signal=signal, start_utc=CUT.start)
    assert len(iv) == 1, res.intervals[["signal", "start_utc", "end_utc"]]
    r = iv.iloc[0]
    assert r["end_utc"] == CUT.end
    assert r["kind"] == "full" and r["depth"] > 0.95 and r["direction"] == "down"


def test_throttling_is_partial_with_its_depth(res):
    iv = _one(res.intervals, source="ioda", signal="ping-slash24", start_utc=THROTTLE.start)
    assert len(iv) == 1
    r = iv.iloc[0]
    assert r["end_utc"] == THROTTLE.end
    assert r["kind"] == "partial"
    assert 0.4 < r["depth"] < 0.6 and 0.4 < r["level"] < 0.6
    # the throttling touched IODA only: OONI volume and Atlas show nothing then
    other = res.intervals[(res.intervals["source"] != "ioda")
                          & (res.intervals["start_utc"] < THROTTLE.end)
                          & (res.intervals["end_utc"] > THROTTLE.start)
                          & (res.intervals["direction"] == "down")]
    assert other.empty


def test_ooni_anomaly_share_rises_for_blocked_apps_only(res):
    up = res.intervals[res.intervals["direction"] == "up"]
    assert set(up["signal"]) == {"telegram", "whatsapp", "signal"}
    assert (up["metric"] == "anomaly_share").all()
    # pooled over 3 hourly bins: the edges are within an hour
    assert (abs(up["start_utc"] - T("2022-01-17T00:00:00Z")) <= pd.Timedelta(hours=1)).all()
    assert (abs(up["end_utc"] - T("2022-01-19T00:00:00Z")) <= pd.Timedelta(hours=1)).all()
    assert (up["level"] > 0.8).all() and (up["kind"] == "full").all()


def test_ooni_volume_falls(res):
    iv = _one(res.intervals, source="ooni", signal="measurements", subtype="all")
    assert len(iv) == 1
    assert abs(iv.iloc[0]["start_utc"] - CUT.start) <= pd.Timedelta(hours=1)


def test_atlas_end_user_share_only(res):
    iv = _one(res.intervals, source="atlas", signal="probes_reachable")
    assert set(iv["subtype"]) == {"end-user"}       # infrastructure probes kept their uplink
    assert (iv["metric"] == "reachable_share").all()
    assert iv.iloc[0]["start_utc"] == CUT.start


def test_fused_needs_two_independent_sources(res):
    f = res.fused
    assert len(f) == 2                   # the cut (everyone) and the throttling (IODA methods)
    cut = f[f["start_utc"] == CUT.start].iloc[0]
    assert {"atlas", "ooni", "ioda/ping-slash24"} <= set(cut["sources"].split(","))
    assert cut["kind"] == "full"
    assert detect.fuse(res.intervals, min_sources=7).empty


def test_quiet_data_has_no_outage():
    for seed in (2, 3):
        r = run(make_tidy(Spec(seed=seed)))
        assert r.intervals.empty, r.intervals[["source", "signal", "subtype", "start_utc", "depth"]]


def _ping_only(**kw):
    return make_tidy(Spec(ooni=False, atlas=False, ioda=("ping-slash24",), **kw))


def test_single_glitches_do_not_flicker():
    tidy = _ping_only(cuts=(CUT,))
    ts = tidy["ts_utc"]
    glitch = ts.isin([T("2022-01-17T03:00:00Z"), T("2022-01-19T12:00:00Z")])
    back = ts == T("2022-01-16T13:00:00Z")      # one normal-looking bin inside the cut
    tidy.loc[glitch, "value"] = 0.0
    tidy.loc[back, "value"] = 4000.0
    iv = run(tidy).intervals
    assert len(iv) == 1 and iv.iloc[0]["start_utc"] == CUT.start and iv.iloc[0]["end_utc"] == CUT.end


def test_hysteresis_keeps_a_hovering_drop_in_one_piece():
    # a drop to ~78% of normal (just past the 20% threshold) with noise around it
    hover = Cut(T("2022-01-17T00:00:00Z"), T("2022-01-17T12:00:00Z"), 0.78)
    tidy = make_tidy(Spec(ooni=False, atlas=False, ioda=("ping-slash24",), cuts=(hover,),
                          noise=0.05))
    iv = run(tidy).intervals
    assert 1 <= len(iv) <= 3, iv[["start_utc", "end_utc", "depth"]]


def test_missing_bins_and_nan_in_baseline():
    tidy = _ping_only(cuts=(CUT,))
    rng = np.random.default_rng(0)
    base = tidy["ts_utc"] < WIN[0]
    drop = base & (rng.random(len(tidy)) < 0.3)
    tidy = tidy[~drop].copy()
    tidy.loc[tidy.sample(frac=0.02, random_state=1).index, "value"] = np.nan
    r = run(tidy)
    assert len(r.intervals) == 1 and r.intervals.iloc[0]["start_utc"] == CUT.start
    assert any("NaN" in n for n in r.notes)


def test_out_of_order_and_duplicated_rows_give_the_same_answer():
    tidy = _ping_only(cuts=(CUT,))
    clean = run(tidy).intervals
    messy = pd.concat([tidy, tidy.sample(frac=0.1, random_state=2)]).sample(frac=1, random_state=3)
    r = run(messy)
    pd.testing.assert_frame_equal(r.intervals, clean)
    assert any("out of order" in n for n in r.notes)
    assert any("duplicated" in n for n in r.notes)


def test_weekly_cycle_is_not_an_outage():
    # weekends 30% lower: with two weeks of baseline the weekday factor absorbs it
    tidy = make_tidy(Spec(ooni=False, atlas=False, ioda=("ping-slash24",),
                          end=START + pd.Timedelta(days=28)))
    local = tidy["ts_utc"] + pd.Timedelta(hours=6)
    weekend = local.dt.day_of_week >= 5
    tidy.loc[weekend, "value"] *= 0.7
    r = detect.run(tidy, (START + pd.Timedelta(days=14), START + pd.Timedelta(days=28)),
                   (START, START + pd.Timedelta(days=14)), tz="Asia/Almaty")
    assert r.intervals.empty
    assert r.fit.weekday[0].min() < 0.8        # the weekend factor was learnt


def test_empty_table():
    from shutdown.schema import empty_tidy
    r = run(empty_tidy())
    assert r.intervals.empty and r.series.empty and r.fused.empty
    assert any("empty" in n for n in r.notes)
    assert list(r.intervals.columns[:len(INTERVAL_COLUMNS)]) == INTERVAL_COLUMNS


def test_window_without_baseline_is_not_judged():
    tidy = _ping_only(cuts=(CUT,))
    tidy = tidy[tidy["ts_utc"] >= WIN[0]]
    r = run(tidy)
    assert r.intervals.empty
    assert (r.series["status"] == "no-baseline").all()
    assert any("baseline" in n for n in r.notes)


def test_source_without_any_value_is_not_judged():
    tidy = _ping_only(cuts=(CUT,))
    tidy["value"] = np.nan
    r = run(tidy)
    assert r.intervals.empty
    assert set(r.series["status"]) == {"no-baseline"}


def test_bad_arguments_are_input_errors():
    tidy = _ping_only()
    with pytest.raises(InputError, match="not after"):
        detect.run(tidy, (WIN[1], WIN[0]))
    with pytest.raises(InputError, match="lacks columns"):
        detect.run(tidy.drop(columns=["value"]), WIN)
    with pytest.raises(InputError, match="time zone"):
        detect.run(tidy, WIN, tz="Mars/Olympus")


def test_default_baseline_is_everything_before_the_window():
    tidy = _ping_only(cuts=(CUT,))
    r = detect.run(tidy, WIN)
    assert r.baseline[0] == START and len(r.intervals) == 1


def test_detection_never_reads_the_timeline():
    import sys
    assert detect.run  # the package and its modules are loaded
    lines = [line for name, m in sys.modules.items()
             if name.startswith("shutdown.detect") and getattr(m, "__file__", None)
             for line in open(m.__file__).read().splitlines()]
    imports = [l for l in lines if l.strip().startswith(("import ", "from "))]
    assert imports and not [l for l in imports if "timeline" in l or "align" in l]


def test_baseline_profile_and_expected_values(res):
    prof = detect.profile(make_tidy(Spec(ooni=False, atlas=False, ioda=("ping-slash24",))),
                           WIN[0], tz="Asia/Almaty")
    assert len(prof) == 144                      # 10-minute slots of one day
    assert prof["expected"].max() > prof["expected"].min() * 1.1   # the daily cycle is there
    ev = detect.expected_values(res)
    cut = ev[(ev["signal"] == "ping-slash24") & (ev["ts_utc"] >= CUT.start) & (ev["ts_utc"] < CUT.end)]
    assert cut["down"].all() and cut["full"].all()


def test_unreadable_timestamps_are_an_input_error():
    tidy = _ping_only().head(50).copy()
    tidy["ts_utc"] = tidy["ts_utc"].astype(str)
    tidy.loc[tidy.index[3], "ts_utc"] = "yesterday-ish"
    with pytest.raises(InputError, match="ts_utc"):
        detect.run(tidy, WIN)


def test_thresholds_can_be_tuned_for_one_run_and_are_restored():
    from shutdown.detect import thresholds
    spec = Spec(cuts=(THROTTLE,))
    tidy = make_tidy(spec)
    before = thresholds.MIN_DROP.copy()
    found = _one(run(tidy).intervals, source="ioda", signal="ping-slash24", start_utc=THROTTLE.start)
    assert len(found) == 1
    # A 50% throttling is not an outage when ping-slash24 must lose 60% to alert.
    strict = {**thresholds.MIN_DROP, ("ioda", "ping-slash24"): 0.6}
    tuned = run(tidy, thresholds={"MIN_DROP": strict}).intervals
    assert _one(tuned, source="ioda", signal="ping-slash24", start_utc=THROTTLE.start).empty
    assert thresholds.MIN_DROP == before
    with pytest.raises(InputError, match="unknown detection threshold.*K_NOIZE"):
        run(tidy, thresholds={"K_NOIZE": 3})


def test_pooled_ooni_counts_equal_a_centred_rolling_sum_per_series():
    """The vectorised pooling of OONI counts (one cumulative sum) gives exactly what
    pandas' centred rolling sum per series gives, at series boundaries too."""
    from shutdown.detect.series import _centred_sums
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 40, size=30)
    widths = rng.choice([3, 5, 7, 25], size=len(sizes))
    x = rng.integers(0, 12, size=int(sizes.sum())).astype(float)
    gid = np.repeat(np.arange(len(sizes)), sizes)
    first = np.r_[True, gid[1:] != gid[:-1]]
    width = np.repeat(widths, sizes)
    got = _centred_sums(x, first, width)
    want = np.concatenate([
        pd.Series(x[gid == g]).rolling(int(w), center=True, min_periods=1).sum().to_numpy()
        for g, w in enumerate(widths)])
    assert np.array_equal(got, want)
