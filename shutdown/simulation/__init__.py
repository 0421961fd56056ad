"""The simulator: a scenario rendered as raw upstream responses.

``world``   scenario + case + seed -> the simulated world: per-entity IODA
            series, OONI measurement counts, RIPE Atlas probes and their
            up/down intervals (numpy, seeded, deterministic).
``truth``   the scenario's episodes as a ground-truth DataFrame.
``render_*`` one request (path + params) -> the body the upstream would send,
            in the upstream's own schema.
``run``     write every planned request's payload into a RawCache marked
            simulated; ``demo_cache`` for ``shutdown report --demo``.
"""
from shutdown.simulation.run import demo_cache, demo_cache_dir, simulate  # noqa: F401
from shutdown.simulation.truth import (  # noqa: F401
    GROUND_TRUTH_FILE, ground_truth, load_ground_truth,
)

__all__ = ["simulate", "demo_cache", "demo_cache_dir", "ground_truth", "load_ground_truth",
           "GROUND_TRUTH_FILE"]
