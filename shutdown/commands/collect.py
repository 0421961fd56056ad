"""``shutdown collect CASE``: fetch the case's sources (IODA, OONI, RIPE Atlas, ...) into
the cache and build the case's tidy table."""
from __future__ import annotations

from typing import Optional

import typer

from shutdown.cli import app, user_errors
from shutdown.commands._options import (AtlasUrl, Budgets, IodaUrl, OoniUrl, RunBudget, Urls,
                                        WideOption, budget_from_options, fit_width, url_overrides)
from shutdown.commands.detect import check_format


MAX_MIN_INTERVAL = 3600.0


@app.command("collect")
def collect_cmd(
    case: str = typer.Argument(..., help="Case name (e.g. kz-2022-01) or path to a case file."),
    source: Optional[str] = typer.Option(None, "--source", "-s",
                                         help="Comma-separated sources (e.g. ioda,ooni,atlas); default: the case's."),
    refresh: bool = typer.Option(False, "--refresh", help="Refetch even what is already cached."),
    cache: Optional[str] = typer.Option(None, "--cache", help="Cache directory "
                                        "(default: $SHUTDOWN_CACHE, else ~/.cache/shutdown)."),
    ioda_url: IodaUrl = None,
    ooni_url: OoniUrl = None,
    atlas_url: AtlasUrl = None,
    url: Urls = None,
    baseline_days: Optional[int] = typer.Option(None, "--baseline-days",
                                                help="Days before the window to collect as baseline "
                                                "(at least 7; default: the case's baseline_days)."),
    min_interval: Optional[float] = typer.Option(None, "--min-interval",
                                                 help="Seconds between requests to one source "
                                                 "(default: what each source declares; 1 for OONI)."),
    budget: Budgets = None,
    run_budget: RunBudget = None,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    format: str = typer.Option("table", "--format", "-f", help="The summary: table (on stderr, "
                               "fitting the terminal), json or csv (on stdout, one row per source)."),
    wide: WideOption = False,
):
    """Collect CASE's data (country, networks, regions; window plus baseline) into the cache.

    Raw responses are cached with their provenance; a second run reads the cache
    and makes no request. The tidy table is written to <cache>/tables/CASE.parquet.

    Exit status: 0 everything collected, 3 partial (some source failed or ran out of
    its time budget), 4 nothing collected, 2 bad input.

    Example: shutdown collect kz-2022-01 --source ioda,ooni --cache /tmp/kz
    """
    with user_errors():
        from shutdown.collect import as_case, collect_case, parse_sources
        from shutdown.errors import InputError
        check_format(format, ("table", "json", "csv"))
        if min_interval is not None and not 0 <= min_interval <= MAX_MIN_INTERVAL:  # also NaN
            raise InputError(f"expected seconds in 0..{MAX_MIN_INTERVAL:g} (a pace slower than an "
                             f"hour between requests would never finish), got {min_interval}",
                             field="--min-interval")
        budgets = budget_from_options(budget, run_budget)     # the run's clock starts here
        c = as_case(case)
        sources = parse_sources(source, c)
        urls = url_overrides(ioda_url, ooni_url, atlas_url, url)
        report = collect_case(c, sources, cache=cache, refresh=refresh, base_urls=urls,
                              baseline_days=baseline_days, min_interval=min_interval,
                              progress=False if quiet else None, budget=budgets)
    if format == "table":
        typer.echo(report.summary(fit_width(wide)), err=True)
    else:
        from shutdown.output import render
        typer.echo(render(report.records(), format))
    raise typer.Exit(report.exit_status)
