"""Write a scenario's payloads into a cache, for every request the collectors make.

The simulator is one more driver of each source's ``requests(case)`` generator
(see ``shutdown.sources``): ``render_<source>.render(world, path, params)``
answers each request, ``RawCache.put(..., simulated=True)`` stores it under the
same key a live answer would get. Follow-up requests are the collector's own,
decided by the rendered answers: the RIPE Atlas results from the simulated probe
listing (following its ``next`` links), the IODA regions from the simulated
region lookup, Radar's and IODA's pages from the length of the page before.

Reproducible to the byte: the world is seeded, bodies are serialised with fixed
separators, gzip has ``mtime=0`` and every provenance record carries the
scenario's declared ``fetched_utc``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from urllib.parse import urlencode

from shutdown.case import Case, load_case
from shutdown.config import default_url
from shutdown.errors import InputError
from shutdown.paths import default_cache_dir
from shutdown.scenario import Scenario, load_scenario
from shutdown.simulation.truth import GROUND_TRUTH_FILE, truth_document
from shutdown.simulation.world import World
from shutdown.store import TOOL_VERSION, RawCache, atomic_write

STAMP_FILE = "SIMULATION.json"


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _resolve(scenario, case) -> tuple[Scenario, Case]:
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if case is None:
        if not sc.case:
            raise InputError("the scenario names no case; add case = \"<case name>\"", path=sc.path,
                             field="case")
        try:
            return sc, load_case(sc.case)
        except InputError as exc:
            raise InputError(f"cannot load the case it names: {exc}", path=sc.path,
                             field="case") from None
    c = case if isinstance(case, Case) else load_case(case)
    return sc, c


def _code_sha() -> str:
    """The simulator's own code: a fix to a renderer must rebuild demo caches."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted([*here.glob("*.py"), *(here.parent / "scenario").glob("*.py")]):
        h.update(p.relative_to(here.parent).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def stamp(sc: Scenario, case: Case, seed: int) -> dict:
    """What a built simulated cache was built from; equal stamps mean equal bytes."""
    return {"SIMULATED": True, "scenario": sc.name, "scenario_sha256": _sha(sc.path),
            "case": case.name, "case_sha256": _sha(case.path), "seed": int(seed),
            "tool_version": TOOL_VERSION, "code_sha256": _code_sha()}


def _prepare(root: Path) -> RawCache:
    """A cache directory ready for a fresh simulation; never touches measured data."""
    cache = RawCache(root)
    held = cache.holds_simulated()       # the marker, else the entries: a marker-less
    if held is False:                    # cache of measured data is still measured
        raise InputError("this cache holds measured data; simulated data goes elsewhere "
                         "(give another --cache directory)", path=root)
    if held:
        # A previous simulation: start clean so two runs never mix.
        for sub in ("raw", "tables", "figures"):
            shutil.rmtree(root / sub, ignore_errors=True)
        for f in (STAMP_FILE, GROUND_TRUTH_FILE, "CACHE.json"):
            (root / f).unlink(missing_ok=True)
    return cache


def simulate(scenario, *, seed: int = 0, cache_root=None, case=None, progress=None) -> dict:
    """Render every planned request of the scenario's case into a simulated cache.

    ``scenario``: a name in ``data/scenarios/``, a path, or a loaded Scenario.
    ``case``: defaults to the case the scenario names. ``cache_root``: defaults
    to ``<default cache>/simulated/<scenario>``. Returns a summary dict
    (``cache``, ``files`` per source, ``seconds``, ``episodes``).
    """
    t0 = time.perf_counter()
    sc, c = _resolve(scenario, case)
    outside = episodes_outside(sc, c)
    # Ground truth no response shows would make every score against it wrong: refused for
    # the scenario's own case (a date typo). Another case (--case, e.g. a shorter window
    # for a quick run) may leave some episodes out -- a note -- but not all of them.
    if outside and (case is None or len(outside) == len(sc.episodes)):
        raise InputError(outside[0] + "; fix its dates or simulate it for a case whose window "
                         "holds it (--case)", path=sc.path)
    root = Path(cache_root).expanduser() if cache_root else default_cache_dir() / "simulated" / sc.name
    with RawCache(root).lock("simulate"):
        return _simulate(sc, c, root, seed, progress, t0)


def _simulate(sc, c, root, seed, progress, t0) -> dict:
    cache = _prepare(root)
    world = World(sc, c, seed)
    files = {}
    for source in c.sources:
        n = 0

        def put(path, params, status, body):
            nonlocal n
            query = urlencode(sorted((k, str(v)) for k, v in params.items()))
            cache.put(source, path, params, body, url=f"{default_url(source)}{path}?{query}",
                      status=status, fetched_utc=sc.fetched_utc, simulated=True, scenario=sc.name,
                      extra={"seed": int(seed)}, compresslevel=1)
            n += 1
            if progress is not None:
                progress(source, n)

        answers(world, source, put)
        files[source] = n
    atomic_write(root / GROUND_TRUTH_FILE,
                 json.dumps(truth_document(sc, seed), indent=1, sort_keys=True).encode())
    atomic_write(root / STAMP_FILE, json.dumps(stamp(sc, c, seed), indent=1, sort_keys=True).encode())
    return {"cache": root, "scenario": sc.name, "case": c.name, "seed": int(seed), "files": files,
            "seconds": time.perf_counter() - t0, "episodes": len(sc.episodes),
            "warnings": mismatches(sc, c)}


def mismatches(sc: Scenario, case: Case) -> list[str]:
    """Entities the scenario and the case do not share (not an error: a case may grow)."""
    case_ents = set(case.entities())
    sc_ents = {(e.entity_type, e.code) for e in sc.entities}
    out = [f"{t}:{c} is in case {case.name} but not in scenario {sc.name}: default behaviour, "
           "no episodes" for t, c in sorted(case_ents - sc_ents)]
    out += [f"{t}:{c} is in scenario {sc.name} but not in case {case.name}: its episodes are in "
            "the ground truth, nothing requests its data" for t, c in sorted(sc_ents - case_ents)]
    return out + episodes_outside(sc, case)


def episodes_outside(sc: Scenario, case: Case) -> list[str]:
    """Episodes no simulated response would show (a date typo?): refused by ``simulate``."""
    lo, hi = case.fetch_utc
    return [f"episode {ep.id!r} ({ep.start:%Y-%m-%dT%H:%MZ}..{ep.end:%Y-%m-%dT%H:%MZ}) lies outside "
            f"case {case.name}'s data ({lo:%Y-%m-%dT%H:%MZ}..{hi:%Y-%m-%dT%H:%MZ})"
            for ep in sc.episodes if ep.end <= lo or ep.start >= hi]


def answers(world: World, source: str, each) -> None:
    """Walk ``source``'s ``requests(world.case)`` answering every request with
    ``shutdown.simulation.render_<source>.render(world, path, params)``; ``each(path,
    params, status, body)`` hears every answer, in the order the collector asks."""
    import importlib
    from shutdown.sources import Answer, registry, walk
    try:
        renderer = importlib.import_module(f"shutdown.simulation.render_{source}")
    except ModuleNotFoundError:
        renderer = None
    mod = registry.module(source)
    if mod is None or renderer is None or not callable(getattr(renderer, "render", None)):
        raise InputError(f"the simulator cannot render source {source!r} "
                         f"(no shutdown/simulation/render_{source}.py with render())")

    def answer(req) -> Answer:
        status, body = renderer.render(world, req.path, req.params)
        each(req.path, req.params, status, body)
        return Answer(status, body)

    walk(mod.requests(world.case), answer)


def demo_cache_dir(scenario_name: str, cache_root=None) -> Path:
    if cache_root:
        return Path(cache_root).expanduser()
    return default_cache_dir() / "simulated" / scenario_name


def demo_cache(case, seed: int = 0, cache_root=None) -> Path:
    """The simulated cache for ``case``'s scenario, (re)built only when needed.

    Lives apart from measured caches (``<default cache>/simulated/<scenario>``).
    When it was already built from the same scenario file, case file, seed and
    tool version, it is returned as is (cheap); otherwise it is rebuilt.
    """
    c = case if isinstance(case, Case) else load_case(case)
    if not c.scenario:
        raise InputError("this case names no simulator scenario; add scenario = \"<name>\" "
                         "to use --demo", path=c.path, field="scenario")
    sc = load_scenario(c.scenario)
    root = demo_cache_dir(sc.name, cache_root)
    want = stamp(sc, c, seed)
    try:
        have = json.loads((root / STAMP_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        have = None
    if have != want:
        simulate(sc, seed=seed, cache_root=root, case=c)
    return root
