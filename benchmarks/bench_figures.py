"""CPU seconds to build and to save (draw + PNG) each of the report's figures, in one warm
process, as ratios to a reference drawing in the same process.

    .venv/bin/python benchmarks/bench_figures.py [--case kz-2022-01] [--repeat 5] [--profile N]

The report's data is gathered once (the demo, cache in SHUTDOWN_CACHE or a temporary
directory); then each figure is built (``plot.figure``) and saved as PNG (``plot.save``)
``--repeat`` times, interleaved with the reference, and the best run of each is printed
(the run least disturbed by other jobs on a shared machine).

Reference: a plain matplotlib page of the same size and dpi (six panels of a 2,000-point
line, 60 short texts, a legend), saved as PNG with ``savefig``: what any drawing costs
on this machine at this time, so the ratios cancel its speed and load. ``--profile N``
adds a cProfile listing (N lines, by internal time) of one more pass over the figures.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import time
from pathlib import Path


def reference_page() -> float:
    """CPU seconds of the reference drawing."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    t0 = time.process_time()
    fig = Figure(figsize=(7.0, 12.6), dpi=200)
    FigureCanvasAgg(fig)
    x = np.linspace(0, 10, 2000)
    for i, ax in enumerate(fig.subplots(6, 1, sharex=True)):
        ax.plot(x, np.sin(x * (i + 1)), lw=1.0, label=f"series {i}")
        for k in range(10):
            ax.text(k, 0.5, f"label {k}", fontsize=7)
        ax.set_title(f"panel {i}", loc="left")
        ax.legend(loc="lower left")
    fig.savefig(io.BytesIO(), format="png", dpi=200)
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="kz-2022-01")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", type=int, default=0, metavar="N")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-figures-") as tmp:
        os.environ.setdefault("SHUTDOWN_CACHE", str(Path(tmp) / "cache"))
        from shutdown import plot
        from shutdown.case import load_case
        from shutdown.report import figures, gather
        data = gather(load_case(args.case), demo=True, progress=False)
        figures.warm()
        names = list(plot.FIGURES)
        best = {n: [float("inf"), float("inf")] for n in ["reference", *names]}
        for _ in range(args.repeat):           # interleaved: drift hits every figure alike
            best["reference"][1] = min(best["reference"][1], reference_page())
            for name in names:
                t0 = time.process_time()
                fig, _rec = plot.figure(data, name)
                t1 = time.process_time()
                plot.save(fig, Path(tmp) / name, formats=("png",))
                t2 = time.process_time()
                best[name] = [min(best[name][0], t1 - t0), min(best[name][1], t2 - t1)]
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            for name in names:
                plot.save(plot.figure(data, name).figure, Path(tmp) / name, formats=("png",))
            prof.disable()
    ref = best.pop("reference")[1]
    load = os.getloadavg()
    print(f"best of {args.repeat} runs, CPU seconds; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"  reference page (savefig PNG)  {ref:6.3f} s")
    for name, (b, s) in best.items():
        print(f"  {name:10s} build {b:6.3f} s {b / ref:5.2f}x   save {s:6.3f} s {s / ref:5.2f}x   "
              f"= {(b + s) / ref:5.2f}x")
    total = sum(b + s for b, s in best.values())
    print(f"  all five   {total:6.3f} s = {total / ref:5.2f}x the reference page")
    if args.profile:
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
