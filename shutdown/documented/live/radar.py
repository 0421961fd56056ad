"""Cloudflare Radar's Outage Center and its verified traffic anomalies as Documented records.

The Outage Center is the ``radar`` source's own ``annotations/outages`` (its requests and
parser, ``shutdown.sources.radar``: only the Outage Center pages are asked here, not the
traffic series); the anomalies are ``shutdown.sources.radar_anomalies``. Both give UTC
instants: records are minute precision in UTC. Scope: the Outage Center's ``outageType``
(NATIONWIDE -> national, REGIONAL -> regional with Radar's free-text ``scope`` as the area,
NETWORK -> network with its ASNs; any other -> unknown); an anomaly about a location is
national, one about an AS is that network. One record per location an entry names.
"""
from __future__ import annotations

from shutdown.documented.live import answered, label, options, utc_minute
from shutdown.documented.model import Documented, Documents

OUTAGES, ANOMALIES = "radar-outage-center", "radar-anomalies"
# Radar's outages are connectivity losses, whatever their cause (the cause is kept); it
# records no blocked service. Traffic anomalies are drops in traffic, verified by Radar's
# team, with no cause given.
SEES = ("shutdown",)
SCOPE = {"NATIONWIDE": "national", "REGIONAL": "regional", "NETWORK": "network"}


def _outage_requests(win):
    from shutdown.sources import Request, radar
    req = Request(radar.SOURCE, radar.OUTAGES_PATH, radar.outages_params(win),
                  entity_type="country", entity_code=win.country,
                  label=f"Outage Center {win.country}", validate=radar.check_annotations,
                  explain=radar.error_message)
    yield from radar.pages(req)
    return []


def outages(country, start, end, **opts) -> Documents:
    from shutdown.sources import radar
    o = options(country, start, end, what="the Radar Outage Center", **opts)
    cache = answered(radar.SOURCE, _outage_requests, o["win"], **{k: v for k, v in o.items()
                                                                   if k != "win"})
    df = radar.normalize_annotations(o["win"], cache)
    sim = bool(cache.simulated or df["simulated"].any())
    events = []
    for r in df.to_dict("records"):
        locs = [x for x in str(r["locations"] or "").split(",") if x] or [o["win"].country]
        asns = tuple(int(a) for a in str(r["asns"] or "").split(",") if a.strip().isdigit())
        scope = SCOPE.get(str(r["outage_type"]).upper(), "unknown")
        areas = (str(r["scope"]),) if scope == "regional" and r["scope"] else ()
        for cc in locs:
            events.append(Documented(
                id=f"radar-{r['id']}" + (f"-{cc}" if len(locs) > 1 else ""), documenter=OUTAGES,
                country=cc.upper(), scope=scope, kinds=("shutdown",),
                start=utc_minute(r["start_utc"]), end=utc_minute(r["end_utc"]), precision="minute",
                timezone="UTC", areas=areas, asns=asns if scope == "network" else (),
                citation=("SIMULATED " if sim else "") + f"Cloudflare Radar Outage Center, "
                f"annotation {r['id']}" + (f", {r['linked_url']}" if r["linked_url"] else ""),
                title=str(r["description"])[:120], cause=str(r["cause"]),
                status="" if r["end_utc"] is not None and str(r["end_utc"]) != "NaT" else "ongoing",
                note=f"outageType {r['outage_type']}, eventType {r['event_type']}",
                simulated=sim, raw={"annotation": r["id"]}))
    return Documents(OUTAGES, label("Cloudflare Radar Outage Center", sim),
                     f"{radar.OUTAGES_PATH} (cache {cache.root})", events,
                     sees=SEES, resolves=("national", "regional", "network"))


def anomalies(country, start, end, **opts) -> Documents:
    from shutdown.sources import radar
    from shutdown.sources import radar_anomalies as ra
    o = options(country, start, end, what="Radar's traffic anomalies", **opts)
    opts_ = {k: v for k, v in o.items() if k != "win"}
    urls = opts_["urls"]
    if radar.SOURCE in urls and ra.SOURCE not in urls:     # the same API as Radar's series
        opts_["urls"] = {**urls, ra.SOURCE: urls[radar.SOURCE]}
    cache = answered(ra.SOURCE, ra.requests, o["win"], **opts_)
    df = ra.normalize_anomalies(o["win"], cache)
    sim = bool(cache.simulated or df["simulated"].any())
    events, skipped = [], 0
    for r in df.to_dict("records"):
        if not r["location"]:
            skipped += 1                  # an origin's anomaly (a cloud region): no country
            continue
        net = bool(r["asn"])
        events.append(Documented(
            id=f"radar-anomaly-{r['id'][:8]}", documenter=ANOMALIES, country=r["location"],
            scope="network" if net else "national", kinds=("shutdown",),
            start=utc_minute(r["start_utc"]), end=utc_minute(r["end_utc"]), precision="minute",
            timezone="UTC", asns=(int(r["asn"]),) if net and r["asn"].isdigit() else (),
            operators=(r["asn_name"],) if r["asn_name"] else (),
            citation=("SIMULATED " if sim else "") + f"Cloudflare Radar traffic anomaly {r['id']}",
            title=r["description"], status=r["status"],
            note=f"type {r['type']}; a traffic drop Radar verified, cause not given; "
                 f"visible in {r['data_sources'] or 'unstated data sources'}",
            simulated=sim, raw={"uuid": r["id"]}))
    notes = [f"{skipped} anomaly(ies) name no country (an origin's): not read"] if skipped else []
    return Documents(ANOMALIES, label("Cloudflare Radar traffic anomalies", sim),
                     f"{ra.PATH} (cache {cache.root})", events, notes, sees=SEES,
                     resolves=("national", "network"))
