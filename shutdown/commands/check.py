"""``shutdown check DIR``: fail when the figures and the documented timeline disagree."""
from __future__ import annotations

from typing import Optional

import typer

from shutdown.cli import app, user_errors


@app.command("check")
def check_cmd(
    out: str = typer.Argument(..., help="Report directory written by `shutdown report`."),
    cache: Optional[str] = typer.Option(None, "--cache", help="Cache directory, if not the one the "
                                        "report was made from."),
):
    """Check a report directory: figures current (inputs' hashes match the cache and the
    timeline), every documented event drawn where the timeline puts it, and every
    expectation of the case (``[[expectations]]``) still holding.

    Prints one line per failure, naming the figure or event and what was found.
    Exit status: 0 all hold, 1 some check failed, 2 unusable input (missing or empty
    directory, unreadable manifest or sidecar, broken case or timeline).

    Example: shutdown check out/kz-2022-01-demo
    """
    with user_errors():
        from shutdown.check import check_dir
        res = check_dir(out, cache=cache)
    for line in res.failures:
        typer.echo(f"FAIL {line}")
    if res.ok:
        typer.echo(f"check passed: {'; '.join(res.notes)}")
    else:
        typer.echo(f"check failed: {len(res.failures)} problem(s); {'; '.join(res.notes)}", err=True)
    raise typer.Exit(res.status)
