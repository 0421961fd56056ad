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


def url_overrides(ioda: str | None, ooni: str | None, atlas: str | None) -> dict:
    """The base URLs given on the command line, by source."""
    return {k: v for k, v in (("ioda", ioda), ("ooni", ooni), ("atlas", atlas)) if v}
