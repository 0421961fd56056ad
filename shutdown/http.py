"""Fetch upstream JSON through the raw cache: retries, backoff, rate limit, provenance.

One ``Fetcher`` per source and run. A cached response is returned without a
request unless ``refresh``; a fresh one is validated by the caller's
``validate`` (e.g. IODA's ``error`` envelope on HTTP 200) *before* it is cached,
so an error never sits in the cache pretending to be data.

Against a hostile or broken upstream:

* every request has a total ``deadline`` (connect, headers and the whole body),
  not only a per-read socket timeout, so a body trickled byte by byte ends;
* a body that arrives at less than ``stall_rate`` bytes/s over ``stall_window``
  seconds is a stalled upstream: that attempt is given up at once and retried
  (a retry like any other), instead of waiting for the deadline;
* ``budget()``, when given, is the seconds left of the source's time budget
  (``shutdown.budget``): no attempt starts, and no pause waits, past it, and an
  attempt's deadline is cut to it; when it is spent ``BudgetSpent`` stops the source;
* a body larger than ``max_bytes`` (after decompression) is refused;
* a ``Retry-After`` longer than ``max_retry_after`` is not waited for: the source
  stops with one line saying how long the upstream asked to wait;
* redirects are followed here, at most ``MAX_REDIRECTS``, and a redirect to
  another host carries no credential header (``requests`` drops
  ``Authorization`` only, not custom headers);
* every configured credential (header values, secret parameters, the password
  of a base URL) is replaced by ``[redacted]`` in every message (``redact``).
"""
from __future__ import annotations

import base64
import email.utils
import json
import math
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

import requests
import requests.adapters
import urllib3

from shutdown.store import SECRET_PARAMS, RawCache, strip_secrets_from_url

USER_AGENT = "shutdown/0.1 (+https://github.com/; Internet shutdown measurement)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
PLAIN_HEADERS = frozenset({"user-agent", "accept", "accept-encoding", "accept-language",
                           "content-type", "cache-control"})    # carry no credential
MAX_REDIRECTS = 5
MAX_BYTES = 512 * 1024 * 1024        # the largest real body (a day of Atlas results) is tens of MB
DEADLINE = 600.0                     # seconds for one request, body included
MAX_RETRY_AFTER = 300.0              # longer asked waits end the source for this run
MAX_PAGES = 100                      # runaway guard for a paginated listing whose 'next' never ends
# A stalled upstream: under STALL_RATE bytes/s of body over STALL_WINDOW s. The trickle that
# cost 50 minutes (issue 25) sent a few bytes/s; 1 kB/s is far above that and, we expect, far
# below any healthy answer; a body of under 30 kB completes at any pace.
STALL_WINDOW = 30.0
STALL_RATE = 1024.0

# Every credential this process was configured with: redacted from all messages.
_SECRETS: set[str] = set()


def register_secret(value) -> None:
    if isinstance(value, str) and len(value) >= 4:     # shorter would redact ordinary text
        _SECRETS.add(value)


def register_url_secrets(url: str) -> None:
    """A base URL's password (``https://user:password@host``) is a credential: requests
    sends it as Basic auth, so both forms are redacted (``doctor`` and ``collect`` alike)."""
    parts = urlsplit(str(url))
    if parts.password:
        register_secret(parts.password)
        register_secret(unquote(parts.password))
        register_secret(base64.b64encode(
            f"{unquote(parts.username or '')}:{unquote(parts.password)}".encode()).decode())


def redact(text: str) -> str:
    """``text`` with every registered credential replaced by ``[redacted]``."""
    text = str(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


class SourceError(Exception):
    """A source failed for this run: names the source, the URL and what was wrong."""

    def __init__(self, source: str, url: str, problem: str):
        # messages end up on screens and in logs: no credentials, no user info
        url, problem = redact(strip_secrets_from_url(url)), redact(problem)
        self.source, self.url, self.problem = source, url, problem
        super().__init__(f"{source}: {url}: {problem}")


class NotCached(SourceError):
    """Normalizing read the answer to a request the raw cache lacks (``sources.Answer.absent``)."""


class _BodyFailed(Exception):
    """The body could not be read in time or in size (``retry``: worth another attempt)."""

    def __init__(self, problem: str, retry: bool):
        super().__init__(problem)
        self.problem, self.retry = problem, retry


class SourceUnreachable(SourceError):
    """No connection at all (no network, DNS failure, refused)."""


class BudgetSpent(BaseException):
    """The source's time budget (or the run's) is spent: the source stops here.

    Not an ``Exception``: a source's ``requests`` generator catches failed requests
    it can do without (IODA's region lookup), and a spent budget is not one of them;
    ``sources.steps`` lets it pass to the driver (``collect``), which says how far
    the source got."""

    def __init__(self, source: str, url: str, problem: str):
        url, problem = redact(strip_secrets_from_url(url)), redact(problem)
        self.source, self.url, self.problem = source, url, problem
        super().__init__(f"{source}: {url}: {problem}")


@dataclass
class FetchStats:
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    rows: int = 0
    errors: list = field(default_factory=list)


class Fetcher:
    def __init__(self, cache: RawCache, source: str, base_url: str, *, refresh: bool = False,
                 session: requests.Session | None = None, headers: dict | None = None,
                 max_attempts: int = 5, backoff: float = 2.0, max_backoff: float = 60.0,
                 min_interval: float = 0.0, timeout: float = 60.0, sleep=time.sleep,
                 connect_attempts: int = 3, quota_wait: float | None = None, say=None,
                 deadline: float = DEADLINE, max_bytes: int = MAX_BYTES,
                 max_retry_after: float = MAX_RETRY_AFTER, stall_window: float = STALL_WINDOW,
                 stall_rate: float = STALL_RATE, budget=None):
        self.cache, self.source = cache, source
        self.base_url = base_url.rstrip("/")
        register_url_secrets(self.base_url)
        self.deadline, self.max_bytes, self.max_retry_after = deadline, max_bytes, max_retry_after
        self.stall_window, self.stall_rate = stall_window, stall_rate
        self.budget = budget        # () -> seconds left of the time budget, or None: no budget
        self.refresh = refresh
        if session is None:
            session = requests.Session()
            for prefix in ("http://", "https://"):
                session.mount(prefix, _WatchedAdapter())
        self.session = session
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self.min_interval, self.timeout, self.sleep = min_interval, timeout, sleep
        # A refused connection or an unknown host rarely heals within a minute: give up
        # sooner on those, so "no network" is said in seconds, not after the full backoff.
        self.connect_attempts = max(1, min(connect_attempts, max_attempts))
        # A 429 without Retry-After (OONI's quota) waits at least ``quota_wait`` s, said via ``say``.
        self.quota_wait = quota_wait
        self.say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.stats = FetchStats()
        self._last_request = 0.0

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def get_json(self, path: str, params: dict | None = None, validate=None, explain=None,
                 provisional=None, parse=None):
        """Parsed JSON for ``path?params``, from the cache or the network.

        ``validate(obj)`` returns None when the payload is usable, else a string
        saying what is wrong (raised as SourceError, nothing cached).
        ``explain(obj)``: the upstream's own message in an HTTP 4xx JSON body.
        ``provisional(obj)``: a reason when a usable answer may not be final (e.g.
        IODA's silent backend failure); it is cached marked so, and asked again
        next run instead of being read from the cache.
        ``parse(body bytes)``: how the body is read when it is not JSON (Tor Metrics'
        CSV); a ValueError it raises is a malformed body. The body is cached as it came.
        """
        params = dict(params or {})
        for k, v in params.items():
            if k.lower() in SECRET_PARAMS:
                register_secret(str(v))
        obj = self._cached(path, params, provisional, parse)
        if obj is not None:
            self.stats.cache_hits += 1
            return obj
        url = self.url(path)
        resp = self._request(url, params, explain)
        try:
            obj = (parse or json.loads)(resp.content)
        except ValueError as exc:       # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise SourceError(self.source, resp.url, f"malformed {'JSON ' if parse is None else ''}body ({exc.msg if hasattr(exc, 'msg') else exc})") from None
        problem = validate(obj) if validate else None
        if problem:
            raise SourceError(self.source, resp.url, problem)
        reason = provisional(obj) if provisional else None
        self.cache.put(self.source, path, params, resp.content, url=resp.url, status=resp.status_code,
                       extra={"provisional": reason} if reason else None)
        return obj

    def cached(self, path: str, params: dict | None = None, provisional=None, parse=None) -> bool:
        """Whether ``get_json`` would answer from the cache (no request)."""
        return self._cached(path, dict(params or {}), provisional, parse) is not None

    def _cached(self, path: str, params: dict, provisional=None, parse=None):
        """The cached answer ``get_json`` may return, else None (refresh, not cached,
        or provisional: marked so, or judged so by ``provisional``)."""
        if self.refresh:
            return None
        hit = self.cache.get(self.source, path, params)
        if hit is None or hit.meta.get("provisional"):
            return None
        obj = hit.json() if parse is None else parse(hit.body)
        if provisional and provisional(obj):        # also caches from before the mark
            return None
        return obj

    def _request(self, url: str, params: dict, explain=None) -> requests.Response:
        last = "no attempt made"
        for attempt in range(1, self.max_attempts + 1):
            wait = self.min_interval - (time.monotonic() - self._last_request)
            self._within_budget(max(wait, 0.0), url, "" if attempt == 1 else last)
            if wait > 0:
                self.sleep(wait)
            self._last_request = time.monotonic()
            self.stats.requests += 1
            try:
                resp = self._get(url, params)
            except _BodyFailed as exc:
                if not exc.retry:
                    raise SourceError(self.source, url, exc.problem) from None
                last = exc.problem
                if attempt == self.max_attempts:
                    break
                self._pause(attempt, None, url=url, last=last)
                continue
            except requests.ConnectionError as exc:
                if attempt >= self.connect_attempts:
                    raise SourceUnreachable(self.source, url, f"unreachable ({_root_cause(exc)})") from None
                last = f"connection failed ({_root_cause(exc)})"
                self._pause(attempt, None, url=url, last=last)
                continue
            except requests.Timeout:
                last = f"timed out after {self.timeout:g}s"
                if attempt == self.max_attempts:
                    break
                self._pause(attempt, None, url=url, last=last)
                continue
            if resp.status_code in RETRY_STATUSES:
                last = f"HTTP {resp.status_code}"
                if attempt == self.max_attempts:
                    break
                self._pause(attempt, resp.headers.get("Retry-After"), resp.status_code, resp.url,
                            last=last)
                continue
            if resp.status_code >= 400:
                raise SourceError(self.source, resp.url, f"HTTP {resp.status_code}: {_excerpt(resp, explain)}")
            return resp
        raise SourceError(self.source, url, f"gave up after {self.max_attempts} attempts: {last}")

    def _left(self) -> float:
        """Seconds left of the time budget (inf without one)."""
        return math.inf if self.budget is None else float(self.budget())

    def _within_budget(self, wait: float, url: str, last: str) -> None:
        """BudgetSpent unless an attempt can still start after waiting ``wait`` s."""
        left = self._left()
        if left <= wait:
            if wait > 0 and left > 0:
                last = f"{last + '; ' if last else ''}waiting {wait:g} s for the next attempt would pass it"
            raise BudgetSpent(self.source, url, last)

    def _register_credentials(self) -> None:
        """Every header that may carry a credential is redacted from messages (a source
        may add its key header after the Fetcher was made, so this runs per request)."""
        for k, v in self.headers.items():
            if k.lower() not in PLAIN_HEADERS:
                register_secret(str(v))
                register_secret(str(v).split()[-1] if str(v).split() else "")   # "Key <secret>"

    def _get(self, url: str, params: dict) -> requests.Response:
        """One request within the deadline (cut to what is left of the time budget): a
        watchdog cuts the connection in flight when it passes (headers trickled byte by
        byte block inside ``requests``, where no loop of ours can look at the clock)."""
        limit = min(self.deadline, max(0.0, self._left()))
        adapter = self.session.get_adapter(url)
        if not isinstance(adapter, _WatchedAdapter):      # a caller's session (e.g. mocked)
            return self._get_within(url, params, limit)
        fired = threading.Event()

        def cut():
            fired.set()
            adapter.cut()

        ends = time.monotonic() + limit
        timer = threading.Timer(limit, cut)
        timer.daemon = True
        timer.start()
        try:
            return self._get_within(url, params, limit)
        except (requests.RequestException, _BodyFailed):
            # the watchdog cut it, or a socket timeout (cut to the time left) beat it there
            if fired.is_set() or time.monotonic() >= ends:
                raise _BodyFailed(self._late(limit), True) from None
            raise
        finally:
            timer.cancel()

    def _late(self, limit: float, got: str = "") -> str:
        """What an attempt that passed its ``limit`` says."""
        if limit < self.deadline:
            return f"cut when the time budget ran out{got}"
        return f"no complete answer within the {self.deadline:g}s deadline{got}"

    def _get_within(self, url: str, params: dict, limit: float) -> requests.Response:
        """One request, redirects followed by hand (no credential header to another
        host), the body read within ``limit`` seconds and the size cap."""
        deadline = time.monotonic() + limit
        self._register_credentials()
        origin = _origin(url)
        headers, hops = dict(self.headers), 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _BodyFailed(self._late(limit), True)
            resp = self.session.get(url, params=params, headers=headers, stream=True,
                                    allow_redirects=False, timeout=min(self.timeout, remaining))
            if not resp.is_redirect:
                break
            resp.close()
            hops += 1
            if hops > MAX_REDIRECTS:
                raise _BodyFailed(f"more than {MAX_REDIRECTS} redirects", False)
            url, params = urljoin(resp.url, resp.headers["location"]), None
            if _origin(url) != origin:
                headers = {k: v for k, v in headers.items() if k.lower() in PLAIN_HEADERS}
        try:
            resp._content = self._read_body(resp, deadline, limit)
            resp._content_consumed = True
        finally:
            resp.close()
        return resp

    def _read_body(self, resp: requests.Response, deadline: float, limit: float) -> bytes:
        size = resp.headers.get("Content-Length", "")
        if size.isdigit() and int(size) > self.max_bytes:
            raise _BodyFailed(f"body of {int(size)} bytes is larger than the {self.max_bytes}-byte "
                              "cap", False)
        raw, chunks, n = resp.raw, [], 0
        read = getattr(raw, "read1", None) or raw.read    # read1: returns what has arrived
        since, at = time.monotonic(), 0         # the stall window: its start, bytes then
        try:
            while True:
                if time.monotonic() > deadline:
                    raise _BodyFailed(self._late(limit, f" ({n} bytes of the body received)"), True)
                chunk = read(65536, decode_content=True)
                if not chunk:
                    break
                n += len(chunk)
                now = time.monotonic()
                if self.stall_window and now - since >= self.stall_window:
                    if n - at < self.stall_rate * (now - since):
                        raise _BodyFailed(f"stalled: {n - at} bytes of the body in "
                                          f"{now - since:.3g}s, under {self.stall_rate:g} bytes/s "
                                          f"({n} bytes received)", True)
                    since, at = now, n
                if n > self.max_bytes:
                    raise _BodyFailed(f"body larger than the {self.max_bytes}-byte cap", False)
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError:
            raise _BodyFailed(f"timed out after {self.timeout:g}s while reading the body", True) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError, OSError) as exc:
            raise _BodyFailed(f"connection broken while reading the body ({type(exc).__name__})",
                              True) from None
        return b"".join(chunks)

    def _pause(self, attempt: int, retry_after: str | None, status: int | None = None,
               url: str = "", last: str = "") -> None:
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        if retry_after:
            asked = _retry_after_seconds(retry_after)
            if asked > self.max_retry_after:
                raise SourceError(self.source, url, f"the upstream asks to wait {asked:.0f}s before "
                                  f"retrying (Retry-After), more than the {self.max_retry_after:g}s "
                                  "this tool waits; rerun later: what was fetched is cached")
            delay = max(delay, asked)
        elif status == 429 and self.quota_wait:
            delay = max(delay, self.quota_wait)
        self._within_budget(delay, url, last)
        self.stats.retries += 1
        if status == 429 and self.quota_wait and not retry_after:
            self.say(f"{self.source}: HTTP 429 without Retry-After (quota used up); waiting "
                     f"{delay:g} s before attempt {attempt + 1} of {self.max_attempts}")
        self.sleep(delay)


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """An HTTPAdapter that knows the connection of the request in flight, so that
    ``cut()`` (from the deadline's watchdog thread) can shut its socket down."""

    def __init__(self, *args, **kwargs):
        self.in_flight = None
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        adapter = self

        def watched(conn_cls):
            class Watched(conn_cls):
                def request(self, *a, **kw):
                    adapter.in_flight = self
                    return super().request(*a, **kw)
            return Watched

        def pool(pool_cls):
            return type(pool_cls.__name__, (pool_cls,), {"ConnectionCls": watched(pool_cls.ConnectionCls)})

        pools = self.poolmanager.pool_classes_by_scheme
        self.poolmanager.pool_classes_by_scheme = {k: pool(v) for k, v in pools.items()}

    def cut(self) -> None:
        sock = getattr(self.in_flight, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _origin(url: str) -> tuple:
    p = urlsplit(url)
    return p.scheme, p.hostname, p.port


def _retry_after_seconds(value: str) -> float:
    """Seconds asked by a Retry-After header (delta seconds or an HTTP date); 0 when unreadable."""
    try:
        secs = float(value)
    except ValueError:
        try:
            secs = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError, IndexError):
            return 0.0
    return max(0.0, secs) if math.isfinite(secs) else (math.inf if secs > 0 else 0.0)


def _excerpt(resp: requests.Response, explain=None, n: int = 200) -> str:
    try:
        obj = resp.json()
        said = explain(obj) if explain else None
        if said:
            return str(said)[:n]
        if isinstance(obj, dict):
            for k in ("error", "detail", "message", "msg"):
                if obj.get(k):
                    return str(obj[k])[:n]
    except ValueError:
        pass
    return resp.text[:n].strip() or resp.reason or ""


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ or exc.__context__:
        exc = exc.__cause__ or exc.__context__
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")
