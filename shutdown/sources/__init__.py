"""One module per upstream: ``ioda``, ``ooni``, ``atlas``.

Each module offers the same three functions, so ``collect``, ``simulate`` and
the tests drive them alike:

``plan(case) -> list[Request]``
    every request the source makes for a case (path + params, no base URL):
    the collector fetches these; the simulator renders a payload for each.
``collect(case, fetcher, progress=None) -> None``
    fetch what ``plan`` lists (and any follow-up pages) through the fetcher,
    which caches raw responses.
``normalize(case, cache) -> pandas.DataFrame``
    read the raw responses back from the cache (never the network) and return
    the tidy table of ``shutdown.schema``.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    source: str
    path: str                      # API path appended to the base URL, e.g. "/signals/raw/country/KZ"
    params: dict = field(default_factory=dict, hash=False)
    entity_type: str = ""          # what the request is about, for progress and normalizing
    entity_code: str = ""
    label: str = ""                # e.g. "ping-slash24 2022-01-01..2022-01-08"


class Gap(str):
    """A note from ``collect`` about data the upstream did not deliver this run
    (e.g. IODA's silent backend failure): the source is then incomplete, and
    the next run asks again."""
