"""``shutdown align CASE``: the documented timeline against the detected outages."""
from __future__ import annotations

import json


import typer

from shutdown.cli import app, user_errors
from shutdown.commands._options import WideOption, fit_width
from shutdown.commands.detect import (BANNER, CacheOption, DemoOption, TableOption, add_local,
                                      check_format)
from shutdown.errors import InputError
from shutdown.output import render, to_records

VIEWS = ("summary", "sources", "unexplained", "expectations", "all")
TABLE_COLUMNS = {
    "summary": ["event", "kind", "window_local", "verdict", "n_sources", "transition_utc",
                "transition_local", "minutes_off", "contradicted_by", "via"],
    "sources": ["event", "expects", "role", "source", "signal", "subtype", "entity_type",
                "entity_code", "verdict", "transition_utc", "transition_local", "minutes_off",
                "depth", "reason"],
    "unexplained": ["source", "entity_type", "entity_code", "signal", "subtype", "start_utc",
                    "end_utc", "start_local", "hours", "depth", "kind", "nearest_event",
                    "minutes_to_nearest"],
    "expectations": ["event", "ok", "verdict", "n_sources", "required", "min_sources", "sources"],
}
# What a table hides first when it is wider than the terminal (least important first).
DROP = {
    "summary": ["via", "contradicted_by", "transition_utc", "n_sources", "kind", "minutes_off",
                "transition_local"],
    "sources": ["reason", "transition_utc", "role", "expects", "depth", "entity_type", "subtype",
                "minutes_off", "transition_local"],
    "unexplained": ["minutes_to_nearest", "start_local", "subtype", "entity_type", "kind", "depth",
                    "end_utc"],
    "expectations": ["sources", "min_sources", "n_sources"],
}


@app.command("align")
def align_cmd(
    case: str = typer.Argument(..., help="Case name (e.g. kz-2022-01) or path to a case file."),
    format: str = typer.Option("table", "--format", "-f", help="table, json, csv or md."),
    view: str = typer.Option("summary", "--view", help="summary (one row per event), sources "
                             "(one row per event and source series), unexplained (outages no "
                             "event accounts for, from the fused view), expectations (the "
                             "case's required verdicts), all."),
    table: TableOption = None,
    cache: CacheOption = None,
    demo: DemoOption = False,
    wide: WideOption = False,
):
    """Give every documented event of CASE a verdict per source (confirmed, confirmed-earlier,
    confirmed-later, not-observed, contradicted, not-measurable), the measured transition
    in UTC and local time, and the minutes between the documented window and it.

    Example: shutdown align kz-2022-01 --demo --format md
    """
    with user_errors():
        check_format(format, ("table", "json", "csv", "md"))
        if view not in VIEWS:
            raise InputError(f"unknown view {view!r}; use {', '.join(VIEWS)}")
        if view == "all" and format == "csv":
            raise InputError("--view all prints several tables; use table, md or json, or "
                             "one view with csv")
        from shutdown import pipeline
        res = pipeline.analyse(pipeline.load_inputs(case, table=table, cache=cache, demo=demo))
        views = {
            "summary": lambda: res.summary,
            "sources": lambda: res.alignment,
            "unexplained": lambda: add_local(res.unexplained, res.case.timezone),
            "expectations": lambda: res.expectation_table,
        }
        for n in res.notes + res.detection.notes:      # the inputs', then detection's
            typer.echo(f"note: {n}", err=True)
        if res.simulated:
            typer.echo(BANNER, err=format in ("json", "csv"))
        names = list(views) if view == "all" else [view]
        if format == "json" and view == "all":
            typer.echo(json.dumps({k: to_records(views[k]()) for k in names},
                                  ensure_ascii=False, indent=2))
            return
        for i, name in enumerate(names):
            data = views[name]()
            if len(names) > 1:
                typer.echo(("\n" if i else "") + (f"## {name}" if format == "md" else f"[{name}]"))
            cols = TABLE_COLUMNS[name] if format in ("table", "md") else None
            if cols is not None:
                cols = [col for col in cols if col in data.columns]
            typer.echo(render(data, format, columns=cols, drop=DROP[name],
                              width=fit_width(wide) if format == "table" else None))
