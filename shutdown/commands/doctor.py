"""``shutdown doctor``: check, before trusting a report, that IODA, OONI and RIPE Atlas
answer from this machine in the shape the collectors read."""
from __future__ import annotations

from typing import Optional

import typer

from shutdown.cli import app, user_errors
from shutdown.commands._options import (AtlasUrl, IodaUrl, OoniUrl, Urls, WideOption, fit_width,
                                        url_overrides)
from shutdown.commands.detect import check_format


@app.command("doctor")
def doctor_cmd(
    country: str = typer.Option("KZ", "--country", help="Country (ISO code) the test requests ask about."),
    source: Optional[str] = typer.Option(None, "--source", "-s",
                                         help="Comma-separated sources to check (default: every registered source)."),
    ioda_url: IodaUrl = None,
    ooni_url: OoniUrl = None,
    atlas_url: AtlasUrl = None,
    url: Urls = None,
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for each answer."),
    format: str = typer.Option("table", "--format", "-f", help="table (lines that fit the "
                               "terminal), json or csv (one row per upstream, every field)."),
    wide: WideOption = False,
):
    """Make the smallest real request per registered source and check what comes back.

    IODA: three hours of one signal; OONI: one aggregation; RIPE Atlas: one probe
    page and one page of ping results; every other source (Cloudflare Radar, Tor
    Metrics, ...): the first request it plans for one day, judged as collect judges
    it. Prints per source: reachable or not, latency, quota headers seen, and
    "schema as expected" or which field changed; a source whose credential is not
    set is "not checked", saying how to get one. What an upstream says is redacted
    like collect's messages: no key, token or password is printed. Nothing is cached.

    Exit status: 0 all upstreams good, 3 some, 4 none (e.g. offline), 2 bad input.
    """
    with user_errors():
        from shutdown import doctor
        from shutdown.collect import parse_sources
        from shutdown.errors import InputError
        if len(country) != 2 or not country.isalpha():
            raise InputError(f"expected a two-letter country code, got {country!r}", field="--country")
        check_format(format, ("table", "json", "csv"))
        if timeout <= 0:
            raise InputError("must be > 0", field="--timeout")
        sources = parse_sources(source) if source else None
        urls = url_overrides(ioda_url, ooni_url, atlas_url, url)
        checks = doctor.run(country, urls, sources, timeout=timeout)
    if format == "table":
        for c in checks:
            typer.echo(c.line(fit_width(wide)))
    else:
        from shutdown.output import render
        typer.echo(render([c.record() for c in checks], format))
    raise typer.Exit(doctor.exit_status(checks))
