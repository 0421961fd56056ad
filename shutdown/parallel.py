"""Run independent pieces of work (one figure each, say) on every core.

Workers are forked, so they inherit the parent's data (the tidy table, the events)
without pickling it; only each result travels back, and must be plain data. Where
fork is not the platform's way (macOS, Windows) or there is one core, the work runs
in this process, one item after another: the same results, only slower.

``SHUTDOWN_WORKERS=1`` forces the serial path (for debugging or profiling).
"""
from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable

_JOB: tuple = ()   # (fn, items), set just before the workers fork


def workers(n_items: int) -> int:
    """How many worker processes for ``n_items`` (1 means: run here)."""
    env = os.environ.get("SHUTDOWN_WORKERS", "").strip()
    want = int(env) if env.isdigit() and int(env) > 0 else (os.cpu_count() or 1)
    if not sys.platform.startswith("linux"):
        return 1
    return max(1, min(want, n_items))


def _call(i: int):
    fn, items = _JOB
    return fn(items[i])


def run_each(items: Iterable, fn: Callable) -> list:
    """``[fn(x) for x in items]``, in order, spread over worker processes."""
    global _JOB
    items = list(items)
    n = workers(len(items))
    if n == 1:
        return [fn(x) for x in items]
    _JOB = (fn, items)
    try:
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_call, range(len(items))))
    except BrokenProcessPool:
        # a worker died (out of memory, killed): do it here rather than fail the run
        return [fn(x) for x in items]
    finally:
        _JOB = ()


class Ahead:
    """Worker processes started ahead of the work: forked now, each running ``warm`` (the
    imports the work needs) while this process goes on (the report's analysis), so the
    second core is busy from the start. Work reaches them pickled, so ``fn`` must be a
    module-level function and its arguments plain data. ``submit`` returns a future;
    ``close`` ends the workers. With one worker or no fork, ``submit`` runs the work at
    once in this process."""

    def __init__(self, n: int, warm: Callable[[], None], processes: int | None = None):
        # n: the processes a task may use at once (``fork_each`` in the worker);
        # processes: the pool's workers (default n)
        self.pool, self.workers = None, n
        if n > 1:
            k = processes or n
            self.pool = ProcessPoolExecutor(k, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_warmed, initargs=(warm,))
            for _ in range(k):          # start every worker now (they start on demand)
                self.pool.submit(_nothing)

    def submit(self, fn: Callable, *args):
        from concurrent.futures import Future
        if self.pool is not None:
            try:
                return self.pool.submit(fn, *args)
            except BrokenProcessPool:
                self.pool = None
        done = Future()
        done.set_result(fn(*args))
        return done

    def result(self, future, fn: Callable, *args):
        """The future's result; the work done here if its worker died."""
        try:
            return future.result()
        except BrokenProcessPool:
            return fn(*args)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def abandon(self) -> None:
        """End the workers without waiting for them (the run failed: a worker still
        importing matplotlib would hold the error message back ~0.5 s)."""
        if self.pool is not None:
            for proc in list((getattr(self.pool, "_processes", None) or {}).values()):
                proc.terminate()
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def fork_each(items: list, fn: Callable) -> list:
    """``[fn(x) for x in items]``: the first here, each other in a child forked from this
    process, so they share what it has loaded (a drawing worker forks with matplotlib
    imported and the report's data unpickled: the children start at once). Results come
    back pickled through a pipe; a child that dies is redone here; an exception in a child
    is raised here. Only in a process without threads (a pool worker): fork copies none.
    Without fork, in this process one after another."""
    import pickle
    import threading
    if len(items) < 2 or not sys.platform.startswith("linux") or threading.active_count() > 1:
        return [fn(x) for x in items]
    kids = []
    for x in items[1:]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:                                   # the child: work, answer, leave
            os.close(r)
            try:
                try:
                    payload = pickle.dumps((True, fn(x)))
                except BaseException as exc:           # noqa: BLE001 -- raised in the parent
                    try:
                        payload = pickle.dumps((False, exc))
                    except Exception:
                        payload = pickle.dumps((False, RuntimeError(repr(exc))))
                with os.fdopen(w, "wb") as f:
                    f.write(payload)
            finally:
                os._exit(0)
        os.close(w)
        kids.append((pid, r, x))
    out = [fn(items[0])]
    for pid, r, x in kids:
        with os.fdopen(r, "rb") as f:
            payload = f.read()
        os.waitpid(pid, 0)
        try:
            ok, value = pickle.loads(payload)
        except Exception:                              # the child died before answering
            ok, value = True, fn(x)
        if not ok:
            raise value
        out.append(value)
    return out


def _nothing() -> None:
    return None


def _warmed(warm: Callable[[], None]) -> None:
    """A worker's start: ``warm``, then every object so far (the parent's data, the modules)
    left out of the collector's scans: a worker's figures create ~10^5 objects each, and
    full collections scanning the inherited heap cost ~10% of the drawing (measured)."""
    import gc
    warm()
    gc.freeze()
