"""The survey's driver: every selected record made a case, collected (cache first), detected and
aligned by the pipeline ``report`` runs (``pipeline.load_inputs``, ``pipeline.detect_datasets``,
``pipeline.analyse``: no detection or verdict logic of its own), one row per record.

Detection goes through the dataset path: each record's series are written as a partitioned
dataset (``DIR/series/<case>/``, one Parquet file per source and entity), and the records
collected are detected together, up to ``FLUSH_RECORDS`` at a time, on Dask
(``detect.run_datasets``: ``--scheduler`` / ``$SHUTDOWN_SCHEDULER``, else a LocalCluster when
they hold enough rows to repay its start, else the same tasks in this process).

Resumable: each row is written to ``DIR/rows/<case>.json`` (temporary file, then renamed) as
soon as it is judged, keyed by what it was judged from (the record, its case and timeline, the
options); a rerun keeps every row whose key still holds and judges the rest from the cache. A
source that fails for one record is noted in that row; a record whose sources all failed is a
``not-measurable`` row saying why, never a lost run. A spent run budget stops collecting;
the records already collected are detected and written first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from shutdown.documented.model import Documents
from shutdown.errors import InputError
from shutdown.store import atomic_write
from shutdown.survey import cases, demo as demo_world

COLUMNS = ["event_id", "documenter", "country", "scope", "area", "kind", "kinds",
           "documented_start", "documented_end", "precision", "timezone", "verdict", "n_sources",
           "sources", "transition_utc", "minutes_off", "evidence", "simulated", "case",
           "window_start_utc", "window_end_utc", "collected", "source_status", "notes", "citation"]


@dataclass
class Options:
    out: Path
    sources: list[str]
    demo: bool = False
    cache: str | None = None
    base_urls: dict = field(default_factory=dict)
    margin: int = cases.MARGIN_DAYS
    baseline: int = cases.BASELINE_DAYS
    refresh: bool = False
    fetcher_options: dict = field(default_factory=dict)
    budget: object = None        # shutdown.budget.Budget: per source per record, one run clock
    scheduler: str | None = None  # a running Dask cluster for detection (detect.run_datasets)

    def key(self) -> str:
        return json.dumps({"sources": self.sources, "demo": self.demo, "margin": self.margin,
                           "baseline": self.baseline}, sort_keys=True)


def _base_row(e) -> dict:
    r = e.to_record()
    return {"event_id": e.id, "documenter": e.documenter, "country": e.country, "scope": e.scope,
            "area": r["area"], "kind": e.kind, "kinds": ",".join(e.kinds),
            "documented_start": r["start"], "documented_end": r["end"] or "",
            "precision": e.precision, "timezone": e.timezone, "verdict": "", "n_sources": 0,
            "sources": "", "transition_utc": "", "minutes_off": None, "evidence": "",
            "simulated": False, "case": "", "window_start_utc": r["start_utc"],
            "window_end_utc": r["end_utc"], "collected": "", "source_status": "", "notes": "",
            "citation": e.citation}


@dataclass
class Pending:
    """A record collected and written as its dataset, waiting for detection."""
    row: dict
    case: object
    inputs: object
    dataset: Path
    kind: str                    # the timeline kind its case was given (shutdown, restriction)


def prepare(e, opts: Options) -> dict | Pending:
    """A record's row when it needs no detection (not judgeable, no country, no data),
    else its case collected (cache first) and its series written as a partitioned dataset
    (``DIR/series/<case>/``, ``store.write_dataset``: one file per source and entity)."""
    from shutdown.case import load_case
    row = _base_row(e)
    kind, scope, why = cases.judgeable(e)
    if not kind:
        row.update(verdict="not-measurable", evidence=why, simulated=opts.demo)
        return row
    if not e.country:
        row.update(verdict="not-measurable", simulated=opts.demo,
                   evidence=f"country {e.country_name!r} has no ISO 3166 code: no upstream asked")
        return row
    scen = None
    if opts.demo:
        scen = demo_world.write_scenario(e, opts.out / "scenarios")
    path = cases.write_case(e, opts.out / "cases", sources=opts.sources, margin=opts.margin,
                            baseline=opts.baseline)
    case = load_case(path)
    row["case"] = str(path.relative_to(opts.out))
    try:
        inputs = _inputs(case, opts, scen)
        inputs.require_data("nothing to judge")
    except InputError as exc:
        row.update(verdict="not-measurable", simulated=opts.demo,
                   evidence=f"no data: {str(exc)[:300]}", _complete=False)
        return row
    return Pending(row, case, inputs, write_series(inputs.tidy, opts.out / "series" / case.name), kind)


def write_series(tidy, path: Path) -> Path:
    """A record's tidy table as its own dataset, replacing what an earlier run wrote there
    (``write_dataset`` merges into existing files; a refetched table must not)."""
    import shutil
    from shutdown import store
    if path.exists():
        shutil.rmtree(path)
    return store.write_dataset([tidy], path)


def detect_pending(pending: list[Pending], scheduler=None) -> list[dict]:
    """The rows of records waiting for detection: each record's dataset detected with its
    case's window (``pipeline.detect_datasets``: one Dask run for them all, or this process
    for a small one), then aligned as ``report`` aligns (``pipeline.analyse``)."""
    from shutdown import pipeline
    dets = pipeline.detect_datasets([(p.case, p.dataset) for p in pending], scheduler=scheduler)
    return [finish(p, pipeline.analyse(p.inputs, detection=d)) for p, d in zip(pending, dets)]


def finish(p: Pending, res) -> dict:
    """A record's row from its analysis (``pipeline.analyse``: a ``result.Result``)."""
    row, case, inputs = p.row, p.case, p.inputs
    summary = res.summary[res.summary["event"] == case.name]
    s = summary.iloc[0].to_dict() if len(summary) else {}
    status = "; ".join(f"{x['source']}: {x.get('status')}" + (f" ({x['message'][:120]})"
                                                              if x.get("message") and x.get("status") not in ("ok", "complete", "simulated") else "")
                       for x in inputs.source_status)
    t = s.get("transition_utc")
    row.update(verdict=s.get("verdict") or "not-measurable", n_sources=int(s.get("n_sources") or 0),
               sources=s.get("sources") or "",
               transition_utc=t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None and t == t else "",
               minutes_off=None if s.get("minutes_off") is None or s.get("minutes_off") != s.get("minutes_off")
               else float(s["minutes_off"]),
               evidence=s.get("evidence") or "", simulated=bool(inputs.simulated),
               collected=",".join(sorted(set(inputs.tidy["source"].astype(str)))),
               source_status=status, notes="; ".join(res.notes + list(res.detection.notes))[:1000],
               _complete=inputs.complete)
    if not row["evidence"] and row["verdict"] == "not-measurable":
        row["evidence"] = (f"none of the sources collected ({row['collected'] or 'none'}) can see "
                           f"a {p.kind} of this scope")
    if row["verdict"].startswith("confirmed"):
        row["_series"] = _chart_rows(inputs, res, case)
    return row


def _inputs(case, opts: Options, scenario):
    from shutdown import pipeline
    if opts.demo:
        from shutdown.simulation.run import simulate
        root = opts.out / "demo-cache" / case.name
        simulate(scenario, case=case, cache_root=root)
        return pipeline.load_inputs(case, cache=str(root))
    from shutdown.collect import collect_case
    from shutdown.store import as_cache
    raw = as_cache(opts.cache)
    rep = collect_case(case, opts.sources, cache=raw, refresh=opts.refresh,
                       base_urls=opts.base_urls, progress=False,
                       fetcher_options=opts.fetcher_options or None, budget=opts.budget)
    return pipeline.collected(case, raw, rep)      # the table collect built, with its statuses


def _chart_rows(inputs, res, case) -> list[dict]:
    """The IODA connectivity series of the record's own entity (its region or network when it
    names one, else the country) as shares of their baseline median, hourly: what its small
    chart draws."""
    import pandas as pd
    tidy = inputs.tidy
    etype = "region" if case.regions else "asn" if case.networks else "country"
    keep = tidy[(tidy["entity_type"].astype(str) == etype)
                & (tidy["source"].astype(str) == "ioda")
                & tidy["signal"].astype(str).isin(["ping-slash24", "merit-nt", "bgp"])]
    if not len(keep):
        return []
    lo, _ = case.window_utc
    out = []
    keys = [keep["entity_code"].astype(str), keep["signal"].astype(str)]
    for (code, sig), g in keep.groupby(keys, observed=True):
        g = g.set_index(pd.DatetimeIndex(g["ts_utc"]))["value"].astype(float).resample("1h").mean()
        base = g[g.index < lo].median()
        if not base or base != base:
            continue
        for ts, v in g.items():
            out.append({"signal": f"ioda/{sig} {etype} {code}", "ts_utc": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "share_of_baseline": None if v != v else round(float(v / base), 4)})
    return out


def row_path(out: Path, e) -> Path:
    return out / "rows" / f"{cases.case_name(e)}.json"


# Records collected before their detection runs together (one Dask submission, or this
# process for a small one); their rows are written then. A kill loses at most these
# records' detection: their data is in the cache, and a rerun judges them again from it.
FLUSH_RECORDS = 64


def survey(docs: Documents, opts: Options, progress: bool | None = None) -> list[dict]:
    """Judge every record of ``docs`` (resuming from rows already judged); the rows."""
    from tqdm import tqdm
    opts.out.mkdir(parents=True, exist_ok=True)
    events = sorted(docs.events, key=lambda e: (str(e.start), e.id))
    names = [cases.case_name(e) for e in events]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})[0]
        raise InputError(f"two records make the same case name {dup!r}; select fewer records",
                         path=docs.path)
    rows: list = [None] * len(events)
    waiting: list = []            # (index, key, Pending)
    bar = tqdm(total=len(events), desc="survey", unit="record", disable=progress is False,
               leave=False)

    def keep(i, key, row):
        row["_key"] = key
        atomic_write(row_path(opts.out, events[i]), json.dumps(row, ensure_ascii=False, default=str).encode())
        rows[i] = row

    def flush():
        if waiting:
            for (i, key, _), row in zip(waiting, detect_pending([w[2] for w in waiting], opts.scheduler)):
                keep(i, key, row)
            waiting.clear()

    try:
        for i, e in enumerate(events):
            key = _key(e, opts)
            old = _read_row(row_path(opts.out, e))
            if old is not None and old.get("_key") == key and old.get("_complete", True) \
                    and not opts.refresh:
                rows[i] = old
            elif run_spent(opts):
                flush()
                raise BudgetStop([r for r in rows if r is not None], len(events))
            else:
                got = prepare(e, opts)
                if isinstance(got, Pending):
                    waiting.append((i, key, got))
                else:
                    keep(i, key, got)
                if len(waiting) >= FLUSH_RECORDS:
                    flush()
            bar.set_postfix_str(f"{e.id} {rows[i]['verdict'] if rows[i] else 'collected'}", refresh=False)
            bar.update(1)
        flush()
    finally:
        bar.close()
    return rows


class BudgetStop(Exception):
    """The run's time budget ran out between records: what is judged is kept."""

    def __init__(self, rows: list, total: int):
        self.rows = rows
        super().__init__(f"the run's time budget was spent after {len(rows)} of {total} records; "
                         "rerun the same command to continue (rows and cache are kept), or "
                         "allow more with --run-budget SECONDS")


def run_spent(opts: Options) -> bool:
    import time
    b = opts.budget
    return b is not None and b.deadline is not None and time.monotonic() >= b.deadline


def _key(e, opts: Options) -> str:
    """The record and the options; case files are rewritten from them, so they add nothing."""
    return cases.inputs_key(None, e, opts.key())


def _read_row(p: Path) -> dict | None:
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None          # absent or cut short by a kill: judged again
