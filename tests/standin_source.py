"""A source module written by a test, found by the registry as if it lay in shutdown/sources/
(nothing under shutdown/ is edited): what proves that a new source is one module."""
from __future__ import annotations

import contextlib
import sys
import textwrap

from shutdown.sources import registry


@contextlib.contextmanager
def installed(tmp_path, monkeypatch, name: str, text: str):
    """Write ``text`` as ``<tmp_path>/<name>.py``, put it on the sources package's path and
    yield its registry entry; forget it afterwards (the registry's and the expectations'
    caches are cleared both ways, so no other test sees it)."""
    import shutdown.sources as pkg
    from shutdown import timeline
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
    monkeypatch.setattr(pkg, "__path__", [*pkg.__path__, str(tmp_path)])
    registry.sources.cache_clear()
    timeline.expected_for.cache_clear()
    try:
        yield registry.get(name)
    finally:
        registry.sources.cache_clear()
        timeline.expected_for.cache_clear()
        sys.modules.pop(f"shutdown.sources.{name}", None)
