"""How long detection takes on a large table, and how much memory it needs.

    /tmp/venv/bin/python benchmarks/bench_detect.py               # 250 ASNs x 1 year x 3 signals
    /tmp/venv/bin/python benchmarks/bench_detect.py --entities 25 --days 60   # quick look

The table is synthetic (tests/synthetic.py: daily cycle, noise, random cuts of
1-12 hours at 0-40% of normal), 5-minute bins, categorical key columns as a
Parquet table read by pandas would give. Detection learns 14 days of baseline
and judges the rest of the year. Prints the wall time of detection, the peak
resident memory during detection above what the table itself holds (sampled
from /proc every 20 ms; tracemalloc would slow numpy down several-fold), the
process's peak RSS, and how many of the planted cuts were found.
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

from shutdown import detect  # noqa: E402
from synthetic import large_table  # noqa: E402


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
    args = ap.parse_args(argv)

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
    print(f"detection: {t_det:.1f} s for {n_series} series "
          f"({len(tidy) / t_det / 1e6:.1f} M rows/s); CPU {cpu_user:.1f} s user + "
          f"{cpu_sys:.1f} s system (wall above CPU = waiting for a core on a shared machine); "
          f"{len(iv):,} intervals, {len(res.fused):,} fused")
    print(f"memory: peak RSS during detection {peak[0]:,.0f} MiB, of which "
          f"{peak[0] - before:,.0f} MiB above the loaded table; process peak RSS {rss:,.0f} MiB")
    print(f"planted cuts after the baseline: {len(tr)}, found {found} "
          f"({100 * found / max(len(tr), 1):.1f}%); intervals per entity and signal: "
          f"median {per_cut.median() if len(per_cut) else 0:.0f}")


if __name__ == "__main__":
    main()
