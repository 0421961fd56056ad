"""Count signals judged by statistics (shutdown/detect/evidence.py) and the verdicts
alignment draws from them: pooling, change tests, timing no finer than the pooling,
insufficient evidence with its numbers, the whitelist judged listed vs control."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shutdown import align as A
from shutdown import detect
from shutdown.detect import evidence as E
from shutdown.timeline import load_timeline

T = pd.Timestamp
H = 3600 * 10**9


def test_fisher_matches_the_hypergeometric_tail():
    # 3/3 after vs 0/3 before: the only table at least as extreme: 1 / C(6,3) = 1/20
    assert E.fisher_greater(3, 3, 0, 3) == pytest.approx(0.05)
    # 2/3 vs 0/3: tables with x = 2 or 3 successes among the 3 "after" of 2+... (k=2 total)
    # succ = 2: P(x=2) = C(2,2)C(4,1)/C(6,3) = 4/20
    assert E.fisher_greater(2, 3, 0, 3) == pytest.approx(0.2)
    # no evidence in the other direction
    assert E.fisher_greater(0, 10, 10, 10) == pytest.approx(1.0)


def test_g_test_is_zero_for_equal_shares_and_grows_with_the_difference():
    g0, p0 = E.g_test(5, 50, 10, 100)
    assert g0 == pytest.approx(0.0, abs=1e-9) and p0 == pytest.approx(1.0)
    g1, p1 = E.g_test(1, 50, 40, 50)
    assert g1 > 50 and p1 < 1e-10
    # chi-square(1) tail: G = 3.841 gives p = 0.05
    assert math.erfc(math.sqrt(3.841 / 2)) == pytest.approx(0.05, abs=1e-3)


@pytest.mark.parametrize("per_hour,unit,want", [(15, "tests", "hour"), (2, "tests", "6h"),
                                                (0.6, "tests", "day"), (0.3, "tests", None),
                                                (3, "probes", "hour"), (2, "probes", None)])
def test_resolution_is_the_finest_that_holds_enough(per_hour, unit, want):
    assert E.choose_resolution(per_hour, unit) == want


def _series(rate, change_at, p0, p1, days=24, seed=1):
    rng = np.random.default_rng(seed)
    t0 = T("2021-12-19T18:00Z").value
    ts = t0 + np.arange(days * 24) * H
    n = rng.poisson(rate, len(ts)).astype(float)
    k = rng.binomial(n.astype(int), np.where(ts >= change_at.value, p1, p0)).astype(float)
    return ts, k, n, (t0 + 14 * 24 * H, t0 + days * 24 * H), (t0, t0 + 14 * 24 * H)


def test_two_tests_an_hour_are_judged_at_6h_and_the_change_lies_in_its_span():
    change = T("2022-01-04T23:00Z")
    ts, k, n, w, b = _series(2, change, 0.03, 0.8)
    ch, s = E.series_changes(ts, k, n, w, b, "up")
    assert s["status"] == "ok" and s["resolution"] == "6h"
    first = ch[0]
    assert first["edge"] == "start" and first["resolution"] == "6h"
    assert first["uncertain_from"] <= change.value < first["uncertain_to"]
    # the span is whole 6-hour bins: timing no finer than the pooling
    assert (first["uncertain_to"] - first["uncertain_from"]) % (6 * H) == 0
    assert first["n_before"] >= 10 and first["n_after"] >= 10
    assert first["share_before"] < 0.1 < 0.6 < first["share_after"]
    assert first["p_value"] < 1e-6


def test_too_few_tests_even_pooled_is_insufficient_not_a_change():
    ts, k, n, w, b = _series(0.2, T("2022-01-04T23:00Z"), 0.03, 0.9)
    ch, s = E.series_changes(ts, k, n, w, b, "up")
    assert s["status"] == "insufficient-evidence" and ch == []


def test_three_probes_moving_together_are_not_enough():
    t0 = T("2021-12-19T18:00Z").value
    ts = t0 + np.arange(24 * 24) * H
    w, b = (t0 + 14 * 24 * H, t0 + 24 * 24 * H), (t0, t0 + 14 * 24 * H)
    n = np.full(len(ts), 3.0)
    up = (ts < w[0]) | ((ts >= T("2022-01-07T03:00Z").value) & (ts < T("2022-01-07T08:00Z").value))
    ch, s = E.series_changes(ts, np.where(up, 3.0, 0.0), n, w, b, "down", unit="probes")
    assert s["resolution"] == "hour"
    # every edge of three probes has Fisher p = 1/20: never below the 1% a verdict needs
    assert ch and all(c["p_value"] == pytest.approx(0.05) for c in ch)
    assert all(c["n_before"] == 3 and c["n_after"] == 3 for c in ch)


# -- alignment on count evidence -------------------------------------------------------------
def _tidy(case, rate_msg=2.0, block_from=T("2022-01-04T06:00Z"), probes=10, seed=3,
          site_rate=0.3, whitelist=(T("2022-01-08T03:00Z"), T("2022-01-10T00:00Z")), gap=None):
    """A small table: messenger tests (telegram) at ``rate_msg`` an hour, blocked from
    ``block_from``; Almaty end-user probes, cut 5 Jan 11:00Z, back 7 Jan 03-08Z; per-domain
    tests of the whitelist's sites and the case's control sites, cut with the country."""
    rng = np.random.default_rng(seed)
    t0, t1 = case.fetch_utc
    hours = pd.date_range(t0, t1, freq="h", inclusive="left")
    ts = hours.as_unit("ns").asi8
    recs = []

    def add(signal, subtype, values, src="ooni", et="country", ec="KZ"):
        recs.append(pd.DataFrame({"source": src, "entity_type": et, "entity_code": ec,
                                  "signal": signal, "subtype": subtype, "ts_utc": hours,
                                  "value": values.astype(float), "unit": "", "simulated": True}))
    n = rng.poisson(rate_msg, len(ts))
    if gap is not None:                  # no messenger test uploaded in [gap)
        n[(ts >= gap[0].value) & (ts < gap[1].value)] = 0
    bad = rng.binomial(n, np.where(ts >= block_from.value, 0.9, 0.02))
    add("telegram", "anomaly", bad)
    add("telegram", "ok", n - bad)
    add("telegram", "confirmed", np.zeros(len(ts)))
    add("telegram", "failure", np.zeros(len(ts)))
    cut = (ts >= T("2022-01-05T11:00Z").value) & (ts < T("2022-01-10T00:00Z").value)
    alm_open = (ts >= T("2022-01-07T03:00Z").value) & (ts < T("2022-01-07T08:00Z").value)
    add("probes_reporting", "end-user", np.full(len(ts), probes), "atlas", "region", "Almaty")
    add("probes_reachable", "end-user", np.where(cut & ~alm_open, 0, probes), "atlas", "region",
        "Almaty")
    ev = {e.id: e for e in load_timeline(case.timeline_path, case=case)}
    listed = ev["kz-07-whitelist"].scope_values
    wl = (ts >= whitelist[0].value) & (ts < whitelist[1].value)
    for dom in list(listed) + list(case.control_sites):
        open_ = ~cut | (wl if dom in listed else False)
        m = rng.poisson(site_rate * np.where(cut, 0.3, 1.0))
        ok = rng.binomial(m, np.where(open_, 0.95, 0.0))
        add("site", f"{dom}/ok", ok)
        add("site", f"{dom}/failure", m - ok)
        add("site", f"{dom}/anomaly", np.zeros(len(ts)))
        add("site", f"{dom}/confirmed", np.zeros(len(ts)))
    return pd.concat(recs, ignore_index=True)


def _align(case, events, tidy):
    det = detect.run(tidy, case.window_utc, case.baseline_utc, tz=case.timezone)
    rows = A.align(events, det, case=case)
    return rows, A.summarize(rows, events)


def test_messenger_restriction_at_two_tests_an_hour_is_confirmed_with_its_evidence(case, events):
    rows, summ = _align(case, events, _tidy(case))
    r = rows[(rows["event"] == "kz-02-messengers") & (rows["signal"] == "telegram")].iloc[0]
    assert r["verdict"] == "confirmed"
    assert r["resolution"] == "6h"
    assert r["uncertain_from"] <= T("2022-01-04T06:00Z") < r["uncertain_to"]
    assert r["n_before"] >= 10 and r["share_before"] < 0.2 and r["share_after"] > 0.6
    assert r["p_value"] < 0.01 and r["statistic"].startswith("G=")
    s = summ.set_index("event").loc["kz-02-messengers"]
    assert "anomalous" in s["evidence"] and "6h" in s["resolution"]


def test_a_restriction_a_day_late_is_not_confirmed_inside_the_window(case, events):
    rows, _ = _align(case, events, _tidy(case, block_from=T("2022-01-05T20:00Z")))
    r = rows[(rows["event"] == "kz-02-messengers") & (rows["signal"] == "telegram")].iloc[0]
    assert r["verdict"] == "confirmed-later" and r["minutes_off"] > 0


def test_whitelist_confirmed_with_listed_vs_control_numbers(case, events):
    rows, summ = _align(case, events, _tidy(case))
    r = rows[(rows["event"] == "kz-07-whitelist") & (rows["signal"] == "site")].iloc[0]
    assert r["verdict"] == "confirmed"
    assert "listed" in r["evidence"] and "control" in r["evidence"]
    assert r["share_after"] > 0.6 and r["share_before"] < 0.2
    assert r["p_value"] < 0.01


def test_whitelist_a_day_early_is_not_confirmed_on_the_day(case, events):
    rows, _ = _align(case, events, _tidy(case, whitelist=(T("2022-01-06T18:00Z"),
                                                           T("2022-01-10T00:00Z"))))
    r = rows[(rows["event"] == "kz-07-whitelist") & (rows["signal"] == "site")].iloc[0]
    assert r["verdict"] == "confirmed-earlier"


def test_whitelist_without_control_sites_is_not_measurable(case, events):
    import dataclasses
    bare = dataclasses.replace(case, control_sites=())
    rows, _ = _align(bare, events, _tidy(case))
    r = rows[(rows["event"] == "kz-07-whitelist") & (rows["signal"] == "site")].iloc[0]
    assert r["verdict"] == "not-measurable" and "control" in r["reason"]


def test_almaty_window_with_three_probes_is_insufficient_never_confirmed(case, events):
    rows, summ = _align(case, events, _tidy(case, probes=3))
    r = rows[(rows["event"] == "kz-06-almaty-window") & (rows["source"] == "atlas")
             & (rows["subtype"] == "end-user")]
    assert len(r) == 1 and r["verdict"].iloc[0] == "insufficient-evidence"
    assert r["n_before"].iloc[0] == 3 and r["p_value"].iloc[0] == pytest.approx(0.05)
    assert "p=0.05" in r["reason"].iloc[0]
    assert summ.set_index("event").loc["kz-06-almaty-window", "verdict"] == "insufficient-evidence"


def test_almaty_window_with_ten_probes_is_confirmed_at_the_hour(case, events):
    rows, _ = _align(case, events, _tidy(case, probes=10))
    r = rows[(rows["event"] == "kz-06-almaty-window") & (rows["source"] == "atlas")
             & (rows["role"] == "primary")].iloc[0]
    assert r["verdict"] == "confirmed" and r["resolution"] == "hour"
    assert r["uncertain_from"] <= T("2022-01-07T03:00Z") < r["uncertain_to"]
    assert r["n_before"] == 10 and r["p_value"] < 0.01


def test_a_change_inside_a_data_gap_wider_than_the_window_is_insufficient(case, events):
    # no test from 2 Jan 18:00Z to 6 Jan 18:00Z: the block (4 Jan 06:00Z) could lie anywhere
    # in those four days, of which the documented day is only one
    rows, _ = _align(case, events, _tidy(case, gap=(T("2022-01-02T18:00Z"), T("2022-01-06T18:00Z"))))
    r = rows[(rows["event"] == "kz-02-messengers") & (rows["signal"] == "telegram")].iloc[0]
    assert r["verdict"] == "insufficient-evidence"
    assert r["uncertain_from"] <= T("2022-01-02T18:00Z") and r["uncertain_to"] >= T("2022-01-06T18:00Z")
    assert "wider than the window" in r["reason"]
