"""Documented shutdowns: every documenter's records read into one model, and matched.

    from shutdown import documented
    stop = documented.read("keepiton-stop-2016-2022.xlsx", country="KZ")
    ioda = documented.read("ioda-investigated-outages-2018-2022.csv")
    result = documented.match(stop, ioda, rule="windows")

``read`` takes a documenter's file (Access Now STOP xlsx or CSV, IODA's curated CSV), a
report timeline or case, or the name of a live documenter (``LIVE``: read through the raw
cache like any collection). Records are ``model.Documented``; matching rules live in
``shutdown.documented.match``.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from shutdown.documented.model import Documented, Documents  # noqa: F401  (the public model)
from shutdown.errors import InputError

# Live documenters: name -> "module:function" returning Documents for (country, start, end,
# **options). Filled by the modules that read them (shutdown/documented/live/).
LIVE: dict[str, str] = {
    "radar": "shutdown.documented.live.radar:outages",
    "radar-anomalies": "shutdown.documented.live.radar:anomalies",
    "ooni-findings": "shutdown.documented.live.ooni_findings:read",
    "tor": "shutdown.documented.live.tor:read",
}


def _reader_for(path: Path):
    from shutdown.documented import ioda_curated, stop
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return stop.read
    if suffix == ".csv":
        from shutdown.documented import sheets
        head = sheets.read_csv(path)[0].header
        return ioda_curated.read if ioda_curated.looks_like(head) else stop.read
    return None


def read(spec, *, country: str | None = None, start: dt.date | None = None,
         end: dt.date | None = None, sheet: list[str] | None = None, **live) -> Documents:
    """The records of ``spec`` (a file, a timeline or case, or a LIVE name), selected by
    country (alpha-2 or a name) and by the local day they start on, ``start``..``end``
    inclusive. Unknown input is an InputError naming the file and what is wrong."""
    cc = None
    if country:
        from shutdown.documented.countries import check_code
        cc = check_code(country)
        if cc is None:
            raise InputError(f"unknown country {country!r}; give an ISO 3166 alpha-2 code "
                             "such as KZ", field="--country")
    text = str(spec)
    if text in LIVE:
        docs = _live(text, cc, start, end, **live)
    else:
        path = Path(text)
        reader = _reader_for(path) if path.exists() else None
        if reader is not None:
            docs = reader(path, sheet) if reader.__module__.endswith(".stop") else reader(path)
        elif path.suffix.lower() in (".xlsx", ".xlsm", ".csv") and not path.exists():
            raise InputError("no such file; give the path of a documenter's file", path=path)
        else:
            from shutdown.documented import fromtimeline
            try:
                docs = fromtimeline.read(path, country=cc)
            except InputError as exc:
                if path.exists() or "/" in text or text.endswith(".toml"):
                    raise
                raise InputError(f"{text!r} is no file, case or live documenter ("
                                 + ", ".join(sorted(LIVE) or ["none registered"])
                                 + f"): {exc}") from None
    return select(docs, cc, start, end)


def _live(name, cc, start, end, **options) -> Documents:
    import importlib
    mod, fn = LIVE[name].split(":")
    return getattr(importlib.import_module(mod), fn)(cc, start, end, **options)


def local_day(e: Documented) -> dt.date:
    return e.start if not isinstance(e.start, dt.datetime) else e.start.date()


def select(docs: Documents, country: str | None = None, start: dt.date | None = None,
           end: dt.date | None = None) -> Documents:
    evs = [e for e in docs.events
           if (not country or e.country == country)
           and (start is None or local_day(e) >= start)
           and (end is None or local_day(e) <= end)]
    return Documents(docs.documenter, docs.title, docs.path, evs, list(docs.notes),
                     docs.sees, docs.resolves)


def match(a: Documents, b: Documents, rule: str = "windows", **kw):
    from shutdown.documented.rules import run
    return run(a, b, rule, **kw)
