"""The pipeline every entry point runs: load a case's inputs once, then analyse them.

    from shutdown import pipeline
    inputs = pipeline.load_inputs("kz-2022-01", demo=True)     # case, events, tidy table, cache
    result = pipeline.analyse(inputs)                           # detection, alignment, verdicts
    result.summary, result.expectations, result.unexplained

Both return the one record every stage fills in (``shutdown.result.Result``).
``load_inputs`` is the one place that reads the tidy table (from ``--table``, the
simulated demo cache, the cache, or -- with ``collect=True`` -- the table ``collect``
just built from the live APIs through the cache) and refuses to mix simulated and measured data for every entry point (with
``store.simulated_only``, the one check, which ``normalize.load_table`` also applies to
a stored table).
``analyse`` is the one wiring of detection (measurements only) into alignment (where
the timeline meets them). The commands, ``report``, ``check`` and the notebooks call
these two; none wires the stages itself.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from shutdown.errors import InputError
from shutdown.result import Result

# --------------------------------------------------------------------------- inputs
def load_inputs(case, *, cache=None, table=None, demo: bool = False, collect: bool = False,
                refresh: bool = False, progress: bool | None = None, budget=None) -> Result:
    """The case (a name, a path or a Case), its timeline and its tidy table, from one of:
    ``table`` (a Parquet or CSV file), ``demo`` (the simulated cache of the case's
    scenario, built once), ``collect`` (the live APIs, cache first; ``refresh``
    refetches; ``budget``: a ``shutdown.budget.Budget``, the time collecting may take) or else
    the cache as it is (``cache``: a directory, a RawCache or None
    for the default). Refuses simulated and measured data together (InputError)."""
    from shutdown.case import as_case
    from shutdown.normalize import load_table
    from shutdown.store import RawCache, as_cache
    from shutdown.timeline import load_timeline

    c = as_case(case)
    events = load_timeline(c.timeline_path, case=c)       # a bad timeline fails before collecting
    if demo and (table is not None or cache is not None):
        raise InputError("--demo uses its own simulated cache; do not combine it with "
                         "--table or --cache")
    if table is not None and (collect or refresh):
        raise InputError("--table reads a table file; it cannot be combined with collecting")
    if collect:
        from shutdown.collect import collect_case
        raw = as_cache(cache)
        return collected(c, raw, collect_case(c, cache=raw, refresh=refresh, progress=progress,
                                              budget=budget), events)
    raw, status = None, []
    if table is not None:
        tidy = read_table_file(table)
    elif demo:
        from shutdown.simulate import demo_cache
        raw = RawCache(demo_cache(c))
        if not raw.simulated:
            raise InputError("the demo cache is not marked simulated; refusing to label it",
                             path=raw.root)
        tidy = load_table(c, raw)
        status = [{"source": s, "status": "simulated", "message": "offline demo: simulated responses"}
                  for s in c.sources]
    else:
        raw = as_cache(cache)
        tidy = load_table(c, raw)
    notes = []
    if len(tidy) == 0:
        where = f" in {raw.root}" if raw is not None else ""
        notes.append(f"no data for {c.name}{where}: run `shutdown collect {c.name}` or use --demo")
    return _record(c, events, tidy, raw, status, demo=demo, notes=notes)


def collected(case, raw, report, events=None) -> Result:
    """The record of a case just collected into ``raw``: ``report`` is what
    ``collect.collect_case`` returned, with the tidy table it built (and wrote) -- taken as
    it is, not read back. Each source's status is the collection's; ``events``: the case's
    timeline, when read already."""
    from shutdown.case import as_case
    from shutdown.timeline import load_timeline
    case = as_case(case)
    status = [{"source": s.source, "status": s.status, "message": s.message,
               "requests": s.requests, "cache_hits": s.cache_hits, "rows": s.rows}
              for s in report.sources]
    events = load_timeline(case.timeline_path, case=case) if events is None else events
    if report.table is not None:
        tidy = report.table
    else:                       # a report made elsewhere, without its table: the cache's
        from shutdown.normalize import load_table
        tidy = load_table(case, raw)
    return _record(case, events, tidy, raw, status,
                   complete=all(s.complete for s in report.sources))


def _record(case, events, tidy, raw, status, notes=(), **kw) -> Result:
    """The record of ``case``'s inputs, its tidy table keyed for analysis; refuses simulated
    and measured data together (``store.simulated_only``)."""
    from shutdown.schema import keyed
    from shutdown.store import simulated_only
    present = set(tidy["source"].astype(str).unique()) if len(tidy) else set()
    notes = [*notes, *(f"no data at all from {s}: its signals are not measurable"
                       for s in case.sources if len(tidy) and s not in present)]
    return Result(case=case, events=events, tidy=keyed(tidy),
                  raw=raw, source_status=status, simulated=simulated_only(tidy, raw), notes=notes, **kw)


def read_table_file(path) -> pd.DataFrame:
    """A tidy table from a Parquet or CSV file (``--table``)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError("table file not found", path=p)
    try:
        if p.suffix in (".csv", ".gz") or p.name.endswith(".csv.gz"):
            df = pd.read_csv(p)
        else:
            df = pd.read_parquet(p)
    except Exception as exc:       # pyarrow/parse errors differ by version: one message
        raise InputError(f"cannot read the table ({type(exc).__name__}: {exc}); expected "
                         "Parquet or CSV with the tidy columns", path=p) from None
    from shutdown.schema import TIDY_COLUMNS
    missing = [c for c in TIDY_COLUMNS if c not in df.columns and c != "unit"]
    if missing:
        raise InputError(f"not a tidy table: lacks columns {missing}", path=p)
    if "unit" not in df:
        df["unit"] = ""
    # a value or a time that is not one is a damaged table, named here (not a silent gap)
    value = pd.to_numeric(df["value"], errors="coerce")
    bad = value.isna() & df["value"].notna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(f"{int(bad.sum())} value(s) are not numbers (first: row {i + 1}, "
                         f"{str(df['value'].iloc[i])[:30]!r})", path=p, field="value")
    ts = pd.to_datetime(df["ts_utc"], utc=True, errors="coerce", format="ISO8601")
    bad = ts.isna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(f"{int(bad.sum())} time(s) are not UTC timestamps (first: row {i + 1}, "
                         f"{str(df['ts_utc'].iloc[i])[:30]!r})", path=p, field="ts_utc")
    return df.assign(value=value.astype("float64"), ts_utc=ts)


# --------------------------------------------------------------------------- analysis
def detect(inputs: Result, thresholds=None):
    """Detection alone (``detect.Detection``): reads the measurements, never the timeline."""
    from shutdown import detect as D
    case = inputs.case
    return D.run(inputs.tidy, case.window_utc, case.baseline_utc, tz=case.timezone,
                 thresholds=thresholds)


def detect_dataset(case, dataset, scheduler=None, thresholds=None):
    """Detection of ``case``'s window over a partitioned dataset (``store.write_dataset``),
    on Dask (``detect.run_dataset``; ``scheduler``: a running cluster, default this machine)."""
    from shutdown import detect as D
    from shutdown.case import as_case
    c = as_case(case)
    return c, D.run_dataset(dataset, c.window_utc, c.baseline_utc, tz=c.timezone,
                            thresholds=thresholds, scheduler=scheduler)


def detect_datasets(cases_and_datasets, scheduler=None, thresholds=None) -> list:
    """Detection of several cases, each over its own partitioned dataset with its window,
    baseline and zone (a survey's records): ``detect.run_datasets``, on Dask (``scheduler``,
    default ``$SHUTDOWN_SCHEDULER``; a LocalCluster for many rows) or, for a small run, the
    same tasks in this process. One ``detect.Detection`` per case, in order."""
    from shutdown import detect as D
    from shutdown.case import as_case
    cs = [(as_case(c), d) for c, d in cases_and_datasets]
    return D.run_datasets([(d, c.window_utc, c.baseline_utc, c.timezone) for c, d in cs],
                          thresholds=thresholds, scheduler=scheduler)


def analyse(inputs: Result, thresholds=None, detection=None, detected=None) -> Result:
    """``inputs`` (``load_inputs``) with its analysis: detection (measurements only), then
    alignment (where the timeline meets them), in a new record (the inputs' own is left as
    it is, so one record can be analysed several ways).
    ``thresholds``: a ``detect.thresholds.Thresholds`` or a dict of names to replace
    for this analysis (e.g. ``{"K_NOISE": 5.0}``); alignment judges with the same.
    ``detection``: one already run on these measurements (``detect_datasets``), else
    detection runs here. ``detected(record)``, if given, is called between the two with
    the record as far as detection takes it (detection, other documenters), so the report
    starts drawing the figures that need no alignment."""
    from shutdown import align as A

    case, events = inputs.case, inputs.events
    det = detection if detection is not None else detect(inputs, thresholds)
    found = inputs.replace(detection=det, others=other_documenters(case, events, det.fused, inputs.raw))
    if detected is not None:
        detected(found)
    rows = with_detected_span(A.align(events, det, case), det.intervals)
    summary = A.summarize(rows, events)
    expected = A.expectation_results(case, summary, rows)
    return found.replace(alignment=rows, summary=summary,
                         unexplained=A.unexplained(events, det.fused, case),   # where sources agree
                         expectation_table=expected, expectations=expectations_as_dicts(expected, case))


def with_detected_span(rows: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """Add the detected interval behind each verdict: the interval of the same series
    that starts or ends at the row's transition time."""
    rows = rows.copy()
    rows["det_start_utc"] = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns, UTC]")
    rows["det_end_utc"] = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns, UTC]")
    if intervals is None or len(intervals) == 0 or "transition_utc" not in rows:
        return rows
    keys = ["source", "signal", "subtype", "entity_type", "entity_code"]
    metric = intervals["metric"].astype(str).to_numpy() if "metric" in intervals else None
    by_key: dict = {}             # the intervals of each series, found once
    for i, k in enumerate(zip(*(intervals[c].astype(str).to_numpy() for c in keys))):
        by_key.setdefault(k, []).append(i)
    start, end = (pd.DatetimeIndex(intervals[c]).as_unit("ns").asi8 for c in ("start_utc", "end_utc"))
    for i, r in rows[rows["transition_utc"].notna()].iterrows():
        ix = by_key.get(tuple(str(r.get(k, "")) for k in keys), [])
        if metric is not None and isinstance(r.get("metric"), str) and r.get("metric"):
            ix = [j for j in ix if metric[j] == r["metric"]]
        t = r["transition_utc"].value
        hit = [j for j in ix if start[j] == t or end[j] == t]
        if hit:
            rows.at[i, "det_start_utc"] = intervals["start_utc"].iloc[hit[0]]
            rows.at[i, "det_end_utc"] = intervals["end_utc"].iloc[hit[0]]
    return rows


def expectations_as_dicts(res: pd.DataFrame, case) -> list[dict]:
    notes = {e.event: e.note for e in case.expectations}
    out = []
    for r in res.to_dict("records"):
        out.append({"event": r["event"], "ok": bool(r["ok"]), "verdict": r["verdict"],
                    "verdicts": [v for v in str(r["required"]).split(",") if v],
                    "min_sources": int(r["min_sources"]),
                    "sources": [x for x in str(r["sources"] or "").split(",") if x],
                    "found": f"{r['verdict'] or 'no verdict'} by {int(r['n_sources'])} independent "
                             f"source(s) ({(r['sources'] or 'none').replace(',', ', ')})"
                             if r["verdict"] is not None else r["message"],
                    "note": notes.get(r["event"], "")})
    return out


def other_documenters(case, events, fused, raw) -> pd.DataFrame | None:
    """What other documenters (a source's own outage records) say, against the report
    and the data (``shutdown.documenters``; ``fused``: the detection's outages where
    sources agree); None when no source of the case documents or there is no raw cache
    (a table file)."""
    from shutdown import documenters
    if raw is None:
        return None
    found = documenters.documented(case, raw)
    if not found:
        return None
    return pd.concat([documenters.compare(events, df, fused, case, title) for title, df in found],
                     ignore_index=True)
