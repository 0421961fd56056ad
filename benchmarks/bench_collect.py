"""How long collecting the Kazakhstan case from a warm cache and normalizing it takes,
and the peak memory.

    python benchmarks/bench_collect.py [--cache DIR] [--repeat 3] [--sources ioda,ooni]

Without --cache, a temporary cache is first filled from a local HTTP server that
answers in IODA's and OONI's shapes (tests/localserver.py; no network), so the
figures measure this code, not the upstreams. Atlas is left out unless named
(its answers are not served by the local server).

    python benchmarks/bench_collect.py --cold [--sources ioda,ooni,atlas]

A cold collect of the whole case from a local server that replays a simulated
cache as the three upstreams (no delay): each source alone into an empty cache,
then all of them together, with each source's own pace (OONI: one request a
second). The sources run side by side, so together should take about as long
as the slowest alone, not the sum.
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
    ap.add_argument("--cold", action="store_true",
                    help="time a cold collect of each source alone and of all together")
    args = ap.parse_args()
    if args.cold:
        return cold_collect(args.case, args.sources.split(","))

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


def cold_collect(case_name: str, sources: list[str]) -> None:
    from localserver import LocalServer
    from shutdown.case import load_case
    from shutdown.collect import collect_case
    from shutdown.simulate import simulate

    case = load_case(case_name)
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        t0 = time.perf_counter()
        upstream = simulate(case.scenario, seed=0, cache_root=Path(tmp) / "upstream", case=case)["cache"]
        print(f"simulated upstream built in {time.perf_counter() - t0:.1f} s (not counted)")
        with LocalServer(replay=upstream) as srv:
            urls = {"ioda": srv.url + "/v2", "ooni": srv.url, "atlas": srv.url}

            def once(names, label):
                t = time.perf_counter()
                rep = collect_case(case, names, cache=Path(tmp) / label, progress=False, base_urls=urls)
                dt = time.perf_counter() - t
                per = ", ".join(f"{s.source} {s.status} {s.requests} req" for s in rep.sources)
                print(f"  {label:16s} {dt:6.1f} s  ({per})")
                return dt

            alone = {s: once([s], f"{s} alone") for s in sources}
            together = once(sources, "all together")
    slowest = max(alone.values())
    print(f"together / slowest alone = {together / slowest:.2f}  (1.0 = bound by the slowest source); "
          f"together / sum of alone = {together / sum(alone.values()):.2f}")


if __name__ == "__main__":
    main()
