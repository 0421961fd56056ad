"""How long simulating a scenario takes, how much it writes, and the peak memory;
then how long the collectors take to normalize the simulated cache.

    python benchmarks/bench_simulate.py [--scenario kz-2022-01] [--seed 0] [--no-normalize]

Writes into a temporary directory (removed afterwards). Figures only: nothing is
asserted, timings depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="kz-2022-01")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-normalize", action="store_true")
    args = ap.parse_args()

    from shutdown.case import load_case
    from shutdown.simulate import simulate
    from shutdown.store import RawCache

    with tempfile.TemporaryDirectory(prefix="bench-simulate-") as tmp:
        cpu0 = time.process_time()
        out = simulate(args.scenario, seed=args.seed, cache_root=Path(tmp) / "c")
        cpu = time.process_time() - cpu0
        files = sum(out["files"].values())
        raw = sum(p.stat().st_size for p in (Path(tmp) / "c").rglob("*.body.gz"))
        body = 0
        cache = RawCache(out["cache"])
        for m in cache.entries():
            body += m["bytes"]
        print(f"scenario {out['scenario']} (case {out['case']}, seed {out['seed']})")
        print(f"responses written: {files} ({', '.join(f'{k} {v}' for k, v in out['files'].items())})")
        print(f"simulate: {out['seconds']:.2f} s wall, {cpu:.2f} s CPU")
        print(f"bodies: {body / 1e6:.1f} MB as JSON, {raw / 1e6:.1f} MB gzipped on disk")
        if not args.no_normalize:
            from shutdown.sources import atlas, ioda, ooni
            case = load_case(out["case"])
            for m in (ioda, ooni, atlas):
                t = time.perf_counter()
                n = len(m.normalize(case, cache))
                print(f"normalize {m.SOURCE}: {time.perf_counter() - t:.2f} s, {n} rows")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
