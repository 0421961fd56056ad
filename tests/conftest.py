import contextlib
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


@pytest.fixture(scope="session")
def case():
    """The Kazakhstan case (tests that judge its documented events)."""
    from shutdown.case import load_case
    return load_case("kz-2022-01")


@pytest.fixture(scope="session")
def events(case):
    """Its documented timeline."""
    from shutdown.timeline import load_timeline
    return load_timeline(case.timeline_path, case=case)


@pytest.fixture(scope="session")
def shared_cache(request, tmp_path_factory):
    """A cache root holding the built demo cache of kz-2022-01 (and its tidy table), built
    once per checkout (pytest's cache folder) and shared by the notebook and browser tests."""
    from shutdown import load_case
    from shutdown.normalize import load_table
    from shutdown.simulate import demo_cache
    from shutdown.store import RawCache

    store = getattr(request.config, "cache", None)
    root = store.mkdir("shutdown-notebook-cache") if store else tmp_path_factory.mktemp("nbcache")
    # Two test runs in one checkout (e.g. an editor's and a terminal's) must not build
    # the same cache at once: the second waits, then finds it built.
    with _lock(Path(root) / ".lock"), pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHUTDOWN_CACHE", str(root))
        case = load_case("kz-2022-01")
        built = RawCache(demo_cache(case))   # rebuilt only when scenario, case, seed or version changed
        load_table(case, built)             # writes the tidy table the notebook reads
    return Path(root)


@contextlib.contextmanager
def _lock(path: Path):
    try:
        import fcntl
    except ImportError:          # not POSIX: no lock, one run at a time is on the user
        yield
        return
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
