"""Reference runs the benchmarks divide their figures by, so that a figure says how the
tool compares with work any Python data tool does on the same machine at the same time
(a shared 2-core machine runs faster or slower from one minute to the next).

* ``import_reference()``: ``python -c "import pandas, matplotlib.pyplot"`` in a fresh
  process, the imports every run of the tool pays for: the yardstick of commands a
  user waits for (start-up, reading files, drawing).
* ``groupby_reference(table)``: a pandas groupby-sum of the value column by series over
  the very table a benchmark works on, in the same process: the yardstick of work over a
  big table in memory (the same rows, the same memory bandwidth, the same cache).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

IMPORT_REFERENCE = [sys.executable, "-c", "import pandas, matplotlib.pyplot"]
IMPORT_REFERENCE_NAME = 'python -c "import pandas, matplotlib.pyplot"'


def timed(cmd: list[str], env: dict | None = None) -> float:
    """Wall seconds of one command in a fresh process (its output discarded)."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def import_reference(repeat: int = 3, env: dict | None = None) -> float:
    """Median wall seconds of the import reference over ``repeat`` fresh processes."""
    return statistics.median(timed(IMPORT_REFERENCE, env) for _ in range(repeat))


def groupby_reference(table, by=("entity_code", "signal"), repeat: int = 3) -> tuple[float, float]:
    """(wall, CPU) seconds of ``table.groupby(by)["value"].sum()``, the best of ``repeat``
    runs: the run least disturbed by other jobs (on the shared 2-core machine one run in
    three or so took twice the CPU time of the others on the same table)."""
    best = None
    for _ in range(repeat):
        t, c0 = time.perf_counter(), os.times()
        table.groupby(list(by), observed=True)["value"].sum()
        wall, c1 = time.perf_counter() - t, os.times()
        cpu = (c1.user - c0.user) + (c1.system - c0.system)
        best = (wall, cpu) if best is None or wall < best[0] else best
    return best
