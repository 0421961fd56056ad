"""Where each upstream lives: one place for the base URLs of all sources.

Resolution order, first found wins: an explicit value (``--ioda-url`` etc. or the
``base_url=`` argument of the Python API), the environment variable
``SHUTDOWN_<SOURCE>_URL``, the public default below. API paths are appended to
the base URL, so a mirror or a local test server with a port
(``https://127.0.0.1:8443``) works the same way as the real host.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from shutdown.errors import InputError

DEFAULT_URLS = {
    "ioda": "https://api.ioda.inetintel.cc.gatech.edu/v2",
    # OONI's current (FastAPI) service; the legacy Flask one is https://api.ooni.io
    # (ooni/devops tf/environments/prod: api.ooni.org -> ALB -> oonimeasurements).
    "ooni": "https://api.ooni.org",
    "atlas": "https://atlas.ripe.net",
}


def env_var(source: str) -> str:
    return f"SHUTDOWN_{source.upper()}_URL"


def base_url(source: str, override: str | None = None) -> str:
    """The base URL for ``source`` ("ioda", "ooni", "atlas"), without a trailing slash."""
    if source not in DEFAULT_URLS:
        raise InputError(f"unknown source {source!r}; known: {', '.join(DEFAULT_URLS)}")
    where = "option" if override else env_var(source)
    url = override or os.environ.get(env_var(source)) or DEFAULT_URLS[source]
    parts = urlsplit(url)
    from shutdown.store import strip_secrets_from_url
    shown = strip_secrets_from_url(url)         # an error line never shows a password
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"base URL for {source} must look like https://host[:port][/path], "
                         f"got {shown!r} (from {where if url != DEFAULT_URLS[source] else 'default'})")
    try:
        parts.port  # raises on a non-numeric port
    except ValueError:
        raise InputError(f"base URL for {source} has a bad port: {shown!r}") from None
    return url.rstrip("/")


def base_urls(overrides: dict | None = None) -> dict:
    """Base URLs of every source, with optional per-source overrides."""
    overrides = overrides or {}
    return {s: base_url(s, overrides.get(s)) for s in DEFAULT_URLS}
