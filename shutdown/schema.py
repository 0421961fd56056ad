"""The plain data passed between stages: column names, signal names, verdicts.

Every stage reads and writes pandas DataFrames with exactly these columns, so a
notebook can stop anywhere and look, and modules written by different people
fit together.

Tidy measurement table (``collect`` -> ``normalize``), one row per bin::

    source       a source's name (a module of shutdown/sources/ with a DECLARATION)
    entity_type  "country" | "region" | "asn"
    entity_code  "KZ" | the case's region name ("Almaty") | ASN as digits ("9198")
    signal       its source's DECLARATION["signals"] (shutdown/sources/registry.py)
    subtype      "" when the signal has none (gtr product, OONI outcome, Atlas probe class)
    ts_utc       bin start, datetime64[ns, UTC]
    value        float64 (NaN only if upstream said null)
    unit         human-readable unit
    simulated    bool: True for rows built from simulated payloads

Region codes differ per upstream; collectors map them to the case's region
*name*, so alignment can match an event scoped ``region:Almaty``.
"""
from __future__ import annotations

import pandas as pd

from shutdown import verdict as _verdict

TIDY_COLUMNS = ["source", "entity_type", "entity_code", "signal", "subtype",
                "ts_utc", "value", "unit", "simulated"]

ENTITY_TYPES = ("country", "region", "asn")

# OONI's circumvention tests (ooni/spec nettests ts-023 tor, ts-015 psiphon, ...); how
# OONI scores them: ooni/backend fastpath/fastpath/core.py (score_tor, score_vanilla_tor,
# score_torsf, score_psiphon: a failure to bootstrap is an anomaly; score_riseupvpn scores
# nothing since 2023-10-17, backend issue #745) at commit 32d8349d.
OONI_CIRCUMVENTION_TESTS = ("tor", "vanilla_tor", "torsf", "psiphon", "riseupvpn")
# Tests collected per network (one request each, split by probe_asn).
OONI_TESTS = ("web_connectivity", "telegram", "whatsapp", "signal", "facebook_messenger")
# Every test whose outcomes the table holds: the circumvention tests are collected for the
# country only, all in one request (sources/ooni_targeted.py).
OONI_ALL_TESTS = OONI_TESTS + OONI_CIRCUMVENTION_TESTS
# Per-domain web_connectivity outcomes: signal SITE_SIGNAL, subtype "<domain>/<outcome>".
SITE_SIGNAL = "site"
OONI_MESSENGER_TESTS = ("telegram", "whatsapp", "signal", "facebook_messenger")
OONI_OUTCOMES = ("ok", "anomaly", "confirmed", "failure")
ATLAS_PROBE_CLASSES = ("infrastructure", "end-user")

# IODA's own outage view (``/outages/alerts`` and ``/outages/events``), kept for comparison.
IODA_OUTAGE_COLUMNS = ["kind", "entity_type", "entity_code", "datasource", "start_utc",
                       "end_utc", "level", "score", "simulated"]

# Detected intervals (``detect``). depth = fraction of normal lost (1.0 = nothing left);
# level = fraction of normal remaining (median over the interval); direction is "down"
# for a loss of connectivity/volume, "up" for a rise (e.g. OONI anomaly share).
INTERVAL_COLUMNS = ["source", "entity_type", "entity_code", "signal", "subtype",
                    "start_utc", "end_utc", "depth", "level", "direction", "kind", "simulated"]
INTERVAL_KINDS = ("full", "partial")

# Alignment verdicts (``align``): their names, in order; what each means, its rank and its
# style are in shutdown/verdict.py.
VERDICTS = _verdict.NAMES


def empty_tidy() -> pd.DataFrame:
    return pd.DataFrame({
        "source": pd.Series(dtype="string"), "entity_type": pd.Series(dtype="string"),
        "entity_code": pd.Series(dtype="string"), "signal": pd.Series(dtype="string"),
        "subtype": pd.Series(dtype="string"),
        "ts_utc": pd.Series(dtype="datetime64[ns, UTC]"), "value": pd.Series(dtype="float64"),
        "unit": pd.Series(dtype="string"), "simulated": pd.Series(dtype="bool")})


TEXT_COLUMNS = ("source", "entity_type", "entity_code", "signal", "subtype", "unit")


def keyed(df: pd.DataFrame) -> pd.DataFrame:
    """The tidy table with its text columns as categoricals, for analysis: the same values,
    but a few hundred distinct strings over hundreds of thousands of rows group, mask and
    take several times faster as integer codes than as Arrow-backed strings (the warm
    report spent a third of its analysis in Arrow's take and iteration)."""
    todo = {c: "category" for c in TEXT_COLUMNS
            if c in df and not isinstance(df[c].dtype, pd.CategoricalDtype)}
    return df.astype(todo) if todo else df


def as_text(col: pd.Series) -> pd.Series:
    """A text column as Python strings, like ``astype(str)``; a categorical (``keyed``)
    through its categories, in a take, where ``astype(str)`` builds every row anew."""
    if isinstance(col.dtype, pd.CategoricalDtype) and not col.isna().any() and \
            all(isinstance(c, str) for c in col.cat.categories):
        return col.astype(object)
    return col.astype(str)


def check_tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Assert the tidy contract; return the frame with canonical dtypes and order."""
    missing = [c for c in TIDY_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"tidy table lacks columns {missing}")
    out = df[TIDY_COLUMNS].copy()
    for c in TEXT_COLUMNS:
        out[c] = out[c].astype("string")
    out["ts_utc"] = pd.to_datetime(out["ts_utc"], utc=True).astype("datetime64[ns, UTC]")
    out["value"] = out["value"].astype("float64")
    out["simulated"] = out["simulated"].astype("bool")
    return out
