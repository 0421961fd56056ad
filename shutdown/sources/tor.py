"""Tor Metrics: directly connecting Tor users per country and day, and the days its
anomaly-based detector flags as possible censorship events.

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
* Bridge users (``userstats-bridge-country.csv``) get no range
  (``prepare_userstats_bridge_country`` selects no ``lower``/``upper``): not asked for.

Dates are UTC days (the estimates are per UTC day of directory requests).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math

import pandas as pd

from shutdown.sources import Request, from_cache
from shutdown.sources.blocks import TidyBuilder

DECLARATION = {
    "name": "tor",
    "title": "Tor Metrics",
    "default_url": "https://metrics.torproject.org",
    "auth": None,
    "min_interval": 1.0,
    "default": False,                       # a case opts in; none does yet
    "order": 63,
    "documents": {"function": "normalize_events", "title": "Tor Metrics possible censorship events"},
    "signals": [
        {"signal": "relay_users", "unit": "users per day (estimate)",
         "meaning": "estimated directly connecting Tor users from the country per UTC day "
                    "(Tor Metrics, from directory requests)",
         "role": "volume", "label": "Tor Metrics: directly connecting users",
         "name": "relay users", "short": "users"},
    ],
}

SOURCE = DECLARATION["name"]
PATH = "/userstats-relay-country.csv"
HEADER = ["date", "country", "users", "lower", "upper", "frac"]
COLUMNS = ["id", "start_utc", "end_utc", "days", "users", "lower", "description", "simulated"]


def text(body: bytes) -> str:
    """The CSV as text (``Request.parse``: the cache keeps the bytes as they came)."""
    return body.decode("utf-8")


def check(obj: str) -> str | None:
    head = next((ln for ln in obj.splitlines() if ln.strip() and not ln.startswith("#")), "")
    cols = [c.strip() for c in head.split(",")]
    missing = [c for c in HEADER if c not in cols]
    if missing:
        return (f"unexpected body: not Tor Metrics' relay-users CSV (header {head[:80]!r} lacks "
                + ", ".join(missing) + ")")
    return None


def params(case) -> dict:
    lo, hi = case.fetch_utc
    last = (hi - pd.Timedelta(microseconds=1)).tz_convert("UTC")
    return {"start": lo.tz_convert("UTC").strftime("%Y-%m-%d"), "end": last.strftime("%Y-%m-%d"),
            "country": case.country.lower(), "events": "on"}


def plan(case) -> list[Request]:
    return [Request(SOURCE, PATH, params(case), entity_type="country", entity_code=case.country,
                    label=f"relay users {case.country}", validate=check, parse=text)]


def requests(case):
    yield plan(case)[0]
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


def rows(case, cache) -> tuple[list[dict], bool]:
    """The country's daily rows over the cached answers, and whether they are simulated."""
    got, sim = {}, False
    for req, answer in from_cache(requests(case), cache, SOURCE):
        if answer.missing:
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
    """Users per UTC day (``relay_users``), at 00:00Z of the day."""
    out = TidyBuilder()
    days, sim = rows(case, cache)
    days = [r for r in days if not math.isnan(r["users"])]
    out.add(source=SOURCE, entity_type="country", entity_code=case.country, signal="relay_users",
            subtype="", unit=DECLARATION["signals"][0]["unit"],
            ts=pd.to_datetime([r["date"] for r in days], utc=True),
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
