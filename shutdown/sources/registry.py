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
``signals``
    what it writes into the tidy table: ``signal``, ``unit``, ``meaning``,
    ``role`` (connectivity | routing | traffic | volume | service | probes),
    ``label`` (figures), optionally ``family`` (the independent measurement
    method, for fusion; default: the source), ``floor`` (the smallest relative
    drop detection may call an outage; default: ``detect.thresholds``), ``name`` (the
    signal after the source's title, e.g. a region panel's "IODA telescope"; default: the
    signal) and ``short`` (the alignment chart's name of it: a row reads "<short title>
    <short>", a not-measurable list "<short>"; without it, the row reads the label and the
    list the label after "Title: ").

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
                            name=str(s.get("name") or s["signal"]), short=str(s.get("short", "")))
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
                     region_panels=tuple(dict(g) for g in d.get("region_panels", ())))
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
    declared = {s.signal for s in sigs}
    bad = [g["signal"] for g in (*src.network_series, *src.region_panels) if g["signal"] not in declared]
    if bad:
        raise RuntimeError(f"{where}: network_series/region_panels name {bad[0]!r}, "
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


def signal(source: str, name: str) -> Signal | None:
    """The declared signal, or None (an unknown source or signal is not an error here)."""
    src = sources().get(str(source))
    return next((s for s in src.signals if s.signal == str(name)), None) if src else None
