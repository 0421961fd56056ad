"""``shutdown timeline CASE``: the documented events with local and UTC windows."""
from __future__ import annotations

import typer

from shutdown.cli import app, user_errors
from shutdown.commands._options import WideOption, fit_width
from shutdown.output import FORMATS, render

TABLE_COLUMNS = ["id", "kind", "scope", "precision", "start_local", "end_local",
                 "start_utc", "end_utc", "title"]
DROP = ["start_utc", "end_utc", "precision", "scope", "kind"]    # hidden first in a narrow terminal


@app.command("timeline")
def timeline_cmd(
    case: str = typer.Argument(..., help="Case name (e.g. kz-2022-01) or path to a case file."),
    format: str = typer.Option("table", "--format", "-f",
                               help="table (for reading), json (every field, for programs), csv."),
    wide: WideOption = False,
):
    """Print the documented events of CASE with their windows in local time and UTC.

    A day-precision event is the whole local day; "night" is 22:00 the evening
    before to 06:00; hour/minute events span the times the report states.

    Example: shutdown timeline kz-2022-01 --format json
    """
    with user_errors():
        if format not in FORMATS[:3]:
            from shutdown.errors import InputError
            raise InputError(f"unknown format {format!r}; use table, json or csv")
        from shutdown.case import load_case
        from shutdown.timeline import load_timeline
        c = load_case(case)
        events = load_timeline(c.timeline_path, case=c)
        recs = [e.to_record() for e in events]
        cols = TABLE_COLUMNS if format == "table" else None
        if format == "csv":
            cols = list(recs[0].keys())
        typer.echo(render(recs, format, columns=cols, drop=DROP,
                          width=fit_width(wide) if format == "table" else None))
