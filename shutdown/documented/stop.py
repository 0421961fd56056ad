"""Access Now's #KeepItOn STOP data: the xlsx workbook (or a CSV export of one of its sheets).

Three column layouts, mapped explicitly (names compared as ``sheets.norm`` makes them):

* ``2016-2018`` (sheet "2016+2017+2018 "): ``shutdown_type_group`` / ``shutdown_type`` /
  ``services_affected``; ``geo_scope`` Local / Regional / National / Multi-regional.
* ``2019`` (sheet "2019"): ``shutdown_type_new``, ``full or service-based``,
  ``affected_network``, per-platform ``*_affected`` booleans; ``geo_scope`` "Level 1/2/3".
* ``2020-2022`` (sheets "2020 Data" .. "2022 Data"): ``shutdown_type``, ``shutdown_extent``,
  ``affected_network``, per-platform ``*_affected`` Yes/No/Unknown; ``geo_scope`` in sentences.

The kind and network labels, and the geo-scope unification, follow the SIGCOMM'23 notebook
(InetIntel/internet_outages notebooks/merge-kio-ioda.ipynb at 087e15774ea8f94f4f62e14718577dfdbd32aa8c:
label_network_shutdown, label_throttling, label_service_based, label_mobile,
label_broadband, unify_geo_scope), so ``match --rule sigcomm23`` and every other use read a
row alike. Dates are local calendar days (the workbook's own README: "Dates are local
calendar days"); a row is a day-precision window in the country's zones.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from shutdown.documented import countries, sheets
from shutdown.documented.model import Documented, Documents
from shutdown.errors import InputError

DOCUMENTER = "accessnow-stop"
TITLE = "Access Now #KeepItOn STOP"

_COMMON = ("start_date", "end_date", "country", "geo_scope", "area_name")
# layout -> (the column that tells it apart, every column the reader needs)
LAYOUTS = {
    "2016-2018": ("shutdown_type_group",
                  _COMMON + ("shutdown_type_group", "shutdown_type", "services_affected",
                             "service_details", "news_link")),
    "2019": ("shutdown_type_new",
             _COMMON + ("shutdown_type_new", "fullorservice-based", "affected_network",
                        "facebook_affected", "twitter_affected", "whatsapp_affected",
                        "instagram_affected", "telegram_affected",
                        "other_service_details(specify)", "news_link")),
    "2020-2022": ("shutdown_extent",
                  _COMMON + ("shutdown_type", "shutdown_extent", "affected_network",
                             "facebook_affected", "twitter_affected", "whatsapp_affected",
                             "instagram_affected", "telegram_affected", "other_affected",
                             "info_source_link")),
}
PLATFORMS = ("facebook", "twitter", "whatsapp", "instagram", "telegram")
# Read when present (not every vintage has them).
OPTIONAL = ("event", "telcos_involved", "actual_cause", "shutdown_status", "an_link")

# unify_geo_scope of the notebook, on the stripped, lower-cased, single-spaced text.
GEO_SCOPE = {
    "local": "local", "regional": "regional", "national": "national",
    "multi-regional": "national",
    "level 1": "local", "level 2": "regional", "level 3": "national",
    "it only affected one city, county, or village": "local",
    "it affected more than one city in the same state, province, or region": "regional",
    "it affected locations in more than one state, province, or region": "national",
    "not sure": "unknown",
}
# Words in the free-text service columns that name no service ("Signal, possibly").
_NOT_SERVICES = {"none", "n/a", "unknown", "possibly", "maybe", "other", "others"}
_OPEN_END = {"ongoing", "unknown", "unkown", "n/a", "na", "none"}


def layout_of(sheet: sheets.Sheet, path) -> str | None:
    """The sheet's layout; None for a sheet that holds no shutdown rows at all (no
    ``start_date`` and no ``country`` column, e.g. "Need more details"). A sheet that looks
    like data but lacks a layout's columns is an error naming them."""
    cols = {sheets.norm(h) for h in sheet.header}
    if "start_date" not in cols and "country" not in cols:
        return None
    for name, (tell, need) in LAYOUTS.items():
        if tell in cols:
            missing = [c for c in need if c not in cols]
            if missing:
                raise InputError(f"looks like the {name} layout but lacks the column(s) "
                                 f"{', '.join(missing)}", path=path, where=f"sheet {sheet.name!r}")
            return name
    best = max(LAYOUTS, key=lambda n: len(cols & set(LAYOUTS[n][1])))
    missing = [c for c in LAYOUTS[best][1] if c not in cols]
    tells = ", ".join(f"{t} ({n})" for n, (t, _) in LAYOUTS.items())
    raise InputError(f"unknown STOP column layout: none of the columns {tells}; the closest, "
                     f"{best}, lacks {', '.join(missing)}", path=path, where=f"sheet {sheet.name!r}")


def sheet_label(name: str) -> str:
    """"2016+2017+2018 " -> "2016-2018", "2022 Data" -> "2022": the id's middle part."""
    years = re.findall(r"(?:19|20)\d\d", name)
    if len(years) > 1:
        return f"{years[0]}-{years[-1]}"
    if years:
        return years[0]
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "sheet"


def _text(v) -> str:
    return "" if v is None else " ".join(str(v).split())


def labels(layout: str, cell) -> dict:
    """The notebook's labels of one row: full_network_shutdown, throttling, service_based,
    mobile_affected, broadband_affected. ``cell(col)`` is the lower-cased text of a column
    ("" when empty: the notebook's data had no empty cell where it reads one; we read an
    empty one as not saying so)."""
    if layout == "2016-2018":
        group, typ = cell("shutdown_type_group"), cell("shutdown_type")
        services = cell("services_affected").replace("&", " ")
        service = group == "service-based" or "service-based" in typ or "service-based" in services
        return {"full_network_shutdown": not service and group != "throttling",
                "throttling": group == "throttling", "service_based": service,
                "mobile_affected": "mobile" in group or "mobile" in services,
                "broadband_affected": ("broadband internet" in group
                                       or "broadband internet" in services)}
    if layout == "2019":
        typ, extent = cell("shutdown_type_new"), cell("fullorservice-based")
        full = "shutdown" in typ and "full" in extent
    else:
        typ, extent = cell("shutdown_type"), cell("shutdown_extent")
        full = "shutdown" in typ and "full network" in extent
    net = cell("affected_network")
    return {"full_network_shutdown": full, "throttling": "throttle" in typ,
            "service_based": "service-based" in extent,
            "mobile_affected": "mobile" in net, "broadband_affected": "broadband" in net}


def kinds_of(lab: dict) -> tuple[str, ...]:
    return tuple(k for k, key in (("shutdown", "full_network_shutdown"),
                                  ("throttling", "throttling"),
                                  ("service-based", "service_based")) if lab[key])


def _services(layout, get, cell, lab) -> tuple[str, ...]:
    out = []
    if layout != "2016-2018":
        for p in PLATFORMS:
            v = get(f"{p}_affected")
            if v is True or _text(v).lower() == "yes":
                out.append(p)
        other = get("other_service_details(specify)" if layout == "2019" else "other_affected")
    else:
        other = get("service_details") if lab["service_based"] else None
    for part in re.split(r"[,;/]", _text(other)):
        p = part.strip().lower()
        if p and p not in _NOT_SERVICES and p not in out:
            out.append(p)
    return tuple(out)


def _areas(text: str, scope: str) -> tuple[str, ...]:
    if scope == "national" or not text:
        return ()
    return tuple(a.strip() for a in re.split(r"[,;\n]", text) if a.strip())


def _first_link(text: str) -> str:
    m = re.search(r"https?://\S+?(?=[\s,;]|$)", text or "")
    return m.group(0) if m else ""


def read(path, sheet_names: list[str] | None = None) -> Documents:
    """Every row of every data sheet (or of ``sheet_names``) as a Documented record."""
    path = Path(path)
    all_sheets = sheets.read(path)
    notes = []
    if sheet_names:
        have = {s.name.strip(): s for s in all_sheets}
        missing = [n for n in sheet_names if n.strip() not in have]
        if missing:
            raise InputError(f"no sheet {missing[0]!r}; the workbook has "
                             + ", ".join(repr(s.name) for s in all_sheets), path=path,
                             field="--sheet")
        all_sheets = [have[n.strip()] for n in sheet_names]
    events, read_any = [], False
    for sh in all_sheets:
        layout = layout_of(sh, path)
        if layout is None:
            notes.append(f"sheet {sh.name!r}: no start_date or country column, not shutdown "
                         f"rows ({len(sh.rows)} rows): not read")
            continue
        read_any = True
        events += _read_sheet(sh, layout, path, notes)
    if not read_any:
        raise InputError("no sheet in a known STOP layout (2016-2018, 2019, 2020-2022); sheets: "
                         + ", ".join(repr(s.name) for s in all_sheets), path=path)
    unknown = sorted({e.country_name for e in events if not e.country})
    if unknown:
        n = sum(1 for e in events if not e.country)
        notes.append(f"{n} row(s) name no ISO 3166 country ({', '.join(unknown)}): kept, "
                     "country left empty")
    return Documents(DOCUMENTER, TITLE, str(path), events, notes)


def _read_sheet(sh: sheets.Sheet, layout: str, path, notes) -> list[Documented]:
    idx = {sheets.norm(h): i for i, h in enumerate(sh.header) if h}
    label = sheet_label(sh.name)
    out = []
    for rownum, cells in sh.rows:
        def get(col):
            i = idx.get(col)
            return cells[i] if i is not None and i < len(cells) else None

        def cell(col):
            return _text(get(col)).lower()

        where = f"sheet {sh.name!r}: row {rownum}"
        raw = {col: get(col) for col in idx}
        start = sheets.parse_day(get("start_date"))
        if start is None:
            v = get("start_date")
            raise InputError(("empty" if v in (None, "") else f"not a date: {_text(v)[:40]!r}")
                             + "; write the first day as YYYY-MM-DD", path=path, where=where,
                             field="start_date")
        end, note = _end(get("end_date"), start, path, where)
        geo = " ".join(cell("geo_scope").split())
        if geo and geo not in GEO_SCOPE:
            raise InputError(f"unknown geo scope {_text(get('geo_scope'))[:60]!r}; known: "
                             "Level 1/2/3, Local/Regional/National/Multi-regional, or the "
                             "2020-2022 sentences", path=path, where=where, field="geo_scope")
        scope = GEO_SCOPE.get(geo, "unknown")
        lab = labels(layout, cell)
        name = _text(get("country"))
        cc = countries.code(name)
        link = _first_link(_text(get("info_source_link") or get("news_link") or get("an_link")))
        out.append(Documented(
            id=f"stop-{label}-r{rownum}", documenter=DOCUMENTER, country=cc, scope=scope,
            kinds=kinds_of(lab), start=start, end=end, precision="day",
            timezone=countries.zones(cc)[0] if cc else "UTC",
            zones=countries.zones(cc) if cc else (),
            citation=f"{TITLE} data, sheet {sh.name.strip()!r}, row {rownum}"
                     + (f"; source: {link}" if link else ""),
            country_name=name, areas=_areas(_text(get("area_name")), scope),
            services=_services(layout, get, cell, lab),
            networks=tuple(n for n in ("mobile", "broadband") if lab[f"{n}_affected"]),
            operators=tuple(t.strip() for t in re.split(r"[,;\n]", _text(get("telcos_involved")))
                            if t.strip() and t.strip().lower() != "none"),
            title=_text(get("event")), cause=_text(get("actual_cause")),
            status=_text(get("shutdown_status")), note=note,
            raw={**raw, "_layout": layout, "_sheet": sh.name, "_row": rownum, **lab}))
    return out


def _end(v, start, path, where) -> tuple[dt.date | None, str]:
    """The last day, inclusive; None with a note when the row gives none (ongoing, unknown)
    or gives only words around a date ("4/1/2018 upon CAF visit": that date)."""
    if v in (None, ""):
        return None, ""
    day = sheets.parse_day(v)
    if day is None:
        text = _text(v)
        if text.lower().strip(" .") in _OPEN_END:
            return None, f"end: {text.lower()}"
        m = re.match(r"(\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})\b", text)
        day = sheets.parse_day(m.group(1)) if m else None
        if day is None:
            if re.search(r"\b(19|20)\d\d\b", text):
                return None, f"end given only as {text[:60]!r}"
            raise InputError(f"not a date: {text[:40]!r}; write the last day as YYYY-MM-DD, or "
                             "'ongoing'/'unknown'", path=path, where=where, field="end_date")
        note = f"end read from {text[:60]!r}"
    else:
        note = ""
    if day < start:
        return None, f"end {day.isoformat()} before the start: read as not given"
    return day, note
