"""Print records (a list of dicts or a DataFrame) as a table, JSON, CSV or Markdown.

Every command with ``--format`` goes through here, so all of them read alike:
JSON is a list of objects, timestamps are ISO 8601 with ``Z``. A table given a ``width``
(``terminal_width()``) fits it: the columns the caller names as least important go first,
then the widest cells are shortened, and a last line says what is hidden and how to see it.
"""
from __future__ import annotations

import csv
import io
import json
import math
import shutil
import textwrap

FORMATS = ("table", "json", "csv", "md")


def _cell(v):
    import pandas as pd
    if isinstance(v, pd.Timestamp):
        return v.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ") if v.tzinfo else v.isoformat()
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return v.item()     # numpy scalar -> Python
    return v


def to_records(data) -> list[dict]:
    import pandas as pd
    if isinstance(data, pd.DataFrame):
        return [{k: _cell(v) for k, v in row.items()} for row in data.to_dict("records")]
    return [{k: _cell(v) for k, v in r.items()} for r in data]


def terminal_width() -> int | None:
    """The terminal's columns ($COLUMNS, else stdout's terminal); None when stdout is a pipe
    or a file and $COLUMNS is unset: a table written there keeps every column."""
    return shutil.get_terminal_size(fallback=(0, 0)).columns or None


def fit_line(text: str, width: int | None, indent: int = 0) -> str:
    """A line of a report (collect's summary, doctor) wrapped to ``width``, its later
    lines indented under the first's text; unchanged without a width."""
    if not width or len(text) <= width:
        return text
    return textwrap.fill(text, width, subsequent_indent=" " * indent, break_on_hyphens=False)


WIDE_HINT = "--wide or --format csv|json shows every column in full"
_MIN_CELL = 10      # a shortened column keeps at least this many characters (or its header's)


def render(data, fmt: str, columns: list[str] | None = None, max_width: int = 60,
           width: int | None = None, drop: list[str] | tuple = ()) -> str:
    """``width`` (tables only): fit the table to this many characters, hiding the columns
    of ``drop`` in its order (least important first) while it is too wide, then shortening
    the widest columns; the last line names what was hidden or shortened."""
    recs = to_records(data)
    if fmt == "json":
        return json.dumps(recs, ensure_ascii=False, indent=2)
    cols = columns or (list(recs[0].keys()) if recs else [])
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in recs:
            w.writerow({c: ("" if r.get(c) is None else _flat(r.get(c))) for c in cols})
        return buf.getvalue().rstrip("\n")
    rows = [[_short(_flat(r.get(c)), max_width) for c in cols] for r in recs]
    if fmt == "md":
        esc = lambda s: s.replace("|", "\\|")
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(esc(x) for x in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max([len(c)] + [len(row[i]) for row in rows]) for i, c in enumerate(cols)]
    note = ""
    if width:
        cols, rows, widths, note = _fit(cols, rows, widths, width, drop)
    line = lambda cells: "  ".join(_short(x, w).ljust(w) for x, w in zip(cells, widths)).rstrip()
    out = [line(cols), line(["-" * w for w in widths])] + [line(row) for row in rows]
    return "\n".join(out + ([note] if note else []))


def _fit(cols, rows, widths, width: int, drop):
    """Columns, rows and widths of a table at most ``width`` wide (as far as shortening to
    _MIN_CELL allows), and the line saying what was hidden or shortened ("" if nothing)."""
    total = lambda ws: sum(ws) + 2 * max(len(ws) - 1, 0)
    hidden = []
    for name in drop:
        if total(widths) <= width or len(cols) <= 1:
            break
        if name in cols:
            i = cols.index(name)
            hidden.append(name)
            cols, widths = cols[:i] + cols[i + 1:], widths[:i] + widths[i + 1:]
            rows = [row[:i] + row[i + 1:] for row in rows]
    floor = [max(min(len(c), 16), _MIN_CELL) for c in cols]
    shortened = set()
    while total(widths) > width:
        i = max(range(len(cols)), key=lambda j: widths[j] - floor[j])
        if widths[i] <= floor[i]:
            break
        widths[i] -= 1
        shortened.add(cols[i])
    parts = []
    if hidden:
        parts.append(f"hidden to fit {width} columns: {', '.join(hidden)}")
    if shortened:
        parts.append(f"shortened (…): {', '.join(c for c in cols if c in shortened)}")
    note = textwrap.fill(f"({'; '.join(parts)}; {WIDE_HINT})", width) if parts else ""
    return cols, rows, widths, note


def _flat(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ",".join(map(str, v))
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e6 else f"{v:.0f}"
    return str(v)


def _short(s: str, n: int) -> str:
    s = s.replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"
