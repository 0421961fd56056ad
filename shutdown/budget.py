"""Time budgets: how long one source, and one whole run, may take.

A stalling upstream must cost minutes, not an hour (issue 25). Every source gets a
time budget for a run; a run (``collect``, ``report``, a survey of many cases) may
get one too. When a budget is spent the source stops before its next request (an
answer in flight is cut when the budget ends), says how far it got, and a rerun
resumes from the cache: nothing half-fetched is stored.

    from shutdown.budget import Budget
    b = Budget.start(sources={"ooni": 300}, run=1800)   # the run's clock starts here
    collect_case(case, budget=b)                        # a survey passes the same b to every case

The default for a source is ``BASE + planned requests x (PER_REQUEST + its pace)``
(its declared ``min_interval``, or ``--min-interval``), re-counted when the source
learns how many requests follow (an Atlas probe listing, IODA's region lookup).
Why these numbers: we expect a healthy upstream to answer one of our requests in a
few seconds (IODA's 7-day signal series, OONI's aggregation, a day of Atlas results;
an assumption: no machine here reaches them), so ``PER_REQUEST`` allows several
times that on average; ``BASE`` covers the first
connection and a few backoffs. For kz-2022-01 that is about 8 min for OONI (32
requests, one a second) and 20 min for IODA (109 requests), against the 50 min one
trickling OONI cost before. A larger budget is ``--budget SOURCE=SECONDS``.

No third-party import here: ``--help`` reads these numbers.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from shutdown.errors import InputError

BASE = 120.0          # s every source gets: the first connection, a few backoffs
PER_REQUEST = 10.0    # s per planned request, on top of the source's pace


def default_seconds(requests: int, pace: float = 0.0) -> float:
    """A source's default budget for ``requests`` planned requests at ``pace`` s apart."""
    return BASE + max(0, int(requests)) * (PER_REQUEST + max(0.0, float(pace)))


def _seconds(text, option: str, what: str) -> float:
    try:
        secs = float(text)
    except (TypeError, ValueError):
        secs = math.nan
    if not math.isfinite(secs) or secs <= 0:
        raise InputError(f"{what} must be a number of seconds > 0, got {text!r}", field=option)
    return secs


def parse_budgets(values) -> dict[str, float]:
    """``["ooni=300", ...]`` (``--budget SOURCE=SECONDS``, repeatable) -> {source: seconds}."""
    from shutdown.sources import registry
    out = {}
    for v in values or ():
        name, sep, secs = str(v).partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise InputError(f"expected SOURCE=SECONDS, got {v!r}", field="--budget")
        registry.get(name, "--budget")
        out[name] = _seconds(secs.strip(), "--budget", f"the budget of {name}")
    return out


@dataclass(frozen=True)
class Budget:
    """What a run may spend: ``sources`` (seconds given per source; the others get
    ``default_seconds``) and ``run`` (seconds for the whole run, or None), counted from
    ``deadline``'s start (``Budget.start``; ``collect_case`` starts an unstarted one)."""
    sources: dict = field(default_factory=dict)
    run: float | None = None
    deadline: float | None = None       # time.monotonic() by which the run must end

    @classmethod
    def start(cls, sources: dict | None = None, run: float | None = None,
              clock=time.monotonic) -> "Budget":
        if run is not None:
            run = _seconds(run, "--run-budget", "the run's budget")
        given = {k: _seconds(v, "--budget", f"the budget of {k}") for k, v in (sources or {}).items()}
        return cls(given, run, None if run is None else clock() + run)

    def started(self, clock=time.monotonic) -> "Budget":
        if self.run is None or self.deadline is not None:
            return self
        return Budget(dict(self.sources), self.run, clock() + self.run)

    def for_source(self, source: str, planned: int | None, pace: float,
                   clock=time.monotonic) -> "SourceBudget":
        return SourceBudget(source, self, self.sources.get(source), planned or 0, pace, clock)


class SourceBudget:
    """One source's allowance in one run. The Fetcher asks ``remaining()`` before
    each attempt and pause; ``fetch_source`` counts ``done`` and ``planned``."""

    def __init__(self, source: str, run: Budget, given: float | None, planned: int, pace: float,
                 clock=time.monotonic):
        self.source, self.run, self.given, self.pace, self.clock = source, run, given, pace, clock
        self.planned, self.done = planned, 0
        self.began = clock()

    @property
    def seconds(self) -> float:
        """This source's own budget (given, else the default for what is planned now)."""
        return self.given if self.given is not None else default_seconds(self.planned, self.pace)

    def expect(self, total: int) -> None:
        """The source now knows it makes ``total`` requests in all this run."""
        self.planned = max(self.planned, self.done, int(total))

    def answered(self) -> None:
        self.done += 1
        self.planned = max(self.planned, self.done)

    def _own_left(self) -> float:
        return self.began + self.seconds - self.clock()

    def _run_left(self) -> float:
        return math.inf if self.run.deadline is None else self.run.deadline - self.clock()

    def remaining(self) -> float:
        """Seconds left before this source must stop (its own budget and the run's)."""
        return min(self._own_left(), self._run_left())

    def spent_line(self, problem: str = "") -> str:
        """The one line that ends a source whose budget is spent."""
        if self._run_left() < self._own_left():
            what = f"the run's time budget ({self.run.run:g} s) was spent"
            more = "--run-budget SECONDS"
        else:
            what = f"its time budget ({self.seconds:g} s) was spent"
            more = f"--budget {self.source}=SECONDS"
        why = f" ({problem})" if problem else ""
        return (f"{what} after {self.done} of {self.planned} requests{why}; rerun to resume "
                f"from the cache (what was fetched is kept), or allow more with {more}")
