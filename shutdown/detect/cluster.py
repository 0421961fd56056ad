"""Detection over a partitioned dataset (``store.write_dataset``) on Dask.

Dask (``dask.distributed``) reads the dataset, one partition per file (every row of one
source's series for one entity), and each task judges a batch of whole partitions
(about ``BATCH_ROWS`` rows), so every series is judged whole, with the same code as ``detect.run`` (``_run_part``); fusion, which
compares sources, runs here on the intervals of them all. The result is the Detection
``detect.run`` gives on the whole table (``tests/test_detect_groups.py``).

Where it runs: ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``, or a
``distributed.Client``), else ``$SHUTDOWN_SCHEDULER``, else a ``LocalCluster`` on this
machine: one single-threaded worker process per core (``$SHUTDOWN_WORKERS`` to say how
many; a partition's detection is numpy and pandas, which hold the GIL in places, so
processes rather than threads), each with Dask's share of this machine's memory
(``memory_limit="auto"``: memory / workers; a worker pauses at 80% and is restarted
at 95%, its task retried). Workers of a running cluster must import this package and
read the dataset's path (a shared file system).

Dask is imported here only, on first use: ``import shutdown`` and ``shutdown --help``
never load it.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager

SCHEDULER_ENV = "SHUTDOWN_SCHEDULER"
CONNECT_TIMEOUT = "10s"


def scheduler_address(scheduler=None) -> str | None:
    """The running cluster to use: ``scheduler``, else ``$SHUTDOWN_SCHEDULER``; None
    means a cluster on this machine."""
    if scheduler is not None and not isinstance(scheduler, str):
        return None
    addr = (scheduler or os.environ.get(SCHEDULER_ENV, "")).strip()
    return addr or None


def n_workers(n_items: int | None = None) -> int:
    """Worker processes of a local cluster: ``$SHUTDOWN_WORKERS``, else one per core
    (never more than there are partitions)."""
    env = os.environ.get("SHUTDOWN_WORKERS", "").strip()
    try:
        want = len(os.sched_getaffinity(0))
    except AttributeError:          # not Linux
        want = os.cpu_count() or 1
    want = int(env) if env.isdigit() and int(env) > 0 else want
    return max(1, min(want, n_items)) if n_items else want


@contextmanager
def client(scheduler=None, n_items: int | None = None):
    """A ``distributed.Client``: the one given, one connected to the running cluster at
    ``scheduler_address(scheduler)``, or one on a LocalCluster started (and stopped) here."""
    from distributed import Client, LocalCluster
    if isinstance(scheduler, Client):
        yield scheduler
        return
    addr = scheduler_address(scheduler)
    if addr:
        try:
            c = Client(addr, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            from shutdown.errors import InputError
            raise InputError(f"cannot reach the Dask scheduler ({type(exc).__name__}: {exc}); start one "
                             "(`dask scheduler`, then `dask worker ADDRESS` on each machine) or leave out "
                             f"--scheduler and ${SCHEDULER_ENV} to use this machine",
                             where=addr, field="scheduler") from None
        with c:
            yield c
        return
    with LocalCluster(n_workers=n_workers(n_items), threads_per_worker=1, processes=True,
                      memory_limit="auto", dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as c:
        yield c


def read(files):
    """The dataset as a Dask DataFrame, one partition per file (never split: a file is
    one row group, and ``split_row_groups=False`` in any case); the hive-style names are
    not parsed into columns (the files hold every column)."""
    import dask.dataframe as dd
    return dd.read_parquet(files, split_row_groups=False, dataset={"partitioning": None})


BATCH_ROWS = 2_000_000      # rows a task judges at once: whole partitions, about this many


def batches(sizes, size: int = BATCH_ROWS) -> list[list[int]]:
    """Runs of consecutive partitions holding about ``size`` rows (one alone if larger):
    a task's fixed cost (scheduling, a detection's set-up) is paid per batch, not per
    entity, and a worker holds one batch at a time."""
    out, cur, n = [], [], 0
    for i, k in enumerate(sizes):
        if cur and n + k > size:
            out.append(cur)
            cur, n = [], 0
        cur.append(i)
        n += k
    return out + ([cur] if cur else [])


def _judge_batch(judge, window, baseline, tz, th, *parts):
    import pandas as pd
    from shutdown.schema import keyed
    tidy = parts[0] if len(parts) == 1 else keyed(pd.concat(parts, ignore_index=True))
    return judge(tidy, window, baseline, tz, th)


def detect_parts(judge, files, window, baseline, tz, th, scheduler=None) -> list:
    """``judge(table, window, baseline, tz, th)`` of every batch of whole partitions, in
    the files' order (``judge``: ``detect._run_part``, passed in so this module imports
    nothing of detect's)."""
    import dask
    import pyarrow.parquet as pq
    parts = read(files).to_delayed()
    sizes = [pq.read_metadata(f).num_rows for f in files]
    tasks = [dask.delayed(_judge_batch, pure=True)(judge, window, baseline, tz, th, *[parts[i] for i in b])
             for b in batches(sizes)]
    with client(scheduler, len(tasks)) as c:
        return c.gather(c.compute(tasks))
