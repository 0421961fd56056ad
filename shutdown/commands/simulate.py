"""``shutdown simulate SCENARIO``: write a scenario's simulated upstream responses into a cache."""
from __future__ import annotations

from typing import Optional

import typer

from shutdown.cli import app, user_errors


@app.command("simulate")
def simulate_cmd(
    scenario: str = typer.Argument(..., help="Scenario name from data/scenarios/ (e.g. kz-2022-01) "
                                              "or path to a scenario file."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives byte-identical output."),
    cache: Optional[str] = typer.Option(None, "--cache", help="Cache directory to write "
                                        "(default: <cache>/simulated/<scenario>). Never a measured cache."),
    case: Optional[str] = typer.Option(None, "--case", help="Case to simulate for "
                                       "(default: the case the scenario names)."),
):
    """Render SCENARIO as raw IODA, OONI and RIPE Atlas responses, marked SIMULATED.

    Every request the collectors would make for the scenario's case gets the
    answer the upstream would give, in its own schema, so `normalize`, detection,
    plots and `check` run offline. The scenario's episodes are written next to
    the payloads as ground_truth.json (load with shutdown.simulate.load_ground_truth).

    Example: shutdown simulate kz-2022-01 --seed 0
    """
    with user_errors():
        from shutdown.simulation import simulate
        out = simulate(scenario, seed=seed, cache_root=cache, case=case)
        total = sum(out["files"].values())
        per = ", ".join(f"{k} {v}" for k, v in out["files"].items())
        typer.echo(f"SIMULATED data: scenario {out['scenario']} (case {out['case']}, seed {out['seed']})")
        typer.echo(f"wrote {total} responses ({per}) in {out['seconds']:.1f} s")
        typer.echo(f"cache: {out['cache']}")
        for w in out["warnings"]:
            typer.echo(f"note: {w}", err=True)
        typer.echo(f"ground truth: {out['cache'] / 'ground_truth.json'} ({out['episodes']} episodes)")
