"""How long collecting the Kazakhstan case from a warm cache and normalizing it takes,
and the peak memory.

    python benchmarks/bench_collect.py [--cache DIR] [--repeat 3] [--sources ioda,ooni]

Without --cache, a temporary cache is first filled from a local HTTP server that
answers in IODA's and OONI's shapes (tests/localserver.py; no network), so the
figures measure this code, not the upstreams. Atlas is left out unless named
(its answers are not served by the local server).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", help="an already filled cache directory (default: fill a temporary one)")
    ap.add_argument("--case", default="kz-2022-01")
    ap.add_argument("--sources", default="ioda,ooni")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from shutdown.collect import collect_case
    from shutdown.normalize import build_table

    sources = args.sources.split(",")
    tmp = None
    cache = args.cache
    if cache is None:
        from localserver import LocalServer
        tmp = tempfile.TemporaryDirectory(prefix="bench-collect-")
        cache = tmp.name
        with LocalServer() as srv:
            t0 = time.perf_counter()
            rep = collect_case(args.case, sources, cache=cache, progress=False, min_interval=0,
                               base_urls={"ioda": srv.url + "/v2", "ooni": srv.url})
            cold = time.perf_counter() - t0
        print(f"cold collect from local server: {cold:.2f} s, {rep.requests} requests, {rep.rows} rows")

    warm, norm = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        rep = collect_case(args.case, sources, cache=cache, progress=False)
        warm.append(time.perf_counter() - t0)
        assert rep.requests == 0, f"warm cache still made {rep.requests} requests"
        t0 = time.perf_counter()
        table = build_table(args.case, cache)
        norm.append(time.perf_counter() - t0)

    tracemalloc.start()
    collect_case(args.case, sources, cache=cache, progress=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    try:
        import resource
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024    # KiB on Linux
        rss_s = f", max RSS of the process {rss:.0f} MiB"
    except ImportError:
        rss_s = ""

    print(f"case {args.case}, sources {','.join(sources)}: {len(table)} rows, "
          f"{table.memory_usage(deep=True).sum() / 2**20:.1f} MiB in memory")
    print(f"warm collect + normalize + write: best {min(warm):.2f} s, median "
          f"{sorted(warm)[len(warm) // 2]:.2f} s over {len(warm)} runs (0 requests)")
    print(f"normalize only (build_table):    best {min(norm):.2f} s")
    print(f"peak Python heap during a warm collect: {peak / 2**20:.1f} MiB{rss_s}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
