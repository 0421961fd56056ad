"""Where the project's data files live.

``data/`` sits beside the package in a checkout (the install is editable); the
``SHUTDOWN_DATA`` environment variable points elsewhere, e.g. to a folder of a
user's own cases.
"""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    env = os.environ.get("SHUTDOWN_DATA")
    return Path(env).expanduser() if env else REPO_ROOT / "data"


def default_cache_dir() -> Path:
    """Raw-response cache: ``$SHUTDOWN_CACHE``, else ``~/.cache/shutdown``."""
    env = os.environ.get("SHUTDOWN_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "shutdown"


def list_named(folder: str) -> list[str]:
    """Names of the TOML files in ``data/<folder>/`` (cases, scenarios)."""
    d = data_dir() / folder
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


def resolve_named(what: str, folder: str, name_or_path) -> Path:
    """A ``what`` (case, scenario) given by name -- ``data/<folder>/<name>.toml`` -- or
    as a path to its TOML file; an unknown name lists the known ones."""
    from shutdown.errors import InputError
    s = str(name_or_path)
    p = Path(s).expanduser()
    if s.endswith(".toml") or "/" in s or "\\" in s:
        if not (p.exists() or p.is_symlink()):     # a device, FIFO or loop: read_toml says which
            raise InputError(f"{what} file not found", path=p)
        return p
    candidate = data_dir() / folder / f"{s}.toml"
    if candidate.is_file():
        return candidate
    known = ", ".join(list_named(folder)) or "(none)"
    raise InputError(f"unknown {what} {s!r}; known {what}s: {known} "
                     f"(in {data_dir() / folder}), or give a path to a {what} file")
