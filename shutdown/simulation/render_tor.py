"""Tor Metrics answers (``/userstats-relay-country.csv``, ``/userstats-bridge-country.csv``),
in the shapes ``shutdown.sources.tor`` cites (metrics-web ``GraphImageServlet`` comment
header, then R's ``write.csv`` of ``date,country,users,lower,upper,frac``, and for bridge
users ``date,country,users,frac``).

SIMULATED users per UTC day: an illustrative level (``LEVEL``, not a Tor Metrics figure)
with a weekly cycle and noise, reduced by the country-level ``cut`` episodes (and those
acting on OONI's Tor tests: Tor blocked) by the share of the day they cover times their
depth. The range stands in for the detector's fit (not reproduced): users a week before
times ``RANGE``; empty for the first week asked, as Tor's has no reference there.

SIMULATED bridge users: ``BRIDGE_LEVEL`` (illustrative too), reduced by the cuts alone and
raised by ``BRIDGE_SHIFT`` of the blocked share on days when Tor's relays are blocked but
access is not cut (users who can move to bridges do).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.simulation.world import DAY, World, remaining

LEVEL = 20000.0
BRIDGE_LEVEL = 4000.0
BRIDGE_SHIFT = 0.5
RANGE = (0.8, 1.25)
TOR_TESTS = ("tor", "vanilla_tor", "torsf")


def _episodes(world: World, cc: str):
    eps = [ep for ep in world.scenario.episodes if ep.touches("country", cc) and
           (ep.type == "cut" or any(s.source == "ooni" and s.signal in TOR_TESTS for s in ep.signals))]
    return eps


def users(world: World, cc: str, days: pd.DatetimeIndex) -> np.ndarray:
    starts = days.as_unit("s").asi8
    rng = world.rng("tor", cc)
    noise = rng.standard_normal(len(starts) + 400)[(starts // DAY) % 400]
    weekly = 1.0 + 0.05 * np.cos(2 * np.pi * ((starts // DAY) % 7) / 7.0)
    left = np.ones(len(starts))
    for ep in _episodes(world, cc):
        left = np.minimum(left, remaining([ep], starts.astype("float64"), DAY))
    return np.round(LEVEL * weekly * (1 + 0.02 * noise) * left)


def bridge_users(world: World, cc: str, days: pd.DatetimeIndex) -> np.ndarray:
    starts = days.as_unit("s").asi8
    t = starts.astype("float64")
    rng = world.rng("tor-bridge", cc)
    noise = rng.standard_normal(len(starts) + 400)[(starts // DAY) % 400]
    weekly = 1.0 + 0.05 * np.cos(2 * np.pi * ((starts // DAY) % 7) / 7.0)
    eps = _episodes(world, cc)
    cuts = [ep for ep in eps if ep.type == "cut"]
    cut = remaining(cuts, t, DAY) if cuts else np.ones(len(starts))     # the pieces of a day together
    blocked = np.ones(len(starts))
    for ep in eps:
        if ep.type != "cut":
            blocked = np.minimum(blocked, remaining([ep], t, DAY))
    moved = 1.0 + BRIDGE_SHIFT * (1.0 - blocked) * cut      # no one moves while access is cut
    return np.round(BRIDGE_LEVEL * weekly * (1 + 0.03 * noise) * cut * moved)


def render(world: World, path: str, params: dict) -> tuple[int, bytes]:
    if path not in ("/userstats-relay-country.csv", "/userstats-bridge-country.csv"):
        return 404, b"Not Found"
    cc = str(params.get("country") or "").lower()
    try:
        lo, hi = pd.Timestamp(params["start"], tz="UTC"), pd.Timestamp(params["end"], tz="UTC")
    except (KeyError, ValueError):
        return 500, b""                       # GraphImageServlet: SC_INTERNAL_SERVER_ERROR
    days = pd.date_range(lo - pd.Timedelta(days=7), hi, freq="D")
    if path == "/userstats-bridge-country.csv":
        b = bridge_users(world, cc.upper(), days)
        lines = ["#", "# The Tor Project", "#",
                 f"# URL: https://metrics.torproject.org{path}?start={params['start']}"
                 f"&end={params['end']}&country={cc}", "#", "date,country,users,frac"]
        lines += [f"{d:%Y-%m-%d},{cc},{int(b[i])},100" for i, d in enumerate(days) if d >= lo]
        return 200, ("\n".join(lines) + "\n").encode()
    u = users(world, cc.upper(), days)
    lines = ["#", "# The Tor Project", "#",
             f"# URL: https://metrics.torproject.org{path}?start={params['start']}&end={params['end']}"
             f"&country={cc}&events={params.get('events', '')}", "#",
             "date,country,users,lower,upper,frac"]
    for i, d in enumerate(days):
        if d < lo:
            continue
        ref = u[i - 7] if i >= 7 else None
        rng = "," if ref is None else f"{int(ref * RANGE[0])},{int(ref * RANGE[1])}"
        lines.append(f"{d:%Y-%m-%d},{cc},{int(u[i])},{rng},100")
    return 200, ("\n".join(lines) + "\n").encode()


def truth_rows(scenario) -> list[dict]:
    """Ground-truth rows of Tor's series, national only: relay users follow the country's
    cuts and the blocks of OONI's Tor tests (Tor blocked), bridge users the cuts alone
    (they rise, not fall, when only relays are blocked)."""
    from shutdown.simulation.truth import truth_row
    rows = []
    for ep in scenario.episodes:
        blocks_tor = any(s.source == "ooni" and s.signal in TOR_TESTS for s in ep.signals)
        if not (ep.type == "cut" or blocks_tor):
            continue
        for etype, code in ep.entities:
            if etype != "country":
                continue
            rows.append(truth_row(ep, etype, code, "tor", "relay_users", "", "down"))
            if ep.type == "cut":
                rows.append(truth_row(ep, etype, code, "tor", "bridge_users", "", "down"))
    return rows
