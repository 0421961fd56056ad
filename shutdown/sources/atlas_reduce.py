"""RIPE Atlas payloads -> per-probe hourly tables -> the tidy table. Pure functions.

Nothing here touches the network or the cache; ``shutdown.sources.atlas`` feeds
these the parsed JSON, and detection or plots can call them on their own.

Bin size is one hour: the built-in ping (msm 1001) runs every 240 s, so a
healthy probe has ~15 chances per hour to report and one lost result does not
make it look offline, while the 30-minute traceroute (msm 5001) still lands in
every bin; an hour is also the finest step the documented timelines use.

"Reachable" is decided per result the way ``ripe.atlas.sagan`` decides it
(``PingResult.packets_received > 0``; ``TracerouteResult.destination_ip_responded``,
i.e. a reply from ``dst_addr`` in the last hop). The checks are done on the
plain dicts because a case has hundreds of thousands of results and building a
sagan object for each costs more than the whole rest of the pipeline; the tests
hold the two to the same answers on every fixture result.

For the same reason a cached body is reduced at once to three arrays (probe id,
timestamp, reached) -- ``body_result_arrays`` -- and binned with numpy. Ping
bodies (most of the volume: one result per probe every 240 s) are read straight
from the JSON text when that is certain (each result's keys found exactly once),
which skips building millions of Python objects; anything else is parsed
(orjson when installed, else json). The tests hold the text reader to the
parser's answers.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

try:                        # optional: parses the same JSON 2-3x faster
    import orjson as _fastjson
except ImportError:         # pragma: no cover - depends on the environment
    _fastjson = None

from shutdown.schema import ATLAS_PROBE_CLASSES, TIDY_COLUMNS, check_tidy, empty_tidy

UNIT = "probes"          # every RIPE Atlas signal counts probes (per bin)

BIN = "1h"
BIN_SECONDS = 3600

# Probes that sit in datacentres or network cores rather than behind a user's
# line. "system-anchor" is the system tag of anchors (also flagged by
# ``is_anchor``); the rest are user tags hosts put on such probes (RIPE Atlas
# tags are free-form, so the common spellings are listed).
INFRA_TAGS = frozenset({
    "system-anchor", "datacentre", "datacenter", "data-centre", "data-center",
    "colocation", "colo", "core", "backbone", "ixp", "hosting",
})

CONNECTED = "connected"
GONE = frozenset({"disconnected", "abandoned", "written off"})


# -- probe metadata --------------------------------------------------------------------
def tag_slugs(probe: dict) -> list[str]:
    out = []
    for t in probe.get("tags") or []:
        if isinstance(t, dict):
            s = t.get("slug") or t.get("name")
        else:
            s = t
        if s:
            out.append(str(s).lower())
    return out


def infrastructure_tags(probe: dict) -> list[str]:
    return [s for s in tag_slugs(probe) if s in INFRA_TAGS]


def is_infrastructure(probe: dict) -> bool:
    """Anchors and probes tagged as datacentre/core/IXP: not an end user's line."""
    anchor = probe.get("is_anchor")
    if anchor is True or (isinstance(anchor, str) and anchor.lower() == "true"):
        return True
    return bool(infrastructure_tags(probe))


def status_name(probe: dict) -> str:
    st = probe.get("status")
    if isinstance(st, dict):
        return str(st.get("name") or "").lower()
    return str(probe.get("status_name") or "").lower()


def status_since(probe: dict) -> pd.Timestamp | None:
    st = probe.get("status")
    since = _ts(probe.get("status_since"))
    if since is None and isinstance(st, dict):
        since = _ts(st.get("since"))
    return since


def active_in_window(probe: dict, start, end) -> bool:
    """Can the probe have been connected at some time in ``[start, end)``?

    Not if it first connected after the window, never connected, or has been
    disconnected/abandoned since before the window (its status would have
    changed had it come back).
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    first = _ts(probe.get("first_connected"))
    if first is None or first >= end:
        return False
    name = status_name(probe)
    if name == "never connected":
        return False
    since = status_since(probe)
    if name in GONE and since is not None and since < start:
        return False
    return True


def probe_location(probe: dict) -> tuple[float, float] | None:
    """(lat, lon) of a probe's ``geometry`` (GeoJSON Point, ``coordinates`` =
    [lon, lat]); None when the listing gives none. RIPE Atlas moves every
    published location by a random 80-400 m (privacy), so a circle's edge is
    only that precise."""
    g = probe.get("geometry")
    c = g.get("coordinates") if isinstance(g, dict) and g.get("type") == "Point" else None
    if not isinstance(c, (list, tuple)) or len(c) < 2:
        return None
    try:
        lon, lat = float(c[0]), float(c[1])
    except (TypeError, ValueError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def distance_km(lat, lon, lat0: float, lon0: float) -> np.ndarray:
    """Great-circle distance (haversine, mean Earth radius 6371 km) from (lat0, lon0)."""
    lat, lon = np.radians(np.asarray(lat, dtype="float64")), np.radians(np.asarray(lon, dtype="float64"))
    p0, l0 = math.radians(lat0), math.radians(lon0)
    a = np.sin((lat - p0) / 2) ** 2 + np.cos(lat) * math.cos(p0) * np.sin((lon - l0) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def probes_in_region(meta: pd.DataFrame, region) -> pd.Series:
    """Ids of the probes of ``meta`` inside the region's circle (``center``,
    ``radius_km``); empty when the region has no circle or a probe no location."""
    center, radius = getattr(region, "center", None), getattr(region, "radius_km", None)
    if center is None or radius is None or meta.empty or "latitude" not in meta:
        return meta["probe_id"].iloc[:0]
    d = distance_km(meta["latitude"], meta["longitude"], center[0], center[1])
    return meta.loc[np.nan_to_num(d, nan=np.inf) <= radius, "probe_id"]


def probe_frame(probes: list[dict]) -> pd.DataFrame:
    """One row per probe: probe_id, asn (v4, else v6), asn_v4, asn_v6,
    country_code, is_anchor, is_infrastructure, tags, status, status_since,
    first_connected, last_connected, latitude, longitude (NaN without geometry)."""
    rows = []
    for p in probes:
        asn4, asn6 = _int(p.get("asn_v4")), _int(p.get("asn_v6"))
        anchor = p.get("is_anchor")
        loc = probe_location(p)
        rows.append({
            "probe_id": int(p["id"]),
            "asn": asn4 if asn4 is not None else asn6,
            "asn_v4": asn4, "asn_v6": asn6,
            "country_code": p.get("country_code"),
            "is_anchor": anchor is True or (isinstance(anchor, str) and anchor.lower() == "true"),
            "is_infrastructure": is_infrastructure(p),
            "tags": ",".join(tag_slugs(p)),
            "status": status_name(p),
            "status_since": status_since(p),
            "first_connected": _ts(p.get("first_connected")),
            "last_connected": _ts(p.get("last_connected")),
            "latitude": loc[0] if loc else math.nan,
            "longitude": loc[1] if loc else math.nan,
        })
    cols = ["probe_id", "asn", "asn_v4", "asn_v6", "country_code", "is_anchor",
            "is_infrastructure", "tags", "status", "status_since", "first_connected",
            "last_connected", "latitude", "longitude"]
    df = pd.DataFrame(rows, columns=cols).drop_duplicates("probe_id")
    df["probe_id"] = df["probe_id"].astype("int64")
    for c in ("asn", "asn_v4", "asn_v6"):
        df[c] = df[c].astype("Int64")
    for c in ("is_anchor", "is_infrastructure"):
        df[c] = df[c].astype("bool")
    for c in ("status_since", "first_connected", "last_connected"):
        df[c] = pd.to_datetime(df[c], utc=True)
    for c in ("latitude", "longitude"):
        df[c] = df[c].astype("float64")
    return df.sort_values("probe_id").reset_index(drop=True)


# -- results -> per-probe bins ------------------------------------------------------------
def result_reachable(result: dict) -> bool:
    """Did this built-in result reach its target? sagan's notion, on the raw dict
    (ripe.atlas.sagan 242bd920: ``PingResult.packets_received`` is ``int(rcvd)``,
    so old firmware's ``"rcvd": "3"`` counts; ``TracerouteResult.destination_ip_responded``
    looks for ``dst_addr`` among the last hop's packets, and packets that carry
    ``late`` are not packets there)."""
    kind = result.get("type")
    if kind == "ping":
        return (_int(result.get("rcvd")) or 0) > 0
    if kind == "traceroute":
        dst = result.get("dst_addr")
        hops = result.get("result")
        if dst is None or not isinstance(hops, list) or not hops or not isinstance(hops[-1], dict):
            return False
        last = hops[-1].get("result")
        if not isinstance(last, list):
            return False
        dst = str(dst)
        return any(isinstance(pk, dict) and "late" not in pk and pk.get("from") is not None
                   and str(pk["from"]) == dst for pk in last)
    return False


@dataclass
class ResultArrays:
    """What reachability needs of a batch of results, one array entry per result:
    probe id (-1 when unusable), timestamp (NaN when unusable), reached its target."""
    prb_id: np.ndarray
    timestamp: np.ndarray
    reachable: np.ndarray

    def __len__(self) -> int:
        return len(self.prb_id)

    @classmethod
    def concat(cls, parts) -> "ResultArrays":
        parts = list(parts)
        if not parts:
            return cls(np.empty(0, "int64"), np.empty(0, "float64"), np.empty(0, bool))
        return cls(np.concatenate([p.prb_id for p in parts]),
                   np.concatenate([p.timestamp for p in parts]),
                   np.concatenate([p.reachable for p in parts]))


# A result's time is epoch seconds of RIPE Atlas' life (it started in 2010); a probe id a
# positive int64. Anything else (1e300, a negative time, text) is unreadable: left out, counted.
MIN_EPOCH, MAX_EPOCH = 1_262_304_000, 4_102_444_800      # 2010-01-01 .. 2100-01-01 UTC
MAX_PROBE_ID = 2 ** 53


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _probe_id(v) -> int:
    return int(v) if _num(v) and v == v and 0 < v < MAX_PROBE_ID and v == int(v) else -1


def _epoch_or_nan(v) -> float:
    return float(v) if _num(v) and MIN_EPOCH <= v < MAX_EPOCH else np.nan


def _sane(arr: ResultArrays) -> ResultArrays:
    """Probe ids and times out of range marked unusable (-1, NaN), whichever path read them."""
    bad_ts = ~((arr.timestamp >= MIN_EPOCH) & (arr.timestamp < MAX_EPOCH))
    arr.timestamp[bad_ts] = np.nan
    arr.prb_id[arr.prb_id <= 0] = -1
    return arr


def result_arrays(results) -> ResultArrays:
    """Parsed results (dicts) -> ResultArrays."""
    results = results if isinstance(results, list) else list(results)
    pid = [r.get("prb_id") for r in results]
    ts = [r.get("timestamp") for r in results]
    return ResultArrays(
        np.array([_probe_id(p) for p in pid], dtype="int64"),
        np.array([_epoch_or_nan(t) for t in ts], dtype="float64"),
        np.array([result_reachable(r) for r in results], dtype=bool))


def loads(body: bytes):
    """JSON text -> Python objects (orjson when installed: same result, faster)."""
    return _fastjson.loads(body) if _fastjson is not None else json.loads(body)


# The built-in ping's results carry each of these keys once, at the top level of
# the result object (the packets are {"rtt"}, {"x"}, {"error"}, ...), and a key
# never appears unescaped inside a JSON string. So the n-th match of each belongs to
# the n-th result, and reading them straight from the text skips building ~25
# Python objects per result (most of normalize's time). Any doubt -- counts that
# differ, another result type -- falls back to the full parse.
_PRB = re.compile(rb'"prb_id"\s*:\s*(-?\d+)\s*[,}]')
_TS = re.compile(rb'"timestamp"\s*:\s*(-?\d+(?:\.\d+)?)\s*[,}]')
_RCVD = re.compile(rb'"rcvd"\s*:\s*(-?\d+)\s*[,}]')      # a quoted "3" (old firmware) does not match: parsed
_TYPE = re.compile(rb'"type"\s*:\s*"([a-z_]+)"')


def _ping_arrays_fast(body: bytes) -> ResultArrays | None:
    text = body.strip()
    if not (text.startswith(b"[") and text.endswith(b"]")):
        return None
    first = _TYPE.search(text)
    if first is not None and first.group(1) != b"ping":
        return None                       # a traceroute body: parse it
    types = _TYPE.findall(text)
    if any(t != b"ping" for t in types):
        return None
    pid, ts, rcvd = _PRB.findall(text), _TS.findall(text), _RCVD.findall(text)
    if not (len(pid) == len(ts) == len(rcvd) == len(types)):
        return None
    if not pid:
        return None if text[1:-1].strip() else ResultArrays.concat([])
    if any(len(p) > 15 for p in pid) or any(len(r) > 15 for r in rcvd):
        return None                       # an id or count past int64: the careful parse
    return _sane(ResultArrays(np.array(pid).astype("int64"), np.array(ts).astype("float64"),
                              np.array(rcvd).astype("int64") > 0))


def body_result_arrays(body: bytes) -> tuple[ResultArrays, list | None]:
    """A cached results body -> (ResultArrays, the parsed list or None).

    Ping bodies are read with the text fast path when it is certain; anything else
    (traceroutes: ~1/8 of the results, whose last hop needs real parsing) is parsed,
    and the parsed list comes back so the caller can check it."""
    fast = _ping_arrays_fast(body)
    if fast is not None:
        return fast, None
    obj = loads(body)
    if not isinstance(obj, list) or any(not isinstance(r, dict) for r in obj):
        return ResultArrays.concat([]), obj
    return result_arrays(obj), obj


def probe_bins(results, meta: pd.DataFrame, start, end) -> pd.DataFrame:
    """Per probe and hour with at least one result: probe_id, asn,
    is_infrastructure, ts_utc, reachable (any result in the hour reached its target).

    ``results``: result dicts, or ResultArrays (see ``body_result_arrays``).
    Results of probes not in ``meta`` or outside ``[start, end)`` are dropped;
    duplicates (overlapping requests) do not count twice.
    """
    if isinstance(results, ResultArrays):
        arr = results
    elif isinstance(results, (list, tuple)) and results and all(isinstance(r, ResultArrays) for r in results):
        arr = ResultArrays.concat(results)
    else:
        arr = result_arrays(results)
    lo, hi = _epoch(start), _epoch(end)
    ts = arr.timestamp
    keep = np.isin(arr.prb_id, meta["probe_id"].to_numpy()) & (ts >= lo) & (ts < hi)
    pid = arr.prb_id[keep]
    hour = (np.floor(ts[keep] / BIN_SECONDS) * BIN_SECONDS).astype("int64")
    ok = arr.reachable[keep]
    if not len(pid):
        return _probe_rows({}, {}, {}, "reachable")
    # one row per (probe, hour), True when any result reached: sort, then reduce runs
    order = np.lexsort((hour, pid))
    pid, hour, ok = pid[order], hour[order], ok[order]
    first = np.ones(len(pid), dtype=bool)
    first[1:] = (pid[1:] != pid[:-1]) | (hour[1:] != hour[:-1])
    starts = np.flatnonzero(first)
    any_ok = np.maximum.reduceat(ok.astype("int8"), starts).astype(bool)
    return _probe_frame(pid[starts], hour[starts], any_ok, meta, "reachable")


# -- connection events -> per-probe bins ---------------------------------------------------
def connection_intervals(probe: pd.Series | dict, events: list[tuple[int, str]],
                         start, end) -> list[tuple[int, int]]:
    """Connected intervals (epoch seconds) of one probe within ``[start, end)``.

    ``events`` are (timestamp, "connect"|"disconnect") of msm 7000 for this probe.
    The state at ``start`` is the last event before it, else the opposite of the
    first event inside; a probe with no event at all keeps the state its
    ``status``/``status.since`` give (connected since, or connected until).
    """
    lo, hi = _epoch(start), _epoch(end)
    evs = sorted((int(t), e) for t, e in events if e in ("connect", "disconnect"))
    before = [e for t, e in evs if t < lo]
    inside = [(t, e) for t, e in evs if lo <= t < hi]
    if evs:
        if before:
            state = before[-1] == "connect"
        else:
            state = inside[0][1] == "disconnect"
        out, cur = [], (lo if state else None)
        for t, e in inside:
            if e == "connect" and cur is None:
                cur = t
            elif e == "disconnect" and cur is not None:
                out.append((cur, t))
                cur = None
        if cur is not None:
            out.append((cur, hi))
        return out
    get = probe.get
    name = str(get("status") or "").lower()
    since = _ts(get("status_since"))
    first = _ts(get("first_connected"))
    f = _epoch(first) if first is not None else None
    s = _epoch(since) if since is not None else None
    if f is None:
        return []
    if name == CONNECTED:
        a, b = max(f, s if s is not None else f), hi
    elif name in GONE:
        a, b = f, (s if s is not None else f)
    else:
        return []
    a, b = max(a, lo), min(b, hi)
    return [(a, b)] if a < b else []


def connection_bins(meta: pd.DataFrame, events: list[dict], start, end) -> pd.DataFrame:
    """Per probe and hour in which the probe was connected at some moment:
    probe_id, asn, is_infrastructure, ts_utc, connected (always True)."""
    by_probe: dict[int, list] = {}
    for ev in events:
        pid, ts, what = ev.get("prb_id"), ev.get("timestamp"), ev.get("event")
        if isinstance(ts, (int, float)) and what in ("connect", "disconnect"):
            by_probe.setdefault(pid, []).append((ts, what))
    asn = dict(zip(meta["probe_id"], meta["asn"]))
    infra = dict(zip(meta["probe_id"], meta["is_infrastructure"]))
    acc: dict[tuple[int, int], bool] = {}
    hi = _epoch(end)
    for rec in meta.to_dict("records"):
        pid = rec["probe_id"]
        for a, b in connection_intervals(rec, by_probe.get(pid, []), start, end):
            k = int(a // BIN_SECONDS) * BIN_SECONDS
            while k < max(b, a + 1) and k < hi:
                acc[(pid, k)] = True
                k += BIN_SECONDS
    return _probe_rows(acc, asn, infra, "connected")


# -- per-probe bins -> tidy --------------------------------------------------------------
def tidy_from_bins(case, meta: pd.DataFrame, bins: pd.DataFrame, conn: pd.DataFrame,
                   simulated: bool = False) -> pd.DataFrame:
    """Counts of probes per hour for the country, each case network with
    probes and each case region whose circle holds probes, per probe class. Every hour of the fetch window gets a row (zero is
    a measurement here: probes that stop reporting are the signal); a class
    with no probe in an entity gets no rows (nothing could be measured)."""
    start, end = case.fetch_utc
    hours = pd.date_range(pd.Timestamp(start).floor(BIN), pd.Timestamp(end), freq=BIN,
                          inclusive="left")
    entities = [("country", case.country, meta["probe_id"])]
    for n in case.networks:
        ids = meta.loc[meta["asn"] == n.asn, "probe_id"]
        if len(ids):
            entities.append(("asn", str(n.asn), ids))
    for r in case.regions:            # located probes inside the region's circle
        ids = probes_in_region(meta, r)
        if len(ids):
            entities.append(("region", r.name, ids))
    frames = []
    for etype, code, ids in entities:
        for subtype in ATLAS_PROBE_CLASSES:
            want = meta["probe_id"].isin(ids) & (meta["is_infrastructure"] == (subtype == "infrastructure"))
            pset = set(meta.loc[want, "probe_id"])
            if not pset:
                continue
            b = bins[bins["probe_id"].isin(pset)]
            c = conn[conn["probe_id"].isin(pset)]
            series = {
                "probes_reporting": b.groupby("ts_utc")["probe_id"].nunique(),
                "probes_reachable": b[b["reachable"]].groupby("ts_utc")["probe_id"].nunique(),
                "probes_connected": c.groupby("ts_utc")["probe_id"].nunique(),
            }
            for signal, s in series.items():
                vals = s.reindex(hours, fill_value=0).astype("float64")
                frames.append(pd.DataFrame({
                    "source": "atlas", "entity_type": etype, "entity_code": code,
                    "signal": signal, "subtype": subtype, "ts_utc": hours,
                    "value": vals.to_numpy(), "unit": UNIT,
                    "simulated": bool(simulated)}))
    if not frames:
        return empty_tidy()
    return check_tidy(pd.concat(frames, ignore_index=True)[TIDY_COLUMNS])


# -- helpers -----------------------------------------------------------------------------
def _probe_frame(pid: np.ndarray, hour: np.ndarray, flag_values: np.ndarray, meta: pd.DataFrame,
                 flag: str) -> pd.DataFrame:
    m = meta.drop_duplicates("probe_id").set_index("probe_id")
    return pd.DataFrame({
        "probe_id": pd.Series(pid, dtype="int64"),
        "asn": pd.Series(m["asn"].reindex(pid).to_numpy(), dtype="Int64"),
        "is_infrastructure": pd.Series(m["is_infrastructure"].reindex(pid).to_numpy(), dtype="bool"),
        "ts_utc": pd.to_datetime(hour, unit="s", utc=True).astype("datetime64[ns, UTC]"),
        flag: pd.Series(flag_values, dtype="bool"),
    })


def _probe_rows(acc: dict, asn: dict, infra: dict, flag: str) -> pd.DataFrame:
    if not acc:
        return pd.DataFrame({"probe_id": pd.Series(dtype="int64"), "asn": pd.Series(dtype="Int64"),
                             "is_infrastructure": pd.Series(dtype="bool"),
                             "ts_utc": pd.Series(dtype="datetime64[ns, UTC]"),
                             flag: pd.Series(dtype="bool")})
    keys = sorted(acc)
    pids = [k[0] for k in keys]
    return pd.DataFrame({
        "probe_id": pd.Series(pids, dtype="int64"),
        "asn": pd.Series([asn[p] for p in pids], dtype="Int64"),
        "is_infrastructure": pd.Series([bool(infra[p]) for p in pids], dtype="bool"),
        "ts_utc": pd.to_datetime([k[1] for k in keys], unit="s", utc=True).astype("datetime64[ns, UTC]"),
        flag: pd.Series([acc[k] for k in keys], dtype="bool"),
    })


def _ts(v) -> pd.Timestamp | None:
    """A timestamp from epoch seconds or an ISO string; None when absent/unreadable."""
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v if v.tzinfo else v.tz_localize("UTC")
    try:
        if isinstance(v, bool):
            return None
        if isinstance(v, (int, float)):
            return pd.Timestamp(int(v), unit="s", tz="UTC")
        t = pd.Timestamp(str(v))
        return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    except (ValueError, TypeError, OverflowError):
        return None


def _epoch(ts) -> int:
    return int(pd.Timestamp(ts).timestamp())


def _int(v):
    """A whole number in 0..2**32 (an ASN, a packet count), else None (absent, text, 1e19)."""
    try:
        n = int(v) if v is not None and not isinstance(v, bool) else None
    except (TypeError, ValueError, OverflowError):
        return None
    return n if n is None or 0 <= n < 2 ** 32 else None
