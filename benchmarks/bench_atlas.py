"""How long RIPE Atlas's normalize takes on the simulated Kazakhstan cache, and its peak memory.

    python benchmarks/bench_atlas.py [--cache DIR] [--repeat 3] [--no-orjson]

Without --cache the simulated KZ cache is used (built once by
``shutdown.simulate.demo_cache`` if needed: ~200 MB of RIPE Atlas results, SIMULATED).
Time is measured without tracing; peak memory in one more run under tracemalloc
(Python allocations, incl. numpy) and as the process's max RSS.
``--no-orjson`` parses with the standard library even when orjson is installed
(optional; not a dependency: a text fast path reads ping bodies).
"""
from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", help="a cache holding the case's RIPE Atlas responses (default: the demo cache)")
    ap.add_argument("--case", default="kz-2022-01")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-orjson", action="store_true")
    args = ap.parse_args()

    from shutdown.case import load_case
    from shutdown.simulate import demo_cache
    from shutdown.sources import atlas, atlas_reduce
    from shutdown.store import RawCache

    if args.no_orjson:
        atlas_reduce._fastjson = None
    case = load_case(args.case)
    root = args.cache or demo_cache(case)
    cache = RawCache(root)
    body = sum(m.get("bytes", 0) for m in cache.entries("atlas"))
    n = sum(1 for _ in cache.entries("atlas"))

    times, rows = [], 0
    for _ in range(args.repeat):
        t = time.perf_counter()
        df = atlas.normalize(case, cache)
        times.append(time.perf_counter() - t)
        rows = len(df)
    tracemalloc.start()
    atlas.normalize(case, cache)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024    # KiB on Linux

    print(f"cache      {root}{' (SIMULATED)' if cache.simulated else ''}")
    print(f"input      {n} RIPE Atlas responses, {body / 1e6:.1f} MB of JSON")
    print(f"parser     {'orjson' if getattr(atlas_reduce, '_fastjson', None) else 'json (standard library)'} "
          "+ a text fast path for ping results")
    print(f"normalize  {rows} tidy rows; best {min(times):.2f} s, median {statistics.median(times):.2f} s "
          f"over {len(times)} runs")
    print(f"memory     peak traced {peak / 1e6:.0f} MB, max RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
