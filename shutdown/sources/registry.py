"""The upstreams, each declared once, in its own module.

Every module of ``shutdown.sources`` that has a ``DECLARATION`` dict is a source:
it is found, not listed, so a new upstream is one new module (plus its simulator
renderer, ``shutdown/simulation/render_<name>.py``). A declaration names:

``name``, ``title``, ``short``
    the source's id (cases, the tidy table, ``--source``), how a reader calls it, and
    optionally a shorter title for the alignment chart's rows (default: the title);
``default_url``
    its public base URL; ``SHUTDOWN_<NAME>_URL`` or ``--url NAME=URL`` replaces it;
``auth``
    None, or ``{"env", "header", "scheme", "required", "how"}``: the environment
    variable (or variables, first set wins) holding a credential, sent as ``header: scheme credential``; a
    ``required`` one missing makes the source unavailable, said with ``how``;
``min_interval``
    seconds between two requests to it (its own pace; the sources run side by side);
``default``
    whether a case that names no sources uses it (False: a case opts in; the
    default is False for a source that requires a credential, else True);
``order``
    where it stands in listings;
``documents``
    optional ``{"function", "title"}``: the module function ``f(case, cache)`` that
    reads outages the source documents itself (a second documented timeline,
    compared with the report's in ``shutdown.documenters``);
``panels``
    optional: its panels of the overview figure, each ``{"title", "series", "missing",
    "ylim", "title_when"}`` with series ``{"signal" (or "signals"), "subtype", "label",
    "transform", "style"}`` (``shutdown.plot.panels`` draws them; ``transform`` names
    one of its ``TRANSFORMS``). Without it, a source gets one panel of its
    connectivity and traffic signals as shares of their baseline, when it has data;
``network_series``
    optional: its series in each panel of the per-network figure, ``{"signal",
    "subtype", "label", "transform"}`` as in ``panels`` (the label is the legend's). The
    figure draws every source's, in the registry's order; a source without it is not drawn
    there (a network's panel would be too sparse or too many lines);
``region_panels``
    optional: the signals the region figure compares (country vs region), one panel each,
    ``{"signal", "subtype"}``: the subtype preferred where the signal has several (else
    the first the region has). A source without it is not drawn there;
``services``
    optional: the services it tests one by one, a timeline scope's service name -> the
    signal or signals testing it (OONI's app tests: "tor" -> tor, vanilla_tor, torsf); an
    event scoped ``service:a,b`` asks only those signals of it;
``signals``
    what it writes into the tidy table: ``signal``, ``unit``, ``meaning``,
    ``kind`` (how it is judged; default ``level``): ``level``, a magnitude judged against
    its learnt baseline (IODA, Radar, Tor users, OONI volume, Atlas probe counts), or
    ``trials``, k of n tests or probes, pooled, with ``trials`` saying where k and n are
    (``Trials`` below: OONI tests and sites, Atlas probes reaching the Internet);
    for a level signal ``min_expected`` (a number, or the name of a ``detect.thresholds``
    value: below this expected value a zero is chance, not a cut) and ``pooled`` (judged on
    3-bin sums: small counts);
    ``role`` (connectivity | routing | traffic | volume | service | probes),
    ``label`` (figures), optionally ``family`` (the independent measurement
    method, for fusion; default: the source), ``floor`` (the smallest relative
    drop detection may call an outage; default: ``detect.thresholds``), ``name`` (the
    signal after the source's title, e.g. a region panel's "IODA telescope"; default: the
    signal) and ``short`` (the alignment chart's name of it: a row reads "<short title>
    <short>", a not-measurable list "<short>"; without it, the row reads the label and the
    list the label after "Title: ");
    ``witnesses`` (optional): what the signal can witness of an event, one of ``WITNESSES``
    -> its reason, or ``{"why", "subtype", "rank"}`` (the subtype that witnesses it, e.g.
    Atlas's end-user probes; ``rank`` orders it among the signals of one row of
    ``shutdown.expect.TABLE``, default 0, then registry order): that table says how a
    witness moves for each event kind.

A declaration that lacks a required key, or whose figure series name a signal it does
not declare, is refused with a RuntimeError naming its module.

Importing the registry imports every source module (and so pandas): commands
load it when they run, never for ``--help``.
"""
from __future__ import annotations

import functools
import importlib
import os
import pkgutil
from dataclasses import dataclass, field

from shutdown.errors import InputError

ROLES = ("connectivity", "routing", "traffic", "volume", "service", "probes")
KINDS = ("level", "trials")
# What a signal can witness (its ``witnesses``): how each moves per event kind is
# ``shutdown.expect.TABLE``.
WITNESSES = {
    "access": "whether users inside the country reach the Internet",
    "routes": "whether the country's address space stays announced in BGP",
    "infrastructure": "whether data-centre machines inside reach the Internet (they may keep "
                      "access through a cut)",
    "hosts-online": "whether the country's hosts stay online (a control: blocking less than "
                    "access leaves it alone)",
    "probes-online": "whether probes inside still reach the Internet (a control, as hosts-online)",
    "reached-from-abroad": "whether the country's hosts answer vantage points outside it",
    "app": "whether one app (a messenger) works",
    "circumvention": "whether one circumvention tool can bootstrap",
    "circumvention-unscored": "a circumvention test upstream no longer scores: silent whatever happens",
    "sites": "whether listed sites answer while a control set stays blocked",
}


@dataclass(frozen=True)
class Trials:
    """Where a ``trials`` signal's k (hits) and n (trials) are in the tidy table. Two shapes:

    outcomes: the signal's rows hold counts per outcome in ``subtype`` (or per
        ``"<item>/<outcome>"`` with ``items``: one series per item); k = the ``hits``
        outcomes, n = every outcome, or the ``total`` signal whose subtype is this signal;
    ratio (``of``): k = this signal's value, n = signal ``of`` with the same subtype.

    The share k/n is a series with ``metric`` (not "value"); it moves ``moves`` ("up" or
    "down") when the service or access is taken away. ``unit`` names one trial ("tests";
    "probes": the same units seen bin after bin, counted per hour, never summed over
    hours); ``what`` says the share in words ("anomalous"); ``share_unit`` is the derived
    series' unit. ``intervals``: detection also finds intervals on the share (else it is
    judged only by pooled statistics); ``pooled``: judged on 3-bin sums (a share of a few
    probes moves in big steps)."""
    metric: str
    moves: str
    unit: str
    what: str
    share_unit: str
    outcomes: tuple = ()
    hits: tuple = ()
    total: str = ""
    items: bool = False
    of: str = ""
    intervals: bool = True
    pooled: bool = False

    @property
    def shape(self) -> str:
        return "ratio" if self.of else "outcomes"


def _trials(d) -> Trials | None:
    if d is None:
        return None
    t = Trials(**{k: tuple(v) if isinstance(v, list) else v for k, v in dict(d).items()})
    if t.moves not in ("up", "down") or not (t.of or (t.outcomes and t.hits)):
        raise ValueError(f"trials: moves up|down and either 'of' or outcomes and hits ({t})")
    return t


@dataclass(frozen=True)
class Witness:
    """One thing a signal witnesses (``WITNESSES``), with its own subtype
    (None: any) and reason."""
    what: str
    why: str = ""
    subtype: str | None = None
    rank: int = 0


def _witnesses(d) -> tuple:
    out = tuple(Witness(what, **({"why": v} if isinstance(v, str) else dict(v)))
                for what, v in (d or {}).items())
    bad = [w.what for w in out if w.what not in WITNESSES]
    if bad:
        raise ValueError(f"witnesses: unknown {bad[0]!r} (known: {', '.join(WITNESSES)})")
    return out


@dataclass(frozen=True)
class Signal:
    source: str
    signal: str
    unit: str
    meaning: str
    role: str
    label: str = ""
    family: str = ""          # independent measurement method (fusion); default: the source
    floor: float | None = None   # smallest relative drop that may enter an outage (detection)
    name: str = ""            # the signal after the source's title (region figure); default: signal
    short: str = ""           # the alignment chart's name of it ("" : from the label)
    kind: str = "level"       # level | trials: how detection, alignment and figures judge it
    trials: Trials | None = None     # a trials signal: where its k and n are
    min_expected: float | str = 0.0  # level: below this expected value a zero is chance
    pooled: bool = False             # level: judged on 3-bin sums (small counts)
    witnesses: tuple = ()            # Witness: what it shows of an event (shutdown.expect)

    def expected_floor(self, thresholds) -> float:
        """``min_expected`` as a number (a name reads the value of ``thresholds``, the
        ``detect.thresholds`` module or a ``Thresholds``)."""
        if isinstance(self.min_expected, str):
            return float(getattr(thresholds, self.min_expected))
        return float(self.min_expected)


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    default_url: str
    module_name: str
    auth: dict | None = None
    min_interval: float = 0.0
    default: bool = True
    order: int = 50
    signals: tuple = field(default=(), repr=False)
    documents: dict | None = None     # {"function", "title"}: outages it documents itself
    panels: tuple = field(default=(), repr=False)   # its overview panels (plot.panels), or () for the default
    network_series: tuple = field(default=(), repr=False)   # its series in the per-network figure
    region_panels: tuple = field(default=(), repr=False)    # its signals in the region figure
    short: str = ""           # a shorter title (the alignment chart's rows); default: the title
    services: dict = field(default_factory=dict, repr=False)   # service name -> its test signals

    @property
    def url_env(self) -> str:
        return f"SHUTDOWN_{self.name.upper()}_URL"

    @property
    def module(self):
        return importlib.import_module(self.module_name)

    def credential(self, env=None) -> str | None:
        """The configured credential (from ``auth["env"]``), or None."""
        if not self.auth:
            return None
        env = env if env is not None else os.environ
        names = self.auth["env"]
        for name in (names,) if isinstance(names, str) else names:    # first one set wins
            if (env.get(name) or "").strip():
                return env[name].strip()
        return None

    def auth_headers(self, env=None) -> dict:
        cred = self.credential(env)
        if not cred:
            return {}
        scheme = self.auth.get("scheme")
        return {self.auth.get("header", "Authorization"): f"{scheme} {cred}" if scheme else cred}

    def missing_credential(self, env=None) -> str | None:
        """One line saying how to get the credential a source requires, or None."""
        if not self.auth or not self.auth.get("required") or self.credential(env):
            return None
        names = self.auth["env"]
        names = (names,) if isinstance(names, str) else names
        return f"needs ${' or $'.join(names)}: {self.auth.get('how', 'set it and run again')}"


def _source(module_name: str, d: dict) -> Source:
    where = f"{module_name}.DECLARATION"
    try:
        name = d["name"]
        sigs = tuple(Signal(source=name, signal=s["signal"], unit=s["unit"], meaning=s["meaning"],
                            role=s["role"], label=s.get("label", ""), family=s.get("family") or name,
                            floor=None if s.get("floor") is None else float(s["floor"]),
                            name=str(s.get("name") or s["signal"]), short=str(s.get("short", "")),
                            kind=s.get("kind", "level"), trials=_trials(s.get("trials")),
                            min_expected=s.get("min_expected", 0.0), pooled=bool(s.get("pooled")),
                            witnesses=_witnesses(s.get("witnesses")))
                     for s in d.get("signals", ()))
        title = d.get("title", name)
        src = Source(name=name, title=title, short=d.get("short", title),
                     default_url=d["default_url"].rstrip("/"),
                     module_name=module_name, auth=d.get("auth"),
                     min_interval=float(d.get("min_interval", 0.0)),
                     # a source that needs a credential is one a case opts into
                     default=bool(d.get("default", not (d.get("auth") or {}).get("required"))),
                     order=int(d.get("order", 50)), signals=sigs, documents=d.get("documents"),
                     panels=tuple(d.get("panels", ())),
                     network_series=tuple(dict(g) for g in d.get("network_series", ())),
                     region_panels=tuple(dict(g) for g in d.get("region_panels", ())),
                     services={str(k).lower(): (v,) if isinstance(v, str) else tuple(v)
                               for k, v in (d.get("services") or {}).items()})
        for spec in src.panels:
            if not spec["title"] or not all("transform" in g and ("signal" in g or "signals" in g)
                                            for g in spec["series"]):
                raise KeyError("panels: a title, and a signal and a transform per series")
        for g in src.network_series:
            if not (g.get("signal") and g.get("label") and g.get("transform")):
                raise KeyError("network_series: a signal, a label and a transform per series")
        if not all(g.get("signal") for g in src.region_panels):
            raise KeyError("region_panels: a signal per panel")
    except (KeyError, TypeError, ValueError) as exc:      # a programming error in a source module
        raise RuntimeError(f"{where}: malformed ({exc!r})") from None
    bad = [s.role for s in sigs if s.role not in ROLES]
    if bad:
        raise RuntimeError(f"{where}: unknown role {bad[0]!r} (known: {', '.join(ROLES)})")
    bad = [s.signal for s in sigs if s.kind not in KINDS or (s.kind == "trials") != (s.trials is not None)]
    if bad:
        raise RuntimeError(f"{where}: signal {bad[0]!r}: kind must be one of {', '.join(KINDS)}, "
                           f"and a trials signal (only) says where its k and n are (trials)")
    declared = {s.signal for s in sigs}
    bad = [g["signal"] for g in (*src.network_series, *src.region_panels) if g["signal"] not in declared]
    bad += [t for ts in src.services.values() for t in ts if t not in declared]
    if bad:
        raise RuntimeError(f"{where}: network_series/region_panels/services name {bad[0]!r}, "
                           f"not one of its signals")
    return src


@functools.lru_cache(maxsize=1)
def sources() -> dict[str, Source]:
    """name -> Source, in declared order."""
    import shutdown.sources as pkg
    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name == "registry":
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        decl = getattr(mod, "DECLARATION", None)
        if isinstance(decl, dict):
            found.append(_source(mod.__name__, decl))
    found.sort(key=lambda s: (s.order, s.name))
    return {s.name: s for s in found}


def names() -> tuple[str, ...]:
    return tuple(sources())


def default_names() -> tuple[str, ...]:
    """The sources a case uses when it names none."""
    return tuple(n for n, s in sources().items() if s.default)


def get(name: str, field_name: str = "source") -> Source:
    try:
        return sources()[name]
    except KeyError:
        raise InputError(f"unknown source {name!r}; known: {', '.join(names())}", field=field_name) from None


def module(name: str):
    """The module of source ``name``, or None when it lacks what a source must offer
    (``plan``, ``requests``, ``normalize``): an unfinished source never stops the others."""
    src = sources().get(name)
    if src is None:
        return None
    mod = src.module
    if not all(callable(getattr(mod, f, None)) for f in ("plan", "requests", "normalize")):
        return None
    return mod


def signals(role: str | tuple | None = None) -> list[Signal]:
    """Every declared signal, optionally of some roles."""
    roles = (role,) if isinstance(role, str) else role
    return [s for src in sources().values() for s in src.signals if roles is None or s.role in roles]


def services(source: str) -> dict:
    """The services a source tests one by one: service name -> its signals (``services``)."""
    src = sources().get(str(source))
    return src.services if src is not None else {}


def trials(intervals: bool | None = None) -> list[Signal]:
    """Every declared ``trials`` signal, in registry order (optionally only those whose
    share detection also finds intervals on, or only those it does not)."""
    return [s for s in signals() if s.trials is not None
            and (intervals is None or s.trials.intervals == intervals)]


def trial_groups(intervals: bool | None = None) -> list[tuple[str, Trials, tuple[str, ...]]]:
    """The trials signals as (source, spec, signals) groups sharing one spec, in registry
    order: a source's tests with one spec are read in one pass."""
    out: dict = {}
    for s in trials(intervals):
        out.setdefault((s.source, s.trials), []).append(s.signal)
    return [(src, spec, tuple(sigs)) for (src, spec), sigs in out.items()]


def by_metric(source: str, signal: str, metric: str) -> Signal | None:
    """The declared signal behind a series (its ``metric``: "value" or a trials share)."""
    sig = signal_(source, signal)
    if sig is None or metric in ("value", "", None):
        return sig
    return sig if sig.trials is not None and sig.trials.metric == metric else None


def signal(source: str, name: str) -> Signal | None:
    """The declared signal, or None (an unknown source or signal is not an error here)."""
    src = sources().get(str(source))
    return next((s for s in src.signals if s.signal == str(name)), None) if src else None


signal_ = signal      # (a name the functions above can use beside their ``signal`` argument)
