"""``parallel.fork_each`` (a drawing worker's figures side by side in processes forked
from it) and ``report.figures.balanced`` (how the figures are split between them)."""
from __future__ import annotations

import os
import signal
import sys
import threading

import pytest

from shutdown import parallel
from shutdown.plot import FIGURES
from shutdown.report.figures import balanced

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork_each forks on Linux only")


def _where(x):
    return (x, os.getpid())


def _alone(fn):
    """``fn()`` in a process forked from this one, where no other thread runs (as in a
    drawing worker; the test session may have threads of earlier tests): its result, or
    the text of its exception."""
    import multiprocessing
    ctx = multiprocessing.get_context("fork")
    q = ctx.SimpleQueue()

    def run():
        try:
            q.put(("ok", fn()))
        except BaseException as exc:      # noqa: BLE001 -- reported to the test
            q.put(("raised", f"{type(exc).__name__}: {exc}"))
    p = ctx.Process(target=run)
    p.start()
    p.join(60)
    return q.get()


@linux
def test_each_item_after_the_first_runs_in_a_child_and_the_results_come_back_in_order():
    status, (me, got) = _alone(lambda: (os.getpid(), parallel.fork_each([1, 2, 3], _where)))
    assert status == "ok"
    assert [x for x, _ in got] == [1, 2, 3]
    pids = [pid for _, pid in got]
    assert pids[0] == me and len(set(pids)) == 3


@linux
def test_an_error_in_a_child_is_raised_here():
    def fn(x):
        if x == "bad":
            raise ValueError(f"the child's error in {os.getpid()}")
        return x
    status, error = _alone(lambda: (os.getpid(), parallel.fork_each(["ok", "bad"], fn)))
    assert status == "raised" and error.startswith("ValueError: the child's error in ")
    assert int(error.rsplit(" ", 1)[1]) != os.getpid()            # raised in the child


@linux
def test_a_child_that_dies_is_redone_here():
    def run():
        parent = os.getpid()

        def fn(x):
            if os.getpid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)      # killed before it answers
            return x * 10
        return parallel.fork_each([1, 2, 3], fn)
    assert _alone(run) == ("ok", [10, 20, 30])


def test_with_threads_running_nothing_is_forked():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        got = parallel.fork_each([1, 2], _where)
    finally:
        stop.set()
        t.join()
    assert {pid for _, pid in got} == {os.getpid()}


def _greedy_span(names, n):
    loads = [0.0] * n
    for name in sorted(names, key=lambda x: -FIGURES[x].weight):
        loads[loads.index(min(loads))] += FIGURES[name].weight
    return max(loads)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("names", [list(FIGURES), list(FIGURES)[:3], list(FIGURES)[1:], []])
def test_balanced_splits_cover_every_figure_once_no_longer_than_a_greedy_queue(names, n):
    batches = balanced(names, n)
    flat = [x for b in batches for x in b]
    assert sorted(flat) == sorted(names) and len(batches) <= n and all(batches)
    span = lambda b: sum(FIGURES[x].weight for x in b)
    if names:
        assert max(map(span, batches)) <= _greedy_span(names, n) + 1e-9
    assert [span(b) for b in batches] == sorted((span(b) for b in batches), reverse=True)
