"""Detection group by group (whole entities per group, streamed from a Parquet table
written one row group per group) finds exactly what detection on the whole table finds."""
from __future__ import annotations

import pandas as pd
import pytest

from shutdown import detect, store
from shutdown.errors import InputError
from synthetic import large_table


def _sorted(df, cols):
    return df.sort_values(cols).reset_index(drop=True)


@pytest.fixture(scope="module")
def table():
    tidy, truth = large_table(n_entities=6, days=30, seed=3)
    start = tidy["ts_utc"].min()
    return tidy, (start + pd.Timedelta(days=14), start + pd.Timedelta(days=30)), (start, start + pd.Timedelta(days=14))


def test_groups_from_parquet_equal_whole_table(table, tmp_path):
    tidy, window, baseline = table
    assert baseline[0] == tidy["ts_utc"].min()          # run_table's default is the same
    whole = detect.run(tidy, window, baseline, tz="Asia/Almaty")
    assert len(whole.intervals) >= 12                       # the planted cuts were found at all
    codes = list(tidy["entity_code"].cat.categories)
    groups = [tidy[tidy["entity_code"].isin(codes[i:i + 2])] for i in range(0, len(codes), 2)]
    path = store.write_grouped_table(iter(groups), tmp_path / "t.parquet")
    assert store.table_time_range(path)[0] == tidy["ts_utc"].min()
    for got in (detect.run_groups(store.read_table_groups(path), window, baseline, tz="Asia/Almaty"),
                detect.run_table(path, window, None, tz="Asia/Almaty")):    # workers; baseline from the file
        _same(got, whole)


def _same(got, whole):
    keys = ["entity_code", "signal", "start_utc"]
    iv_w, iv_g = _sorted(whole.intervals, keys), _sorted(got.intervals, keys)
    for c in ("entity_code", "signal"):
        iv_w[c], iv_g[c] = iv_w[c].astype(str), iv_g[c].astype(str)
    pd.testing.assert_frame_equal(iv_g, iv_w, check_dtype=False, check_categorical=False)
    sk = ["entity_code", "signal"]
    ser_w, ser_g = _sorted(whole.series.astype({c: str for c in sk}), sk), _sorted(got.series.astype({c: str for c in sk}), sk)
    pd.testing.assert_frame_equal(ser_g, ser_w, check_dtype=False, check_categorical=False)
    assert len(got.fused) == len(whole.fused)
    assert got.notes == whole.notes


def test_groups_need_a_baseline(table):
    tidy, window, _ = table
    with pytest.raises(InputError, match="baseline: required"):
        detect.run_groups([tidy], window, None)
