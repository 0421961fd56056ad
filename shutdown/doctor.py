"""``shutdown doctor``: are the three upstreams reachable, and do they still answer in
the shape the collectors read?

Per upstream, the smallest real request that exercises what ``collect`` needs,
built by the collectors' own request builders:

* IODA: three hours of one signal (``/signals/raw/country/<CC>``, bgp);
* OONI: one aggregation (a day, hour grain, split by ``probe_asn``, one test);
* RIPE Atlas: one probe page, then one page of built-in ping results (msm 1001)
  of a probe on it.

Each answer is checked for status, envelope and every field the parsers read;
a changed field is named (``result[].probe_asn: expected int, got str``).
Nothing is cached. ``run()`` returns one ``Check`` per upstream; ``exit_status``
is 0 when all are good, 3 when some are, 4 when none is.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd
import requests

from shutdown.config import base_url
from shutdown.http import USER_AGENT, _root_cause

EXIT_ALL, EXIT_SOME, EXIT_NONE = 0, 3, 4
NULL = type(None)
NUMBER = (int, float)
QUOTA_HEADERS = ("x-ratelimit", "ratelimit", "retry-after", "x-quota")

# The fields each parser reads (shutdown/sources/*.py), with the types it expects.
IODA_ENVELOPE = {"type": str, "metadata": dict, "requestParameters": dict, "error": NULL, "data": list}
IODA_SERIES = {"entityType": str, "entityCode": str, "datasource": str, "subtype": str,
               "from": int, "step": int, "values": list}
OONI_ANSWER = {"v": int, "dimension_count": int, "result": list}
OONI_ROW = {"measurement_start_day": str, "measurement_count": int, "ok_count": int,
            "anomaly_count": int, "confirmed_count": int, "failure_count": int, "probe_asn": int}
ATLAS_LISTING = {"count": int, "next": (str, NULL), "results": list}
ATLAS_PROBE = {"id": int, "asn_v4": (int, NULL), "asn_v6": (int, NULL), "country_code": (str, NULL),
               "is_anchor": bool, "status": dict, "status_since": (int, NULL),
               "first_connected": (int, NULL), "geometry": (dict, NULL), "tags": list}
ATLAS_STATUS = {"id": int, "name": str}
ATLAS_PING = {"type": str, "prb_id": int, "timestamp": int, "rcvd": (int, str), "dst_addr": str}


@dataclass
class Check:
    source: str
    url: str = ""
    reachable: bool = False
    latency: float | None = None          # seconds, summed over the requests made
    quota: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    note: str = ""                        # e.g. no rows to check the row fields on

    @property
    def ok(self) -> bool:
        return self.reachable and not self.problems

    def line(self, width: int | None = None) -> str:
        """One line per upstream; ``width``: wrapped to fit a terminal."""
        from shutdown.output import fit_line
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
                "problems": "; ".join(self.problems), "note": self.note}


def fields(obj, spec: dict, where: str) -> list[str]:
    """What in ``obj`` differs from ``spec`` ({key: type or tuple of types}), by field name."""
    if not isinstance(obj, dict):
        return [f"{where}: expected an object, got {_kind(obj)}"]
    out = []
    for key, want in spec.items():
        if key not in obj:
            out.append(f"{where}.{key} missing")
            continue
        if not _is(obj[key], want):
            names = "/".join(_name(t) for t in (want if isinstance(want, tuple) else (want,)))
            out.append(f"{where}.{key}: expected {names}, got {_kind(obj[key])}")
    return out


def _is(v, want) -> bool:
    want = want if isinstance(want, tuple) else (want,)
    if isinstance(v, bool):
        return bool in want
    return isinstance(v, tuple(t for t in want if t is not bool))


def _name(t) -> str:
    return {NULL: "null", str: "string", int: "int", float: "float", dict: "object", list: "list",
            bool: "bool"}.get(t, t.__name__)


def _kind(v) -> str:
    return _name(type(v)) if type(v) in (NULL, str, int, float, dict, list, bool) else type(v).__name__


class _Client:
    def __init__(self, check: Check, session, timeout: float, headers: dict | None = None):
        self.check, self.session, self.timeout = check, session, timeout
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}

    def get(self, url: str, params: dict):
        """(status, parsed JSON or None); None when unreachable (said in the check)."""
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
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, resp.text[:120]


def _yesterday() -> tuple[pd.Timestamp, pd.Timestamp]:
    day = pd.Timestamp.now(tz="UTC").floor("D") - pd.Timedelta(days=1)
    return day, day + pd.Timedelta(days=1)


def check_ioda(url: str, country: str, session, timeout: float) -> Check:
    from shutdown.sources import ioda
    c = Check("ioda", url)
    day, _ = _yesterday()
    path = f"/signals/raw/country/{country}"
    status, obj = _Client(c, session, timeout).get(
        url + path, ioda.signals_params(day, day + pd.Timedelta(hours=3), "bgp"))
    if not c.reachable:
        return c
    if status != 200:
        c.problems.append(f"HTTP {status}: {_said(obj, 'error')}")
        return c
    c.problems += fields(obj, IODA_ENVELOPE, "envelope")
    if c.problems:
        return c
    if ioda.silent_failure(obj):
        c.problems.append("data is [] (IODA's backend failed; an entity without data is [[]])")
        return c
    series = [s for group in obj["data"] if isinstance(group, list) for s in group]
    if not all(isinstance(g, list) for g in obj["data"]):
        c.problems.append("data[]: expected a list of lists of series")
    if not series:
        c.note = "no series to check the series fields on"
    for s in series[:3]:
        c.problems += fields(s, IODA_SERIES, "data[][]")
        vals = s.get("values") if isinstance(s, dict) else None
        if isinstance(vals, list) and any(not (v is None or _is(v, NUMBER)) for v in vals):
            c.problems.append("data[][].values: expected numbers or null")
    return c


def check_ooni(url: str, country: str, session, timeout: float) -> Check:
    from shutdown.sources import ooni
    c = Check("ooni", url)
    since, until = _yesterday()
    params = ooni.aggregation_params(since, until, probe_cc=country, axis_y="probe_asn",
                                     test_name="web_connectivity")
    status, obj = _Client(c, session, timeout).get(url + ooni.PATH, params)
    if not c.reachable:
        return c
    said = ooni.error_message(obj)
    if status != 200 or said is not None:
        c.problems.append(f"HTTP {status}: {said or _said(obj)}")
        return c
    c.problems += fields(obj, OONI_ANSWER, "answer")
    rows = obj.get("result") if isinstance(obj, dict) else None
    if isinstance(rows, list):
        if not rows:
            c.note = "no rows to check the row fields on"
        for r in rows[:3]:
            c.problems += fields(r, OONI_ROW, "result[]")
    return c


def check_atlas(url: str, country: str, session, timeout: float) -> Check:
    from shutdown.sources import atlas, registry
    c = Check("atlas", url)
    client = _Client(c, session, timeout, registry.get("atlas").auth_headers())
    status, obj = client.get(url + atlas.PROBES_PATH, {"country_code": country, "page_size": 5})
    if not c.reachable:
        return c
    if status != 200:
        c.problems.append(f"HTTP {status}: {_said(obj, 'error')}")
        return c
    c.problems += fields(obj, ATLAS_LISTING, "probes")
    probes = obj.get("results") if isinstance(obj, dict) else None
    if not isinstance(probes, list) or not probes:
        c.note = c.note or "no probe listed: results not checked"
        return c
    for p in probes[:3]:
        c.problems += fields(p, ATLAS_PROBE, "probes.results[]")
        if isinstance(p, dict) and isinstance(p.get("status"), dict):
            c.problems += fields(p["status"], ATLAS_STATUS, "probes.results[].status")
    if c.problems or not isinstance(probes[0].get("id"), int):
        return c
    since, until = _yesterday()
    req = atlas.results_request(_Country(country), 1001, since, since + pd.Timedelta(hours=1),
                                [probes[0]["id"]])
    status, res = client.get(url + req.path, req.params)
    if status != 200:
        c.problems.append(f"results: HTTP {status}: {_said(res, 'error')}")
        return c
    if not isinstance(res, list):
        c.problems.append(f"results: expected a list, got {_kind(res)}")
        return c
    if not res:
        c.note = "no ping result in that hour to check the result fields on"
    for r in res[:3]:
        c.problems += fields(r, ATLAS_PING, "results[]")
    return c


@dataclass
class _Country:
    """What the Atlas request builders read of a case."""
    country: str


def _said(obj, key: str | None = None) -> str:
    if isinstance(obj, dict):
        for k in ([key] if key else []) + ["error", "msg", "detail", "message"]:
            if obj.get(k):
                v = obj[k]
                return str(v.get("detail", v) if isinstance(v, dict) else v)[:200]
        return "an object with keys " + ", ".join(sorted(map(str, obj))[:8])
    return str(obj)[:120].strip() or "empty body"


CHECKS = {"ioda": check_ioda, "ooni": check_ooni, "atlas": check_atlas}


def run(country: str = "KZ", base_urls: dict | None = None, sources=None, session=None,
        timeout: float = 30.0) -> list[Check]:
    session = session or requests.Session()
    out = []
    for name in sources or list(CHECKS):
        url = base_url(name, (base_urls or {}).get(name))
        try:
            out.append(CHECKS[name](url, country.upper(), session, timeout))
        except Exception as exc:       # a shape so far off that a check broke: say it, go on
            out.append(Check(name, url, reachable=True, latency=0.0,
                             problems=[f"unreadable answer ({type(exc).__name__}: {exc})"]))
    return out


def exit_status(checks: list[Check]) -> int:
    good = sum(c.ok for c in checks)
    return EXIT_ALL if checks and good == len(checks) else EXIT_SOME if good else EXIT_NONE
