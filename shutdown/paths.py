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
