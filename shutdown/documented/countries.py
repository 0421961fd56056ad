"""Country names as documenters write them -> ISO 3166-1 alpha-2, and a country's time zones.

Names go through pycountry (ISO 3166 as Debian's iso-codes maintains it): an exact lookup of
name, official or common name and codes, then its fuzzy search, as the SIGCOMM'23 notebook
does (InetIntel/internet_outages, notebooks/merge-kio-ioda.ipynb, get_country_object, commit
087e15774ea8f94f4f62e14718577dfdbd32aa8c). ALIASES holds only the spellings pycountry misses
today; tests/test_documented_countries.py fails for any alias pycountry has learnt since.
"""
from __future__ import annotations

import functools
import importlib.resources
import unicodedata
from pathlib import Path

# Spellings seen in the STOP and IODA curated files that pycountry 26 neither looks up nor
# fuzzy-finds (or fuzzy-finds wrongly), each with the country it names. Most are the
# notebook's ``tricky_country_name_fixes`` (cited above); "turkey" is ours: ISO 3166 renamed
# TR "Türkiye" in 2022 and pycountry followed, so the name the notebook's pycountry 22.3.5
# still knew no longer resolves.
ALIASES = {
    "kyrgyz republic (kyrgyzstan)": "KG",
    "united states of america (usa)": "US",
    "swaziland": "SZ",
    "israel and the occupied territories": "IL",
    "ivory coast (cote d'ivoire)": "CI",
    "myanmar/burma": "MM",
    "cape verde": "CV",
    "timor leste": "TL",
    "palestinian territories": "PS",
    "democratic republic of (drc)": "CD",
    "curacao": "CW",
    "iran (islamic republic of)": "IR",
    "democratic republic of the congo": "CD",
    "srilanka": "LK",
    "venezuela (bolivarian republic of)": "VE",
    "democraticrepubliccongo": "CD",
    "reunion": "RE",
    "bonaire/sint eustatius/saba": "BQ",
    "turkey": "TR",
}


@functools.lru_cache(maxsize=4096)
def resolve(name: str) -> tuple[str, str]:
    """(alpha-2, how) for a country name: how is "alias", "lookup", "fuzzy" or "fuzzy, first
    of N" (pycountry's order, as the notebook takes it); ("", "unknown") when nothing matches
    (e.g. "European Union", "Somaliland": no ISO 3166 country)."""
    import pycountry
    text = " ".join(str(name or "").split())
    if not text:
        return "", "unknown"
    if text.lower() in ALIASES:
        return ALIASES[text.lower()], "alias"
    try:
        return pycountry.countries.lookup(text).alpha_2, "lookup"
    except LookupError:
        pass
    try:
        found = pycountry.countries.search_fuzzy(text)
    except LookupError:
        return "", "unknown"
    return found[0].alpha_2, ("fuzzy" if len(found) == 1 else f"fuzzy, first of {len(found)}")


def code(name: str) -> str:
    return resolve(name)[0]


def name_of(alpha2: str) -> str:
    import pycountry
    c = pycountry.countries.get(alpha_2=alpha2.upper()) if alpha2 else None
    return c.name if c else ""


def check_code(value: str) -> str | None:
    """The alpha-2 code for ``value`` (a code or a name), None when it is neither."""
    import pycountry
    v = (value or "").strip()
    if len(v) == 2 and pycountry.countries.get(alpha_2=v.upper()):
        return v.upper()
    return code(v) or None


@functools.lru_cache(maxsize=1)
def _zone_table() -> dict[str, tuple[str, ...]]:
    """alpha-2 -> its IANA zones, the principal one first (zone.tab of the tz database, from
    the tzdata package pandas installs; the system's copy when that is absent)."""
    try:
        text = importlib.resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        text = Path("/usr/share/zoneinfo/zone.tab").read_text()
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        out.setdefault(parts[0], []).append(parts[2])
    return {k: tuple(v) for k, v in out.items()}


def zones(alpha2: str) -> tuple[str, ...]:
    """The country's IANA zones, principal first; ("UTC",) for a code the tz database lacks."""
    return _zone_table().get((alpha2 or "").upper(), ("UTC",))


def fold(text: str) -> str:
    """A name folded for comparing areas across documenters: no accents, case or punctuation
    ("Táchira" = "tachira", "Jammu & Kashmir" = "jammu and kashmir")."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    t = t.lower().replace("&", " and ")
    return " ".join("".join(c if c.isalnum() else " " for c in t).split())
