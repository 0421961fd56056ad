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


def rows(rec, desc: dict, tz: str) -> list[dict]:
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
    out = []

    def row(**kv):
        r = dict(base)
        for k in ("time", "end"):
            if k in kv:
                kv[f"{k}_utc"], kv[f"{k}_local"] = when(kv.pop(k))
        r.update(kv)
        out.append({c: r.get(c, "") for c in COLUMNS})

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
                template = {c: "" for c in COLUMNS}
                template.update(base, panel=panel, mark="line", series=p["series"], unit=unit, **keys)
                out.extend({**template, "time_utc": u, "time_local": lt, "value": _num(v)}
                           for u, lt, v in zip(*_stamps(idx, tz), values.tolist()))
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
    return out


def _stamps(idx, tz: str) -> tuple:
    """UTC and local ISO strings of whole-second UTC times, as ``row`` writes them one by
    one ("2022-01-05T18:00:00Z", "2022-01-06T00:00:00+06:00"), formatted by numpy at once
    (pandas' strftime, element by element, was most of a CSV's time)."""
    import numpy as np
    utc = idx.tz_localize(None).to_numpy()
    wall = idx.tz_convert(tz).tz_localize(None).to_numpy()
    secs = ((wall - utc) // np.timedelta64(1, "s")).astype(int)
    zone = {o: f"{'-' if o < 0 else '+'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}" for o in set(secs.tolist())}
    return ([t + "Z" for t in np.datetime_as_string(utc, unit="s").tolist()],
            [t + zone[o] for t, o in zip(np.datetime_as_string(wall, unit="s").tolist(), secs.tolist())])


def _num(v):
    if v is None:
        return ""
    v = float(v)
    return "" if math.isnan(v) else repr(v)


def to_csv(table: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows([("true" if v is True else "false" if v is False else v) for v in map(r.get, COLUMNS)]
                for r in table)
    return buf.getvalue().encode("utf-8")


def write(rec, desc: dict, tz: str, path) -> dict:
    """Write the figure's CSV (temp + rename); returns what the sidecar records of it."""
    import os
    import tempfile
    from pathlib import Path

    from shutdown.sidecar import sha256_bytes
    table = rows(rec, desc, tz)
    body = to_csv(table)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)       # as the figures beside it (mkstemp makes it 0600)
    os.replace(tmp, path)
    return {"path": path.name, "sha256": sha256_bytes(body), "rows": len(table),
            "columns": COLUMNS, "marks": _count(table, "mark"),
            "lines": _count([r for r in table if r["mark"] == "line"], "series")}


def _count(table, key) -> dict:
    out: dict = {}
    for r in table:
        out[r[key]] = out.get(r[key], 0) + 1
    return out


def read(path) -> list[dict]:
    """A figure's CSV as rows (``check``)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
