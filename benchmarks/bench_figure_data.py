"""The data side of drawing a figure (issue 22): per figure of the demo report, the CPU of
building it (pandas preparation plus matplotlib artists), of its CSV and of its interactive
chart, as ratios to a pandas groupby-sum over the same tidy table in the same process.

    SHUTDOWN_CACHE=/tmp/bench-cache .venv/bin/python benchmarks/bench_figure_data.py [--repeat 4]

One warm process: the demo case is analysed once (not timed), every figure is drawn once
to warm the caches, then ``--repeat`` times; the least disturbed run of each stage is
printed (the shared machine's other jobs only ever add CPU). The PNG is saved before the
sidecar is read back, as the report does, but not timed (the matplotlib side). Reference:
the groupby-sum of ``reference.groupby_reference`` (the value column by series over the
tidy table), its CPU timed by ``time.process_time`` (``os.times`` counts in 10 ms ticks,
the length of the groupby itself), the best of five.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

STAGES = ("build", "csv", "chart")


def reference_cpu(tidy, by=("entity_code", "signal"), repeat: int = 5) -> float:
    """CPU seconds of reference.groupby_reference's groupby-sum, the best of ``repeat``."""
    best = None
    for _ in range(repeat):
        t0 = time.process_time()
        tidy.groupby(list(by), observed=True)["value"].sum()
        t = time.process_time() - t0
        best = t if best is None else min(best, t)
    return best


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=4, help="timed runs per figure (after one warm-up)")
    ap.add_argument("--case", default="kz-2022-01")
    args = ap.parse_args(argv)

    from shutdown import interactive, plot
    from shutdown.case import load_case
    from shutdown.report import figures as report_figures, gather
    data = gather(load_case(args.case), demo=True, progress=False)
    report_figures.warm()
    out = Path(tempfile.mkdtemp(prefix="bench-figure-data."))
    best: dict = {}
    for run in range(args.repeat + 1):
        for name in plot.FIGURES:
            t0 = time.process_time()
            fig, rec = plot.figure(data, name)
            t1 = time.process_time()
            plot.save(fig, out / name, formats=("png",))
            desc = plot.describe(fig, rec)
            t2 = time.process_time()
            desc["data"] = plot.data.write(rec, desc, data.case.timezone, out / f"{name}.csv")
            t3 = time.process_time()
            if name in interactive.CHARTS:
                report_figures.add_chart(data, name, ({}, desc, interactive.plotted(rec)), out)
            t4 = time.process_time()
            fig.clear()
            if run:
                got = dict(zip(STAGES, (t1 - t0, t3 - t2, t4 - t3)))
                mine = best.setdefault(name, got)
                for k, v in got.items():
                    mine[k] = min(mine[k], v)
    shutil.rmtree(out, ignore_errors=True)
    ref = reference_cpu(data.tidy)
    print(f"{args.case}: {len(data.tidy)} tidy rows; reference groupby-sum {ref * 1000:.1f} ms CPU; "
          f"best of {args.repeat} runs; load average {os.getloadavg()[0]:.2f}")
    print(f"{'figure':10s}" + "".join(f"{s:>18s}" for s in STAGES))
    for name, got in best.items():
        print(f"{name:10s}" + "".join(f"{got[s]:8.3f} s {got[s] / ref:5.1f}x" for s in STAGES))
    total = {s: sum(b[s] for b in best.values()) for s in STAGES}
    print(f"{'all':10s}" + "".join(f"{total[s]:8.3f} s {total[s] / ref:5.1f}x" for s in STAGES))


if __name__ == "__main__":
    main()
