"""How long a researcher waits for `shutdown report CASE --demo` once the cache is warm,
and for `shutdown --help`, as ratios to a reference run in the same call.

    .venv/bin/python benchmarks/bench_report.py [--repeat 5] [--vector]

Reference: `python -c "import pandas, matplotlib.pyplot"` (the imports any run of
the tool pays for), so the ratios cancel the machine's speed and its load at the
time. Every command runs in a fresh process, as a user would run it; the medians
of --repeat runs are printed, then the three ratios issue 22 names side by side:

* warm-current: the report again into its own directory, every figure current (copied);
* warm-redraw: every figure drawn (``--redraw``) into a new directory, PNG (the default);
  the analysis of these inputs is kept in the cache (``shutdown.memo``), so only the
  figures are made again;
* ``--help``.

Also: a new directory whose figures the figure cache holds; the redraw after a timeline
edit (a copy of the case whose timeline gets a new English text each run: detection is
kept, alignment runs again, every figure is drawn); the redraw with nothing kept
(detection and alignment again); the redraw in one worker process; and with --vector
the redraw with SVG and PDF too. The demo cache is built once first (not timed). Note
the machine's load (``uptime``) with the figures.
"""
from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reference import IMPORT_REFERENCE, IMPORT_REFERENCE_NAME


BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one command in a fresh process; CPU is user + system time of
    it and its worker processes, which the load of other jobs on the machine changes less
    than the wall time (it cannot show the use of a second core)."""
    c0, t0 = os.times(), time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, c1 = time.perf_counter() - t0, os.times()
    return wall, (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)


def edited_case(tmp: Path, name: str) -> Path:
    """A copy of case ``name`` whose timeline is a copy too (the benchmark edits it)."""
    from shutdown.case import load_case, resolve_case_path
    src = resolve_case_path(name)
    text = src.read_text(encoding="utf-8")
    shutil.copyfile(load_case(src).timeline_path, tmp / "timeline.toml")
    lines = [f'timeline = "{tmp / "timeline.toml"}"' if ln.startswith("timeline =") else ln
             for ln in text.splitlines()]
    (tmp / "case.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp / "case.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="kz-2022-01")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--vector", action="store_true", help="also time a redraw with SVG and PDF")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        env = {**os.environ, "SHUTDOWN_CACHE": str(Path(tmp) / "cache")}
        shutdown = str(BIN / "shutdown")
        fresh = itertools.count()
        report = lambda out, *more, case=args.case: [shutdown, "report", case, "--demo", "--out", str(out),
                                                     "--quiet", *more]
        new = lambda: Path(tmp) / f"out-{next(fresh)}"        # a directory no report was written to
        # warm: the demo cache, the analysis cache, and the package's bytecode written once
        # as on a user's machine (an environment with PYTHONDONTWRITEBYTECODE, as CI's, would
        # otherwise compile every module of the package at every run: ~0.15 s)
        warm_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(report(Path(tmp) / "out"), check=True, env=warm_env, stdout=subprocess.DEVNULL)
        subprocess.run(report(Path(tmp) / "out-warm", "--redraw"), check=True, env=warm_env,
                       stdout=subprocess.DEVNULL)
        # the edited copy has a cache of its own: its demo data are stamped with its case file,
        # and one cache would be simulated again at each switch between the two cases
        edited = edited_case(Path(tmp), args.case)
        edit, env_edit = itertools.count(), {**env, "SHUTDOWN_CACHE": str(Path(tmp) / "cache-edit")}
        subprocess.run(report(Path(tmp) / "out-edit", case=str(edited)), check=True, env=env_edit,
                       stdout=subprocess.DEVNULL)

        def after_edit():           # a new English text for the first event, then the redraw
            tl = edited.with_name("timeline.toml")
            text = tl.read_text(encoding="utf-8")
            tl.write_text(text.replace('text_en = "', f'text_en = "({next(edit)}) ', 1), encoding="utf-8")
            return report(new(), "--redraw", case=str(edited))

        def nothing_kept():        # the analysis cache emptied first
            shutil.rmtree(Path(env["SHUTDOWN_CACHE"]) / "analysis", ignore_errors=True)
            return report(new(), "--redraw")
        commands = {     # name -> (command maker, environment)
            f"reference ({IMPORT_REFERENCE_NAME})": (lambda: IMPORT_REFERENCE, env),
            "warm-current: report into its own directory": (lambda: report(Path(tmp) / "out"), env),
            "report into a new directory (figure cache)": (lambda: report(new()), env),
            "warm-redraw: --redraw into a new directory": (lambda: report(new(), "--redraw"), env),
            "  the same after a timeline edit": (after_edit, env_edit),
            "  the same with nothing kept (detection again)": (nothing_kept, env),
            "  the same, one worker process": (lambda: report(new(), "--redraw"),
                                               {**env, "SHUTDOWN_WORKERS": "1"}),
            **({"  the same with --formats png,svg,pdf": (
                lambda: report(new(), "--redraw", "--formats", "png,svg,pdf"), env)} if args.vector else {}),
            "shutdown --help": (lambda: [shutdown, "--help"], env),
        }
        times = {k: [] for k in commands}
        for _ in range(args.repeat):          # interleaved: drift hits every command alike
            for name, (cmd, e) in commands.items():
                times[name].append(timed(cmd(), e))
    med = {name: statistics.median(w for w, _ in ts) for name, ts in times.items()}
    cpu = {name: statistics.median(c for _, c in ts) for name, ts in times.items()}
    ref, ref_cpu = med[next(iter(med))], cpu[next(iter(cpu))]
    load = os.getloadavg()
    print(f"median of {args.repeat} runs each, {os.cpu_count()} cores, load average at the end "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"  {'':52s} {'wall':>8s} {'ratio':>6s}   {'CPU':>7s} {'ratio':>6s}")
    for name, m in med.items():
        print(f"  {name:52s} {m:6.2f} s {m / ref:5.1f}x   {cpu[name]:5.2f} s {cpu[name] / ref_cpu:5.1f}x")
    ratio = lambda prefix: next(m for n, m in med.items() if n.startswith(prefix)) / ref
    print(f"ratios to the reference: warm-current {ratio('warm-current'):.1f}x | "
          f"warm-redraw {ratio('warm-redraw'):.1f}x | --help {ratio('shutdown --help'):.2f}x")


if __name__ == "__main__":
    main()
