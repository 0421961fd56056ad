"""``shutdown doctor``: is every registered upstream reachable, and does it still answer in
the shape the collectors read?

Per source (``shutdown.sources.registry``: IODA, OONI, RIPE Atlas, Cloudflare Radar, Tor
Metrics, ...), the smallest real request that exercises what ``collect`` needs. A source
module may offer its own ``doctor_check(check, client, url, country)`` that checks every
field its parser reads (IODA: three hours of one signal; OONI: one aggregation; RIPE
Atlas: a probe page, then a page of built-in ping results); any other source is asked the
first request its ``plan`` makes for one day of the country, judged by that request's own
``validate`` (what ``collect`` judges an answer by). A changed field is named
(``result[].probe_asn: expected int, got str``). A source needing a credential that is
not set is skipped, saying how to get one.

Every line goes through the redaction ``collect`` uses (``shutdown.http.redact``): a key,
a token or a base URL's password an upstream echoes is never printed. Nothing is cached.
``run()`` returns one ``Check`` per source; ``exit_status`` is 0 when all checked are
good, 3 when some are, 4 when none is.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import requests

from shutdown.config import base_url
from shutdown.http import USER_AGENT, _root_cause, redact, register_secret, register_url_secrets
from shutdown.store import strip_secrets_from_url

EXIT_ALL, EXIT_SOME, EXIT_NONE = 0, 3, 4
NULL = type(None)
QUOTA_HEADERS = ("x-ratelimit", "ratelimit", "retry-after", "x-quota")


@dataclass
class Check:
    source: str
    url: str = ""
    reachable: bool = False
    latency: float | None = None          # seconds, summed over the requests made
    quota: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    note: str = ""                        # e.g. no rows to check the row fields on
    skipped: str = ""                     # why it was not asked (a credential not set)

    @property
    def ok(self) -> bool:
        return self.reachable and not self.problems

    def line(self, width: int | None = None) -> str:
        """One line per upstream; ``width``: wrapped to fit a terminal."""
        from shutdown.output import fit_line
        if self.skipped:
            return fit_line(f"{self.source:6s} not checked  {self.skipped}", width, 20)
        if not self.reachable:
            return fit_line(f"{self.source:6s} unreachable  {self.problems[0] if self.problems else self.url}",
                            width, 20)
        quota = ", ".join(f"{k}: {v}" for k, v in self.quota.items()) or "none"
        verdict = "schema as expected" if not self.problems else "changed: " + "; ".join(self.problems)
        note = f" ({self.note})" if self.note else ""
        return fit_line(f"{self.source:6s} reachable    {self.latency:.2f} s   quota headers: {quota}   "
                        f"{verdict}{note}", width, 20)

    def record(self) -> dict:
        """The check as a row (``doctor --format json|csv``)."""
        return {"source": self.source, "url": self.url, "reachable": self.reachable,
                "latency_s": None if self.latency is None else round(self.latency, 3),
                "quota": ", ".join(f"{k}: {v}" for k, v in self.quota.items()),
                "schema_ok": self.reachable and not self.problems,
                "problems": "; ".join(self.problems), "note": self.note, "skipped": self.skipped}

    def redacted(self) -> "Check":
        """This check as it may be shown: no credential an upstream echoed, no URL password."""
        self.url = strip_secrets_from_url(self.url)
        self.problems = [redact(p) for p in self.problems]
        self.note, self.skipped = redact(self.note), redact(self.skipped)
        self.quota = {k: redact(v) for k, v in self.quota.items()}
        return self


def fields(obj, spec: dict, where: str) -> list[str]:
    """What in ``obj`` differs from ``spec`` ({key: type or tuple of types}), by field name."""
    if not isinstance(obj, dict):
        return [f"{where}: expected an object, got {kind(obj)}"]
    out = []
    for key, want in spec.items():
        if key not in obj:
            out.append(f"{where}.{key} missing")
            continue
        if not is_type(obj[key], want):
            names = "/".join(_name(t) for t in (want if isinstance(want, tuple) else (want,)))
            out.append(f"{where}.{key}: expected {names}, got {kind(obj[key])}")
    return out


def is_type(v, want) -> bool:
    want = want if isinstance(want, tuple) else (want,)
    if isinstance(v, bool):
        return bool in want
    return isinstance(v, tuple(t for t in want if t is not bool))


def _name(t) -> str:
    return {NULL: "null", str: "string", int: "int", float: "float", dict: "object", list: "list",
            bool: "bool"}.get(t, t.__name__)


def kind(v) -> str:
    return _name(type(v)) if type(v) in (NULL, str, int, float, dict, list, bool) else type(v).__name__


class _Client:
    def __init__(self, check: Check, session, timeout: float, headers: dict | None = None):
        self.check, self.session, self.timeout = check, session, timeout
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}

    def get(self, url: str, params: dict, parse=None):
        """(status, parsed JSON -- or ``parse(body)`` -- or None); None when unreachable (said
        in the check)."""
        t0 = time.monotonic()
        try:
            resp = self.session.get(url, params=params, headers=self.headers, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.check.problems.append(f"{url}: {_root_cause(exc)} (offline, or the host is down)")
            return None, None
        self.check.reachable = True
        self.check.latency = (self.check.latency or 0.0) + time.monotonic() - t0
        for k, v in resp.headers.items():
            if any(k.lower().startswith(h) for h in QUOTA_HEADERS):
                self.check.quota[k] = v
        try:
            return resp.status_code, parse(resp.content) if parse else resp.json()
        except ValueError:
            return resp.status_code, resp.text[:120]


def yesterday() -> tuple[pd.Timestamp, pd.Timestamp]:
    day = pd.Timestamp.now(tz="UTC").floor("D") - pd.Timedelta(days=1)
    return day, day + pd.Timedelta(days=1)


def said(obj, key: str | None = None) -> str:
    if isinstance(obj, dict):
        for k in ([key] if key else []) + ["error", "msg", "detail", "message"]:
            if obj.get(k):
                v = obj[k]
                return str(v.get("detail", v) if isinstance(v, dict) else v)[:200]
        return "an object with keys " + ", ".join(sorted(map(str, obj))[:8])
    return str(obj)[:120].strip() or "empty body"


def answered(c: "Check", status: int, obj, told: str | None = None) -> bool:
    """Whether a check may go on reading ``obj``: the upstream was reached, answered HTTP 200
    and said no error (``told``); otherwise the problem is recorded on ``c``."""
    if not c.reachable:
        return False
    if status != 200 or told is not None:
        c.problems.append(f"HTTP {status}: {told or said(obj)}")
        return False
    return True


def probe_case(country: str, source: str):
    """A one-day case (yesterday, UTC) of ``country`` with no networks or regions: what the
    generic check asks a source's ``plan`` for."""
    from shutdown.case import Case
    day = (pd.Timestamp.now(tz="UTC").floor("D") - pd.Timedelta(days=1)).date()
    return Case(name="doctor", title="doctor", path=Path("doctor"), country=country,
                timezone="UTC", start=day, end=day, baseline_days=1,
                timeline_path=Path("doctor-timeline.toml"), sources=(source,))


def generic_check(check: Check, client: "_Client", url: str, country: str) -> None:
    """The first request a source plans for one day of ``country``, judged as ``collect``
    judges it (the request's ``validate``; its ``explain`` reads an error body)."""
    from shutdown.sources import registry
    req = registry.module(check.source).plan(probe_case(country, check.source))[0]
    status, obj = client.get(url + req.path, req.params, req.parse)
    told = None                 # an error body, as the request's own explain reads it
    if status != 200:
        explained = req.explain(obj) if req.explain and not isinstance(obj, (str, bytes)) else None
        told = explained or said(obj)
    if not answered(check, status, obj, told):
        return
    problem = req.validate(obj) if req.validate else None
    if problem:
        check.problems.append(problem)


def run(country: str = "KZ", base_urls: dict | None = None, sources=None, session=None,
        timeout: float = 30.0) -> list[Check]:
    """One Check per source (default: every registered source that can be asked)."""
    from shutdown.sources import registry
    session = session or requests.Session()
    out = []
    for name in sources or [n for n in registry.names() if registry.module(n) is not None]:
        src = registry.get(name)
        url = base_url(name, (base_urls or {}).get(name))
        register_url_secrets(url)
        c = Check(name, url)
        missing = src.missing_credential()
        if missing:
            c.skipped = missing
            out.append(c.redacted())
            continue
        register_secret(src.credential())
        client = _Client(c, session, timeout, src.auth_headers())
        own = getattr(src.module, "doctor_check", None)
        try:
            (own or generic_check)(c, client, url, country.upper())
        except Exception as exc:       # a shape so far off that a check broke: say it, go on
            c.reachable, c.latency = True, c.latency or 0.0
            c.problems.append(f"unreadable answer ({type(exc).__name__}: {str(exc)[:200]})")
        out.append(c.redacted())
    return out


def exit_status(checks: list[Check]) -> int:
    checks = [c for c in checks if not c.skipped]
    good = sum(c.ok for c in checks)
    return EXIT_ALL if checks and good == len(checks) else EXIT_SOME if good else EXIT_NONE
