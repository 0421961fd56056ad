"""One module per upstream (``ioda``, ``ooni``, ``atlas``, ``radar``; see ``registry``).

Each source module offers:

``requests(case)``
    a generator that describes, without doing any I/O, every request the source
    makes for a case: it yields a ``Request`` and receives its ``Answer``
    (``answer = yield req``), so it can decide what to ask next from what came
    back (IODA's region lookup gives the region codes, an Atlas listing page its
    ``next``, a short Radar or IODA page ends the paging). It may yield
    ``Expect(n)`` once it knows that ``n`` requests follow (progress bars only),
    and returns a list of notes for the run's summary (a ``Gap`` marks data the
    upstream did not deliver). A failed request is raised at its ``yield``
    (``generator.throw``): a source that can do without the answer catches it.
    One driver answers every source: ``shutdown.collect.fetch_source`` from the
    network through the Fetcher (cache, validation, pace, progress),
    ``shutdown.simulation.run`` from the simulator, ``from_cache`` (normalizing)
    and ``cached`` (strict: a missing or invalid entry is an error) from the raw cache. Normalizing answers a request the cache
    lacks with a *missing* answer (``answer.missing``): a generator that reads that
    answer goes on without it where it can (the next chunk) -- reading it
    (``json()``) raises ``NotCached``, which ends the walk (a listing's next page).
``plan(case) -> list[Request]``
    the requests known before any answer (counts for progress bars, tests).
``normalize(case, cache) -> pandas.DataFrame``
    the tidy table of ``shutdown.schema`` from the raw responses its ``requests``
    walk finds in the cache (``from_cache``; never the network).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Request:
    source: str
    path: str                      # API path appended to the base URL, e.g. "/signals/raw/country/KZ"
    params: dict = field(default_factory=dict, hash=False)
    entity_type: str = ""          # what the request is about, for progress and normalizing
    entity_code: str = ""
    label: str = ""                # e.g. "ping-slash24 2022-01-01..2022-01-08"
    # How an answer is judged before it is cached (see http.Fetcher.get_json):
    # validate(obj) -> None or what is wrong; explain(obj) -> the upstream's own
    # words in an HTTP 4xx JSON body; provisional(obj) -> why a usable answer may
    # not be final (cached marked so, asked again next run).
    validate: Callable | None = field(default=None, compare=False, repr=False)
    explain: Callable | None = field(default=None, compare=False, repr=False)
    provisional: Callable | None = field(default=None, compare=False, repr=False)
    # parse(body bytes) -> the answer, for a body that is not JSON (Tor Metrics' CSV); the
    # generator then reads ``answer.body`` from the cache and the simulator, never json().
    parse: Callable | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Expect:
    """Yielded by ``requests(case)`` when it knows how many requests still follow."""
    more: int


class Answer:
    """What a driver sends back for a Request: the HTTP ``status`` and the parsed
    JSON (``json()``), parsed from ``body`` once and only when asked (the simulator's
    results bodies are large and their generator never reads them). From the cache
    it also carries the entry's provenance (``meta``); ``Answer.absent()`` is the
    answer to a request the cache lacks (``missing``; ``json()`` raises NotCached)."""

    __slots__ = ("status", "body", "meta", "_obj", "_parsed")

    def __init__(self, status: int | None = 200, body: bytes | None = None, obj=None, parsed: bool = False,
                 meta: dict | None = None):
        self.status, self.body, self.meta, self._obj, self._parsed = status, body, meta or {}, obj, parsed

    @classmethod
    def of(cls, obj, status: int = 200) -> "Answer":
        return cls(status, obj=obj, parsed=True)

    @classmethod
    def absent(cls, source: str = "?") -> "Answer":
        return cls(None, meta={"source": source})

    @property
    def missing(self) -> bool:
        return self.status is None

    def json(self):
        if self.missing:
            from shutdown.http import NotCached
            raise NotCached(self.meta.get("source", "?"), "", "not in the cache")
        if not self._parsed:
            self._obj, self._parsed = json.loads(self.body), True
        return self._obj


class Gap(str):
    """A note from ``collect`` about data the upstream did not deliver this run
    (e.g. IODA's silent backend failure): the source is then incomplete, and
    the next run asks again."""


def steps(requests, answer: Callable, expect: Callable | None = None):
    """Drive a ``requests(case)`` generator: ``answer(req) -> Answer`` for each
    Request it yields (an exception ``answer`` raises is raised inside the
    generator, at that ``yield``); ``expect(n)`` hears each ``Expect``. Yields
    ``(request, answer)`` as it goes; returns what the generator returns (a
    source's ``requests``: its notes)."""
    try:
        item = next(requests)
        while True:
            if isinstance(item, Expect):
                if expect is not None:
                    expect(item.more)
                item = requests.send(None)
                continue
            try:
                reply = answer(item)
            except Exception as exc:         # noqa: BLE001  (the generator decides)
                item = requests.throw(exc)
                continue
            yield item, reply
            item = requests.send(reply)
    except StopIteration as stop:
        return stop.value
    finally:
        requests.close()


def walk(requests, answer: Callable, expect: Callable | None = None) -> list:
    """``steps`` to the end; returns what the generator returns (a source's notes)."""
    gen = steps(requests, answer, expect)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def cached(cache, source: str) -> Callable:
    """An ``answer`` for ``walk`` from the raw cache only: a request not in the cache
    raises SourceError (a generator that can do without it catches it)."""
    from shutdown.http import SourceError

    def answer(req: Request) -> Answer:
        hit = cache.get(source, req.path, req.params)
        if hit is None:
            raise SourceError(source, req.path, f"{req.label or req.path}: not in the cache; "
                              "run `shutdown collect` first")
        try:
            obj = hit.json()
        except ValueError:
            raise SourceError(source, hit.meta.get("url", req.path), "cached answer is not JSON") from None
        problem = req.validate(obj) if req.validate else None
        if problem:
            raise SourceError(source, hit.meta.get("url", req.path), problem)
        return Answer.of(obj, int(hit.meta.get("status") or 200))
    return answer


def from_cache(requests, cache, source: str):
    """Normalizing's driver: ``(request, Answer)`` for each request of a ``requests``
    generator, in order, answered from the raw cache only (``answer.meta``: the
    entry's provenance). A request the cache lacks is answered ``Answer.absent()``
    (``missing``) and yielded too: the generator goes on without it where it can
    (a chunk an interrupted collect did not reach), or the walk ends where the
    generator needs it (``NotCached``: a listing's next page)."""
    def answer(req: Request) -> Answer:
        hit = cache.get(source, req.path, req.params)
        if hit is None:
            return Answer.absent(source)
        return Answer(int(hit.meta.get("status") or 200), hit.body, meta=hit.meta)
    from shutdown.http import NotCached
    try:
        yield from steps(requests, answer)
    except NotCached:
        return
