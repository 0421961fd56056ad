import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test reads or writes the user's real cache."""
    monkeypatch.setenv("SHUTDOWN_CACHE", str(tmp_path / "cache"))
    os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def repo():
    return REPO
