"""Detection group by group (whole entities per group, streamed from a Parquet table
written one row group per group) and on Dask over a partitioned dataset (one file per
source and entity) finds exactly what detection on the whole table finds."""
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
    assert baseline[0] == tidy["ts_utc"].min()          # run_dataset's default is the same
    whole = detect.run(tidy, window, baseline, tz="Asia/Almaty")
    assert len(whole.intervals) >= 12                       # the planted cuts were found at all
    codes = list(tidy["entity_code"].cat.categories)
    groups = [tidy[tidy["entity_code"].isin(codes[i:i + 2])] for i in range(0, len(codes), 2)]
    path = store.write_grouped_table(iter(groups), tmp_path / "t.parquet")
    assert store.table_time_range(path)[0] == tidy["ts_utc"].min()
    _same(detect.run_groups(store.read_table_groups(path), window, baseline, tz="Asia/Almaty"), whole)


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def mixed():
    """Every kind of series: IODA, OONI (anomaly shares derived per test), Atlas (reachable
    shares), three entities, a cut and a block, and missing values in several files."""
    import numpy as np
    from shutdown.schema import keyed
    from synthetic import T0, Block, Cut, Spec, make_tidy
    spec = Spec(entities=(("country", "XX"), ("asn", "64500"), ("region", "1234")),
                cuts=(Cut(T0 + pd.Timedelta(days=16), T0 + pd.Timedelta(days=16, hours=8),
                          entities=(("asn", "64500"),)),),
                blocks=(Block(T0 + pd.Timedelta(days=17), T0 + pd.Timedelta(days=18)),))
    tidy = make_tidy(spec)
    tidy.loc[tidy.sample(50, random_state=1).index, "value"] = np.nan
    return keyed(tidy), (T0 + pd.Timedelta(days=14), spec.end)


def test_dask_dataset_equals_whole_table(mixed, cluster, tmp_path):
    tidy, window = mixed
    whole = detect.run(tidy, window, None, tz="Asia/Almaty")
    assert len(whole.intervals) >= 6 and len(whole.changes) and len(whole.evidence)
    # written in two tables (by source), one of them twice: merged, nothing doubled
    ioda = tidy[tidy["source"] == "ioda"]
    path = store.write_dataset([ioda, tidy[tidy["source"] != "ioda"], ioda], tmp_path / "ds")
    # one file per source and entity (regions have IODA only)
    assert len(store.dataset_files(path)) == len(tidy.groupby(list(store.DATASET_KEY), observed=True)) == 7
    got = detect.run_dataset(path, window, None, tz="Asia/Almaty", scheduler=cluster.scheduler_address)
    assert got.notes == whole.notes and "50 rows without a value" in got.notes[0]
    for name in ("intervals", "series", "evidence", "changes"):
        w, g = getattr(whole, name), getattr(got, name)
        cols = [c for c in ("source", "entity_type", "entity_code", "signal", "subtype",
                            "start_utc", "transition_utc", "edge", "resolution") if c in w]
        pd.testing.assert_frame_equal(_sorted(g, cols), _sorted(w, cols))   # dtypes too
    cols = ["entity_type", "entity_code", "start_utc"]
    pd.testing.assert_frame_equal(_sorted(got.fused, cols), _sorted(whole.fused, cols))
    assert set(got.counts) == set(whole.counts)


@pytest.mark.parametrize("where", ["in-process", "cluster"])
def test_datasets_each_equal_their_table(mixed, cluster, tmp_path, where, monkeypatch):
    """``run_datasets`` (a survey's records: one dataset each, its own window and zone)
    gives each the Detection ``run`` gives on its table, detail included (alignment reads
    ``rows``): in this process (a small run) and on a cluster, with the same tasks."""
    import numpy as np
    tidy, (w0, w1) = mixed
    t0 = tidy["ts_utc"].min()
    country = tidy[tidy["entity_type"] == "country"]
    others = tidy[tidy["entity_type"] != "country"]
    jobs = [(country, (w0, w1), (t0, w0), "Asia/Almaty"),
            (others, (w0 + pd.Timedelta(days=2), w1), (t0 + pd.Timedelta(days=1), w0), "UTC")]
    paths = [store.write_dataset([t], tmp_path / f"ds{i}") for i, (t, *_) in enumerate(jobs)]
    if where == "in-process":          # no cluster named, few rows: Dask is never asked
        monkeypatch.setattr("shutdown.detect.cluster.client", None)
    got = detect.run_datasets([(p, w, b, tz) for p, (_, w, b, tz) in zip(paths, jobs)],
                              scheduler=cluster.scheduler_address if where == "cluster" else None)
    assert len(got) == 2
    for g, (t, w, b, tz) in zip(got, jobs):
        want = detect.run(t, w, b, tz=tz)
        assert len(want.intervals) and g.notes == want.notes and g.window == want.window
        for name in ("intervals", "series", "evidence", "changes", "fused"):
            pd.testing.assert_frame_equal(getattr(g, name), getattr(want, name))
        assert set(g.rows) == set(want.rows) and len(want.rows["key"])
        for k, v in want.rows.items():
            np.testing.assert_array_equal(g.rows[k], v)
        pd.testing.assert_frame_equal(g.series_set.keys, want.series_set.keys)
    if where == "cluster":
        from distributed import Client
        with Client(cluster) as c:
            assert c.run_on_scheduler(lambda dask_scheduler: "judge_jobs" in dask_scheduler.task_prefixes)


def test_dataset_refuses_mixing_simulated_and_measured(mixed, tmp_path):
    tidy, _ = mixed
    store.write_dataset([tidy.head(100)], tmp_path / "ds")
    with pytest.raises(InputError, match="holds simulated data and this table is measured"):
        store.write_dataset([tidy.head(100).assign(simulated=False)], tmp_path / "ds")
    with pytest.raises(InputError, match="not a dataset"):
        detect.run_dataset(tmp_path / "nothing", (0, 1))


def test_unreachable_scheduler_is_one_line(mixed, tmp_path, monkeypatch):
    tidy, window = mixed
    path = store.write_dataset([tidy.head(100)], tmp_path / "ds")
    monkeypatch.setenv("SHUTDOWN_SCHEDULER", "tcp://127.0.0.1:9")      # read when none is given
    monkeypatch.setattr("shutdown.detect.cluster.CONNECT_TIMEOUT", "1s")
    with pytest.raises(InputError, match=r"tcp://127.0.0.1:9: field 'scheduler': cannot reach"):
        detect.run_dataset(path, window)


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


def test_cli_detect_dataset(tmp_path):
    """``shutdown detect CASE --dataset DIR``: the same intervals as ``--table`` (on a cluster
    started on this machine, the default)."""
    import io
    from typer.testing import CliRunner
    from shutdown.cli import app
    from shutdown import pipeline
    tidy = pipeline.load_inputs("kz-2022-01", demo=True).tidy
    tidy.to_parquet(tmp_path / "t.parquet")
    store.write_dataset([tidy], tmp_path / "ds")
    r = CliRunner()
    a = r.invoke(app, ["detect", "kz-2022-01", "--table", str(tmp_path / "t.parquet"), "-f", "csv"])
    b = r.invoke(app, ["detect", "kz-2022-01", "--dataset", str(tmp_path / "ds"), "-f", "csv"])
    assert a.exit_code == b.exit_code == 0, b.output
    cols = ["source", "entity_code", "signal", "subtype", "start_utc"]
    ia, ib = (_sorted(pd.read_csv(io.StringIO(x.stdout)), cols) for x in (a, b))
    assert len(ia) >= 3
    pd.testing.assert_frame_equal(ib, ia)
    bad = r.invoke(app, ["detect", "kz-2022-01", "--scheduler", "tcp://127.0.0.1:9"])
    assert bad.exit_code == 2 and "give --dataset DIR too" in bad.stderr
