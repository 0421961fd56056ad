"""Collect a case from every source into the raw cache, then build its tidy table.

    from shutdown.collect import collect_case
    report = collect_case("kz-2022-01")            # or a Case; cache=..., sources=[...]
    report.exit_status, report.table_path

Each source runs on its own: a source that fails (HTTP 4xx, malformed body,
IODA/OONI ``error`` field, retries exhausted, no network) stops with one message
naming the source, the URL and the problem, and the others still run. The exit
status says how complete the result is:

    0  every requested source collected completely
    3  partial: some source failed, is unavailable or ran out of its time budget, but
       there is data
    4  nothing: no source produced any data
    (2 is kept for bad input: an unknown case, source or option.)

Every source has a time budget for the run, and the run may have one
(``budget=shutdown.budget.Budget.start(...)``): a source whose budget is spent stops
before its next request, says how many of its planned requests it answered, and a
rerun resumes from the cache.
"""
from __future__ import annotations

import dataclasses
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from shutdown.budget import Budget, SourceBudget
from shutdown.case import Case, as_case  # noqa: F401  (as_case: API)
from shutdown.config import base_url
from shutdown.errors import InputError
from shutdown.http import BudgetSpent, Fetcher, SourceError, SourceUnreachable, redact
from shutdown.sources import Answer, Gap, Request, walk
from shutdown.store import RawCache, as_cache, strip_secrets_from_url  # noqa: F401  (as_cache: API)

EXIT_ALL, EXIT_PARTIAL, EXIT_NOTHING = 0, 3, 4



@dataclass
class SourceReport:
    source: str
    status: str = "ok"          # ok | incomplete | failed | unreachable | unavailable | over-budget
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    rows: int = 0
    message: str = ""
    budget: float | None = None     # seconds this source was allowed (its time budget)

    @property
    def complete(self) -> bool:
        return self.status == "ok"


@dataclass
class CollectReport:
    case: str
    sources: list = field(default_factory=list)
    table_path: Path | None = None
    rows: int = 0
    # the tidy table built from the cache (and written to table_path): the pipeline takes
    # it from here (``pipeline.collected``) rather than reading the file straight back
    table: object = field(default=None, repr=False)

    @property
    def exit_status(self) -> int:
        if self.sources and all(s.complete for s in self.sources):
            return EXIT_ALL
        return EXIT_PARTIAL if self.rows > 0 else EXIT_NOTHING

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.sources)

    @property
    def cache_hits(self) -> int:
        return sum(s.cache_hits for s in self.sources)

    def summary(self, width: int | None = None) -> str:
        """One line per source and the totals; ``width``: wrapped to fit a terminal."""
        from shutdown.output import fit_line
        lines = []
        for s in self.sources:
            lines.append(fit_line(f"{s.source:6s} {s.status:11s} requests {s.requests}, cache hits "
                                  f"{s.cache_hits}, retries {s.retries}, rows {s.rows}", width, 19))
            if s.message:
                lines.append(fit_line(f"       {s.message}", width, 7))
        lines.append(f"total  requests {self.requests}, cache hits {self.cache_hits}, rows {self.rows}")
        if self.table_path:
            lines.append(fit_line(f"table  {self.table_path}", width, 7))
        return "\n".join(lines)

    def records(self) -> list[dict]:
        """The summary as rows (``collect --format json|csv``)."""
        return [dataclasses.asdict(s) | {"table": str(self.table_path or "")} for s in self.sources]


def fetcher_for(source: str, cache=None, base_url: str | None = None, **options) -> Fetcher:
    """A Fetcher for one source, for a single request from Python (e.g.
    ``ioda.region_codes("KZ", fetched(fetcher_for("ioda")))``): its declared pace and credential."""
    from shutdown.config import base_url as resolve
    from shutdown.sources import registry
    spec = registry.get(source)
    options.setdefault("min_interval", spec.min_interval)
    options["headers"] = {**spec.auth_headers(), **options.get("headers", {})}
    return Fetcher(as_cache(cache), source, resolve(source, base_url), **options)


def parse_sources(text: str | None, case: Case | None = None) -> list[str]:
    """``"ioda,ooni"`` -> ["ioda", "ooni"]; None -> the case's sources."""
    from shutdown.sources import registry
    if not text:
        return list(case.sources) if case else list(registry.default_names())
    out = []
    for s in (p.strip().lower() for p in text.split(",")):
        if not s:
            continue
        registry.get(s, "--source")             # unknown -> one line naming the known ones
        if s not in out:
            out.append(s)
    if not out:
        raise InputError("no source given", field="--source")
    return out


def source_module(name: str):
    """The module of source ``name``, or None when it is missing or incomplete."""
    from shutdown.sources import registry
    return registry.module(name)


def with_baseline(case: Case, baseline_days: int | None) -> Case:
    if baseline_days is None or baseline_days == case.baseline_days:
        return case
    from shutdown.case import MAX_BASELINE_DAYS
    if not 7 <= baseline_days <= MAX_BASELINE_DAYS:
        raise InputError(f"baseline must be 7..{MAX_BASELINE_DAYS} days (a year of baseline is "
                         f"already more than any upstream keeps per query), got {baseline_days}",
                         field="--baseline-days")
    return dataclasses.replace(case, baseline_days=baseline_days)


def _progress(total: int, desc: str, enabled: bool | None, position: int = 0):
    from tqdm import tqdm
    # enabled=None: show only on a terminal, so logs and CI stay clean. One line per
    # source (position), since the sources run at the same time.
    return tqdm(total=total, desc=f"{desc:5s}", unit="req", file=sys.stderr, leave=False,
                position=position, disable=(None if enabled is None else not enabled),
                dynamic_ncols=True)


class _StoppableFetcher(Fetcher):
    """A Fetcher that stops before its next request once ``stop`` is set: Ctrl-C reaches
    only the main thread, which then stops the sources running beside it."""

    def __init__(self, *args, stop: threading.Event, **kwargs):
        super().__init__(*args, **kwargs)
        self._stop = stop

    def get_json(self, *args, **kwargs):
        if self._stop.is_set():
            raise KeyboardInterrupt("collect stopped")
        return super().get_json(*args, **kwargs)


def _collect_source(case: Case, rep: SourceReport, cache: RawCache, url: str, *, position: int,
                    stop: threading.Event, refresh: bool, session, progress, min_interval,
                    fetcher_options, budget: Budget | None = None) -> None:
    """Fetch one source into the cache; fills ``rep`` (status, message, counts)."""
    from shutdown.sources import registry
    name = rep.source
    mod = source_module(name)
    if mod is None:
        rep.status, rep.message = "unavailable", f"{name}: collector not available in this version"
        return
    spec = registry.get(name)
    options = {"quota_wait": getattr(mod, "QUOTA_WAIT", None), **(fetcher_options or {})}
    options["headers"] = {**spec.auth_headers(), **options.get("headers", {})}
    pace = spec.min_interval if min_interval is None else min_interval
    total = planned_requests(mod, case, name)
    allowed = (budget or Budget()).for_source(name, total, pace)
    options.setdefault("budget", allowed.remaining)
    fetcher = _StoppableFetcher(cache, name, url, stop=stop, refresh=refresh, session=session,
                                min_interval=pace, **options)
    bar = _progress(total, name, progress, position)
    try:
        notes = fetch_source(mod, case, fetcher, bar, budget=allowed)
        # A source may return notes: what it left out but could work around
        # (e.g. an IODA region it could not resolve); the status stays "ok".
        if isinstance(notes, (list, tuple)) and notes:
            rep.message = "\n       ".join(f"{name}: {n}" for n in notes)
            if any(isinstance(n, Gap) for n in notes):   # data missing this run: not complete
                rep.status = "incomplete"
    except BudgetSpent as exc:        # nothing half-fetched is cached: a rerun resumes
        rep.status, rep.message = "over-budget", f"{name}: {allowed.spent_line(exc.problem)}"
    except SourceUnreachable as exc:
        rep.status, rep.message = "unreachable", f"{name}: {exc.url}: {exc.problem}"
    except SourceError as exc:
        rep.status, rep.message = "failed", f"{exc.source}: {exc.url}: {exc.problem}"
        missing = spec.missing_credential()
        if missing:     # what was not cached needs a credential: say how to get one
            rep.status, rep.message = "unavailable", f"{name}: {missing}"
    except InputError:
        raise
    except Exception as exc:    # a bug or an unforeseen shape: stop this source only
        rep.status = "failed"
        rep.message = redact(f"{name}: {strip_secrets_from_url(url)}: unexpected "
                             f"{type(exc).__name__}: {exc}")
    finally:
        bar.close()
        st = fetcher.stats
        rep.requests, rep.cache_hits, rep.retries = st.requests, st.cache_hits, st.retries
        rep.budget = allowed.seconds


def planned_requests(mod, case: Case, name: str) -> int | None:
    """How many requests source ``mod`` makes for ``case`` as far as is known before any
    answer: its ``requests`` walked with every answer missing (a request that needs an
    earlier answer, e.g. an Atlas listing's next page, ends the count there), and at least
    its ``plan``. None when it cannot count itself (it still collects)."""
    from shutdown.http import NotCached
    from shutdown.sources import steps
    try:
        n = len(mod.plan(case))
    except Exception:
        return None
    walked = 0
    try:
        for _ in steps(mod.requests(case), lambda req: Answer.absent(name)):
            walked += 1
    except NotCached:
        pass
    except Exception:   # noqa: BLE001  (a count, never a reason not to collect)
        pass
    return max(n, walked)


def fetched(fetcher: Fetcher, tick=None):
    """An ``answer`` for ``sources.walk`` through ``fetcher`` (cache first, else the
    network; each Request's own validate/explain/provisional); ``tick(label)``
    hears each answered request.

    A source whose declared credential is required and not in the fetcher's
    headers is still answered from the cache; the first request that needs the
    network stops it with one line saying how to get the credential. A credential
    refused (HTTP 401/403) says the same."""
    from shutdown.sources import registry
    spec = registry.sources().get(fetcher.source)
    auth = (spec.auth or {}) if spec else {}
    header = str(auth.get("header", "Authorization")).lower()
    sent = any(k.lower() == header for k in fetcher.headers)
    how = auth.get("how", "set it and run again")
    names = auth.get("env") or ()
    names = "$" + " or $".join((names,) if isinstance(names, str) else names)

    def answer(req: Request) -> Answer:
        if auth.get("required") and not sent and not fetcher.cached(req.path, req.params, req.provisional,
                                                                  req.parse):
            raise SourceError(fetcher.source, fetcher.base_url, f"needs {names}: {how}")
        try:
            obj = fetcher.get_json(req.path, req.params, validate=req.validate, explain=req.explain,
                                   provisional=req.provisional, parse=req.parse)
        except SourceError as exc:
            if auth and exc.problem.startswith(("HTTP 401", "HTTP 403")):
                raise SourceError(exc.source, exc.url, f"{exc.problem} (is {names} a valid "
                                  f"credential? {how})") from None
            raise
        if tick is not None:
            tick(req.label)
        return Answer.of(obj)
    return answer


def fetch_source(mod, case: Case, fetcher: Fetcher, progress=None,
                 budget: SourceBudget | None = None) -> list[str]:
    """Ask everything source module ``mod`` describes for ``case`` (its
    ``requests(case)`` generator) through ``fetcher``, which caches the raw
    answers; ``progress`` is a tqdm-like bar, ``budget`` hears how many requests
    are answered and planned (its default grows with the plan). Returns the
    source's notes (a ``Gap``: data missing this run). The declared credential,
    when set and not already given, goes into the fetcher's headers."""
    from shutdown.sources import registry
    spec = registry.sources().get(fetcher.source)
    for k, v in (spec.auth_headers() if spec else {}).items():
        fetcher.headers.setdefault(k, v)
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if budget is not None:
            budget.answered()
        if progress is not None:
            if hasattr(progress, "set_postfix_str"):
                progress.set_postfix_str(label, refresh=False)
            progress.update(1)

    def expect(more: int) -> None:         # the source now knows how many requests follow
        if budget is not None:
            budget.expect(done + more)
        if progress is not None and hasattr(progress, "total"):
            try:
                progress.total = done + more
                if hasattr(progress, "refresh"):
                    progress.refresh()
            except (AttributeError, TypeError):
                pass

    notes = walk(mod.requests(case), fetched(fetcher, tick), expect)
    return list(notes or [])


def collect_case(case, sources=None, *, cache=None, refresh: bool = False,
                 base_urls: dict | None = None, baseline_days: int | None = None,
                 min_interval: float | None = None, progress: bool | None = None,
                 session=None, fetcher_options: dict | None = None,
                 write: bool = True, budget: Budget | None = None) -> CollectReport:
    """Fetch ``sources`` (default: the case's) for ``case`` into ``cache``,
    then normalize everything cached for the case into its tidy table.

    ``base_urls`` maps a source to a base URL (else $SHUTDOWN_<SOURCE>_URL, else
    the public default); ``min_interval`` overrides the per-source pause
    between requests; ``fetcher_options`` passes extra Fetcher arguments
    (e.g. ``{"max_attempts": 2}``). ``budget`` (``shutdown.budget.Budget``) is the time
    each source, and the whole run, may take (default: each source's default budget,
    no limit on the run); its run clock starts here unless ``Budget.start`` started it
    (a survey passes one Budget to every case).
    """
    case = with_baseline(as_case(case), baseline_days)
    cache = as_cache(cache)
    names = sources if isinstance(sources, (list, tuple)) else parse_sources(sources, case)
    urls = {s: base_url(s, (base_urls or {}).get(s)) for s in names}   # bad URL -> InputError first
    # Live data never goes into (or is read back from) a simulated cache, and one
    # writer at a time: a second collect on this cache is refused, not interleaved.
    budget = (budget or Budget()).started()
    cache.claim(simulated=False, write=False)
    with cache.lock("collect"):
        return _collect(case, cache, names, urls, refresh, session, min_interval,
                        fetcher_options, progress, write, budget)


def _collect(case, cache, names, urls, refresh, session, min_interval, fetcher_options,
             progress, write, budget) -> CollectReport:
    report = CollectReport(case=case.name)
    report.sources = [SourceReport(name) for name in names]
    # The sources share nothing but the cache (distinct keys), and each keeps its own
    # pace (its declared min_interval, quotas) in its own Fetcher: run them side by side, so a case
    # takes as long as its slowest source, not the sum of all.
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        futures = [pool.submit(_collect_source, case, rep, cache, urls[rep.source], position=i,
                               stop=stop, refresh=refresh, session=session, progress=progress,
                               min_interval=min_interval, fetcher_options=fetcher_options,
                               budget=budget)
                   for i, rep in enumerate(report.sources)]
        try:
            for f in futures:
                f.result()      # re-raises an InputError (or Ctrl-C) from any source
        except BaseException:
            stop.set()          # the others stop before their next request
            raise

    # Normalize from the cache (never the network): what failed mid-way still
    # contributes what it fetched, and a rerun resumes from there.
    # The table covers every source of the case found in the cache, not just
    # the ones asked for this time, so `--source ooni` never drops IODA rows.
    from shutdown.normalize import build_table, write_tables
    problems, notes = {}, {}
    every = list(dict.fromkeys([*case.sources, *names]))
    table = build_table(case, cache, sources=every,
                        on_error=lambda name, exc: problems.setdefault(name, exc),
                        on_note=lambda name, text: notes.setdefault(name, text))
    counts = table.groupby("source").size().to_dict() if len(table) else {}
    for rep in report.sources:
        rep.rows = int(counts.get(rep.source, 0))
        if rep.complete and rep.source in problems:   # fetched, yet unreadable
            rep.status, rep.message = "failed", f"{rep.source}: normalize: {problems[rep.source]}"
        if rep.source in notes:
            rep.message = "\n       ".join(filter(None, [rep.message,
                                                         f"{rep.source}: {notes[rep.source]}"]))

    report.rows, report.table = int(len(table)), table
    if write:
        report.table_path = write_tables(case, cache, table)
    return report
