"""The ``shutdown`` command line. Thin: each command parses options and calls the
package's modules; commands live in ``shutdown/commands/<name>.py`` and are
registered here on import, so adding a command never touches this file.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from contextlib import contextmanager

import typer

from shutdown.errors import InputError

app = typer.Typer(
    name="shutdown",
    help=("Measure Internet shutdowns with IODA, OONI and RIPE Atlas, and check what a "
          "report documents against the data.\n\n"
          "Every command takes a CASE: a case name from data/cases/ (e.g. kz-2022-01) "
          "or the path to a case file."),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Exit statuses shared by all commands.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@contextmanager
def user_errors():
    """The one error path of every command: a user's mistake or a damaged file
    (InputError: file, item, field, what to do) and a failed read or write of a
    file (OSError: full disk, read-only directory) become one line on stderr --
    credentials redacted -- and exit status 2. Never a traceback."""
    try:
        yield
    except InputError as exc:
        from shutdown.http import redact     # here, not above: requests only when needed
        typer.echo(one_line(redact(f"error: {exc}")), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except OSError as exc:
        from shutdown.http import redact
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(one_line(redact(f"error: {where}{exc.strerror or exc}; check the path, its "
                                   "permissions and free space, then rerun")), err=True)
        raise typer.Exit(EXIT_USAGE) from None


def one_line(text: str) -> str:
    """Every exit-2 message is one line: a library's multi-line text (pyarrow's, pandas')
    is joined with " | "."""
    return " | ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _print_version(value: bool) -> None:
    if value:
        from shutdown import __version__
        typer.echo(f"shutdown {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
):
    """Measure Internet shutdowns and check documented timelines against the data."""


def _register_commands() -> None:
    import shutdown.commands as pkg
    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            importlib.import_module(f"shutdown.commands.{mod.name}")


_register_commands()


def main() -> None:  # pragma: no cover - console entry point alternative
    sys.exit(app())
