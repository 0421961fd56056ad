"""The tidy table's content hash (``sidecar.tidy_sha256``, in every manifest): the same
for the same rows whatever their order and however the text columns are held (keyed
categoricals, Python strings, Arrow strings), and different when a value changes."""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown import sidecar
from shutdown.schema import TEXT_COLUMNS, keyed
from test_plot_fixtures import make_tidy


def _forms(tidy: pd.DataFrame):
    plain = tidy.copy()
    for c in TEXT_COLUMNS:
        plain[c] = plain[c].astype(str).astype(object)
    arrow = plain.copy()
    for c in TEXT_COLUMNS:
        arrow[c] = arrow[c].astype("string[pyarrow]")
    shuffled = keyed(plain).sample(frac=1.0, random_state=3)
    # categories in another order, and one more unused: the same strings per row
    recat = keyed(plain)
    recat["signal"] = recat["signal"].cat.add_categories(["zzz"]).cat.reorder_categories(
        ["zzz", *sorted(recat["signal"].cat.categories, reverse=True)])
    return {"plain": plain, "arrow": arrow, "keyed": keyed(plain), "shuffled": shuffled, "recat": recat}


def test_the_hash_depends_on_the_rows_not_on_how_they_are_held(case):
    tidy = make_tidy(case)
    hashes = {name: sidecar.tidy_sha256(df) for name, df in _forms(tidy).items()}
    assert len(set(hashes.values())) == 1, hashes


def test_a_changed_value_label_or_time_changes_the_hash(case):
    tidy = keyed(make_tidy(case))
    base = sidecar.tidy_sha256(tidy)
    v = tidy.copy()
    v.loc[v.index[7], "value"] += 1.0
    s = tidy.copy()
    s["subtype"] = s["subtype"].cat.rename_categories(
        {s["subtype"].cat.categories[0]: s["subtype"].cat.categories[0] + "x"})
    t = tidy.copy()
    t.loc[t.index[3], "ts_utc"] += pd.Timedelta(seconds=1)
    got = {sidecar.tidy_sha256(x) for x in (v, s, t)}
    assert base not in got and len(got) == 3


def test_text_with_missing_values_still_hashes(case):
    tidy = keyed(make_tidy(case)).head(50).copy()
    tidy["subtype"] = tidy["subtype"].astype(object)
    tidy.loc[tidy.index[:5], "subtype"] = np.nan
    a = sidecar.tidy_sha256(tidy)
    tidy["subtype"] = tidy["subtype"].astype("category")
    assert sidecar.tidy_sha256(tidy) == a
