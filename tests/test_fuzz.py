"""Issue 24: random JSON of each upstream's shape fed to every parser, and random damage to a
report's manifest and sidecars fed to ``check``. The contract: an answer the source's own
check (``validate``, what ``collect`` judges an answer by before caching it) accepts is
parsed without an exception, and every number kept is a sane one; anything else is the
tool's own error (InputError, SourceError), never a traceback. Example counts are modest
(the suite stays fast); a failure prints the example that broke it."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shutdown.errors import InputError
from shutdown.http import SourceError

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OWN_ERRORS = (InputError, SourceError)

# Any JSON value, numbers included at their most hostile (huge, negative, non-finite).
numbers = st.one_of(st.integers(min_value=-2 ** 70, max_value=2 ** 70),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, 1, -1, 1e300, -1e300, 300, 1641319200, 2 ** 63]))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
json_values = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=8), kids, max_size=4)), max_leaves=12)


def shaped(fields: dict):
    """Objects with the upstream's keys, each either a plausible value or any JSON value,
    sometimes missing."""
    return st.fixed_dictionaries({}, optional={k: st.one_of(v, json_values) for k, v in fields.items()})


def sane(values) -> bool:
    v = np.asarray(values, dtype="float64")
    v = v[~np.isnan(v)]
    return bool(((v >= 0) & (v < 1e15)).all())


# --- IODA -----------------------------------------------------------------------------
ioda_series = shaped({"entityType": st.just("country"), "entityCode": st.just("KZ"),
                      "datasource": st.sampled_from(["bgp", "ping-slash24", "merit-nt", "gtr"]),
                      "subtype": st.just(""), "from": numbers, "step": numbers, "nativeStep": numbers,
                      "values": st.lists(st.one_of(numbers, st.none(), json_values), max_size=12)})
ioda_envelope = shaped({"type": st.just("signals"), "error": st.one_of(st.none(), st.text(max_size=5)),
                        "requestParameters": st.dictionaries(st.text(max_size=5), scalars, max_size=3),
                        "data": st.lists(st.one_of(st.lists(ioda_series, max_size=3), json_values),
                                         max_size=3)})


@FUZZ
@given(ioda_envelope)
def test_ioda_signals(obj):
    from shutdown.sources import ioda
    if ioda.check_signals(obj) is not None:
        return
    df = ioda.parse_signals(obj)
    assert sane(df["value"]) and df["ts_utc"].notna().all()


@FUZZ
@given(shaped({"data": st.lists(shaped({"time": numbers, "location": st.text(max_size=10),
                                        "start": numbers, "duration": numbers, "score": numbers,
                                        "entity": json_values, "datasource": st.text(max_size=5),
                                        "level": st.text(max_size=5),
                                        "overlaps_window": st.booleans()}), max_size=4),
               "requestParameters": st.dictionaries(st.just("until"), numbers)}))
def test_ioda_outages_and_entities(obj):
    from shutdown.sources import ioda
    if ioda.check_envelope(obj) is not None:
        return
    for df in (ioda.parse_alerts(obj), ioda.parse_events(obj), ioda.parse_entities(obj)):
        assert isinstance(df, pd.DataFrame)


# --- OONI -----------------------------------------------------------------------------
ooni_row = shaped({"measurement_start_day": st.one_of(st.just("2022-01-05T01:00:00Z"), st.text(max_size=10)),
                   "measurement_count": numbers, "ok_count": numbers, "anomaly_count": numbers,
                   "confirmed_count": numbers, "failure_count": numbers,
                   "probe_asn": st.one_of(numbers, st.just("AS9198"))})


@FUZZ
@given(shaped({"v": numbers, "dimension_count": numbers, "result": st.lists(ooni_row, max_size=5)}))
def test_ooni_aggregation(obj):
    from shutdown.sources import ooni_api
    if ooni_api.check_aggregation(obj) is not None:
        return
    hours = pd.date_range("2022-01-05T00:00Z", periods=4, freq="h")
    grid = ooni_api.hourly_counts(obj, hours, [9198])
    assert sane(grid.ravel())
    # an outcome never outnumbers the measurements it is counted among
    total, parts = grid[..., 0], grid[..., 1:]
    assert not (np.nan_to_num(parts) > np.nan_to_num(total)[..., None] + 1e-9).any()


# --- RIPE Atlas -----------------------------------------------------------------------
atlas_result = shaped({"type": st.just("ping"), "prb_id": numbers, "timestamp": numbers,
                       "rcvd": st.one_of(numbers, st.text(max_size=3)), "dst_addr": st.just("1.1.1.1")})


@FUZZ
@given(st.one_of(st.lists(atlas_result, max_size=5), json_values))
def test_atlas_results(obj):
    from shutdown.sources import atlas
    from shutdown.sources.atlas_reduce import body_result_arrays, result_arrays
    if atlas._check_results(obj) is not None:
        return
    for arr in (result_arrays(obj), body_result_arrays(json.dumps(obj).encode())[0]):
        ok = np.isfinite(arr.timestamp)
        assert ((arr.timestamp[ok] > 1e9) & (arr.timestamp[ok] < 5e9)).all()
        assert (arr.prb_id >= -1).all()


@FUZZ
@given(shaped({"count": numbers, "next": st.one_of(st.none(), st.text(max_size=5)),
               "results": st.lists(shaped({"id": numbers, "asn_v4": numbers, "country_code": st.just("KZ"),
                                           "status": json_values, "tags": json_values,
                                           "geometry": json_values, "status_since": numbers}),
                                   max_size=4)}))
def test_atlas_probe_listing(obj):
    from shutdown.sources import atlas
    from shutdown.sources.atlas_reduce import probe_frame
    if atlas._check_listing(obj) is not None:
        return
    probe_frame(obj["results"])


# --- Cloudflare Radar, Tor Metrics, OONI Findings ---------------------------------------
radar_series = shaped({"timestamps": st.lists(st.one_of(st.just("2022-01-05T00:00:00Z"), st.text(max_size=8),
                                                        numbers), max_size=4),
                       "values": st.lists(st.one_of(numbers, st.text(max_size=4)), max_size=4)})


@FUZZ
@given(shaped({"success": st.booleans(), "errors": json_values,
               "result": shaped({"serie_0": radar_series, "main": radar_series, "meta": json_values,
                                 "annotations": json_values, "trafficAnomalies": json_values})}))
def test_radar(obj):
    from shutdown.sources import radar, radar_anomalies
    if radar.check_timeseries(obj) is None:
        ts, v = radar.parse_timeseries(obj)
        assert len(ts) == len(v)
    if radar.check_annotations(obj) is None:
        radar.parse_annotations(obj)
    if radar_anomalies.check(obj) is None:
        radar_anomalies.parse(obj)


@FUZZ
@given(st.lists(st.lists(st.one_of(st.text(max_size=10), numbers.map(str)), min_size=0, max_size=7),
                max_size=6))
def test_tor_csv(rows):
    from shutdown.sources import tor
    text = "date,country,users,lower,upper,frac\n" + "\n".join(",".join(r) for r in rows)
    if tor.check(text) is None:
        for day in tor.parse(text):
            assert all(not isinstance(v, float) or not math.isinf(v) for v in day.values())


@FUZZ
@given(st.one_of(json_values, st.lists(json_values, max_size=3),
                 shaped({"incidents": st.lists(json_values, max_size=3)})))
def test_ooni_findings(obj):
    from shutdown.sources import ooni_findings
    if ooni_findings.check(obj) is None:
        ooni_findings.parse(obj)


# --- check: the manifest and the sidecars ---------------------------------------------
from test_check import base, repo_root  # noqa: E402,F401

KEYS = st.sampled_from(["case", "figures", "inputs", "simulated", "charts", "verdicts",
                        "expectations", "reports", "cache_root", "case_file"])
FIG_KEYS = st.sampled_from(["name", "files", "sidecar", "render_key"])
SIDE_KEYS = st.sampled_from(["events", "inputs", "x_range_utc", "simulated", "data", "png_size",
                             "figure", "detected"])


@pytest.fixture(scope="module")
def report_copy(base, tmp_path_factory):
    import shutil
    dst = tmp_path_factory.mktemp("fuzz") / "r"
    shutil.copytree(base, dst)
    m = json.loads((dst / "out/manifest.json").read_text())
    m["case_file"], m["cache_root"] = str(dst / "cases/kz-2022-01.toml"), str(dst / "cache")
    (dst / "out/manifest.json").write_text(json.dumps(m))
    return dst


def _checked(out):
    from shutdown import check
    try:
        res = check.check_dir(out, recompute=False)
    except OWN_ERRORS:
        return
    assert isinstance(res.failures, list)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=KEYS, fig_key=FIG_KEYS, value=json_values, where=st.sampled_from(["top", "figure"]))
def test_check_survives_any_manifest_field(report_copy, key, fig_key, value, where):
    mp = report_copy / "out/manifest.json"
    good = mp.read_text()
    m = json.loads(good)
    if where == "top":
        m[key] = value
    else:
        m["figures"][0][fig_key] = value
    try:
        mp.write_text(json.dumps(m))
        _checked(report_copy / "out")
    finally:
        mp.write_text(good)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=SIDE_KEYS, value=json_values, in_event=st.booleans())
def test_check_survives_any_sidecar_field(report_copy, key, value, in_event):
    sp = report_copy / "out/figures/overview.json"
    good = sp.read_text()
    side = json.loads(good)
    if in_event and side.get("events"):
        side["events"][0][key] = value
    else:
        side[key] = value
    try:
        sp.write_text(json.dumps(side))
        _checked(report_copy / "out")
    finally:
        sp.write_text(good)
