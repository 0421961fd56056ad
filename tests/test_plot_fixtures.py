"""Hand-made tidy / interval / alignment frames to the schema, for the figure,
report and check tests (no test here; imported by test_plot*, test_report*, test_check*).

The shapes follow ``shutdown.schema``: hourly bins over the case's fetch range, a
national drop from 5 Jan 18:00 local... to 10 Jan, Almaty back on 7 Jan 09:00-14:00.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shutdown.schema import INTERVAL_COLUMNS, OONI_MESSENGER_TESTS, check_tidy

OFF = (pd.Timestamp("2022-01-05T05:00Z"), pd.Timestamp("2022-01-10T04:00Z"))
ALMATY_ON = (pd.Timestamp("2022-01-07T03:00Z"), pd.Timestamp("2022-01-07T08:00Z"))


def make_tidy(case, simulated=False, freq="1h", regions=True, asns=True) -> pd.DataFrame:
    t0, t1 = case.fetch_utc
    ts = pd.date_range(t0, t1, freq=freq, inclusive="left", tz="UTC")
    off = (ts >= OFF[0]) & (ts < OFF[1])
    rng = np.random.default_rng(1)
    rows = []

    def add(source, etype, code, signal, subtype, values, unit="x"):
        rows.append(pd.DataFrame({"source": source, "entity_type": etype, "entity_code": code,
                                  "signal": signal, "subtype": subtype, "ts_utc": ts,
                                  "value": np.asarray(values, float), "unit": unit,
                                  "simulated": simulated}))

    def level(normal, during, noise=0.02):
        v = np.where(off, during, normal) * (1 + noise * rng.standard_normal(ts.size))
        return np.maximum(v, 0)

    cc = case.country
    add("ioda", "country", cc, "ping-slash24", "", level(1500, 150))
    add("ioda", "country", cc, "merit-nt", "", level(900, 300, 0.1))
    add("ioda", "country", cc, "bgp", "", level(2700, 2650, 0.005))
    add("ooni", "country", cc, "measurements", "all", level(60, 2, 0.2))
    msg_off = ts >= pd.Timestamp("2022-01-03T18:00Z")
    for t in OONI_MESSENGER_TESTS:
        add("ooni", "country", cc, t, "ok", np.where(msg_off & ~off, 1, 8))
        add("ooni", "country", cc, t, "anomaly", np.where(msg_off & ~off, 7, 0))
        add("ooni", "country", cc, t, "confirmed", np.zeros(ts.size))
        add("ooni", "country", cc, t, "failure", np.where(off, 1, 0))
    add("atlas", "country", cc, "probes_reachable", "end-user", level(40, 5, 0.03))
    add("atlas", "country", cc, "probes_reachable", "infrastructure", level(12, 9, 0.03))
    add("atlas", "country", cc, "probes_reporting", "end-user", level(44, 40, 0.01))
    add("atlas", "country", cc, "probes_reporting", "infrastructure", level(13, 13, 0.01))
    if asns:
        for i, n in enumerate(case.networks):
            during = [20, 5, 60, 40, 300][i % 5]
            add("ioda", "asn", str(n.asn), "ping-slash24", "", level(400 + 100 * i, during))
            add("ioda", "asn", str(n.asn), "bgp", "", level(200, 198, 0.003))
    if regions and case.regions:
        name = case.regions[0].name
        v = level(300, 20)
        win = (ts >= ALMATY_ON[0]) & (ts < ALMATY_ON[1])
        v[win] = 280
        add("ioda", "region", name, "ping-slash24", "", v)
    return check_tidy(pd.concat(rows, ignore_index=True))


def make_intervals(case, simulated=False) -> pd.DataFrame:
    cc = case.country
    recs = []
    for src, sig, sub in (("ioda", "ping-slash24", ""), ("ioda", "merit-nt", ""),
                          ("ooni", "measurements", "all"), ("atlas", "probes_reachable", "end-user")):
        recs.append(dict(source=src, entity_type="country", entity_code=cc, signal=sig, subtype=sub,
                         start_utc=OFF[0], end_utc=OFF[1], depth=0.9, level=0.1, direction="down",
                         kind="full", simulated=simulated))
    recs.append(dict(source="ooni", entity_type="country", entity_code=cc, signal="telegram",
                     subtype="", start_utc=pd.Timestamp("2022-01-03T18:00Z"), end_utc=OFF[0],
                     depth=0.8, level=0.2, direction="up", kind="partial", simulated=simulated))
    for n in case.networks[:2]:
        recs.append(dict(source="ioda", entity_type="asn", entity_code=str(n.asn), signal="ping-slash24",
                         subtype="", start_utc=OFF[0], end_utc=OFF[1], depth=0.95, level=0.05,
                         direction="down", kind="full", simulated=simulated))
    df = pd.DataFrame(recs, columns=INTERVAL_COLUMNS)
    return df


def make_cache(root, case, tidy, simulated=True):
    """A raw cache holding two entries (upstream-independent bodies: only their hashes
    matter here) and the case's tidy table, as collect/normalize would leave it."""
    from shutdown.store import RawCache, write_table
    raw = RawCache(root)
    for src, path in (("ioda", "/signals/raw/country/KZ"), ("ooni", "/api/v1/aggregation")):
        raw.put(src, path, {"from": "1", "until": "2"}, b'{"data": []}', url=f"https://example.invalid{path}",
                status=200, fetched_utc="2026-01-01T00:00:00Z", simulated=simulated)
    write_table(tidy, raw.table_path(case.name))
    return raw


def make_report_data(case, raw, simulated=True):
    from shutdown import pipeline
    inputs = pipeline.load_inputs(case, cache=raw)      # the real loading, detect + align
    assert inputs.simulated == simulated
    inputs.source_status = [{"source": s, "status": "simulated" if simulated else "ok", "message": ""}
                            for s in case.sources]
    inputs.demo = simulated
    return pipeline.analyse(inputs)


# Another documenter's outage on a day no report event covers (the report's events end on
# 10 Jan local), and one overlapping the national shutdown: an Outage Center's entries
# drawn in their own lane, which neither figures nor `check` may take for report events.
OTHER_ENTRIES = (("ent-1", "2022-01-05T10:45Z", "2022-01-06T02:15Z"),
                 ("ent-2", "2022-01-11T00:00Z", "2022-01-11T06:00Z"),
                 ("ent-3", "2022-01-11T12:00Z", None))          # still open
OTHER_TITLE = "Test Outage Center"


def make_others(events, case, simulated=True) -> pd.DataFrame:
    """An other documenter's entries held against the report (``documenters.compare``)."""
    from shutdown import documenters
    entries = pd.DataFrame([{"id": i, "start_utc": pd.Timestamp(s), "end_utc": pd.Timestamp(e) if e else pd.NaT,
                             "description": f"test entry {i}", "simulated": simulated}
                            for i, s, e in OTHER_ENTRIES])
    return documenters.compare(events, entries, None, case, OTHER_TITLE)


def copy_case(tmp_path, repo):
    """The KZ case and timeline copied under tmp_path (so a test may edit the timeline)."""
    import shutil
    (tmp_path / "cases").mkdir(parents=True, exist_ok=True)
    (tmp_path / "events").mkdir(exist_ok=True)
    # The synthetic table below has no per-domain, circumvention or regional-OONI data:
    # keep the case's first two expectations (the national shutdown and restoration),
    # which it was built to satisfy; the others are held by `make demo` on the simulator.
    text = (repo / "data/cases/kz-2022-01.toml").read_text()
    parts = text.split("[[expectations]]")
    (tmp_path / "cases/kz-2022-01.toml").write_text("[[expectations]]".join(parts[:3]))
    shutil.copy(repo / "data/events/kz-2022-01.toml", tmp_path / "events/kz-2022-01.toml")
    return tmp_path / "cases/kz-2022-01.toml"


_SHARED = {}


def shared_report(tmp_path_factory, repo):
    """One simulated report (case copy + cache + report dir), built once per test session
    and shared by test_report and test_check (drawing it is the slow part).
    Returns (root, case, data); the report is root/"out". Treat it as read-only: copy it."""
    if "root" not in _SHARED:
        from shutdown import plot, report
        from shutdown.case import load_case
        root = tmp_path_factory.mktemp("shared-report")
        case = load_case(copy_case(root, repo))
        raw = make_cache(root / "cache", case, make_tidy(case, simulated=True), simulated=True)
        data = make_report_data(case, raw, simulated=True)
        data.others = make_others(data.events, case)      # a lane of another documenter
        # fast: low dpi (the layout is in inches, so it looks the same), no PDF (test_plot
        # writes one)
        dpi, fmts, plot.style.DPI, plot.style.FORMATS = plot.style.DPI, plot.style.FORMATS, 60, ("png", "svg")
        try:
            report.write(data, root / "out")
        finally:
            plot.style.DPI, plot.style.FORMATS = dpi, fmts
        _SHARED.update(root=root, case=case, data=data)
    return _SHARED["root"], _SHARED["case"], _SHARED["data"]
