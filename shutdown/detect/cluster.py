"""Detection over a partitioned dataset (``store.write_dataset``) on Dask.

Each ``dask.distributed`` task reads a batch of whole partitions (files: every row of one
source's series for one entity) in one go with pyarrow (``read_batch``) and judges it with
the code ``detect.run`` runs (``_run_part``), so every series is judged whole and the rows
go from disk to the worker that judges them; fusion, which compares sources, runs here on
the intervals of them all. The result is the Detection ``detect.run`` gives on the whole
table (``tests/test_detect_groups.py``).

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
    from distributed import Client
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
    with local_cluster(n_workers(n_items)) as cluster, Client(cluster) as c:
        yield c


# Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536 (to return freed memory to the
# system sooner). Setting it turns off glibc's moving mmap threshold, so every large numpy
# temporary of a detection is a fresh mmap, page faults and munmap: measured here, 0.4 s of
# system time more per 8 M rows (detection ~40% slower). Our workers start without it; their
# peak memory is what bench_detect.py reports.
WORKER_ENV = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def local_cluster(workers: int):
    """A LocalCluster on this machine: ``workers`` single-threaded processes (``WORKER_ENV``)."""
    import dask
    from distributed import LocalCluster
    with dask.config.set(WORKER_ENV):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            memory_limit="auto", dashboard_address=None,
                            silence_logs=logging.ERROR)


def read_batch(files) -> "pd.DataFrame":
    """The tidy rows of several partition files, read in one go: each file's single row
    group with pyarrow (no pandas per file: that cost more than detecting a 30-day file),
    one Arrow table, one conversion to pandas. A file's key columns are dictionaries whose
    index width depends on its own categories, hence the permissive concatenation."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from shutdown.schema import keyed
    tables = [pq.ParquetFile(f).read() for f in files]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    return keyed(table.to_pandas())


BATCH_ROWS = 1_000_000      # rows a task judges at most: whole partitions, about this many
TASKS_PER_WORKER = 4        # and at least this many tasks per worker, so none waits on the last


def batches(sizes, size: int = BATCH_ROWS) -> list[list[int]]:
    """Runs of consecutive partitions holding about ``size`` rows (one alone if larger):
    a task's fixed cost (scheduling, reading, a detection's set-up) is paid per batch, not
    per entity, and a worker holds one batch at a time."""
    out, cur, n = [], [], 0
    for i, k in enumerate(sizes):
        if cur and n + k > size:
            out.append(cur)
            cur, n = [], 0
        cur.append(i)
        n += k
    return out + ([cur] if cur else [])


def batch_rows(total: int, workers: int) -> int:
    """Rows per task: ``BATCH_ROWS``, or fewer when the dataset is small, so that every
    worker gets ``TASKS_PER_WORKER`` tasks (a worker's memory is that of one batch; a
    run's wall time, that of its busiest worker)."""
    return max(1, min(BATCH_ROWS, -(-total // (TASKS_PER_WORKER * max(1, workers)))))


def judge_files(files, judge, window, baseline, tz, th):
    """A task: read a batch of whole partitions (``read_batch``) and judge it."""
    return judge(read_batch(files), window, baseline, tz, th)


def plan(files, workers: int) -> list[list[str]]:
    """The tasks: batches of whole partition files, each about ``batch_rows`` rows (sized
    from the files' footers, no data read)."""
    import pyarrow.parquet as pq
    sizes = [pq.read_metadata(f).num_rows for f in files]
    return [[files[i] for i in b] for b in batches(sizes, batch_rows(sum(sizes), workers))]


def detect_parts(judge, files, window, baseline, tz, th, scheduler=None) -> list:
    """``judge(table, window, baseline, tz, th)`` of every batch of whole partitions, in
    the files' order (``judge``: ``detect._run_part``, passed in so this module imports
    nothing of detect's). Each task reads its own batch (``judge_files``): the rows go
    from disk to the worker that judges them, never through the client or another worker."""
    with client(scheduler, len(files)) as c:
        groups = plan(files, sum(c.nthreads().values()))
        return gather(c, judge_files, groups, judge=judge, window=window, baseline=baseline,
                      tz=tz, th=th)


def gather(c, fn, items, **kw) -> list:
    """``fn(item, **kw)`` of every item on the cluster, in order. Each result is taken as
    soon as its task ends and let go on the worker (a gather at the end would leave every
    result on the workers until then)."""
    from distributed import as_completed
    futures = c.map(fn, items, **kw)
    where = {f.key: i for i, f in enumerate(futures)}
    out: list = [None] * len(futures)
    done = as_completed(futures, with_results=True)
    del futures
    for f, res in done:
        out[where[f.key]] = res
        f.release()
    return out


# Several small datasets, each judged whole with its own window (a survey: one per record).
# A LocalCluster costs ~2-3 s to start and stop (measured here: start 1.3-1.8 s, stop
# 0.5-0.7 s, then each worker's first import); detection runs at ~5 M rows/s per core, so
# below this many rows the same tasks run in this process instead.
LOCAL_CLUSTER_ROWS = 20_000_000


def on_cluster(scheduler, rows: int) -> bool:
    """Whether to judge on Dask: a cluster is named (``scheduler``, a Client or
    ``$SHUTDOWN_SCHEDULER``), or there are enough rows to repay a LocalCluster's start."""
    given_client = scheduler is not None and not isinstance(scheduler, str)
    return given_client or scheduler_address(scheduler) is not None or rows >= LOCAL_CLUSTER_ROWS


def judge_jobs(jobs, judge, th) -> list:
    """A task: ``judge(table, window, baseline, tz, th)`` of each job's dataset, read whole
    (``jobs``: (files, window, baseline, tz) each)."""
    return [judge(read_batch(files), w, b, tz, th) for files, w, b, tz in jobs]


def judge_datasets(judge, jobs, th, scheduler=None) -> list:
    """``judge_jobs`` over batches of whole datasets (about ``batch_rows`` rows a task) on
    Dask, or, when ``on_cluster`` says a cluster would not repay its start, in this process
    (the same function, every job in turn). One result per job, in order."""
    import pyarrow.parquet as pq
    sizes = [sum(pq.read_metadata(f).num_rows for f in files) for files, *_ in jobs]
    if not on_cluster(scheduler, sum(sizes)):
        return judge_jobs(jobs, judge, th)
    with client(scheduler, len(jobs)) as c:
        runs = batches(sizes, batch_rows(sum(sizes), sum(c.nthreads().values())))
        parts = gather(c, judge_jobs, [[jobs[i] for i in b] for b in runs], judge=judge, th=th)
    return [d for part in parts for d in part]
