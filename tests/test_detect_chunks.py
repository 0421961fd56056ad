"""Detection judges a big table a chunk of whole series at a time and reads the table's
own columns where it can: neither may change what it finds."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shutdown import detect
from shutdown.detect import series as S
from synthetic import Block, Cut, Spec, T0, large_table, make_tidy


def _run(tidy, tz="Asia/Almaty"):
    w0 = T0 + pd.Timedelta(days=14)
    return detect.run(tidy, (w0, T0 + pd.Timedelta(days=21)), (T0, w0), tz=tz)


def _same(a, b):
    for name in ("intervals", "series", "fused", "changes", "evidence"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.notes == b.notes
    assert a.rows.keys() == b.rows.keys()
    for c in a.rows:
        np.testing.assert_array_equal(a.rows[c], b.rows[c])


@pytest.fixture(scope="module")
def mixed():
    """IODA, OONI (shares pooled over hours) and Atlas series of two entities, with a
    partial cut, a full cut and a messenger block."""
    day = lambda d, h: T0 + pd.Timedelta(days=d, hours=h)          # noqa: E731
    return make_tidy(Spec(entities=(("country", "XX"), ("asn", "1234")),
                          cuts=(Cut(day(16, 10), day(16, 16), 0.3), Cut(day(18, 2), day(18, 5), 0.0)),
                          blocks=(Block(day(17, 0), day(19, 0)),)))


def test_chunks_of_one_series_find_what_one_chunk_finds(mixed, monkeypatch):
    whole = _run(mixed)
    assert len(whole.intervals) >= 3 and whole.rows          # found the cuts, kept the bins
    monkeypatch.setattr(S, "CHUNK_ROWS", 1)                   # every series a chunk alone
    _same(whole, _run(mixed))


def test_chunks_hold_whole_series_and_every_series_once():
    counts = np.array([5, 0, 7, 3, 12, 1])
    spans = S.chunks(counts, size=8)
    assert spans[0][0] == 0 and spans[-1][1] == len(counts)
    assert all(a < b for a, b in spans) and all(b == c for (_, b), (c, _) in zip(spans, spans[1:]))
    # no chunk but a single big series holds more than the size asked for
    assert all(counts[a:b].sum() <= 8 or b - a == 1 for a, b in spans)


def test_bounds_are_each_series_rows_in_the_span(mixed):
    s = S.build(mixed)
    t0, t1 = (T0 + pd.Timedelta(days=3)).value, (T0 + pd.Timedelta(days=9)).value
    lo, hi = s.bounds(t0, t1)
    key = np.repeat(np.arange(len(s.keys)), np.diff(s.starts))
    inside = (s.ts >= t0) & (s.ts < t1)
    assert np.array_equal(hi - lo, np.bincount(key[inside], minlength=len(s.keys)))
    rows = S.row_index(lo, hi)
    assert np.array_equal(rows, np.flatnonzero(inside))       # the same rows, in order


@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_time_unit_and_zone_of_the_table_do_not_matter(unit):
    tidy, _ = large_table(n_entities=3, days=21, seed=5)
    ns = tidy.assign(ts_utc=tidy["ts_utc"].dt.as_unit("ns"))
    other = tidy.assign(ts_utc=tidy["ts_utc"].dt.as_unit(unit))
    naive = tidy.assign(ts_utc=tidy["ts_utc"].dt.tz_localize(None).dt.as_unit(unit))
    ref = _run(ns)
    assert len(ref.intervals)
    _same(ref, _run(other))
    _same(ref, _run(naive))                                   # naive times are UTC


def test_a_label_no_category_has_selects_nothing():
    col = pd.Series(pd.Categorical(["ioda", "ooni", None, "ioda"]))
    assert S.label_mask(col, ("atlas",)).tolist() == [False] * 4
    assert S.label_mask(col, ("ooni", "x")).tolist() == [False, True, False, False]
    assert S.label_mask(col.astype(object), ("ioda",)).tolist() == [True, False, False, True]
