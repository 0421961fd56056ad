"""Options shared by several commands, declared once."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

# The per-source flags --ioda-url, --ooni-url and --atlas-url are gone (every source's base
# URL is --url NAME=URL, the registry's names): still accepted, hidden, to say so in one line.
def _gone(source: str):
    return typer.Option(f"--{source}-url", hidden=True)


IodaUrl = Annotated[Optional[str], _gone("ioda")]
OoniUrl = Annotated[Optional[str], _gone("ooni")]
AtlasUrl = Annotated[Optional[str], _gone("atlas")]

Urls = Annotated[Optional[list[str]], typer.Option(
    "--url", metavar="SOURCE=URL", help="Base URL of a source, e.g. --url ooni=https://api.ooni.io "
    "(repeatable; any registered source: ioda, ooni, atlas, radar, tor, ...; default: "
    "$SHUTDOWN_<SOURCE>_URL, else the source's public API).")]


def url_overrides(ioda: str | None, ooni: str | None, atlas: str | None, urls=None) -> dict:
    """The base URLs given on the command line (``--url SOURCE=URL``), by source; a removed
    per-source flag is one line naming its replacement."""
    from shutdown.config import parse_url_options
    from shutdown.errors import InputError
    for name, given in (("ioda", ioda), ("ooni", ooni), ("atlas", atlas)):
        if given is not None:
            raise InputError(f"--{name}-url was removed; use --url {name}=URL (any source: "
                             "--url NAME=URL)", field=f"--{name}-url")
    return parse_url_options(urls)


# Time budgets (shutdown.budget): the numbers in --help come from there, which imports nothing
# heavy, so `--help` stays fast.
from shutdown.budget import BASE as _BASE, PER_REQUEST as _PER_REQUEST  # noqa: E402

Budgets = Annotated[Optional[list[str]], typer.Option(
    "--budget", metavar="SOURCE=SECONDS", help="Time one source may take this run, e.g. "
    f"--budget ooni=600 (repeatable). Default: {_BASE:g} s + {_PER_REQUEST:g} s per planned "
    "request plus the source's pace (OONI: 1 s between requests), so kz-2022-01 gives OONI "
    "about 8 min and IODA about 20 min. When it is spent the source stops, says how many "
    "of its requests it answered, and a rerun resumes from the cache.")]
RunBudget = Annotated[Optional[float], typer.Option(
    "--run-budget", metavar="SECONDS", help="Time the whole run's collecting may take, every "
    "source together (default: no limit beyond each source's budget; the sources run side by "
    "side, so a run takes at most the largest). When it is spent every source still running "
    "stops as with --budget.")]


def budget_from_options(budgets=None, run_budget: float | None = None):
    """The run's ``shutdown.budget.Budget`` from ``--budget`` and ``--run-budget``, its clock
    started now (a command that collects several cases passes the one Budget to each)."""
    from shutdown.budget import Budget, parse_budgets
    return Budget.start(parse_budgets(budgets), run_budget)


# Tables fit the terminal (shutdown.output); --wide prints every column in full.
WideOption = Annotated[bool, typer.Option(
    "--wide", help="Print every column in full, however wide (a table otherwise fits the "
    "terminal and says which columns it hid).")]


def fit_width(wide: bool) -> int | None:
    """The width a table is fitted to: the terminal's, or None (everything) with --wide."""
    from shutdown.output import terminal_width
    return None if wide else terminal_width()
