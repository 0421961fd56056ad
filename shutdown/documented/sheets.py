"""Spreadsheets as rows of cells: an xlsx workbook (every sheet) or a CSV export (one sheet).

Readers get ``Sheet(name, header, rows)`` with each row's spreadsheet row number, so an error
can name file, sheet, row and column. Cells are what the file holds: an xlsx date cell is a
``datetime``, a CSV cell always text.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from shutdown.errors import InputError

MAX_BYTES = 64 * 2**20      # the 2016-2022 STOP workbook is 0.4 MB; anything this big is not one


@dataclass
class Sheet:
    name: str
    header: list[str]                   # as written (stripped); "" for an empty header cell
    rows: list[tuple[int, tuple]]       # (spreadsheet row number, cells)

    def column(self, key: str) -> int | None:
        """Index of the column whose normalized name is ``key`` (see ``norm``)."""
        for i, h in enumerate(self.header):
            if norm(h) == key:
                return i
        return None


def norm(name) -> str:
    """A column name as the SIGCOMM'23 notebook compares them: lower case, no spaces
    ("end_date " and "full or service-based" -> "end_date", "fullorservice-based")."""
    return str(name or "").lower().replace(" ", "")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError("no such file; give the path of a documenter's file", path=path)
    if not path.is_file():
        raise InputError("not a regular file", path=path)
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"larger than {MAX_BYTES // 2**20} MB: not a documenter's spreadsheet",
                         path=path)


def read_xlsx(path: Path) -> list[Sheet]:
    _check_file(path)
    import openpyxl
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise InputError(f"not a readable xlsx workbook ({type(exc).__name__}: "
                         f"{str(exc)[:80]}); export it again from the spreadsheet", path=path)
    sheets = []
    try:
        for ws in wb.worksheets:
            it = ws.iter_rows(values_only=True)
            header = next(it, ())
            rows = [(n, tuple(r)) for n, r in enumerate(it, start=2)
                    if any(v not in (None, "") for v in r)]
            sheets.append(Sheet(ws.title, [str(h).strip() if h is not None else ""
                                           for h in header], rows))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"damaged xlsx workbook ({type(exc).__name__}); export it again",
                         path=path)
    finally:
        wb.close()
    return sheets


def read_csv(path: Path) -> list[Sheet]:
    _check_file(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); save the CSV as UTF-8", path=path)
    if "\x00" in text:
        raise InputError("holds NUL bytes: not a CSV file", path=path)
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file ({exc})", path=path)
    if not rows:
        raise InputError("empty file", path=path)
    header = [h.strip() for h in rows[0]]
    body = [(n, tuple(r)) for n, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    return [Sheet(path.stem, header, body)]


def read(path) -> list[Sheet]:
    p = Path(path)
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(p)
    return read_csv(p)


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_EXCEL_EPOCH = dt.date(1899, 12, 30)     # Excel's day 0 (its 1900 leap-year bug included)


def parse_day(v) -> dt.date | None:
    """A calendar day from a cell: an xlsx date, ISO ``2022-01-04``, US ``1/4/2022`` (the
    STOP sheets are US-made: month first), ``4-Jan-2022``, or an Excel serial day number
    (a CSV export of an unformatted cell: ``44166`` = 2020-12-01). None when it is none."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _serial(v)
    s = str(v or "").strip()
    if not s:
        return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?", s)
    if m:
        return _mk(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?: 0?0:00(?::00)?)?", s)
    if m:
        y = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return _mk(y, int(m[1]), int(m[2]))
    m = re.fullmatch(r"(\d{1,2})[- ]([A-Za-z]{3})[A-Za-z]*[- ,]+(\d{4})", s)
    if m and m[2].lower() in _MONTHS:
        return _mk(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    m = re.fullmatch(r"(\d{5})(?:\.0+)?", s)
    if m:
        return _serial(int(m[1]))
    return None


def _mk(y, m, d):
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _serial(n) -> dt.date | None:
    if not 20000 <= n <= 80000:         # 1954 .. 2119: beyond that it is no date of ours
        return None
    return _EXCEL_EPOCH + dt.timedelta(days=int(n))
