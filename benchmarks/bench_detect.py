"""How long detection takes on a large table, and how much memory it needs.

    /tmp/venv/bin/python benchmarks/bench_detect.py               # 250 ASNs x 1 year x 3 signals
    /tmp/venv/bin/python benchmarks/bench_detect.py --entities 25 --days 60   # quick look

The table is synthetic (tests/synthetic.py: daily cycle, noise, random cuts of
1-12 hours at 0-40% of normal), 5-minute bins, categorical key columns as a
Parquet table read by pandas would give. Detection learns 14 days of baseline
and judges the rest of the year. Prints the wall and CPU time of detection (M rows
per second of each), the peak resident memory during detection above what the
table itself holds (sampled from /proc every 20 ms; tracemalloc would slow numpy
down several-fold), the process's peak RSS, and how many of the planted cuts were
found.

Ratios: detection time is also printed as a multiple of a reference run in the
same process on the same table, after detection (so that its memory is not
counted): a pandas groupby-sum of the values by series (``reference.py``). That
is the reference to read for this benchmark: it does what detection does at its
core -- a pass over 79M rows of the table in memory -- so it slows down with the
machine's memory bandwidth and with the other jobs of a shared machine as
detection does, while the project's start-up reference (``python -c "import
pandas, matplotlib.pyplot"``, also printed, for comparison with the other rows of
docs/performance.md's table) measures file system and interpreter start-up.

    python benchmarks/bench_detect.py --stream --entities 250     # group by group from Parquet
    python benchmarks/bench_detect.py --scale 25,250,1000 --days 90

``--stream`` writes the table as a partitioned dataset (``store.write_dataset``, one
file per source and entity), 25 entities at a time (it is never whole in memory), and
detects on Dask (``detect.run_dataset`` on a LocalCluster, one worker per core), after a
warm-up, ``--repeat`` times: the median rows/s and each worker's peak RSS, as ratios to
two groupby-sums of the same dataset on the same cluster, run between the detections of
each round: Dask's own (``dask.dataframe.read_parquet(...).groupby(...).sum()``) and one
over the same batches read the same way as detection (``cluster.read_batch``): what
reading and one pass cost. Memory per worker is that of a batch (``cluster.BATCH_ROWS``),
whatever the number of entities. ``--scale`` runs ``--stream`` at each size in a fresh
process and prints how time per row and peak memory grow (both should stay flat: time
linear in rows). The load average before and after is printed: the machine may be shared.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from shutdown import detect, store  # noqa: E402
from synthetic import large_table, large_table_groups  # noqa: E402
from reference import IMPORT_REFERENCE_NAME, groupby_reference, import_reference  # noqa: E402


def _rss() -> float:
    """Resident memory of this process now, MiB (Linux /proc)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=250)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--baseline-days", type=int, default=14)
    ap.add_argument("--stream", action="store_true", help="detect group by group from a Parquet table")
    ap.add_argument("--per-group", type=int, default=25, help="entities per group with --stream")
    ap.add_argument("--scale", help="comma-separated entity counts: --stream at each, in fresh processes")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds with --stream (medians)")
    args = ap.parse_args(argv)
    if args.scale:
        return scale([int(x) for x in args.scale.split(",")], args)
    if args.stream:
        return stream(args)

    t = time.perf_counter()
    tidy, truth = large_table(n_entities=args.entities, days=args.days)
    t_gen = time.perf_counter() - t
    start = tidy["ts_utc"].iloc[0]
    w0 = start + pd.Timedelta(days=args.baseline_days)
    w1 = start + pd.Timedelta(days=args.days)
    n_series = args.entities * 3
    print(f"table: {len(tidy):,} rows = {args.entities} entities x 3 signals x "
          f"{len(tidy) // n_series:,} 5-minute bins ({args.days} days); "
          f"{tidy.memory_usage(deep=False).sum() / 2**20:,.0f} MiB; built in {t_gen:.1f} s")

    before = _rss()
    peak = [before]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.02)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t, c0 = time.perf_counter(), os.times()
    res = detect.run(tidy, (w0, w1), (start, w0))
    t_det, c1 = time.perf_counter() - t, os.times()
    cpu_user, cpu_sys = c1.user - c0.user, c1.system - c0.system
    stop.set()
    th.join()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux

    iv = res.intervals
    # recall: a planted cut counts as found when an interval of its entity starts within
    # two bins of it (all three signals fall together)
    tr = truth[truth["start_utc"] >= w0]
    found = 0
    for code, g in tr.groupby("entity_code"):
        starts = iv.loc[iv["entity_code"] == code, "start_utc"]
        for s in g["start_utc"]:
            found += bool((abs(starts - s) <= pd.Timedelta(minutes=10)).any())
    per_cut = iv.groupby(["entity_code", "signal"]).size()
    cpu = cpu_user + cpu_sys
    print(f"detection: {t_det:.1f} s for {n_series} series "
          f"({len(tidy) / t_det / 1e6:.1f} M rows/s); CPU {cpu_user:.1f} s user + "
          f"{cpu_sys:.1f} s system ({len(tidy) / cpu / 1e6:.1f} M rows per CPU-second; wall "
          f"above CPU = waiting for a core on a shared machine); "
          f"{len(iv):,} intervals, {len(res.fused):,} fused")
    print(f"memory: peak RSS during detection {peak[0]:,.0f} MiB, of which "
          f"{peak[0] - before:,.0f} MiB above the loaded table; process peak RSS {rss:,.0f} MiB")
    del res
    ref_wall, ref_cpu = groupby_reference(tidy)
    ref_imp = import_reference()
    print(f"reference: groupby-sum of the table by series {ref_wall:.2f} s (CPU {ref_cpu:.2f} s): "
          f"detection = {t_det / ref_wall:.1f}x its wall, {cpu / ref_cpu:.1f}x its CPU; "
          f"{IMPORT_REFERENCE_NAME} {ref_imp:.2f} s: detection = {t_det / ref_imp:.1f}x")
    print(f"planted cuts after the baseline: {len(tr)}, found {found} "
          f"({100 * found / max(len(tr), 1):.1f}%); intervals per entity and signal: "
          f"median {per_cut.median() if len(per_cut) else 0:.0f}")


def _recall(iv: pd.DataFrame, truth: pd.DataFrame, w0) -> tuple[int, int]:
    tr = truth[truth["start_utc"] >= w0]
    starts = {c: g["start_utc"] for c, g in iv.assign(entity_code=iv["entity_code"].astype(str)).groupby("entity_code")}
    found = sum(bool(c in starts and (abs(starts[c] - s) <= pd.Timedelta(minutes=10)).any())
                for c, s in zip(tr["entity_code"], tr["start_utc"]))
    return found, len(tr)


def _reset_peak() -> None:
    """On a worker: give freed memory back (glibc's malloc_trim: what an earlier run left in
    the heap would count in the next one's peak), then restart its peak RSS count (Linux:
    VmHWM is reset by clear_refs 5)."""
    import ctypes
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _peak_mib() -> float:
    """On a worker: its peak RSS since the last reset, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def _batch_sum(files):
    """The batched reference's task: read a batch as detection does, one groupby-sum."""
    from shutdown.detect import cluster as C
    return C.read_batch(files).groupby(["entity_code", "signal"], observed=True)["value"].sum()


def stream(args) -> None:
    """The dataset written group by group (never whole in memory), then detected on Dask
    (a LocalCluster, one worker per core), against two groupby-sums of the same dataset on
    the same cluster, interleaved with detection in each of ``--repeat`` rounds (medians)."""
    import json
    import tempfile
    import dask.dataframe as dd
    from distributed import Client
    from shutdown.detect import cluster as C
    truths, rows = [], [0]

    def groups():
        for t, tr in large_table_groups(args.entities, args.per_group, args.days):
            truths.append(tr)
            rows[0] += len(t)
            yield t

    with tempfile.TemporaryDirectory(prefix="bench-detect-") as tmp:
        t = time.perf_counter()
        path = store.write_dataset(groups(), Path(tmp) / "ds")
        t_write = time.perf_counter() - t
        start = pd.Timestamp(store.dataset_time_range(path)[0])
        start = start.tz_localize("UTC") if start.tzinfo is None else start
        w0 = start + pd.Timedelta(days=args.baseline_days)
        w1 = start + pd.Timedelta(days=args.days)
        files = store.dataset_files(path)
        load0 = os.getloadavg()
        with C.local_cluster(C.n_workers()) as cl, Client(cl) as c:
            # workers warm (imports, first allocations), as for a second run
            C.detect_parts(detect._run_part, files[:2], (w0, w1), (start, w0), None,
                           detect.thresholds.DEFAULT, scheduler=c)
            batches = C.plan(files, sum(c.nthreads().values()))

            def timed(fn):
                c.run(_reset_peak)
                t0 = time.perf_counter()
                out = fn()
                return out, time.perf_counter() - t0, max(c.run(_peak_mib).values())

            runs = {"det": [], "ref": [], "batch": []}
            for _ in range(args.repeat):
                runs["ref"].append(timed(lambda: dd.read_parquet(files, split_row_groups=False, dataset={
                    "partitioning": None}).groupby(["entity_code", "signal"], observed=True)["value"].sum(
                    split_out=1).compute())[1:])
                runs["batch"].append(timed(lambda: C.gather(c, _batch_sum, batches))[1:])
                res, *m = timed(lambda: detect.run_dataset(path, (w0, w1), (start, w0), scheduler=c))
                runs["det"].append(m)
            n_workers = len(c.scheduler_info()["workers"])
        load1 = os.getloadavg()
    found, cuts = _recall(res.intervals, pd.concat(truths, ignore_index=True), w0)
    sec = {k: _median([r[0] for r in v]) for k, v in runs.items()}
    mib = {k: max(r[1] for r in v) for k, v in runs.items()}
    ratio = _median([d[0] / r[0] for d, r in zip(runs["det"], runs["ref"])])
    ratio_b = _median([d[0] / r[0] for d, r in zip(runs["det"], runs["batch"])])
    out = {"entities": args.entities, "days": args.days, "rows": rows[0], "seconds": sec["det"],
           "ref_seconds": sec["ref"], "batch_ref_seconds": sec["batch"], "ratio": ratio,
           "batch_ratio": ratio_b, "rows_per_s": rows[0] / sec["det"],
           "worker_peak_mib": mib["det"], "ref_worker_peak_mib": mib["ref"],
           "batch_ref_worker_peak_mib": mib["batch"], "workers": n_workers,
           "partitions": len(files), "tasks": len(batches), "repeat": args.repeat,
           "load": [round(x, 2) for x in load0 + load1], "intervals": len(res.intervals),
           "found": found, "cuts": cuts}
    print(f"dask: {rows[0]:,} rows ({args.entities} entities x 3 signals x {args.days} days, "
          f"{len(files)} files in {len(batches)} tasks; written in {t_write:.1f} s); {n_workers} workers; "
          f"detection {sec['det']:.1f} s ({out['rows_per_s'] / 1e6:.1f} M rows/s; median of {args.repeat}) = "
          f"{ratio:.1f}x a Dask groupby-sum of the dataset ({sec['ref']:.1f} s), {ratio_b:.1f}x a groupby-sum "
          f"of the same batches read the same way ({sec['batch']:.1f} s); peak RSS per worker "
          f"{mib['det']:,.0f} MiB = {mib['det'] / mib['ref']:.2f}x the Dask groupby-sum's ({mib['ref']:,.0f} MiB), "
          f"{mib['det'] / mib['batch']:.2f}x the batched one's ({mib['batch']:,.0f} MiB); planted cuts found "
          f"{found}/{cuts}; load average {load0[0]:.1f} before, {load1[0]:.1f} after")
    print("JSON " + json.dumps(out))


def scale(sizes: list[int], args) -> None:
    import json
    import subprocess
    res = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--stream", "--entities", str(n), "--days", str(args.days),
               "--per-group", str(args.per_group), "--baseline-days", str(args.baseline_days),
               "--repeat", str(args.repeat)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        print(out.splitlines()[0], flush=True)
        res.append(json.loads(next(x for x in out.splitlines() if x.startswith("JSON "))[5:]))
    ref = res[0]
    print(f"growth relative to {ref['entities']} entities (time per row and memory should stay ~1.0):")
    for r in res:
        print(f"  {r['entities']:5d} entities: rows x{r['rows'] / ref['rows']:6.1f}, time x"
              f"{r['seconds'] / ref['seconds']:6.1f}, time per row x"
              f"{(r['seconds'] / r['rows']) / (ref['seconds'] / ref['rows']):4.2f}, peak memory per worker x"
              f"{r['worker_peak_mib'] / ref['worker_peak_mib']:4.2f} ({r['worker_peak_mib']:,.0f} MiB per "
              f"worker), {r['rows_per_s'] / 1e6:.1f} M rows/s = {r['ratio']:.1f}x the Dask groupby-sum, "
              f"{r['batch_ratio']:.1f}x the batched one")


if __name__ == "__main__":
    main()
