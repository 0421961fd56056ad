"""Score detection against the simulator's ground truth on every scenario.

    /tmp/venv/bin/python benchmarks/score_scenarios.py            # all four scenarios
    /tmp/venv/bin/python benchmarks/score_scenarios.py throttling -v

For each scenario: simulate (seed 0) into a temporary cache, normalize, detect,
and compare with ground_truth.json (see shutdown.detect.score). Prints episodes
found, recall per series piece, median start/end errors in minutes (overall and
per source), false runs and false fused episodes, and how long detection took.
Where the scenario ties episodes to documented events (``documents``), the case's
timeline is aligned too and each verdict is scored against the truth: right, WRONG
(confirmed at the wrong time, or on the wrong side), insufficient, missed
(``kz-shifted``: a truth moved away from every published account, realistic OONI
volumes, three probes in Almaty). All data here is SIMULATED.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import pandas as pd

from shutdown import align, detect
from shutdown.case import load_case
from shutdown.detect.score import score, score_verdicts, summary_line, verdict_line
from shutdown.scenario import load_scenario
from shutdown.timeline import load_timeline
from shutdown.normalize import load_table
from shutdown.simulate import load_ground_truth, simulate

SCENARIOS = {"kz-2022-01": "kz-2022-01", "short-national-cut": "sim-short-national-cut",
             "regional-cut": "sim-regional-cut", "throttling": "sim-throttling",
             "kz-shifted": "sim-kz-shifted"}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-v", "--verbose", action="store_true", help="list missed and false pieces")
    args = ap.parse_args(argv)
    print("SIMULATED data: scores of the detector against the simulator's ground truth")
    for name in args.scenarios:
        case = load_case(SCENARIOS.get(name, name))
        with tempfile.TemporaryDirectory() as root:
            simulate(case.scenario or name, seed=args.seed, cache_root=root, case=case)
            tidy = load_table(case, cache=root)
            truth = load_ground_truth(root)
        t = time.perf_counter()
        det = detect.run(tidy, case.window_utc, case.baseline_utc, tz=case.timezone)
        took = time.perf_counter() - t
        s = score(det.intervals, truth, det.fused, case.window_utc, det.series)
        print(summary_line(name, s) + f"; detection {took:.2f} s on {len(tidy):,} rows")
        documented = load_scenario(case.scenario or name).documented()
        if documented:
            events = load_timeline(case.timeline_path, case=case)
            summ = align.summarize(align.align(events, det, case=case), events)
            v = score_verdicts(summ, documented)
            print(verdict_line(name, v))
            with pd.option_context("display.width", 200):
                print(v.to_string(index=False))
        if args.verbose:
            with pd.option_context("display.width", 200, "display.max_rows", 200):
                print("missed:\n", s["missed"].to_string())
                print("false:\n", s["false"].to_string())
                print("unmeasurable episodes:", s["unmeasurable_episodes"])


if __name__ == "__main__":
    main()
