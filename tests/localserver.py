"""A local HTTP(S) server that answers like IODA v2 and OONI v1 (and, replaying a
cache, RIPE Atlas v2), for end-to-end tests, ``shutdown doctor`` tests and the
collect benchmark (no network).

``LocalServer(tls=True)`` serves HTTPS with a self-signed certificate made at
start for 127.0.0.1 (openssl CLI, else the ``cryptography`` package);
``srv.ca_bundle`` is the file to trust (``REQUESTS_CA_BUNDLE``).
``LocalServer(fault=...)`` plays a hostile or broken upstream (``FAULTS``: credentials
echoed in a 403, cross-host redirect, trickled (from the start or after some answers),
dripped (slow but flowing), slow or huge bodies, a huge
Retry-After, endless pagination, garbage values) on top of the normal answers.
``LocalServer(replay=cache)`` answers every request found in a RawCache (e.g. a
simulated one) with the cached body, as that upstream would: IODA under
``/v2``, OONI under ``/api/v1``, RIPE Atlas under ``/api/v2``.
``LocalServer(ooni="fastapi"|"legacy")`` picks which OONI service it plays;
``ioda_silent_failure`` is a predicate on (path, params) for requests answered
with IODA's silent backend failure.

Shapes follow the upstreams' code as ../shared/docs/upstreams.md cites it (and
tests/fixtures/SOURCES.md lists per fixture); values are deterministic
functions of the request, so tests can assert them:

* IODA signals (``SignalsController::lookup``, ``TimeSeriesNormalizer``): one
  series per request, gtr one per product in ``sourceParams`` (``WEB_SEARCH``
  only without it; country only), ``from`` = the requested ``from`` rounded
  down to the native step (bgp 300 s, ping-slash24 600 s, merit-nt 300 s, gtr
  1800 s), value ``i`` = ``BASE[datasource] + i % 7``; ``geo.*`` fqids read
  ``geo.provider``. A silent failure is HTTP 200, ``error: null``, ``data: []``.
* IODA alerts: ``ALERTS_PER_ENTITY`` alerts per entity, served in pages of ``limit``.
* IODA events (codf): one closed event and one still open at ``until``
  (clipped there, ``overlaps_window: true``).
* IODA region lookup (``/entities/query``): ``KZ_REGIONS`` for ``relatedTo=country/KZ``.
* OONI aggregation: a row per hour and network (``probe_asn`` axis) except every
  5th hour (absent = zero); per row measurement_count = 10: ok 6 / anomaly 2 /
  confirmed 1 / failure 1. FastAPI: ``since``/``until`` are dates (422 pydantic
  body otherwise), errors ``{"msg"}``, ``X-RateLimit-Remaining``; legacy: any
  datetime, errors ``{"error"}``.
"""
from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd

NATIVE_STEP = {"bgp": 300, "ping-slash24": 600, "merit-nt": 300, "gtr": 1800}
BASE = {"bgp": 1000, "ping-slash24": 500, "merit-nt": 2000, "gtr": 100}
ALERTS_PER_ENTITY = 3
COPYRIGHT = "This data is Copyright (c) 2021-2025 Georgia Tech Research Corporation. All Rights Reserved."


def ioda_envelope(type_, params, data, error=None):
    return {"type": type_, "metadata": {"requestTime": "2026-01-01T00:00:00+00:00",
                                        "responseTime": "2026-01-01T00:00:01+00:00"},
            "requestParameters": params, "error": error, "perf": None if error else [],
            "data": None if error else data, "copyright": COPYRIGHT}


def ioda_series(etype, code, ds, frm, until, subtype=""):
    step = NATIVE_STEP[ds]
    frm = frm // step * step                   # SignalsService::roundDownFromTs
    n = -(-(until - frm) // step)              # the last bin may reach past until
    fqid = {"country": f"geo.provider.AS.{code}", "region": f"geo.provider.AS.KZ.{code}"}.get(etype, f"asn.{code}")
    return {"entityType": etype, "entityCode": code, "entityName": code, "entityFqid": fqid,
            "datasource": ds, "subtype": subtype, "from": frm, "until": frm + n * step, "step": step,
            "nativeStep": step, "values": [BASE[ds] + i % 7 for i in range(n)]}


def gtr_products(q) -> list[str]:
    """InfluxService: without ``sourceParams`` only WEB_SEARCH; SEARCH/MAIL are aliases."""
    alias = {"SEARCH": "WEB_SEARCH", "MAIL": "GMAIL"}
    given = [p.strip().upper() for p in (q.get("sourceParams") or "").split(",") if p.strip()]
    return [alias.get(p, p) for p in given] or ["WEB_SEARCH"]


def ioda_signals(etype, code, q):
    frm, until, ds = int(q["from"]), int(q["until"]), q["datasource"]
    params = {"from": frm, "until": until, "datasource": ds, "sourceParams": q.get("sourceParams"),
              "maxPoints": None}
    if ds == "gtr":
        series = [ioda_series(etype, code, ds, frm, until, p) for p in gtr_products(q)] if etype == "country" else []
    else:
        series = [ioda_series(etype, code, ds, frm, until)]
    return ioda_envelope("signals", params, [series])


def ioda_silent_failure(q):
    """SignalsController::lookup on a BackendException: setError, then setData([]) clears it."""
    return ioda_envelope("signals", q, [])


def ioda_alerts(q):
    limit, page = int(q.get("limit", 500)), int(q.get("page", 0))
    frm = int(q["from"])
    allrows = [{"datasource": "bgp", "entity": {"code": q["entityCode"], "name": q["entityCode"],
                                               "type": q["entityType"], "subnames": [], "attrs": {}},
                "time": frm + 3600 * (i + 1), "level": "critical", "condition": "< 0.99",
                "value": 900, "historyValue": 1000, "method": "median"}
               for i in range(ALERTS_PER_ENTITY)]
    return ioda_envelope("outages.alerts", q, allrows[page * limit:(page + 1) * limit])


def ioda_events(q):
    frm, until = int(q["from"]), int(q["until"])
    loc = f"{q['entityType']}/{q['entityCode']}"
    base = {"location": loc, "uncertainty": None, "method": "median", "datasource": "bgp",
            "status": 0, "fraction": None, "score": 1234.5, "location_name": q["entityCode"]}
    return ioda_envelope("outages.events", q, [
        {**base, "start": frm + 7200, "duration": 5400, "overlaps_window": False},
        # still open at ``until``: OutagesEventsService closes it there and marks it
        {**base, "start": until - 3600, "duration": 3600, "overlaps_window": True}])


# IODA's KZ region names follow the Natural Earth admin-1 set behind ``attrs.ne_region_id``
# (CAIDA/ioda-geo-polygons, ne_10m_admin_1 v3.0.0: 2084 "Almaty" is the oblast, 2088
# "Almaty City"). IODA's own codes (NetAcuity ids) for KZ are not public: the codes here
# are placeholders, outside the ids seen live (4107 is Izmir, TR).
KZ_REGIONS = [("990084", "Almaty", "2084"), ("990088", "Almaty City", "2088"), ("990089", "Astana", "2089")]


def ioda_entities(q):
    data = []
    if q.get("entityType") == "region" and q.get("relatedTo") == "country/KZ":
        data = [{"code": c, "name": n, "type": "region", "subnames": [],
                 "attrs": {"fqid": f"geo.netacuity.AS.KZ.{c}", "country_code": "KZ",
                           "country_name": "Kazakhstan", "ne_region_id": ne}} for c, n, ne in KZ_REGIONS]
    params = {"relatedTo": q.get("relatedTo"), "search": q.get("search"), "limit": None, "page": None,
              "entityType": q.get("entityType"), "entityCode": q.get("entityCode")}
    return ioda_envelope("entities.lookup", params, data)


# -- OONI ------------------------------------------------------------------------------
OONI_ASNS = (9198, 21299, 29355)         # the networks every fake answer has rows for
_GRAINS = ((7, ("hour", "day", "auto")), (30, ("day", "week", "auto")),
           (365, ("day", "week", "month", "auto")), (9999999, ("day", "week", "month", "year", "auto")))


def _pydantic_date(name, value):
    """A pydantic v2 lax ``date`` check: (date, None) or (None, the 422 error item)."""
    try:
        t = pd.Timestamp(value)
    except ValueError:
        return None, {"type": "date_from_datetime_parsing", "loc": ["query", name],
                      "msg": "Input should be a valid date or datetime, invalid character in year",
                      "input": value, "url": "https://errors.pydantic.dev/2.14/v/date_from_datetime_parsing"}
    if t != t.normalize():
        return None, {"type": "date_from_datetime_inexact", "loc": ["query", name],
                      "msg": "Datetimes provided to dates should have zero time - e.g. be exact dates",
                      "input": value, "url": "https://errors.pydantic.dev/2.14/v/date_from_datetime_inexact"}
    return t.tz_localize(None) if t.tzinfo else t, None


def ooni_aggregation(q, flavour="fastapi"):
    """(status, body) of ``GET /api/v1/aggregation`` as ``flavour`` answers it."""
    key = "msg" if flavour == "fastapi" else "error"
    if flavour == "fastapi":
        bad, dates = [], {}
        for name in ("since", "until"):
            if q.get(name):
                dates[name], err = _pydantic_date(name, q[name])
                if err:
                    bad.append(err)
        if bad:
            return 422, {"detail": bad}
        since, until = dates.get("since"), dates.get("until")
    else:
        since = pd.Timestamp(q["since"]) if q.get("since") else None
        until = pd.Timestamp(q["until"]) if q.get("until") else None
    if q.get("axis_x") and q.get("axis_x") == q.get("axis_y"):
        return 200, {key: "Axis X and Y cannot be the same", "v": 0}
    if since is None or until is None or until <= since:
        return 400, {key: "Invalid since and until values", "v": 0}
    grain = q.get("time_grain", "auto")
    for days, allowed in _GRAINS:
        if until - since <= pd.Timedelta(days=days):
            if grain not in allowed:
                return 400, {key: f"Choose time_grain between {', '.join(allowed)} for the given time range",
                             "v": 0}
            break
    hours = pd.date_range(since, until, freq="h", inclusive="left")
    asns = list(OONI_ASNS) if q.get("axis_y") == "probe_asn" else [None]
    if q.get("probe_asn"):
        want = {int(a.upper().removeprefix("AS")) for a in q["probe_asn"].split(",")}
        asns = [a for a in asns if a is None or a in want]
    tests = q["test_name"].split(",") if q.get("axis_y") == "test_name" and q.get("test_name") else [None]
    result = []
    for i, h in enumerate(hours):
        if i % 5 == 4:          # absent bin: no measurement that hour
            continue
        for a in asns:
            for t in tests:
                row = {"anomaly_count": 2, "confirmed_count": 1, "failure_count": 1, "ok_count": 6,
                       "measurement_count": 10, "measurement_start_day": h.strftime("%Y-%m-%dT%H:%M:%SZ")}
                if a is not None:
                    row["probe_asn"] = a
                if t:
                    row["test_name"] = t
                result.append(row)
    return 200, {"v": 0, "dimension_count": 2 if q.get("axis_y") else 1,
                 "db_stats": {"row_count": 1, "bytes": 1, "total_row_count": 1, "elapsed_seconds": 0.01},
                 "result": result}


# -- RIPE Atlas (without a replayed cache): the fixtures, whose sources tests/fixtures/SOURCES.md names
ATLAS_FIXTURES = Path(__file__).parent / "fixtures" / "atlas"


def atlas_probes(q):
    page = json.loads((ATLAS_FIXTURES / "probes_kz_page1.json").read_text())
    rows = [p for p in page["results"] if p.get("country_code") == q.get("country_code", "KZ")]
    size = int(q.get("page_size", 500))
    return {"count": len(rows), "next": None, "previous": None, "results": rows[:size]}


def atlas_results(msm, q):
    name = {"1001": "results_1001_ping.json", "5001": "results_5001_traceroute.json",
            "7000": "results_7000_connection.json"}.get(msm)
    if name is None:
        return 404, {"error": {"status": 404, "code": 104, "detail": "Not found.", "title": "Not Found"}}
    ids = {int(i) for i in q["probe_ids"].split(",")} if q.get("probe_ids") else None
    rows = json.loads((ATLAS_FIXTURES / name).read_text())
    return 200, [r for r in rows if ids is None or r["prb_id"] in ids]


# -- fault modes: a hostile or broken upstream (tests of shutdown.http and the collectors) --
# Each takes (handler, path, query) and returns True when it answered; the normal
# answers above are untouched. Choose with LocalServer(fault="name", fault_arg=...).
def _fault_echo_403(h, path, q):
    """403 whose body echoes the request's credentials (header and query), as a careless
    upstream error page does."""
    body = {"error": {"detail": f"Invalid key: {h.headers.get('Authorization')} "
                                f"{h.headers.get('X-Api-Key')} {q}"}}
    h._send(403, json.dumps(body).encode())
    return True


def _fault_redirect(h, path, q):
    """302 to ``fault_arg`` (another server's base URL) + the same path and query."""
    h.send_response(302)
    h.send_header("Location", h.server.fault_arg + h.path)
    h.send_header("Content-Length", "0")
    h.end_headers()
    return True


def _fault_trickle(h, path, q, pace=None):
    """Headers at once, then the body one byte at a time, slowly (never completes within a
    test's deadline; stops when the client hangs up). ``fault_sent``: body bytes sent per
    request."""
    import time
    pace = pace if pace is not None else h.server.fault_arg
    sent = h.server.fault_sent
    sent.append(0)
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    try:
        for _ in range(100000):
            h.wfile.write(b" ")
            h.wfile.flush()
            sent[-1] += 1
            time.sleep(pace or 0.05)
    except OSError:
        pass
    return True


def _fault_trickle_after(h, path, q):
    """``fault_arg = (n, pace)``: the first ``n`` requests answered normally, every later
    one trickled as ``trickle`` does (an upstream that starts stalling half way)."""
    n, pace = h.server.fault_arg
    if len(h.server.requests) <= n:
        return False
    return _fault_trickle(h, path, q, pace)


def _fault_drip(h, path, q):
    """``fault_arg = (size, pace)``: a complete, valid JSON body of ``size`` bytes sent one
    byte every ``pace`` seconds (slow, but flowing: not a stall)."""
    import time
    size, pace = h.server.fault_arg
    body = b"[" + b" " * (size - 2) + b"]"
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(size))
    h.end_headers()
    try:
        for b in body:
            h.wfile.write(bytes([b]))
            h.wfile.flush()
            time.sleep(pace)
    except OSError:
        pass
    return True


def _fault_trickle_headers(h, path, q):
    """The status line, then 400 bytes of headers one at a time, slowly (20 s in all at the
    default pace), then a normal answer: only a total deadline stops it earlier."""
    import time
    sent = h.server.fault_sent
    sent.append(0)                      # header bytes sent on this connection
    try:
        h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for b in b"X-Padding: " + b"a" * 389 + b"\r\n":
            h.wfile.write(bytes([b]))
            h.wfile.flush()
            sent[-1] += 1
            time.sleep(h.server.fault_arg or 0.05)
        body = b"{}"
        h.wfile.write(b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n" + body)
    except OSError:
        pass
    h.close_connection = True
    return True


def _fault_slow(h, path, q):
    """Nothing for ``fault_arg`` seconds, then a normal answer (slower than a short timeout)."""
    import time
    time.sleep(h.server.fault_arg or 2.0)
    return False


def _fault_huge(h, path, q):
    """A body of ``fault_arg`` bytes without a Content-Length (the cap must count bytes)."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Connection", "close")
    h.end_headers()
    try:
        left = int(h.server.fault_arg)
        block = b"[" + b"0," * 32767 + b"0]"
        while left > 0:
            h.wfile.write(block[:left])
            left -= len(block)
    except OSError:
        pass
    h.close_connection = True
    return True


def _fault_retry_after(h, path, q):
    """429 asking to come back in ``fault_arg`` (a Retry-After value)."""
    h.send_response(429)
    h.send_header("Retry-After", str(h.server.fault_arg))
    h.send_header("Content-Length", "0")
    h.end_headers()
    return True


def _fault_endless_pages(h, path, q):
    """A RIPE Atlas probe listing whose ``next`` always links a new page."""
    if not path.startswith("/api/v2/probes"):
        return False
    page = int(q.get("page", 1))
    nxt = f"http://127.0.0.1:{h.server.server_address[1]}/api/v2/probes/?country_code=" \
          f"{q.get('country_code', 'KZ')}&page={page + 1}&page_size={q.get('page_size', 500)}"
    h._send(200, json.dumps({"count": 10 ** 9, "next": nxt, "previous": None,
                             "results": [{"id": page, "asn_v4": 9198, "country_code": "KZ"}]}).encode())
    return True


def _fault_garbage(h, path, q):
    """The normal IODA/OONI answer with bad values: text or a negative number where a
    count goes (a nested object would be IODA's per-frame format, refused per series
    on purpose: tests/test_ioda.py); an IODA alert
    without a readable time, an event without a readable duration and score."""
    prefix = h.server.ioda_prefix
    if path.startswith(prefix + "/signals/raw/"):
        etype, _, code = path[len(prefix + "/signals/raw/"):].partition("/")
        body = ioda_signals(etype, code, q)
        for series in body["data"][0]:
            series["values"][3] = "n/a"
            series["values"][5] = -3
        h._send(200, json.dumps(body).encode())
        return True
    if path == prefix + "/outages/alerts":
        body = ioda_alerts(q)
        if body["data"]:
            body["data"][0]["time"] = "soon"
        h._send(200, json.dumps(body).encode())
        return True
    if path == prefix + "/outages/events":
        body = ioda_events(q)
        body["data"][0]["duration"] = "long"
        body["data"][0]["score"] = {"x": 1}
        h._send(200, json.dumps(body).encode())
        return True
    if path == "/api/v1/aggregation":
        status, body = ooni_aggregation(q, h.server.ooni)
        mid = len(body["result"]) // 2     # inside the case window (the ends may be trimmed)
        body["result"][mid]["measurement_count"] = "lots"
        body["result"][mid + 1]["ok_count"] = -5
        body["result"][mid + 2]["measurement_start_day"] = "yesterday"
        h._send(200, json.dumps(body).encode())
        return True
    return False


def _fault_out_of_window(h, path, q):
    """IODA signals whose series all lie a year before the asked window (an upstream that
    ignores ``from``/``until``): well-formed, but nothing the case asked for."""
    prefix = h.server.ioda_prefix
    if not path.startswith(prefix + "/signals/raw/"):
        return False
    etype, _, code = path[len(prefix + "/signals/raw/"):].partition("/")
    body = ioda_signals(etype, code, q)
    for series in body["data"][0]:
        series["from"] -= 365 * 86400
        series["until"] -= 365 * 86400
    h._send(200, json.dumps(body).encode())
    return True


FAULTS = {"out_of_window": _fault_out_of_window, "echo_403": _fault_echo_403, "redirect": _fault_redirect, "trickle": _fault_trickle,
          "trickle_after": _fault_trickle_after, "drip": _fault_drip,
          "trickle_headers": _fault_trickle_headers,
          "slow": _fault_slow, "huge": _fault_huge, "retry_after": _fault_retry_after,
          "endless_pages": _fault_endless_pages, "garbage": _fault_garbage}


class _Handler(BaseHTTPRequestHandler):
    server_version = "localfake/1"

    def log_message(self, *args):      # keep test output clean
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        self.server.requests.append(self.path)
        self.server.headers_seen.append(dict(self.headers))
        if self.server.fault is not None and FAULTS[self.server.fault](self, path, q):
            return
        prefix = self.server.ioda_prefix
        status, body, headers = 404, {"error": f"no route {path}"}, {}
        if self.server.replay is not None:
            raw = self._replayed(path, {k: v[-1] for k, v in
                                        parse_qs(parts.query, keep_blank_values=True).items()})
            if raw is not None:
                return self._send(200, raw)
        if path == prefix + "/entities/query":
            status, body = 200, ioda_entities(q)
        elif path.startswith(prefix + "/signals/raw/"):
            etype, _, code = path[len(prefix + "/signals/raw/"):].partition("/")
            silent = self.server.ioda_silent_failure
            status, body = 200, (ioda_silent_failure(q) if silent and silent(path[len(prefix):], q)
                                 else ioda_signals(etype, code, q))
        elif path == prefix + "/outages/alerts":
            status, body = 200, ioda_alerts(q)
        elif path == prefix + "/outages/events":
            status, body = 200, ioda_events(q)
        elif path.rstrip("/") == "/api/v2/probes":
            status, body = 200, atlas_probes(q)
        elif path.startswith("/api/v2/measurements/") and path.rstrip("/").endswith("/results"):
            status, body = atlas_results(path.split("/")[4], q)
        elif path == "/api/v1/aggregation":
            status, body = ooni_aggregation(q, self.server.ooni)
            if self.server.ooni == "fastapi":
                headers["X-RateLimit-Remaining"] = "3990"
        if self.server.mutate is not None:
            body = self.server.mutate(path, body)
        self._send(status, json.dumps(body).encode(), headers)

    def _replayed(self, path: str, q: dict) -> bytes | None:
        """The cached body for this request, looked up as the collector stored it."""
        from shutdown.sources import registry
        prefix = self.server.ioda_prefix         # a base URL with a path (IODA's /v2)
        paths = [path] + ([path[len(prefix):]] if path.startswith(prefix + "/") else [])
        for source in registry.names():          # whichever source stored this request
            for p in paths:
                hit = self.server.replay.get(source, p, q)
                if hit is not None:
                    return hit.body
        return None

    def _send(self, status: int, data: bytes, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def self_signed_cert(directory) -> tuple[Path, Path]:
    """(certificate, key) PEM files for 127.0.0.1, valid for a day.

    The openssl command line when present, else the ``cryptography`` package;
    RuntimeError when neither is available (tests skip then)."""
    d = Path(directory)
    cert, key = d / "cert.pem", d / "key.pem"
    if shutil.which("openssl"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
                        "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        return cert, key
    try:
        import datetime as dt
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        raise RuntimeError("no openssl command and no cryptography package: cannot make a "
                           "test certificate") from None
    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
         .not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                        critical=False)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .sign(k, hashes.SHA256()))
    key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    return cert, key


class LocalServer:
    """``with LocalServer() as srv: srv.url`` -- IODA under ``srv.url + "/v2"``, OONI at ``srv.url``.

    ``tls=True``: HTTPS (trust ``srv.ca_bundle``); ``replay``: a RawCache (or its
    directory) whose cached bodies are served for the requests they answer.
    """

    def __init__(self, ioda_prefix: str = "/v2", tls: bool = False, replay=None, ooni: str = "fastapi",
                 ioda_silent_failure=None, mutate=None, fault: str | None = None, fault_arg=None):
        if ooni not in ("fastapi", "legacy"):
            raise ValueError(f"ooni must be 'fastapi' or 'legacy', got {ooni!r}")
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.requests = []
        self.httpd.headers_seen = []               # request headers, in order
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        self.httpd.fault, self.httpd.fault_arg = fault, fault_arg
        self.httpd.fault_sent = []                 # what a fault managed to send, per request
        self.httpd.ioda_prefix = ioda_prefix
        self.httpd.ooni = ooni
        self.httpd.ioda_silent_failure = ioda_silent_failure
        self.httpd.mutate = mutate          # (path, body) -> body: a changed upstream, for doctor tests
        if replay is not None and not hasattr(replay, "get"):
            from shutdown.store import RawCache
            replay = RawCache(replay)
        self.httpd.replay = replay
        self.tls = tls
        self.ca_bundle = None
        self._tmp = None
        if tls:
            self._tmp = tempfile.TemporaryDirectory(prefix="localserver-tls-")
            cert, key = self_signed_cert(self._tmp.name)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.ca_bundle = str(cert)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def requests(self) -> list:
        return self.httpd.requests

    @property
    def headers_seen(self) -> list:
        return self.httpd.headers_seen

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()


SMALL_CASE = """\
name = "kz-small"
title = "test case"
country = "KZ"
timezone = "Asia/Almaty"
start = 2022-01-05
end = 2022-01-05
baseline_days = 1
timeline = "none.toml"
sources = {sources}

[[networks]]
asn = 9198
name = "Kazakhtelecom"

[[regions]]
name = "Almaty"
{region_code}
"""


def small_case(tmp_path, sources=("ioda", "ooni"), ioda_region: str | None = "1234"):
    """A one-day case (fetch window 2022-01-03T18:00Z..2022-01-05T18:00Z) for fast tests."""
    from shutdown.case import load_case
    p = tmp_path / "kz-small.toml"
    p.write_text(SMALL_CASE.format(sources=json.dumps(list(sources)),
                                   region_code=f'ioda = "{ioda_region}"' if ioda_region else ""))
    return load_case(p)


def responses_callbacks(rsps, ioda_url="https://ioda.test/v2", ooni_url="https://ooni.test", ooni="fastapi"):
    """Register ``responses`` callbacks answering every IODA/OONI request like the local server."""
    import re

    def reply(fn):
        def cb(request):
            q = {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}
            return 200, {"Content-Type": "application/json"}, json.dumps(fn(request, q))
        return cb

    def signals(request, q):
        etype, _, code = urlsplit(request.url).path.split("/signals/raw/")[1].partition("/")
        return ioda_signals(etype, code, q)

    rsps.add_callback("GET", re.compile(re.escape(ioda_url) + r"/signals/raw/.*"), callback=reply(signals))
    rsps.add_callback("GET", ioda_url + "/outages/alerts", callback=reply(lambda r, q: ioda_alerts(q)))
    rsps.add_callback("GET", ioda_url + "/outages/events", callback=reply(lambda r, q: ioda_events(q)))
    rsps.add_callback("GET", ioda_url + "/entities/query", callback=reply(lambda r, q: ioda_entities(q)))

    def aggregation(request):
        q = {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}
        status, body = ooni_aggregation(q, ooni)
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    rsps.add_callback("GET", ooni_url + "/api/v1/aggregation", callback=aggregation)
