"""The simulator's public face: ``simulate``, ``demo_cache``, ``load_ground_truth``.

A scenario (``data/scenarios/<name>.toml``, see ``shutdown.scenario``) is
rendered as raw IODA, OONI and RIPE Atlas responses in the upstreams' own
schemas, into a cache marked SIMULATED; the collectors' ``normalize`` reads it
like a live cache. The scenario's episodes are written next to the payloads as
``ground_truth.json``, so detection can be scored against a known truth
(``shutdown.detect.score``).

    >>> from shutdown.simulate import simulate, load_ground_truth
    >>> out = simulate("kz-2022-01", seed=0)             # doctest: +SKIP
    >>> truth = load_ground_truth(out["cache"])          # doctest: +SKIP
"""
from shutdown.scenario import load_scenario  # noqa: F401
from shutdown.simulation import (  # noqa: F401
    GROUND_TRUTH_FILE, demo_cache, demo_cache_dir, ground_truth, load_ground_truth, simulate,
)
from shutdown.simulation.world import World  # noqa: F401

__all__ = ["simulate", "demo_cache", "demo_cache_dir", "load_ground_truth", "ground_truth",
           "GROUND_TRUTH_FILE", "load_scenario", "World"]
