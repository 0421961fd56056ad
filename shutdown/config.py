"""Where each upstream lives: one place for the base URLs of all sources.

Resolution order, first found wins: an explicit value (``--url SOURCE=URL``,
or the ``base_url=`` argument of the Python API), the
environment variable ``SHUTDOWN_<SOURCE>_URL``, the public default each source
declares (``shutdown.sources.registry``). API paths are appended to
the base URL, so a mirror or a local test server with a port
(``https://127.0.0.1:8443``) works the same way as the real host.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from shutdown.errors import InputError

def env_var(source: str) -> str:
    return f"SHUTDOWN_{source.upper()}_URL"


def default_url(source: str) -> str:
    from shutdown.sources import registry
    return registry.get(source).default_url


def base_url(source: str, override: str | None = None) -> str:
    """The base URL for ``source`` (e.g. "ioda"), without a trailing slash."""
    default = default_url(source)              # unknown source -> InputError
    where = "option" if override else env_var(source)
    url = override or os.environ.get(env_var(source)) or default
    origin = where if url != default else "default"
    try:
        parts = urlsplit(url)                   # raises on an unclosed IPv6 bracket
        host = parts.hostname
    except ValueError as exc:
        raise InputError(f"base URL for {source} is not a URL ({exc}); expected "
                         f"https://host[:port][/path] (from {origin})") from None
    from shutdown.store import strip_secrets_from_url
    shown = strip_secrets_from_url(url)         # an error line never shows a password
    try:
        parts.port                              # raises on a non-numeric or out-of-range port
    except ValueError:
        raise InputError(f"base URL for {source} has a bad port: {shown!r} (from {origin})") from None
    if (parts.scheme not in ("http", "https") or not host
            or any(c.isspace() or ord(c) < 32 for c in url)):
        raise InputError(f"base URL for {source} must look like https://host[:port][/path], "
                         f"got {shown!r} (from {origin})")
    return url.rstrip("/")


def base_urls(overrides: dict | None = None) -> dict:
    """Base URLs of every source, with optional per-source overrides."""
    from shutdown.sources import registry
    overrides = overrides or {}
    return {s: base_url(s, overrides.get(s)) for s in registry.names()}


def parse_url_options(values) -> dict:
    """``["ooni=https://api.ooni.io", ...]`` (``--url SOURCE=URL``, repeatable) -> {source: url}."""
    from shutdown.sources import registry
    out = {}
    for v in values or ():
        name, sep, url = str(v).partition("=")
        name = name.strip().lower()
        if not sep or not url.strip():
            raise InputError(f"expected SOURCE=URL, got {v!r}", field="--url")
        registry.get(name, "--url")
        out[name] = url.strip()
    return out
