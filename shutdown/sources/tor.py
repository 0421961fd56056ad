"""Tor Metrics: directly connecting and bridge Tor users per country and day (``level``
signals: magnitudes judged against their baseline), and the days its anomaly-based
detector flags as possible censorship events (a documenter).

Where each fact comes from (torproject/metrics-web at
``5df9d4c9115b4d289ee1cb428f0e433549b88718``, December 2020: the newest snapshot the
GitHub mirror holds; Tor's own repository moved to gitlab.torproject.org, not read here):

* ``GET /userstats-relay-country.csv`` (``src/main/resources/web.xml``) is served by
  ``GraphImageServlet`` (``src/main/java/org/torproject/metrics/web/``): five comment lines
  (``#``, ``# The Tor Project``, ``#``, ``# URL: ...``, ``#``), then the CSV that
  ``RObjectGenerator`` has R write with the request's own parameters: ``write_data`` of
  ``prepare_userstats_relay_country(start, end, country, events)`` (``src/main/R/rserver/
  rserve-init.R``): ``write.csv(quote = FALSE, row.names = FALSE, na = "")`` of the columns
  ``date, country, users, lower, upper, frac`` for ``node == "relay"`` rows of
  ``clients.csv``, the whole country only (empty transport and version); ``country`` is
  lower-case alpha-2; an empty ``lower``/``upper`` is a day without a range.
* the range is the detector's (``src/main/java/org/torproject/metrics/stats/clients/
  Detector.java``, after Danezis' 2011 technical report): per day, the ratios of users to
  users a week before in the 50 largest countries, outliers (beyond 4 IQR of the median)
  removed, fitted by a normal distribution; a country's range is that distribution's
  0.01 % and 99.99 % quantiles times its users a week before (widened by Poisson noise), for
  every country with users a week before, on days with at least 8 ratios. The graph marks a
  day below ``lower`` as a downturn, above ``upper`` as an upturn
  (``plot_userstats_relay_country``), and the table "Top-10 countries by possible
  censorship events" counts exactly those days (``write_userstats_censorship_events``).
* ``GET /userstats-bridge-country.csv`` (``web.xml``, the same servlet and header) writes
  ``prepare_userstats_bridge_country(start, end, country)``: ``node == "bridge"`` rows of
  ``clients.csv``, empty transport and version, ``select(date, country, clients, frac)``
  renamed ``users``: the columns ``date, country, users, frac``, no range (the detector
  does not run on bridge users). Bridge users are the other half of Tor's users: when Tor's
  relays are blocked, users who can move to bridges do, so the two together say more than
  either (both fall when the whole Internet is cut).

Dates are UTC days (the estimates are per UTC day of directory requests).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math

import pandas as pd

from shutdown.http import SourceError, SourceUnreachable
from shutdown.sources import Gap, Request, from_cache
from shutdown.sources.blocks import TidyBuilder

DECLARATION = {
    "name": "tor",
    "title": "Tor Metrics",
    "default_url": "https://metrics.torproject.org",
    "auth": None,
    "min_interval": 1.0,
    "default": False,                       # a case opts in (kz-2022-01 does)
    "order": 63,
    "documents": {"function": "normalize_events", "title": "Tor Metrics possible censorship events"},
    # Both are levels (a count of users per day, judged against its learnt baseline).
    # Directly connecting users fall when people are offline: a traffic signal, expected to
    # fall in a shutdown and return at a restoration (expect.MOVES_WITH_ACCESS). Bridge
    # users can rise when relays alone are blocked: drawn, not expected to move either way.
    "signals": [
        {"signal": "relay_users", "unit": "users per day (estimate)", "kind": "level",
         "meaning": "estimated directly connecting Tor users from the country per UTC day "
                    "(Tor Metrics, from directory requests)",
         "role": "traffic", "label": "Tor Metrics: directly connecting users",
         "name": "relay users", "short": "users"},
        {"signal": "bridge_users", "unit": "users per day (estimate)", "kind": "level",
         "meaning": "estimated Tor users connecting through bridges from the country per UTC "
                    "day (Tor Metrics, from bridge directory requests)",
         "role": "volume", "label": "Tor Metrics: bridge users",
         "name": "bridge users", "short": "bridge users"},
    ],
    # the overview's panel: both as shares of their baseline (1 = normal)
    "panels": [{"title": "Tor Metrics: users per day, share of baseline (1 = normal)",
                "missing": "no Tor Metrics user estimates for {code}",
                "series": [{"signal": "relay_users", "label": "directly connecting users",
                            "transform": "level_ratio"},
                           {"signal": "bridge_users", "label": "bridge users",
                            "transform": "level_ratio"}]}],
}

SOURCE = DECLARATION["name"]
PATH = "/userstats-relay-country.csv"
BRIDGE_PATH = "/userstats-bridge-country.csv"
HEADER = ["date", "country", "users", "lower", "upper", "frac"]
BRIDGE_HEADER = ["date", "country", "users", "frac"]
SIGNAL_OF = {PATH: "relay_users", BRIDGE_PATH: "bridge_users"}
COLUMNS = ["id", "start_utc", "end_utc", "days", "users", "lower", "description", "simulated"]


def text(body: bytes) -> str:
    """The CSV as text (``Request.parse``: the cache keeps the bytes as they came)."""
    return body.decode("utf-8")


def _checker(header: list[str], what: str):
    def check(obj: str) -> str | None:
        head = next((ln for ln in obj.splitlines() if ln.strip() and not ln.startswith("#")), "")
        cols = [c.strip() for c in head.split(",")]
        missing = [c for c in header if c not in cols]
        if missing:
            return (f"unexpected body: not Tor Metrics' {what} CSV (header {head[:80]!r} lacks "
                    + ", ".join(missing) + ")")
        return None
    return check


check = _checker(HEADER, "relay-users")
check_bridge = _checker(BRIDGE_HEADER, "bridge-users")


def params(case) -> dict:
    lo, hi = case.fetch_utc
    last = (hi - pd.Timedelta(microseconds=1)).tz_convert("UTC")
    return {"start": lo.tz_convert("UTC").strftime("%Y-%m-%d"), "end": last.strftime("%Y-%m-%d"),
            "country": case.country.lower(), "events": "on"}


def plan(case) -> list[Request]:
    bridge = {k: v for k, v in params(case).items() if k != "events"}    # no range to mark
    return [Request(SOURCE, PATH, params(case), entity_type="country", entity_code=case.country,
                    label=f"relay users {case.country}", validate=check, parse=text),
            Request(SOURCE, BRIDGE_PATH, bridge, entity_type="country", entity_code=case.country,
                    label=f"bridge users {case.country}", validate=check_bridge, parse=text)]


def requests(case):
    relay, bridge = plan(case)
    yield relay
    try:
        yield bridge
    except SourceUnreachable:
        raise
    except SourceError as exc:     # the relay users (and their events) stand without it
        return [Gap(f"Tor Metrics bridge users not read ({exc.url}: {exc.problem}); "
                    "directly connecting users only")]
    return []


def _num(v: str) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) and x >= 0 else math.nan


def parse(body: bytes | str) -> list[dict]:
    """Rows ``{"date", "country", "users", "lower", "upper"}`` (floats, NaN where empty)."""
    s = body.decode("utf-8") if isinstance(body, bytes) else body
    lines = [ln for ln in s.splitlines() if ln.strip() and not ln.startswith("#")]
    out = []
    for r in csv.DictReader(io.StringIO("\n".join(lines))):
        try:        # Tor Metrics writes YYYY-MM-DD; anything else is a row left out
            day = dt.date.fromisoformat(str(r.get("date") or "").strip()[:10])
        except ValueError:
            continue
        out.append({"date": day, "country": (r.get("country") or "").upper(),
                    **{k: _num(r.get(k)) for k in ("users", "lower", "upper")}})
    return out


def rows(case, cache, path: str = PATH) -> tuple[list[dict], bool]:
    """The country's daily rows of one CSV (default: relay users, with the detector's
    range) over the cached answers, and whether they are simulated."""
    got, sim = {}, False
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if answer.missing or req.path != path:
            continue
        sim = sim or bool(answer.meta.get("simulated", False)) or cache.simulated
        for r in parse(answer.body):
            if r["country"] == case.country:
                got[r["date"]] = r
    return [got[d] for d in sorted(got)], sim


def downturns(days: list[dict]) -> list[list[dict]]:
    """Runs of consecutive days below the detector's lower bound (possible censorship)."""
    runs = []
    for r in days:
        if not (r["users"] < r["lower"]):         # NaN either side: no event
            continue
        if runs and (r["date"] - runs[-1][-1]["date"]).days == 1:
            runs[-1].append(r)
        else:
            runs.append([r])
    return runs


def normalize(case, cache) -> pd.DataFrame:
    """Users per UTC day (``relay_users``, ``bridge_users``), at 00:00Z of the day."""
    out = TidyBuilder()
    units = {s["signal"]: s["unit"] for s in DECLARATION["signals"]}
    for path, signal in SIGNAL_OF.items():
        days, sim = rows(case, cache, path)
        days = [r for r in days if not math.isnan(r["users"])]
        out.add(source=SOURCE, entity_type="country", entity_code=case.country, signal=signal,
                subtype="", unit=units[signal], ts=pd.to_datetime([r["date"] for r in days], utc=True),
                values=[r["users"] for r in days], simulated=sim)
    return out.frame()


def normalize_events(case, cache) -> pd.DataFrame:
    """The possible censorship events (downturns) as COLUMNS, one row per run of days."""
    days, sim = rows(case, cache)
    recs = []
    for run in downturns(days):
        a, b = run[0]["date"], run[-1]["date"]
        recs.append({"id": f"tor-{case.country}-{a:%Y%m%d}", "start_utc": pd.Timestamp(a, tz="UTC"),
                     "end_utc": pd.Timestamp(b, tz="UTC") + pd.Timedelta(days=1), "days": len(run),
                     "users": min(r["users"] for r in run), "lower": min(r["lower"] for r in run),
                     "description": f"Tor users below the expected range on {len(run)} day(s)",
                     "simulated": sim})
    df = pd.DataFrame(recs, columns=COLUMNS)
    for c in ("start_utc", "end_utc"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    df["simulated"] = df["simulated"].astype(bool)
    return df
