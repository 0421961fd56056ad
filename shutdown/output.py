"""Print records (a list of dicts or a DataFrame) as a table, JSON, CSV or Markdown.

Every command with ``--format`` goes through here, so all of them read alike:
JSON is a list of objects, timestamps are ISO 8601 with ``Z``.
"""
from __future__ import annotations

import csv
import io
import json
import math

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


def render(data, fmt: str, columns: list[str] | None = None, max_width: int = 60) -> str:
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
    line = lambda cells: "  ".join(x.ljust(w) for x, w in zip(cells, widths)).rstrip()
    out = [line(cols), line(["-" * w for w in widths])] + [line(row) for row in rows]
    return "\n".join(out)


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
