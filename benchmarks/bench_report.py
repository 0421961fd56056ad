"""How long a researcher waits for `shutdown report CASE --demo` once the cache is
warm, and for `shutdown --help`, as ratios to a reference run in the same call.

    .venv/bin/python benchmarks/bench_report.py [--repeat 5] [--formats png,svg,pdf]

Reference: `python -c "import pandas, matplotlib.pyplot"` (the imports any run of
the tool pays for), so the ratios cancel the machine's speed and its load at the
time. Every command runs in a fresh process, as a user would run it; the medians
of --repeat runs are printed. The demo cache is built once first (not timed).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from reference import IMPORT_REFERENCE, IMPORT_REFERENCE_NAME, timed

BIN = Path(sys.executable).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="kz-2022-01")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--formats", default="png,svg,pdf")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        env = {**os.environ, "SHUTDOWN_CACHE": str(Path(tmp) / "cache")}
        shutdown = str(BIN / "shutdown")
        report = [shutdown, "report", args.case, "--demo", "--out", str(Path(tmp) / "out"),
                  "--formats", args.formats, "--quiet"]
        subprocess.run(report, check=True, env=env, stdout=subprocess.DEVNULL)   # warm the cache
        commands = {
            f"reference ({IMPORT_REFERENCE_NAME})": IMPORT_REFERENCE,
            f"report {args.case} --demo (warm, {args.formats})": report,
            f"report {args.case} --demo (warm, one worker)": report,
            f"report {args.case} --demo --redraw (every figure drawn)": report + ["--redraw"],
            "shutdown --help": [shutdown, "--help"],
        }
        times = {k: [] for k in commands}
        for _ in range(args.repeat):          # interleaved: drift hits every command alike
            for name, cmd in commands.items():
                e = {**env, "SHUTDOWN_WORKERS": "1"} if "one worker" in name else env
                times[name].append(timed(cmd, e))
    ref = statistics.median(times[next(iter(times))])
    print(f"median of {args.repeat} runs each, {os.cpu_count()} cores")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:58s} {med:6.2f} s  {med / ref:5.1f}x reference")


if __name__ == "__main__":
    main()
