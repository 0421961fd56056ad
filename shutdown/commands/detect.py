"""``shutdown detect CASE``: outage intervals found in the measurements (never the timeline)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from shutdown.cli import app, user_errors
from shutdown.errors import InputError
from shutdown.commands._options import WideOption, fit_width
from shutdown.output import render

BANNER = "SIMULATED data -- not measurements (offline demo / simulator output)"
VIEWS = ("intervals", "fused", "series", "evidence", "changes")
TABLE_COLUMNS = {
    "intervals": ["source", "entity_type", "entity_code", "signal", "subtype", "start_utc",
                  "end_utc", "start_local", "hours", "depth", "kind", "direction"],
    "fused": ["entity_type", "entity_code", "start_utc", "end_utc", "start_local", "hours",
              "depth", "kind", "n_sources", "sources"],
    "series": ["source", "entity_type", "entity_code", "signal", "subtype", "metric",
               "bin_minutes", "n_baseline", "n_window", "status", "enter", "sigma"],
    "evidence": ["source", "entity_type", "entity_code", "signal", "subtype", "unit",
                 "resolution", "n_baseline", "share_baseline", "typical_n", "status"],
    "changes": ["source", "entity_type", "entity_code", "signal", "subtype", "edge",
                "transition_utc", "uncertain_from", "uncertain_to", "resolution", "n_before",
                "share_before", "n_after", "share_after", "p_value"],
}

# What a table hides first when it is wider than the terminal (least important first).
DROP = {
    "intervals": ["direction", "start_local", "entity_type", "subtype", "depth", "kind"],
    "fused": ["sources", "start_local", "entity_type", "depth", "kind"],
    "series": ["sigma", "enter", "metric", "bin_minutes", "n_window", "n_baseline", "entity_type",
               "subtype"],
    "evidence": ["unit", "typical_n", "share_baseline", "n_baseline", "entity_type", "subtype"],
    "changes": ["uncertain_from", "uncertain_to", "n_before", "n_after", "share_before",
                "share_after", "resolution", "entity_type", "subtype"],
}


# Where detect and align read the tidy table from (shared by both commands).
TableOption = Annotated[Optional[str], typer.Option(
    "--table", help="Tidy table (Parquet or CSV) instead of the cache.")]
CacheOption = Annotated[Optional[str], typer.Option(
    "--cache", help="Cache directory (default: $SHUTDOWN_CACHE, else ~/.cache/shutdown).")]
DemoOption = Annotated[bool, typer.Option(
    "--demo", help="Use the simulated cache of the case's scenario (labelled SIMULATED).")]


def add_local(df: pd.DataFrame, tz: str) -> pd.DataFrame:
    import pandas as pd
    df = df.copy()
    if len(df):
        df["start_local"] = df["start_utc"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M")
        df["hours"] = ((df["end_utc"] - df["start_utc"]).dt.total_seconds() / 3600).round(2)
    else:
        df["start_local"], df["hours"] = pd.Series(dtype=object), pd.Series(dtype=float)
    return df


def emit(data, fmt: str, columns, simulated: bool, notes: list, width: int | None = None,
         drop=()) -> None:
    for n in notes:
        typer.echo(f"note: {n}", err=True)
    if simulated:
        # tables carry the banner in the output itself; JSON/CSV keep stdout parseable
        # and mark every row with the `simulated` column
        typer.echo(BANNER, err=fmt in ("json", "csv"))
    typer.echo(render(data, fmt, columns=columns if fmt in ("table", "md") else None,
                      width=width if fmt == "table" else None, drop=drop))


def check_format(fmt: str, allowed) -> None:
    if fmt not in allowed:
        raise InputError(f"unknown format {fmt!r}; use {', '.join(allowed)}")


@app.command("detect")
def detect_cmd(
    case: str = typer.Argument(..., help="Case name (e.g. kz-2022-01) or path to a case file."),
    format: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    view: str = typer.Option("intervals", "--view", help="intervals (per source and signal), "
                             "fused (when independent sources agree), series (coverage of "
                             "every series and whether it could be judged), evidence (count "
                             "series: the resolution they are pooled to, or too few tests), "
                             "changes (their significant changes with counts and p-values)."),
    table: TableOption = None,
    cache: CacheOption = None,
    demo: DemoOption = False,
    wide: WideOption = False,
    dataset: Optional[str] = typer.Option(
        None, "--dataset", help="A partitioned dataset (one Parquet file per source and entity, "
        "shutdown.store.write_dataset) instead of a table: detected on Dask."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="With --dataset: the Dask scheduler of a running cluster "
        "(default $SHUTDOWN_SCHEDULER, else a cluster on this machine, one worker per core)."),
):
    """Find, for every entity and signal of CASE, the intervals where the signal leaves
    its normal behaviour: start, end (UTC), depth (fraction of normal lost) and kind
    (full / partial). Normal is learnt from the baseline days before the window.

    Detection reads only the measurements, never the documented timeline.

    Example: shutdown detect kz-2022-01 --demo --format json
    """
    with user_errors():
        check_format(format, ("table", "json", "csv"))
        if view not in VIEWS:
            raise InputError(f"unknown view {view!r}; use {', '.join(VIEWS)}")
        if dataset is not None:
            return _detect_dataset(case, dataset, scheduler, view, format, wide)
        if scheduler is not None:
            raise InputError("--scheduler runs detection of a --dataset on Dask; give --dataset DIR too")
        from shutdown import pipeline
        inputs = pipeline.load_inputs(case, table=table, cache=cache, demo=demo)
        res = pipeline.detect(inputs)
        data = {"intervals": res.intervals, "fused": res.fused, "series": res.series,
                "evidence": res.evidence, "changes": res.changes}[view]
        if view in ("intervals", "fused"):
            data = add_local(data, inputs.case.timezone)
        emit(data, format, TABLE_COLUMNS[view], inputs.simulated, inputs.notes + res.notes,
             width=fit_width(wide), drop=DROP[view])

def _detect_dataset(case, dataset, scheduler, view, format, wide=False) -> None:
    """``detect --dataset``: the case's window, baseline and zone over a partitioned dataset."""
    from shutdown import pipeline
    c, res = pipeline.detect_dataset(case, dataset, scheduler)
    data = {"intervals": res.intervals, "fused": res.fused, "series": res.series,
            "evidence": res.evidence, "changes": res.changes}[view]
    if view in ("intervals", "fused"):
        data = add_local(data, c.timezone)
    emit(data, format, TABLE_COLUMNS[view], res.simulated, res.notes,
         width=fit_width(wide), drop=DROP[view])
