"""The report in other languages: ``report --lang en|kk|ru``.

Strings live in one gettext catalogue per language, ``shutdown/locale/<lang>/LC_MESSAGES/
shutdown.po`` (msgid: the English text as the code writes it); Babel reads it at run time,
so adding a language is adding a file (``languages()`` lists the directories). English is
the code's own text and never goes through a catalogue, so English output is unchanged.
Dates and month names come from CLDR through Babel (``date``), never a table of ours.

The language is one setting for the process (``use``): figures are drawn in forked
workers, which inherit it.
"""
from __future__ import annotations

import contextlib
import functools
from pathlib import Path

from shutdown.errors import InputError

DEFAULT = "en"
DOMAIN = "shutdown"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
_current = [DEFAULT]


def languages() -> list[str]:
    """English and every language with a catalogue."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return [DEFAULT] + [x for x in found if x != DEFAULT]


def check(lang: str, field: str = "--lang") -> str:
    if lang not in languages():
        raise InputError(f"unknown language {lang!r}; use one of {', '.join(languages())} (a new "
                         f"language is a catalogue {LOCALE_DIR.name}/<lang>/LC_MESSAGES/{DOMAIN}.po)",
                         field=field)
    return lang


@functools.lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> msgstr of the language's catalogue (untranslated and fuzzy entries left out)."""
    from babel.messages.pofile import read_po
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with open(path, "rb") as fh:
        cat = read_po(fh, locale=lang, domain=DOMAIN)
    return {m.id: m.string for m in cat if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}


def current() -> str:
    return _current[0]


def set_language(lang: str) -> None:
    _current[0] = check(lang)


@contextlib.contextmanager
def use(lang: str):
    """Within the block, ``_`` and ``date`` speak ``lang``."""
    old = _current[0]
    set_language(lang)
    try:
        yield
    finally:
        _current[0] = old


def _(text: str) -> str:
    """``text`` in the current language (itself in English, or where the catalogue lacks it)."""
    lang = _current[0]
    if lang == DEFAULT or not text:
        return text
    return catalogue(lang).get(text, text)


def date(ts, pattern: str) -> str:
    """A time stamp formatted by a CLDR pattern ("d MMM", "d MMMM y, HH:mm") with the current
    language's month names (Babel). The stamp is shown in its own zone."""
    from babel.dates import format_datetime
    import pandas as pd
    t = pd.Timestamp(ts)
    return format_datetime(t.to_pydatetime(), pattern, tzinfo=t.tzinfo, locale=_current[0])


def is_english() -> bool:
    return _current[0] == DEFAULT
