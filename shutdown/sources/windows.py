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


def any_bin_within(series, since: int, until: int) -> bool | None:
    """Whether any bin of ``series`` (``(start, step, n)`` in epoch seconds) starts within
    ``[since, until)``; None when there is no series. An upstream answering only bins
    outside what was asked is a gap, not an empty success."""
    seen = False
    for start, step, n in series:
        seen = True
        if n and step > 0:
            first = max(0, -(-(since - start) // step))       # the first bin at or after since
            if first < n and start + first * step < until:
                return True
    return None if not seen else False
