"""How well detection finds the simulator's known outages: recall, timing errors,
false positives, per scenario (figures only; nothing is asserted).

    python benchmarks/bench_detection_score.py [--seeds 0,1,2] [--scenarios a,b] [--rows]

Each scenario is simulated into a temporary cache for its own case, normalized
with the collectors' code, run through ``shutdown.detect.run`` and scored against
its ground truth (``shutdown.simulation.score``). The synthetic scenarios are
the default; kz-2022-01 works too but takes longer.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

DEFAULT = "short-national-cut,regional-cut,throttling"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--scenarios", default=DEFAULT)
    ap.add_argument("--rows", action="store_true", help="print every truth row's score")
    args = ap.parse_args()

    import pandas as pd

    from shutdown import detect
    from shutdown.case import load_case
    from shutdown.normalize import build_table
    from shutdown.scenario import load_scenario
    from shutdown.simulate import false_positives, load_ground_truth, score, simulate, summary
    from shutdown.store import RawCache

    pd.set_option("display.width", 200)
    for name in args.scenarios.split(","):
        case = load_case(load_scenario(name).case)
        for seed in (int(s) for s in args.seeds.split(",")):
            with tempfile.TemporaryDirectory(prefix="bench-score-") as tmp:
                t = time.perf_counter()
                out = simulate(name, seed=seed, cache_root=Path(tmp) / "c", case=case)
                tidy = build_table(case, RawCache(out["cache"]))
                res = detect.run(tidy, window=case.window_utc, baseline=case.baseline_utc,
                                 tz=case.timezone)
                truth = load_ground_truth(out["cache"])
                s = score(res.intervals, truth, tidy=tidy)
                fp = false_positives(res.intervals, truth)
                summ = summary(s, fp)
                print(f"{name} seed {seed}: recall {summ['recall']:.2f} "
                      f"({summ['detected']}/{summ['measurable']} measurable truth rows, "
                      f"{summ['truth_rows']} in all), median |start error| "
                      f"{summ['median_abs_start_error_min']:.0f} min, |end error| "
                      f"{summ['median_abs_end_error_min']:.0f} min, false positives "
                      f"{summ['false_positives']}  [{time.perf_counter() - t:.1f} s]")
                if args.rows:
                    print(s[["episode", "entity_code", "source", "signal", "subtype", "measurable",
                             "detected", "covered", "start_error_min", "end_error_min"]].to_string())


if __name__ == "__main__":
    main()
