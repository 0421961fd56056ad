"""``shutdown match A B``: which documented shutdowns of A the other documenter B records too."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from shutdown.cli import app, user_errors
from shutdown.commands._options import Urls
from shutdown.commands.detect import CacheOption, DemoOption
from shutdown.commands.documented import (Country, Format, FromDay, ToDay, check_format,
                                          day_option, say_notes)
from shutdown.output import render

ROW_COLUMNS = ["id", "country", "scope", "area", "kind", "start", "end", "expected", "matched",
               "matches", "why", "reason"]


@app.command("match")
def match_cmd(
    a: str = typer.Argument(..., help="Documenter A: a file (STOP .xlsx/.csv, IODA .csv), a "
                            "timeline or case; its records are the ones counted."),
    b: str = typer.Argument(..., help="Documenter B, the same kinds of input: does it record "
                            "A's shutdowns too?"),
    rule: str = typer.Option("windows", "--rule", help=(
        "sigcomm23: the SIGCOMM'23 paper's rule as its notebook codes it (same country, A a "
        "full-network shutdown, B starting from the day before A's start to two days after it "
        "or the day after its end); windows: ours (windows overlap in their own precision and "
        "zone, same scope and area, and only kinds B can see are expected).")),
    country: Country = None, from_: FromDay = None, to: ToDay = None,
    format: Format = "table",
    out: Optional[str] = typer.Option(None, "--out", help=(
        "Also write figures (shares by scope, kind and year under both rules; a timeline "
        "strip per country), their CSVs and match.md/.html to this directory.")),
    cache: CacheOption = None, demo: DemoOption = False, url: Urls = None,
):
    """Match the records of A against B and say, for each of A's, whether B has it and why not.

    --from/--to select A's records by the local day they start (sigcomm23 defaults to the
    paper's 2018-01-01 .. 2021-08-01). The table gives the shares by group and the reasons;
    csv one row per record of A; json everything (total, by, why, pairs, unmatched, rows).

    Example: shutdown match keepiton-stop-2016-2022.xlsx ioda-investigated-outages-2018-2022.csv
    --rule sigcomm23 --format json
    """
    with user_errors():
        check_format(format)
        from shutdown import documented
        start, end = day_option(from_, "--from"), day_option(to, "--to")
        # a live documenter (radar, radar-anomalies, ooni-findings, tor) is read over
        # --from/--to, else the window of the case A or B is
        from shutdown.documented.live import command_options
        live = command_options(a, b, cache=cache, demo=demo, urls=url)
        da = documented.read(a, country=country, **(live if a in documented.LIVE else {}),
                             **({"start": start, "end": end} if a in documented.LIVE else {}))
        db = documented.read(b, country=country, **(live if b in documented.LIVE else {}),
                             **({"start": start, "end": end} if b in documented.LIVE else {}))
        result = documented.match(da, db, rule, start=start, end=end)
        say_notes(result["notes"])
        if out:
            from shutdown.documented.page import write
            written = write(da, db, out, start=start, end=end, country=country)
            typer.echo(f"wrote {len(written)} files to {out}", err=True)
        if format == "json":
            import json
            typer.echo(json.dumps({k: v for k, v in result.items()}, ensure_ascii=False, indent=2))
        elif format == "csv":
            typer.echo(render(result["rows"], "csv", columns=ROW_COLUMNS))
        else:
            typer.echo(summary(result))


def summary(r: dict) -> str:
    t, n = r["total"], r["not_expected"]
    rng = f"{r['from'] or 'first'} .. {r['to'] or 'last'}"
    head = (f"{r['a']['title']} vs {r['b']['title']}, rule {r['rule']}, A's records starting "
            f"{rng}\nmatched {t['matched']} of {t['of']}"
            + (f" ({t['share']:.1%})" if t["share"] is not None else "")
            + (" expected there" if r["rule"] == "windows" else ""))
    if r["rule"] == "windows" and n["of"]:
        head += (f"; not expected there (another kind or scope): {n['of']}, of which "
                 f"{n['matched']} matched anyway")
    by = render([{**x, "share": f"{x['share']:.1%}" if x["share"] is not None else ""}
                 for x in r["by"]], "table", columns=["group", "value", "matched", "of", "share"])
    why = render(r["why"], "table", columns=["why", "count"]) if r["why"] else "(none)"
    return f"{head}\n\n{by}\n\nunmatched, by reason:\n{why}"
