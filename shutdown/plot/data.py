"""Every figure's numbers as a tidy CSV beside it (``figures/<name>.csv``).

Built from the figure's ``Record`` (the points of every line and every heat-map cell, as
drawn) and its sidecar (``describe``: documented events, other documenters' entries and
detected spans where their artists are), so the CSV, the sidecar and the picture are one
record read three ways. One row per drawn thing; ``mark`` says which:

* ``line``: a point of a plotted series (an empty value is a gap in the line);
* ``cell``: a heat-map cell (a local day), ``value`` the share, ``n`` the tests behind it;
* ``documented``: a documented event's bar; ``other-documenter``: another documenter's entry;
* ``detected``: a span the detector found (the alignment chart: ``value`` is its verdict).

Times in UTC (``Z``) and in the case's zone (``+06:00``); ``simulated`` on every row.
No matplotlib here: ``check`` reads these files back.
"""
from __future__ import annotations

import csv
import io
import math

COLUMNS = ["figure", "panel", "mark", "series", "time_utc", "time_local", "end_utc", "end_local",
           "value", "unit", "n", "source", "signal", "subtype", "entity_type", "entity_code",
           "transform", "simulated"]
FORMAT = "csv"

# What a transform's values are (the unit column); "none" keeps the signal's declared unit.
TRANSFORM_UNITS = {
    "baseline_ratio": "share of baseline (1 = normal)",
    "probes_reachable/probes_reporting": "share of probes reporting",
    "ok/all per local day": "share of tests accessible",
    "(anomaly+confirmed)/all per local day": "share of tests anomalous",
}


def unit_of(meta: dict) -> str:
    how = str(meta.get("transform", "none"))
    if how in TRANSFORM_UNITS:
        return TRANSFORM_UNITS[how]
    if how.startswith("(anomaly+confirmed)/all"):
        return "share of tests anomalous"
    from shutdown.sources import registry
    sig = registry.signal(str(meta.get("source")), str(meta.get("signal")))
    return sig.unit if sig is not None else ""


class _Table:
    """The CSV as it is written, row by row, and what the sidecar counts of it."""

    def __init__(self):
        self.buf = io.StringIO()
        self.writer = csv.writer(self.buf, lineterminator="\n")
        self.writer.writerow(COLUMNS)
        self.n = 0
        self.marks: dict = {}      # mark -> rows, in order of first appearance
        self.lines: dict = {}      # a line's series -> its points

    def _counted(self, mark: str, series, k: int) -> None:
        self.n += k
        self.marks[mark] = self.marks.get(mark, 0) + k
        if mark == "line":
            self.lines[series] = self.lines.get(series, 0) + k

    def row(self, r: dict) -> None:
        self.writer.writerow([_cell(r.get(c, "")) for c in COLUMNS])
        self._counted(r["mark"], r["series"], 1)

    def line(self, template: dict, utc: list, local: list, values: list) -> None:
        """A series' points, which differ only in time and value: the row is written once
        with markers in those three cells, and each point's row is that text with its
        strings in place of the markers (as quoted as the csv module quotes, since these
        cells never need quoting), rather than one csv row per point."""
        if not utc:
            return
        probe = io.StringIO()
        csv.writer(probe, lineterminator="\n").writerow(
            [_cell(v) for v in map({**template, "time_utc": _MARK, "time_local": _MARK,
                                    "value": _MARK}.get, COLUMNS)])
        parts = probe.getvalue().split(_MARK)
        if len(parts) != 4:         # a marker in the template's own text: row by row
            for u, lt, v in zip(utc, local, values):
                self.row({**template, "time_utc": u, "time_local": lt, "value": v})
            return
        a, b, c, d = parts
        self.buf.write("".join([f"{a}{u}{b}{lt}{c}{v}{d}" for u, lt, v in zip(utc, local, values)]))
        self._counted("line", template["series"], len(utc))


_MARK = "\ue000"       # a private-use character: no title or label holds it


def _cell(v):
    return "true" if v is True else "false" if v is False else v


def _fill(table: _Table, rec, desc: dict, tz: str) -> None:
    """The figure's rows (COLUMNS), in drawing order."""
    import pandas as pd

    def when(t):
        if t is None or (isinstance(t, float) and math.isnan(t)):
            return "", ""
        t = pd.Timestamp(t)
        t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
        return t.strftime("%Y-%m-%dT%H:%M:%SZ"), t.tz_convert(tz).isoformat()

    x0, x1 = (None, None) if not desc.get("x_range_utc") or desc["x_range_utc"][0] is None else \
        (pd.Timestamp(desc["x_range_utc"][0]), pd.Timestamp(desc["x_range_utc"][1]))
    sim = bool(desc.get("simulated"))
    base = {"figure": desc.get("figure", rec.figure), "simulated": sim}

    def row(**kv):
        r = dict(base)
        for k in ("time", "end"):
            if k in kv:
                kv[f"{k}_utc"], kv[f"{k}_local"] = when(kv.pop(k))
        r.update(kv)
        table.row(r)

    seen: dict = {}     # a time's two strings, once per figure: its series share their times
    for p in rec.points:
        meta, ax = p["meta"], p["ax"]
        panel = ax.get_title(loc="left") or ax.get_label()     # the title as finally drawn
        keys = {k: meta.get(k, "") for k in ("source", "signal", "subtype", "entity_type",
                                              "entity_code", "transform")}
        if p["mark"] == "line":
            unit = unit_of(meta)
            # the points on the chart: the line's data outside the time axis is not drawn
            idx = pd.DatetimeIndex(p["index"]).tz_convert("UTC")
            on = (idx >= x0) & (idx <= x1) if x0 is not None else slice(None)
            idx, values = idx[on], p["values"][on]
            if (idx.asi8 % 10**9 == 0).all():       # whole seconds: the times as arrays at once
                table.line({**base, "panel": panel, "mark": "line", "series": p["series"],
                            "unit": unit, **keys},
                           *_stamps(idx, tz, seen), ["" if v != v else repr(v) for v in values.tolist()])
                continue
            for t, v in zip(idx, values):
                row(panel=panel, mark="line", series=p["series"], time=t, value=_num(v),
                    unit=unit, **keys)
        else:   # heat-map cells: (row, day start, share or None, n)
            unit = unit_of(meta)
            for r_, day, share, n in p["cells"]:
                row(panel=panel, mark="cell", series=str(r_), time=day,
                    end=day + pd.Timedelta(days=1), value=_num(share), n=f"{n:.0f}", unit=unit, **keys)
    for e in desc.get("events", []):
        row(panel="events", mark="documented", series=f"{e['id']}: {e.get('label', '')}",
            time=e.get("drawn_start_utc"), end=e.get("drawn_end_utc"), value=e.get("kind", ""),
            unit="documented window")
    for d in desc.get("documenters", []):
        row(panel="documenters", mark="other-documenter", series=f"{d.get('documenter')}: {d.get('entry')}",
            time=d.get("drawn_start_utc"), end=d.get("drawn_end_utc"), unit="documented window")
    for d in desc.get("detected", []):
        members = d.get("intervals") or [d]
        first = members[0]
        row(panel=d.get("panel", ""), mark="detected", series=d.get("event", "") or d.get("panel", ""),
            time=d.get("drawn_start_utc"), end=d.get("drawn_end_utc"),
            value=d.get("verdict", "outage"), unit="verdict" if "verdict" in d else "detected span",
            **{k: ",".join(dict.fromkeys(str(m.get(k, "")) for m in members)) if k != "entity_type"
               else str(first.get(k, "")) for k in ("source", "signal", "subtype", "entity_type",
                                                     "entity_code")})


def _stamps(idx, tz: str, seen: dict) -> tuple:
    """UTC and local ISO strings of whole-second UTC times, as ``row`` writes them one by
    one ("2022-01-05T18:00:00Z", "2022-01-06T00:00:00+06:00"), formatted by numpy at once
    (pandas' strftime, element by element, was most of a CSV's time), each time once per
    figure: ``seen`` maps the times formatted before (ns since the epoch) to their strings."""
    import numpy as np
    import pandas as pd
    ns = idx.as_unit("ns").asi8.tolist()
    new = [t for t in dict.fromkeys(ns) if t not in seen]
    if new:
        utc = np.array(new, dtype="datetime64[ns]")
        wall = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz).tz_localize(None).to_numpy()
        secs = ((wall - utc) // np.timedelta64(1, "s")).astype(int).tolist()
        zone = {o: f"{'-' if o < 0 else '+'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}" for o in set(secs)}
        seen.update(zip(new, zip([t + "Z" for t in np.datetime_as_string(utc, unit="s").tolist()],
                                 [t + zone[o] for t, o in zip(np.datetime_as_string(wall, unit="s").tolist(), secs)])))
    pairs = [seen[t] for t in ns]
    return [u for u, _ in pairs], [lt for _, lt in pairs]


def _num(v):
    if v is None:
        return ""
    v = float(v)
    return "" if math.isnan(v) else repr(v)


def write(rec, desc: dict, tz: str, path) -> dict:
    """Write the figure's CSV (temp + rename); returns what the sidecar records of it."""
    import os
    import tempfile
    from pathlib import Path

    from shutdown.sidecar import sha256_bytes
    table = _Table()
    _fill(table, rec, desc, tz)
    body = table.buf.getvalue().encode("utf-8")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)       # as the figures beside it (mkstemp makes it 0600)
    os.replace(tmp, path)
    return {"path": path.name, "sha256": sha256_bytes(body), "rows": table.n,
            "columns": COLUMNS, "marks": table.marks, "lines": table.lines}


def read(path) -> list[dict]:
    """A figure's CSV as rows (``check``)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
