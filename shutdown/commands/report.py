"""``shutdown report CASE``: figures (PNG, and SVG/PDF on request, + sidecar JSON) and the report (Markdown, HTML)."""
from __future__ import annotations

from typing import Optional

import typer

from shutdown.cli import app, user_errors
from shutdown.commands._options import Budgets, RunBudget, budget_from_options


@app.command("report")
def report_cmd(
    case: str = typer.Argument(..., help="Case name (e.g. kz-2022-01) or path to a case file."),
    out: Optional[str] = typer.Option(None, "--out", "-o",
                                      help="Report directory (default: out/CASE, or out/CASE-demo with --demo)."),
    demo: bool = typer.Option(False, "--demo", help="Offline demo: simulated data, labelled SIMULATED; "
                              "never touches the network."),
    cache: Optional[str] = typer.Option(None, "--cache", help="Cache directory (default: $SHUTDOWN_CACHE, "
                                        "else ~/.cache/shutdown)."),
    refresh: bool = typer.Option(False, "--refresh", help="Refetch even what is already cached."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    budget: Budgets = None,
    run_budget: RunBudget = None,
    formats: str = typer.Option("png", "--formats",
                                help="Figure files to write, comma-separated: png (always; the HTML "
                                "report embeds it), svg, pdf. PNG alone by default: the vector files "
                                "take as long as the rest of a redraw; `--formats png,svg,pdf` for "
                                "publication."),
    lang: str = typer.Option("en", "--lang", help="The report's language: en, kk (Kazakh), ru "
                             "(Russian), or any with a catalogue in shutdown/locale/. Figure titles, "
                             "axes, legends, captions, headings, verdict names and the SIMULATED "
                             "banner; dates from CLDR. Default directory: out/CASE[-demo]-LANG."),
    redraw: bool = typer.Option(False, "--redraw", help="Draw every figure again, even one whose "
                                "inputs, code and settings match the report already in DIR or one "
                                "drawn before (such a figure is otherwise copied from DIR, or from the "
                                "figure cache under the cache directory, even into a new DIR)."),
):
    """Collect CASE (from the cache where possible), detect outages, align them with the
    documented timeline, and write figures and a report into DIR.

    DIR gets figures/<name>.png (and .svg/.pdf with --formats), each with a sidecar
    <name>.json and the numbers it plots, <name>.csv (overview, networks, region,
    alignment, evidence), report.md, a self-contained report.html and manifest.json,
    which `shutdown check DIR` verifies.

    A source that ran out of its time budget (--budget, --run-budget) while collecting is
    listed under "What could not be measured"; the figures show what was collected.

    Exit status: 0 written, 2 bad input (unknown case, broken timeline, no data at all,
    simulated and measured data mixed).

    Example: shutdown report kz-2022-01 --demo
    """
    with user_errors():
        import gc
        from pathlib import Path

        from shutdown.case import load_case
        from shutdown.report import build, default_out, start_workers
        from shutdown.plot import check_formats
        from shutdown import i18n
        fmts = check_formats(formats)       # a typo fails before any work
        i18n.check(lang)
        budgets = budget_from_options(budget, run_budget)     # the run's clock starts here
        # What is loaded so far (pandas, the package) lives as long as this process: the
        # collector need not scan it again at every full collection, nor a forked drawing
        # worker touch its pages (measured: reading the inputs ~0.1 s faster)
        gc.freeze()
        # every figure is to be drawn: the workers start before the case is even read
        ahead = start_workers() if redraw else None
        try:
            c = load_case(case)
        except BaseException:
            if ahead is not None:
                ahead.abandon()
            raise
        data, dest = build(c, Path(out) if out else default_out(c.name, demo, lang), formats=fmts,
                           redraw=redraw, lang=lang, cache=cache, demo=demo, refresh=refresh,
                           progress=False if quiet else None, budget=budgets, ahead=ahead)
    label = "SIMULATED data (offline demo)" if data.simulated else "measured data"
    held = sum(1 for x in data.expectations if x.get("ok"))
    typer.echo(f"report written to {dest}/ from {label}: report.md, report.html, "
               f"{len(data.summary) if data.summary is not None else 0} events aligned, "
               f"{held}/{len(data.expectations)} expectations hold; check it with: shutdown check {dest}")
