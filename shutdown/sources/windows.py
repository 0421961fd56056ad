"""Cut a UTC window into request-sized pieces (upstreams cap how much one request covers)."""
from __future__ import annotations

import pandas as pd


def chunks(start: pd.Timestamp, end: pd.Timestamp, size: pd.Timedelta):
    """Consecutive ``(since, until)`` pairs covering ``[start, end)``; the last may be shorter."""
    if size <= pd.Timedelta(0):
        raise ValueError("chunk size must be positive")
    out, t = [], start
    while t < end:
        u = min(t + size, end)
        out.append((t, u))
        t = u
    return out


def epoch(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).timestamp())
