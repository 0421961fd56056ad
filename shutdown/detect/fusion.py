"""Fused view per entity: the periods when independent sources agree it is down.

"Independent" means a different way of measuring, not a different upstream
server: IODA's BGP (control plane), active probing (ICMP to /24 blocks),
telescope (unsolicited traffic) and Google traffic are four methods; OONI
(volume of tests run by volunteers) is one; RIPE Atlas (probes inside the
country) is one. Several series of one family (Atlas end-user and infrastructure
shares) count once. IODA does the same in spirit when it multiplies per-source
alert areas into one score: agreement of methods weighs more than any one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.schema import INTERVAL_COLUMNS

FUSED_COLUMNS = INTERVAL_COLUMNS + ["n_sources", "sources"]


def family(source: str, signal: str) -> str:
    """The independent measurement method a (source, signal) belongs to: as the source
    declares it (``shutdown.sources.registry``), else the source itself."""
    from shutdown.sources import registry
    sig = registry.signal(source, signal)
    return sig.family if sig is not None else str(source)


def _union(spans: list[tuple]) -> list[list]:
    out = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def fuse(intervals: pd.DataFrame, min_sources: int = 2) -> pd.DataFrame:
    """One row per entity and period where at least ``min_sources`` families are down.

    ``depth`` is the median depth of the contributing intervals; ``kind`` is full
    when most of them are full; ``sources`` lists the families that agree.
    """
    cols = FUSED_COLUMNS
    if intervals is None or len(intervals) == 0:
        return _empty(cols)
    down = intervals[intervals["direction"] == "down"]
    by_entity: dict = {}
    for et, ec, src, sig, a, b, dep, kind, sim in zip(
            down["entity_type"], down["entity_code"], down["source"], down["signal"],
            down["start_utc"], down["end_utc"], down["depth"], down["kind"], down["simulated"]):
        by_entity.setdefault((et, ec), []).append((family(src, sig), a, b, dep, kind, bool(sim)))
    recs = []
    for (etype, ecode), items in sorted(by_entity.items()):
        spans: dict = {}
        for f, a, b, *_ in items:
            spans.setdefault(f, []).append((a, b))
        edges = []
        for f, sp in spans.items():
            for a, b in _union(sp):
                edges += [(a, 1, f), (b, -1, f)]
        edges.sort(key=lambda e: (e[0], e[1]))
        active, seg, segs = {}, None, []
        for when, step, f in edges:
            active[f] = active.get(f, 0) + step
            fams = {x for x, c in active.items() if c > 0}
            if len(fams) >= min_sources:
                if seg is None:
                    seg = [when, None, set(fams), len(fams)]
                else:
                    seg[2] |= fams
                    seg[3] = max(seg[3], len(fams))
            elif seg is not None:
                seg[1] = when
                segs.append(seg)
                seg = None
        for a, b, fams, nmax in segs:
            if b <= a:
                continue
            over = [it for it in items if it[0] in fams and it[1] < b and it[2] > a]
            depth = float(np.median([it[3] for it in over])) if over else np.nan
            full = sum(it[4] == "full" for it in over) > len(over) / 2
            recs.append({"source": "fused", "entity_type": etype, "entity_code": ecode,
                         "signal": "agreement", "subtype": "", "start_utc": a, "end_utc": b,
                         "depth": depth, "level": 1.0 - depth, "direction": "down",
                         "kind": "full" if full else "partial",
                         "simulated": any(it[5] for it in over),
                         "n_sources": nmax, "sources": ",".join(sorted(fams))})
    if not recs:
        return _empty(cols)
    return pd.DataFrame(recs)[cols]


def _empty(cols) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out["start_utc"] = pd.Series(dtype="datetime64[ns, UTC]")
    out["end_utc"] = pd.Series(dtype="datetime64[ns, UTC]")
    return out
