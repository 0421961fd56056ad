"""``shutdown survey DOCUMENTED``: measure every documented shutdown of a documenter's file."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from shutdown.cli import app, user_errors
from shutdown.commands._options import Budgets, RunBudget, Urls, budget_from_options
from shutdown.commands.documented import FromDay, Sheet, ToDay, day_option, say_notes
from shutdown.errors import InputError


@app.command("survey")
def survey_cmd(
    source: str = typer.Argument(..., metavar="DOCUMENTED", help=(
        "A documenter's file (Access Now STOP .xlsx/.csv, IODA's investigated outages .csv), "
        "or a timeline or case: every record it holds (after the filters) is measured.")),
    out: str = typer.Option(..., "--out", help="Directory for survey.csv/.parquet/.md/.html, "
                            "the figures, one case file per record (cases/), its series as a dataset (series/) and "
                            "the rows (rows/)."),
    from_: FromDay = None, to: ToDay = None, sheet: Sheet = None,
    country: Optional[str] = typer.Option(None, "--country", "-c", help=(
        "Only these countries: alpha-2 codes or names, comma-separated (KZ,BY).")),
    kind: Optional[str] = typer.Option(None, "--kind", help=(
        "Only records of these kinds, comma-separated: shutdown, throttling, service-based.")),
    sources: Optional[str] = typer.Option(None, "--source", help=(
        "Sources to collect, comma-separated (default: every default source: ioda,ooni,atlas).")),
    margin: int = typer.Option(2, "--margin", min=0, max=30, help=(
        "Days added before and after each documented window.")),
    baseline: int = typer.Option(14, "--baseline", min=1, max=366, help=(
        "Days before the window that teach detection what normal looks like.")),
    demo: bool = typer.Option(False, "--demo", help=(
        "Offline: a SIMULATED world per record (made up from its id, not measured); every "
        "row, figure and page says SIMULATED.")),
    cache: Optional[str] = typer.Option(None, "--cache", help=(
        "Raw cache (default: $SHUTDOWN_CACHE, else ~/.cache/shutdown).")),
    url: Urls = None, budget: Budgets = None, run_budget: RunBudget = None,
    refresh: bool = typer.Option(False, "--refresh", help="Judge every record again, and "
                                 "refetch what the cache holds."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=(
        "Detect on a running Dask cluster at this address, e.g. tcp://10.0.0.5:8786 (default "
        "$SHUTDOWN_SCHEDULER; else a cluster on this machine when the records collected hold "
        "20 M rows or more, else in this process)."), metavar="ADDRESS"),
):
    """Measure every documented shutdown of DOCUMENTED with the pipeline `report` runs.

    Each record becomes a case (its country; its area as an IODA region, looked up by name;
    its ASNs; its window with --margin days either side; --baseline days before), then is
    collected (cache first), written as a partitioned dataset (DIR/series/<case>/), detected on
    Dask (see --scheduler) and aligned. One row per record in DIR/survey.csv:
    the verdict, how many independent sources it rests on, the transition and how far it
    lies from the documented window, and the evidence. Interrupted (Ctrl-C, kill -9), a rerun
    continues from the rows already written and from the cache.

    Example: shutdown survey keepiton-stop-2016-2022.xlsx --from 2019-01-01 --to 2019-12-31
    --source ioda --out out/survey-2019
    """
    with user_errors():
        from shutdown import documented
        from shutdown.collect import parse_sources
        from shutdown.config import parse_url_options
        from shutdown.survey import output, run
        start, end = day_option(from_, "--from"), day_option(to, "--to")
        docs = documented.read(source, start=start, end=end, sheet=sheet)
        say_notes(docs.notes)
        if country:
            from shutdown.documented.countries import check_code
            codes = []
            for c in country.split(","):
                cc = check_code(c)
                if cc is None:
                    raise InputError(f"unknown country {c.strip()!r}; give ISO 3166 alpha-2 codes",
                                     field="--country")
                codes.append(cc)
            docs.events = [e for e in docs.events if e.country in codes]
        if kind:
            from shutdown.documented.model import KINDS
            want = [k.strip() for k in kind.split(",") if k.strip()]
            bad = [k for k in want if k not in KINDS]
            if bad:
                raise InputError(f"unknown kind {bad[0]!r}; known: {', '.join(KINDS)}",
                                 field="--kind")
            docs.events = [e for e in docs.events if set(e.kinds) & set(want)]
        if not docs.events:
            raise InputError("no record left after the filters; widen --from/--to, --country "
                             "or --kind", path=docs.path)
        names = parse_sources(sources)
        opts = run.Options(out=Path(out), sources=names, demo=demo, cache=cache,
                           base_urls=parse_url_options(url), margin=margin, baseline=baseline,
                           refresh=refresh, budget=budget_from_options(budget, run_budget),
                           scheduler=scheduler)
        if demo and (cache or url):
            raise InputError("--demo simulates its own data; do not combine it with --cache or "
                             "--url")
        try:
            rows = run.survey(docs, opts, progress=progress)
        except run.BudgetStop as exc:
            typer.echo(f"stopped: {exc}", err=True)
            if exc.rows:
                output.write(exc.rows, Path(out), docs.title)
            raise typer.Exit(3) from None
        except KeyboardInterrupt:
            done = len(list((Path(out) / "rows").glob("*.json")))
            typer.echo(f"interrupted: {done} of {len(docs.events)} records judged so far; rerun "
                       "the same command to continue", err=True)
            raise typer.Exit(130) from None
        written = output.write(rows, Path(out), docs.title)
        tally: dict[str, int] = {}
        for r in rows:
            tally[r["verdict"]] = tally.get(r["verdict"], 0) + 1
        typer.echo(("SIMULATED -- " if demo else "") + f"{len(rows)} records: "
                   + ", ".join(f"{v} {n}" for v, n in sorted(tally.items(), key=lambda kv: -kv[1])))
        typer.echo(f"wrote {len(written)} files to {out} (survey.csv, survey.md, survey.html)",
                   err=True)
