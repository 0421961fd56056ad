"""Fetch upstream JSON through the raw cache: retries, backoff, rate limit, provenance.

One ``Fetcher`` per source and run. A cached response is returned without a
request unless ``refresh``; a fresh one is validated by the caller's
``validate`` (e.g. IODA's ``error`` envelope on HTTP 200) *before* it is cached,
so an error never sits in the cache pretending to be data.
"""
from __future__ import annotations

import email.utils
import json
import sys
import time
from dataclasses import dataclass, field

import requests

from shutdown.store import RawCache

USER_AGENT = "shutdown/0.1 (+https://github.com/; Internet shutdown measurement)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SourceError(Exception):
    """A source failed for this run: names the source, the URL and what was wrong."""

    def __init__(self, source: str, url: str, problem: str):
        from shutdown.store import _strip_secrets_from_url
        url = _strip_secrets_from_url(url)      # messages end up in logs: no credentials
        self.source, self.url, self.problem = source, url, problem
        super().__init__(f"{source}: {url}: {problem}")


class SourceUnreachable(SourceError):
    """No connection at all (no network, DNS failure, refused)."""


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
                 connect_attempts: int = 3, quota_wait: float | None = None, say=None):
        self.cache, self.source = cache, source
        self.base_url = base_url.rstrip("/")
        self.refresh = refresh
        self.session = session or requests.Session()
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
                 provisional=None):
        """Parsed JSON for ``path?params``, from the cache or the network.

        ``validate(obj)`` returns None when the payload is usable, else a string
        saying what is wrong (raised as SourceError, nothing cached).
        ``explain(obj)``: the upstream's own message in an HTTP 4xx JSON body.
        ``provisional(obj)``: a reason when a usable answer may not be final (e.g.
        IODA's silent backend failure); it is cached marked so, and asked again
        next run instead of being read from the cache.
        """
        params = dict(params or {})
        if not self.refresh:
            hit = self.cache.get(self.source, path, params)
            if hit is not None and not hit.meta.get("provisional"):
                obj = hit.json()
                if not (provisional and provisional(obj)):   # also caches from before the mark
                    self.stats.cache_hits += 1
                    return obj
        url = self.url(path)
        resp = self._request(url, params, explain)
        try:
            obj = json.loads(resp.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SourceError(self.source, resp.url, f"malformed JSON body ({exc.msg if hasattr(exc, 'msg') else exc})") from None
        problem = validate(obj) if validate else None
        if problem:
            raise SourceError(self.source, resp.url, problem)
        reason = provisional(obj) if provisional else None
        self.cache.put(self.source, path, params, resp.content, url=resp.url, status=resp.status_code,
                       extra={"provisional": reason} if reason else None)
        return obj

    def _request(self, url: str, params: dict, explain=None) -> requests.Response:
        last = "no attempt made"
        for attempt in range(1, self.max_attempts + 1):
            wait = self.min_interval - (time.monotonic() - self._last_request)
            if wait > 0:
                self.sleep(wait)
            self._last_request = time.monotonic()
            self.stats.requests += 1
            try:
                resp = self.session.get(url, params=params, headers=self.headers, timeout=self.timeout)
            except requests.ConnectionError as exc:
                if attempt >= self.connect_attempts:
                    raise SourceUnreachable(self.source, url, f"unreachable ({_root_cause(exc)})") from None
                last = f"connection failed ({_root_cause(exc)})"
                self._pause(attempt, None)
                continue
            except requests.Timeout:
                last = f"timed out after {self.timeout:g}s"
                if attempt == self.max_attempts:
                    break
                self._pause(attempt, None)
                continue
            if resp.status_code in RETRY_STATUSES:
                last = f"HTTP {resp.status_code}"
                if attempt == self.max_attempts:
                    break
                self._pause(attempt, resp.headers.get("Retry-After"), resp.status_code)
                continue
            if resp.status_code >= 400:
                raise SourceError(self.source, resp.url, f"HTTP {resp.status_code}: {_excerpt(resp, explain)}")
            return resp
        raise SourceError(self.source, url, f"gave up after {self.max_attempts} attempts: {last}")

    def _pause(self, attempt: int, retry_after: str | None, status: int | None = None) -> None:
        self.stats.retries += 1
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        if retry_after:
            delay = min(self.max_backoff, max(delay, _retry_after_seconds(retry_after)))
        elif status == 429 and self.quota_wait:
            delay = max(delay, self.quota_wait)
            self.say(f"{self.source}: HTTP 429 without Retry-After (quota used up); waiting "
                     f"{delay:g} s before attempt {attempt + 1} of {self.max_attempts}")
        self.sleep(delay)


def _retry_after_seconds(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return 0.0


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
