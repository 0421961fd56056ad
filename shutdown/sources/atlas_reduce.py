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
"""
from __future__ import annotations

import math

import pandas as pd

from shutdown.schema import ATLAS_PROBE_CLASSES, SIGNALS, TIDY_COLUMNS, check_tidy, empty_tidy

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


def probe_frame(probes: list[dict]) -> pd.DataFrame:
    """One row per probe: probe_id, asn (v4, else v6), asn_v4, asn_v6,
    country_code, is_anchor, is_infrastructure, tags, status, status_since,
    first_connected, last_connected."""
    rows = []
    for p in probes:
        asn4, asn6 = _int(p.get("asn_v4")), _int(p.get("asn_v6"))
        anchor = p.get("is_anchor")
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
        })
    cols = ["probe_id", "asn", "asn_v4", "asn_v6", "country_code", "is_anchor",
            "is_infrastructure", "tags", "status", "status_since", "first_connected",
            "last_connected"]
    df = pd.DataFrame(rows, columns=cols).drop_duplicates("probe_id")
    df["probe_id"] = df["probe_id"].astype("int64")
    for c in ("asn", "asn_v4", "asn_v6"):
        df[c] = df[c].astype("Int64")
    for c in ("is_anchor", "is_infrastructure"):
        df[c] = df[c].astype("bool")
    for c in ("status_since", "first_connected", "last_connected"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df.sort_values("probe_id").reset_index(drop=True)


# -- results -> per-probe bins ------------------------------------------------------------
def result_reachable(result: dict) -> bool:
    """Did this built-in result reach its target? (sagan's notion, on the raw dict.)"""
    kind = result.get("type")
    if kind == "ping":
        rcvd = result.get("rcvd")
        return isinstance(rcvd, (int, float)) and rcvd > 0
    if kind == "traceroute":
        dst = result.get("dst_addr")
        hops = result.get("result")
        if not dst or not isinstance(hops, list) or not hops or not isinstance(hops[-1], dict):
            return False
        last = hops[-1].get("result")
        if not isinstance(last, list):
            return False
        return any(isinstance(pk, dict) and pk.get("from") == dst for pk in last)
    return False


def probe_bins(results, meta: pd.DataFrame, start, end) -> pd.DataFrame:
    """Per probe and hour with at least one result: probe_id, asn,
    is_infrastructure, ts_utc, reachable (any result in the hour reached its target).

    Results of probes not in ``meta`` or outside ``[start, end)`` are dropped;
    duplicates (overlapping requests) do not count twice.
    """
    asn = dict(zip(meta["probe_id"], meta["asn"]))
    infra = dict(zip(meta["probe_id"], meta["is_infrastructure"]))
    lo, hi = _epoch(start), _epoch(end)
    acc: dict[tuple[int, int], bool] = {}
    for r in results:
        pid, ts = r.get("prb_id"), r.get("timestamp")
        if pid not in asn or not isinstance(ts, (int, float)) or not lo <= ts < hi:
            continue
        key = (pid, int(ts // BIN_SECONDS) * BIN_SECONDS)
        if acc.get(key):
            continue
        acc[key] = result_reachable(r)
    return _probe_rows(acc, asn, infra, "reachable")


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
    """Counts of probes per hour for the country and each case network with
    probes, per probe class. Every hour of the fetch window gets a row (zero is
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
                    "value": vals.to_numpy(), "unit": SIGNALS[("atlas", signal)][0],
                    "simulated": bool(simulated)}))
    if not frames:
        return empty_tidy()
    return check_tidy(pd.concat(frames, ignore_index=True)[TIDY_COLUMNS])


# -- helpers -----------------------------------------------------------------------------
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
    try:
        return int(v) if v is not None and not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None
