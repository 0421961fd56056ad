"""RIPE Atlas API v2 answers: probe listing pages and built-in measurement results.

Shapes: the probe object of the REST API manual (``id``, ``asn_v4``, ``asn_v6``,
``country_code``, ``is_anchor``, ``is_public``, ``status`` {id, name, since},
``status_since``, ``first_connected``, ``last_connected``, ``tags`` [{name,
slug}], ``address_v4``, ``prefix_v4``, ``geometry`` GeoJSON point, ...) inside a
paginated ``{count, next, previous, results}``; results in the measurement
result format (firmware 5000+ structure, as ``ripe.atlas.sagan`` parses it):
ping (msm 1001) with ``sent``/``rcvd``/``min``/``avg``/``max`` (-1 when no
reply) and per-packet ``{"rtt": ...}`` or ``{"x": "*"}``; traceroute (msm 5001)
with ``result`` a list of hops ``{"hop", "result": [{"from", "ttl", "size",
"rtt"} | {"x": "*"}]}``; connection events (msm 7000) ``{"prb_id", "timestamp",
"type": "connection", "event": "connect"|"disconnect", ...}``.

A probe whose uplink is cut keeps measuring and uploads the buffered results
when it reconnects, so a cut shows as failed pings and unfinished traceroutes
(and as disconnect/connect events), not as missing results. Addresses are from
the documentation ranges (RFC 5737), since no real address is meant.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from shutdown.simulation.world import PING_INTERVAL, TRACE_INTERVAL, Probe, World

K_ROOT = "193.0.14.129"
FW = 5020
STATUS_IDS = {"Never Connected": 0, "Connected": 1, "Disconnected": 2, "Abandoned": 3}
ATLAS_URL = "https://atlas.ripe.net"


def _iso(epoch: int) -> str:
    return pd.Timestamp(int(epoch), unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def probe_object(world: World, p: Probe) -> dict:
    tags = ([{"name": "system: Anchor", "slug": "system-anchor"}] if p.anchor else []) + \
        ([{"name": "Datacentre", "slug": "datacentre"}] if p.infrastructure and not p.anchor else []) + \
        ([] if p.infrastructure else [{"name": "Home", "slug": "home"}, {"name": "NAT", "slug": "nat"}]) + \
        [{"name": "system: IPv4 Works", "slug": "system-ipv4-works"},
         {"name": "system: V3", "slug": "system-v3"}]
    since = p.status_since or p.first_connected
    return {
        "address_v4": p.address, "address_v6": None, "asn_v4": p.asn, "asn_v6": None,
        "country_code": world.case.country,
        "description": f"SIMULATED probe {p.id} ({'anchor' if p.anchor else p.probe_class})",
        "first_connected": p.first_connected, "geometry": {
            "type": "Point", "coordinates": [round(p.lon, 4), round(p.lat, 4)]},
        "id": p.id, "is_anchor": p.anchor, "is_public": True,
        "last_connected": world.fetched_epoch if p.status == "Connected" else since,
        "prefix_v4": p.address.rsplit(".", 1)[0] + ".0/24", "prefix_v6": None,
        "status": {"id": STATUS_IDS[p.status], "name": p.status, "since": _iso(since)},
        "status_since": since, "tags": tags, "total_uptime": max(world.fetched_epoch - p.first_connected, 0),
        "type": "Probe",
    }


def probes(world: World, path: str, params: dict):
    cc = params.get("country_code")
    asn = params.get("asn_v4") or params.get("asn")
    sel = [p for p in world.probes if (not cc or cc.upper() == world.case.country)
           and (not asn or str(p.asn) == str(asn))]
    if params.get("id__in"):
        ids = {int(i) for i in str(params["id__in"]).split(",") if i}
        sel = [p for p in sel if p.id in ids]
    size = int(params.get("page_size") or 100)
    page = int(params.get("page") or 1)
    chunk = sel[(page - 1) * size: page * size]

    def link(n):
        q = {k: v for k, v in params.items() if k != "page"}
        if n > 1:
            q["page"] = n
        return f"{ATLAS_URL}{path}?{urlencode(sorted(q.items()))}"

    return {"count": len(sel), "next": link(page + 1) if page * size < len(sel) else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": [probe_object(world, p) for p in chunk]}


def _times(phase: int, interval: int, lo: int, hi: int) -> np.ndarray:
    first = lo + ((phase - lo) % interval)
    return np.arange(first, hi + 1, interval, dtype="int64")


def _lts(p: Probe, t: np.ndarray, rng) -> np.ndarray:
    """Seconds since the probe last synchronised with a controller: grows while cut off."""
    a, _ = p.down
    base = rng.integers(5, 60, len(t))
    if not len(a):
        return base
    i = np.searchsorted(a, t, side="right") - 1
    down = p.is_down(t)
    since = t - a[np.maximum(i, 0)]
    return np.where(down, since.astype("int64") + base, base)


# Results are written as JSON text from templates: a case has ~10^5-10^6 results and
# building a dict per result, then json.dumps, costs far more than the rest of the
# simulation. The templates give exactly what json.dumps(separators=(",", ":")) gives
# for the same fields, in the same order (the tests parse them back).
_PING_UP = ('{"fw":%d,"lts":%%d,"dst_name":"%s","af":4,"dst_addr":"%s","src_addr":"%%s",'
            '"proto":"ICMP","ttl":55,"size":48,"result":[{"rtt":%%s},{"rtt":%%s},{"rtt":%%s}],'
            '"min":%%s,"max":%%s,"avg":%%s,"dup":0,"rcvd":3,"sent":3,"prb_id":%%d,'
            '"timestamp":%%d,"msm_name":"Ping","from":"%%s","type":"ping",'
            '"step":%d,"msm_id":1001}') % (FW, K_ROOT, K_ROOT, PING_INTERVAL)
_PING_DOWN = ('{"fw":%d,"lts":%%d,"dst_name":"%s","af":4,"dst_addr":"%s","src_addr":"%%s",'
              '"proto":"ICMP","size":48,"result":[{"x":"*"},{"x":"*"},{"x":"*"}],'
              '"min":-1,"max":-1,"avg":-1,"dup":0,"rcvd":0,"sent":3,"prb_id":%%d,'
              '"timestamp":%%d,"msm_name":"Ping","from":"%%s","type":"ping",'
              '"step":%d,"msm_id":1001}') % (FW, K_ROOT, K_ROOT, PING_INTERVAL)
_STARS = '[{"x":"*"},{"x":"*"},{"x":"*"}]'
_HOP = '{"hop":%d,"result":[{"from":"%s","ttl":%d,"size":%d,"rtt":%.3f},' \
       '{"from":"%s","ttl":%d,"size":%d,"rtt":%.3f},{"from":"%s","ttl":%d,"size":%d,"rtt":%.3f}]}'
_TRACE = ('{"fw":%d,"lts":%%d,"endtime":%%d,"dst_name":"%s","dst_addr":"%s","src_addr":"%%s",'
          '"proto":"ICMP","af":4,"size":48,"paris_id":%%d,"result":[%%s],"msm_id":5001,'
          '"prb_id":%%d,"timestamp":%%d,"msm_name":"Traceroute","from":"%%s","type":"traceroute"}'
          ) % (FW, K_ROOT, K_ROOT)


def _src(p: Probe) -> str:
    return p.address if p.infrastructure else "192.168.1.%d" % (p.id % 200 + 2)


def _hop(h, addr, ttl, size, rtts) -> str:
    return _HOP % (h, addr, ttl, size, rtts[0], addr, ttl, size, rtts[1], addr, ttl, size, rtts[2])


def _pings(p: Probe, ts, down, lts, rtt) -> list[tuple[int, int, str]]:
    src, frm = _src(p), p.address
    rtt = np.round(rtt, 3)
    # Format each number once: min and max are two of the three RTTs (float formatting
    # is most of the cost of a case's ~10^5 pings).
    txt = ["%.3f" % x for x in rtt.ravel().tolist()]
    avg = ["%.3f" % x for x in np.round(rtt.mean(axis=1), 3).tolist()]
    imin, imax = rtt.argmin(axis=1).tolist(), rtt.argmax(axis=1).tolist()
    ts, down, lts = ts.tolist(), down.tolist(), lts.tolist()
    out = []
    for k in range(len(ts)):
        t = ts[k]
        if down[k]:
            out.append((t, p.id, _PING_DOWN % (lts[k], src, p.id, t, frm)))
        else:
            r = txt[3 * k: 3 * k + 3]
            out.append((t, p.id, _PING_UP % (lts[k], src, r[0], r[1], r[2], r[imin[k]], r[imax[k]],
                                              avg[k], p.id, t, frm)))
    return out


def _traces(p: Probe, ts, down, lts, rtt) -> list[tuple[int, int, str]]:
    src, frm = _src(p), p.address
    gw = "192.168.1.1" if not p.infrastructure else "10.0.0.1"
    first = _hop(1, gw, 64, 76, (0.5, 0.6, 0.7))
    stars = ",".join('{"hop":%d,"result":%s}' % (h, _STARS) for h in (2, 3, 4, 5, 6, 255))
    mids = [f"10.{p.asn % 250}.{h}.1" for h in range(2, 5)]
    ts, down, lts, base_rtt = ts.tolist(), down.tolist(), lts.tolist(), rtt[:, 0].tolist()
    out = []
    for k in range(len(ts)):
        t, base = ts[k], base_rtt[k]
        if down[k]:
            hops, end = first + "," + stars, t + 60
        else:
            hops = ",".join([first] + [_hop(h, a, 65 - h, 76, (base * h / 6, base * h / 6 + .2,
                                                                base * h / 6 + .4))
                                       for h, a in enumerate(mids, start=2)]
                            + [_hop(5, K_ROOT, 52, 48, (base, base + .3, base + .6))])
            end = t + 4
        out.append((t, p.id, _TRACE % (lts[k], end, src, t // TRACE_INTERVAL % 16 + 1, hops,
                                       p.id, t, frm)))
    return out


def _connections(world: World, p: Probe, lo: int, hi: int) -> list[dict]:
    """Controller-side events: a disconnect a minute or so after the uplink drops,
    a connect shortly after it returns (blips under two minutes go unnoticed)."""
    rng = world.rng("atlas", "conn", p.id)
    a, b = p.down
    out = []
    for s, e in zip(a, b):
        if e - s < 120:
            continue
        d = int(s + 60 + rng.integers(0, 120))
        c = int(e + 10 + rng.integers(0, 50))
        for ts, ev in ((d, "disconnect"), (c, "connect")):
            if lo <= ts <= hi:
                # the public msm 7000 sample: asn a string, no fw
                out.append({"asn": str(p.asn), "controller": "ctr-sim01", "event": ev, "msm_id": 7000,
                            "prb_id": p.id, "prefix": p.address.rsplit(".", 1)[0] + ".0/24",
                            "timestamp": ts, "type": "connection"})
    return out


def results(world: World, path: str, params: dict) -> bytes:
    """The JSON list of results of one built-in measurement, as text."""
    msm = int(path.strip("/").split("/")[3])
    lo, hi = int(params["start"]), int(params["stop"])         # both inclusive upstream
    ids = {int(i) for i in str(params.get("probe_ids", "")).split(",") if i}
    missing = world.atlas_missing()
    items: list[tuple[int, int, str]] = []
    for p in world.probes:
        if (ids and p.id not in ids) or p.status != "Connected":
            continue
        if msm == 7000:
            items.extend((e["timestamp"], p.id, json.dumps(e, separators=(",", ":")))
                         for e in _connections(world, p, lo, hi))
            continue
        rng = world.rng("atlas", "results", msm, p.id, lo)
        interval, phase = (PING_INTERVAL, p.phase_ping) if msm == 1001 else (TRACE_INTERVAL, p.phase_trace)
        ts = _times(phase, interval, lo, hi)
        if not len(ts):
            continue
        down = p.is_down(ts.astype("float64"))
        lts = _lts(p, ts.astype("float64"), rng)
        keep = rng.random(len(ts)) >= missing
        rtt = p.rtt + rng.exponential(2.0, (len(ts), 3))
        ts, down, lts, rtt = ts[keep], down[keep], lts[keep], rtt[keep]
        items.extend((_pings if msm == 1001 else _traces)(p, ts, down, lts, rtt))
    items.sort()            # by (timestamp, probe id); the pair is unique, so text never compares
    return ("[" + ",".join(x[2] for x in items) + "]").encode()


def render(world: World, path: str, params: dict) -> tuple[int, bytes]:
    if path.startswith("/api/v2/probes"):
        return 200, json.dumps(probes(world, path, params), separators=(",", ":")).encode()
    parts = path.strip("/").split("/")
    if len(parts) >= 5 and parts[:3] == ["api", "v2", "measurements"] and parts[4] == "results":
        if int(parts[3]) not in (1001, 5001, 7000):
            raise ValueError(f"the simulator only knows built-in measurements 1001/5001/7000, not {parts[3]}")
        return 200, results(world, path, params)
    raise ValueError(f"the simulator does not know RIPE Atlas path {path!r}")


__all__ = ["render", "probe_object"]
