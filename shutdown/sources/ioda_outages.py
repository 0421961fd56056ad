"""IODA's own outage records -- ``/outages/alerts`` and ``/outages/events`` (codf) -- as
rows of ``schema.IODA_OUTAGE_COLUMNS`` (pure: payload in, DataFrame out). The requests and
the normalizing are ``shutdown.sources.ioda``'s; a field that is not what IODA writes is
NaT/NaN/"" in its row, never a traceback."""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.schema import IODA_OUTAGE_COLUMNS

MAX_EPOCH = 4_102_444_800          # 2100-01-01: a time past it is garbage (and past pandas' range)


def _ts(v):
    """Seconds since the epoch -> UTC; None or garbage -> NaT (one bad field, not the table)."""
    try:
        secs = int(v)
    except (TypeError, ValueError, OverflowError):
        return pd.NaT
    return pd.Timestamp(secs, unit="s", tz="UTC") if 0 <= secs <= MAX_EPOCH else pd.NaT


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        return np.nan


def parse_alerts(payload) -> pd.DataFrame:
    """``/outages/alerts`` data as IODA_OUTAGE_COLUMNS rows (kind "alert"; no end, no score)."""
    rows = []
    for a in payload.get("data") or []:
        if not isinstance(a, dict):
            continue
        ent = a.get("entity") if isinstance(a.get("entity"), dict) else {}
        rows.append({"kind": "alert", "entity_type": str(ent.get("type") or ""),
                     "entity_code": str(ent.get("code") or ""), "datasource": a.get("datasource") or "",
                     "start_utc": _ts(a.get("time")), "end_utc": pd.NaT,
                     "level": a.get("level") or "", "score": np.nan, "simulated": False})
    return _outage_frame(rows)


def parse_events(payload, until=None) -> pd.DataFrame:
    """``/outages/events`` (codf) data as IODA_OUTAGE_COLUMNS rows (kind "event").

    An event marked ``overlaps_window`` whose end is the query's ``until``
    (epoch s; else the envelope's ``requestParameters.until``) was still open
    there: IODA clipped it, so its end is unknown (NaT)."""
    if until is None:
        rp = payload.get("requestParameters")
        until = rp.get("until") if isinstance(rp, dict) else None
    until = _ts(until) if until not in (None, "") else pd.NaT
    rows = []
    for e in payload.get("data") or []:
        if not isinstance(e, dict):
            continue
        etype, _, code = str(e.get("location") or "").partition("/")
        start = _ts(e.get("start"))
        dur = _float(e.get("duration"))
        ok = 0 <= dur <= 20 * 366 * 86400 and start is not pd.NaT     # NaN fails too
        end = start + pd.Timedelta(seconds=dur) if ok else pd.NaT
        if e.get("overlaps_window") and end is not pd.NaT and until is not pd.NaT and end >= until:
            end = pd.NaT                 # clipped at the query's end: still open there
        rows.append({"kind": "event", "entity_type": etype, "entity_code": code,
                     "datasource": e.get("datasource") or "", "start_utc": start, "end_utc": end,
                     "level": "", "score": _float(e.get("score")),
                     "simulated": False})
    return _outage_frame(rows)


def _outage_frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=IODA_OUTAGE_COLUMNS)
    for c in ("kind", "entity_type", "entity_code", "datasource", "level"):
        df[c] = df[c].astype("string")
    for c in ("start_utc", "end_utc"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    df["score"] = df["score"].astype("float64")
    df["simulated"] = df["simulated"].astype("bool")
    return df
