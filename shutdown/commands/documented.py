"""``shutdown documented FILE``: the records a documenter's file or source holds, as read."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

import typer

from shutdown.cli import app, user_errors
from shutdown.commands._options import WideOption, fit_width
from shutdown.commands._options import Urls
from shutdown.commands.detect import CacheOption, DemoOption
from shutdown.errors import InputError
from shutdown.output import render

FORMATS = ("table", "json", "csv")
# hidden first when a table is wider than the terminal (all are in --format json/csv)
DROP = ("operators", "citation", "services", "networks", "precision", "area")

Country = Annotated[Optional[str], typer.Option(
    "--country", "-c", help="Only this country: ISO 3166 alpha-2 (KZ) or a name.")]
FromDay = Annotated[Optional[str], typer.Option(
    "--from", help="Only records starting on or after this local day (YYYY-MM-DD).")]
ToDay = Annotated[Optional[str], typer.Option(
    "--to", help="Only records starting on or before this local day (YYYY-MM-DD).")]
Sheet = Annotated[Optional[list[str]], typer.Option(
    "--sheet", help="Only this sheet of a STOP workbook (repeatable; default: every data sheet).")]
Format = Annotated[str, typer.Option(
    "--format", "-f", help="table (for reading), json (every field), csv.")]


def day_option(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"not a date: {value!r}; write YYYY-MM-DD", field=option) from None
    from shutdown.validate import check_date
    return check_date(d, None, None, option)


def check_format(fmt: str, allowed=FORMATS) -> None:
    if fmt not in allowed:
        raise InputError(f"unknown format {fmt!r}; use {', '.join(allowed)}", field="--format")


def say_notes(notes) -> None:
    for n in notes:
        typer.echo(f"note: {n}", err=True)


@app.command("documented")
def documented_cmd(
    source: str = typer.Argument(..., metavar="FILE", help=(
        "A documenter's file: Access Now STOP (.xlsx, or a CSV export of one sheet), IODA's "
        "investigated outages (.csv); or a report timeline (data/events/*.toml) or case name; "
        "or a live documenter: radar, radar-anomalies, ooni-findings, tor.")),
    country: Country = None, from_: FromDay = None, to: ToDay = None, sheet: Sheet = None,
    format: Format = "table", cache: CacheOption = None, demo: DemoOption = False,
    url: Urls = None, wide: WideOption = False,
    case: Optional[str] = typer.Option(None, "--case", help=(
        "A live documenter: read it for this case (its country and window; with --demo, its "
        "simulator scenario).")),
):
    """Print the documented shutdowns a documenter's file holds, as the tool reads them.

    Each record keeps its documenter's precision: a STOP row is a run of local days in the
    country's zones, an IODA curated row UTC minutes. JSON gives every field (id,
    documenter, country, scope, area, kind, start, end, precision, timezone, citation, ...).

    A live documenter is fetched through the raw cache like any collection and needs a
    country and --from/--to (or --case).

    Example: shutdown documented keepiton-stop-2016-2022.xlsx --country KZ
    """
    with user_errors():
        check_format(format)
        from shutdown import documented
        from shutdown.documented.model import RECORD_COLUMNS, TABLE_COLUMNS
        from shutdown.documented.live import command_options
        live = command_options(source, cache=cache, demo=demo, urls=url, case=case)
        docs = documented.read(source, country=country, start=day_option(from_, "--from"),
                               end=day_option(to, "--to"), sheet=sheet, **live)
        say_notes(docs.notes)
        recs = [e.to_record() for e in docs.events]
        if format == "table":
            typer.echo(f"{docs.title}: {len(recs)} record(s)", err=True)
        if format == "json":
            import json
            typer.echo(json.dumps(recs, ensure_ascii=False, indent=2))
        else:
            typer.echo(render(recs, format, columns=TABLE_COLUMNS if format == "table"
                              else RECORD_COLUMNS, width=fit_width(wide) if format == "table"
                              else None, drop=DROP))
