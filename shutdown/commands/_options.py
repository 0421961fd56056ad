"""Options shared by several commands, declared once."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

IodaUrl = Annotated[Optional[str], typer.Option(
    "--ioda-url", help="IODA base URL (default: $SHUTDOWN_IODA_URL, else "
    "https://api.ioda.inetintel.cc.gatech.edu/v2).")]
OoniUrl = Annotated[Optional[str], typer.Option(
    "--ooni-url", help="OONI base URL (default: $SHUTDOWN_OONI_URL, else https://api.ooni.org; "
    "the legacy service: https://api.ooni.io).")]
AtlasUrl = Annotated[Optional[str], typer.Option(
    "--atlas-url", help="RIPE Atlas base URL (default: $SHUTDOWN_ATLAS_URL, else https://atlas.ripe.net).")]


Urls = Annotated[Optional[list[str]], typer.Option(
    "--url", metavar="SOURCE=URL", help="Base URL of a source, e.g. --url ooni=https://api.ooni.io "
    "(repeatable; any source; default: $SHUTDOWN_<SOURCE>_URL, else the source's public API).")]


def url_overrides(ioda: str | None, ooni: str | None, atlas: str | None, urls=None) -> dict:
    """The base URLs given on the command line, by source (--url wins over --<source>-url)."""
    from shutdown.config import parse_url_options
    given = {k: v for k, v in (("ioda", ioda), ("ooni", ooni), ("atlas", atlas)) if v}
    return {**given, **parse_url_options(urls)}


# Tables fit the terminal (shutdown.output); --wide prints every column in full.
WideOption = Annotated[bool, typer.Option(
    "--wide", help="Print every column in full, however wide (a table otherwise fits the "
    "terminal and says which columns it hid).")]


def fit_width(wide: bool) -> int | None:
    """The width a table is fitted to: the terminal's, or None (everything) with --wide."""
    from shutdown.output import terminal_width
    return None if wide else terminal_width()
