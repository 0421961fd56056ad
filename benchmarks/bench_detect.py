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
README's Performance table) measures file system and interpreter start-up.

    python benchmarks/bench_detect.py --stream --entities 250     # group by group from Parquet
    python benchmarks/bench_detect.py --scale 25,250,1000 --days 90

``--stream`` writes the table to Parquet one group of 25 entities at a time (it is
never whole in memory) and detects group by group (``detect.run_table``: each core
reads and judges one group at a time): memory is that of a group per core, whatever
the number of entities; CPU time is summed over the worker processes. ``--scale`` runs ``--stream`` at each size in a fresh process and prints
how time per row and peak memory grow (both should stay flat: time linear in rows).
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


def _rss_tree() -> float:
    """Resident memory of this process and its worker processes, MiB (pages a forked worker
    still shares with its parent count twice: an upper bound)."""
    total = _rss()
    try:
        kids = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    except OSError:
        kids = []
    for pid in kids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


class _Peak:
    """Peak resident memory of this process and its workers while the block runs
    (sampled from /proc every 20 ms)."""

    def __enter__(self):
        self.before = _rss_tree()
        self.peak = self.before
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._sample, daemon=True)
        self._th.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_tree())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._th.join()
        self.peak = max(self.peak, _rss_tree())


def _recall(iv: pd.DataFrame, truth: pd.DataFrame, w0) -> tuple[int, int]:
    tr = truth[truth["start_utc"] >= w0]
    starts = {c: g["start_utc"] for c, g in iv.assign(entity_code=iv["entity_code"].astype(str)).groupby("entity_code")}
    found = sum(bool(c in starts and (abs(starts[c] - s) <= pd.Timedelta(minutes=10)).any())
                for c, s in zip(tr["entity_code"], tr["start_utc"]))
    return found, len(tr)


def stream(args) -> None:
    import json
    import tempfile
    truths, rows = [], [0]

    def groups():
        for t, tr in large_table_groups(args.entities, args.per_group, args.days):
            truths.append(tr)
            rows[0] += len(t)
            yield t

    with tempfile.TemporaryDirectory(prefix="bench-detect-") as tmp:
        t = time.perf_counter()
        path = store.write_grouped_table(groups(), Path(tmp) / "table.parquet")
        t_write = time.perf_counter() - t
        start, _ = store.table_time_range(path)
        start = pd.Timestamp(start)
        start = start.tz_localize("UTC") if start.tzinfo is None else start
        w0 = start + pd.Timedelta(days=args.baseline_days)
        w1 = start + pd.Timedelta(days=args.days)
        with _Peak() as mem:
            t, c0 = time.perf_counter(), os.times()
            res = detect.run_table(path, (w0, w1), (start, w0))
            t_det, c1 = time.perf_counter() - t, os.times()
    found, cuts = _recall(res.intervals, pd.concat(truths, ignore_index=True), w0)
    out = {"entities": args.entities, "rows": rows[0], "seconds": t_det,
           # the workers' CPU too (children's times, counted once they have ended)
           "cpu": sum(getattr(c1, f) - getattr(c0, f)
                      for f in ("user", "system", "children_user", "children_system")),
           "rows_per_s": rows[0] / t_det, "mib_above": mem.peak - mem.before, "peak_mib": mem.peak,
           "intervals": len(res.intervals), "found": found, "cuts": cuts}
    print(f"streamed: {rows[0]:,} rows ({args.entities} entities x 3 signals x {args.days} days, "
          f"groups of {args.per_group}; written in {t_write:.1f} s); detection {t_det:.1f} s "
          f"({out['rows_per_s'] / 1e6:.1f} M rows/s wall; CPU {out['cpu']:.1f} s, "
          f"{rows[0] / out['cpu'] / 1e6:.1f} M rows per CPU-second); peak RSS (with workers) "
          f"{mem.peak:,.0f} MiB, {out['mib_above']:,.0f} MiB above the start; "
          f"planted cuts found {found}/{cuts}")
    print("JSON " + json.dumps(out))


def scale(sizes: list[int], args) -> None:
    import json
    import subprocess
    res = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--stream", "--entities", str(n), "--days", str(args.days),
               "--per-group", str(args.per_group), "--baseline-days", str(args.baseline_days)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        print(out.splitlines()[0])
        res.append(json.loads(next(x for x in out.splitlines() if x.startswith("JSON "))[5:]))
    ref = res[0]
    print(f"growth relative to {ref['entities']} entities (time per row and memory should stay ~1.0):")
    for r in res:
        print(f"  {r['entities']:5d} entities: rows x{r['rows'] / ref['rows']:6.1f}, time x"
              f"{r['seconds'] / ref['seconds']:6.1f}, time per row x"
              f"{(r['seconds'] / r['rows']) / (ref['seconds'] / ref['rows']):4.2f}, memory above start x"
              f"{r['mib_above'] / max(ref['mib_above'], 1):4.2f} ({r['mib_above']:,.0f} MiB)")


if __name__ == "__main__":
    main()
