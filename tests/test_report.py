"""The report directory: figures + sidecars (contents for the Kazakhstan case), report.md,
self-contained report.html, manifest; SIMULATED everywhere a reader looks."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from shutdown import plot, report, sidecar, store
from shutdown.case import load_case
from shutdown.errors import InputError
from test_plot_fixtures import make_cache, make_report_data, make_tidy, shared_report


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from pathlib import Path
    root, case, data = shared_report(tmp_path_factory, Path(__file__).resolve().parents[1])
    return case, data, root / "out"


def test_directory_layout(built):
    case, data, out = built
    for name in plot.FIGURES:
        for ext in ("png", "svg", "json"):
            assert (out / "figures" / f"{name}.{ext}").stat().st_size > 0
    for f in ("report.md", "report.html", "manifest.json"):
        assert (out / f).is_file()
    assert not list(out.parent.glob(".out.*"))       # no leftover temporary directory


def test_sidecar_contents_kazakhstan(built):
    case, data, out = built
    side = json.loads((out / "figures/overview.json").read_text())
    # events: id and UTC window, exactly the timeline's
    want = {e.id: (e.window_utc[0].strftime("%Y-%m-%dT%H:%M:%SZ"), e.window_utc[1].strftime("%Y-%m-%dT%H:%M:%SZ"))
            for e in data.events}
    got = {e["id"]: (e["drawn_start_utc"], e["drawn_end_utc"]) for e in side["events"]}
    assert got == want
    assert got["kz-03-shutdown"] == ("2022-01-04T18:00:00Z", "2022-01-05T18:00:00Z")
    assert {e["id"]: (e["start_utc"], e["end_utc"]) for e in side["events"]} == want
    assert got["kz-08-restored"] == ("2022-01-09T18:00:00Z", "2022-01-10T18:00:00Z")
    # detected intervals drawn in the overview: the fixture's country intervals
    det = {(m["source"], m["signal"]) for d in side["detected"] for m in d["intervals"]}
    assert ("ioda", "ping-slash24") in det and ("atlas", "probes_reachable") in det
    assert all(m["entity_type"] == "country" for d in side["detected"] for m in d["intervals"])
    for d in side["detected"]:     # each shaded span covers its member intervals (clipped to the axis)
        assert d["drawn_start_utc"] == max(min(m["start_utc"] for m in d["intervals"]), side["x_range_utc"][0])
    # data range, inputs' hashes, simulated
    assert side["data_range_utc"] == [data.tidy["ts_utc"].min().strftime("%Y-%m-%dT%H:%M:%SZ"),
                                      data.tidy["ts_utc"].max().strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert side["data_range_utc"][0] == "2021-12-18T18:00:00Z"     # 14 baseline days before the window
    assert side["inputs"]["timeline_sha256"] == sidecar.sha256_file(case.timeline_path)
    assert side["inputs"]["tidy_sha256"] == sidecar.tidy_sha256(data.tidy)
    assert side["inputs"]["raw_entries"] == 2
    assert side["simulated"] is True
    assert side["files"] == {"png": "overview.png", "svg": "overview.svg",    # + "pdf" outside tests
                             "vega-lite": "overview.vl.json",        # the interactive chart
                             "csv": "overview.csv"}                  # the numbers it plots
    # networks: one series per case ASN; context events left out there
    net = json.loads((out / "figures/networks.json").read_text())
    assert {s["entity_code"] for s in net["series"]} == {str(n.asn) for n in case.networks}
    assert net["event_kinds"] == "non-context"
    assert "kz-01-protests" not in {e["id"] for e in net["events"]}


def test_manifest_hashes_match_files(built):
    case, data, out = built
    m = json.loads((out / "manifest.json").read_text())
    assert m["case"] == "kz-2022-01" and m["simulated"] is True
    assert [f["name"] for f in m["figures"]] == list(plot.FIGURES)
    for f in m["figures"]:
        for rec in list(f["files"].values()) + [f["sidecar"]]:
            assert sidecar.sha256_file(out / rec["path"]) == rec["sha256"]
    assert m["inputs"] == data.hashes
    assert {e["event"] for e in m["expectations"]} == {x.event for x in case.expectations}


def test_markdown_report(built):
    case, data, out = built
    md = (out / "report.md").read_text()
    assert md.startswith("# Kazakhstan, 2-11 January 2022: Internet shutdown, measured (SIMULATED)")
    assert "SIMULATED DATA." in md
    for name in plot.FIGURES:
        assert f"](figures/{name}.png)" in md
    # alignment table: one row per event, verdict and minutes, and a SIMULATED column
    head = next(l for l in md.splitlines() if l.startswith("| event | kind |"))
    assert head.rstrip(" |").endswith("data")
    row = next(l for l in md.splitlines() if l.startswith("| kz-03-shutdown |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    s = dict(zip([c.strip() for c in head.strip("|").split("|")], cells))
    assert s["verdict"] == "confirmed" and s["data"] == "SIMULATED"
    assert s["documented (local)"] == "05 Jan 00:00–06 Jan 00:00"
    # the fixture's cut at 05:00Z on 5 Jan = 11:00 local, inside the documented day: 0 minutes off
    assert s["measured (local)"].startswith("2022-01-05T11:00") and s["minutes off window"] == "0"
    assert int(s["independent sources"]) >= 2
    # citations: Kazakh quote and English
    ev = next(e for e in data.events if e.id == "kz-06-almaty-window")
    assert ev.quote_kk in md and ev.text_en in md and ev.citation in md
    # provenance and what could not be measured
    assert "## Data provenance" in md and "https://example.invalid/signals/raw/country/KZ" in md
    assert "## What could not be measured" in md
    assert "event kz-01-protests: context" in md


def test_html_is_self_contained(built):
    case, data, out = built
    h = (out / "report.html").read_text()
    # the markup (scripts' text aside: the inlined library's code is not markup; that the page
    # requests nothing is tested in a browser, tests/test_report_browser.py)
    h = re.sub(r"(<script[^>]*>).*?</script>", r"\1</script>", h, flags=re.S)
    imgs = re.findall(r'<img [^>]*src="([^"]+)"', h)
    assert len(imgs) == 5 and all(s.startswith("data:image/png;base64,") for s in imgs)
    # nothing loaded from elsewhere; the one kind of link out is to each figure's CSV beside it
    # (followed when clicked, never loaded)
    assert re.findall(r'<a href="(figures/[a-z]+\.csv)"', h) == [f"figures/{n}.csv" for n in plot.FIGURES]
    assert not re.search(r'(src|href)="(?!data:|figures/[a-z]+\.csv")[^"#]', h)
    assert '<div class="sim">SIMULATED</div>' in h and 'class="banner"' in h
    assert 'lang="kk"' in h and "Қазақтелеком" in h


def test_measured_report_says_no_simulated(tmp_path, monkeypatch):
    monkeypatch.setattr(plot.style, "DPI", 60)
    case = load_case("kz-2022-01")
    raw = make_cache(tmp_path / "cache", case, make_tidy(case, simulated=False, asns=False), simulated=False)
    data = make_report_data(case, raw, simulated=False)
    blocks = report.document(data, {})
    md = report.to_markdown(blocks)
    assert "SIMULATED" not in md
    cols, rows = report.alignment_table(data)
    assert "data" not in cols


def test_mixed_data_refused(tmp_path):
    case = load_case("kz-2022-01")
    tidy = make_tidy(case, simulated=True, asns=False)
    tidy.loc[tidy.index[:5], "simulated"] = False
    raw = make_cache(tmp_path / "c", case, tidy, simulated=True)
    with pytest.raises(InputError, match="mixes simulated and measured"):
        store.simulated_only(tidy, raw)
    measured = make_tidy(case, simulated=False, asns=False)
    with pytest.raises(InputError, match="refusing to mix"):
        store.simulated_only(measured, raw)


def test_report_command_bad_case_exits_2():
    from typer.testing import CliRunner
    from shutdown.cli import app
    r = CliRunner().invoke(app, ["report", "no-such-case", "--demo"])
    assert r.exit_code == 2 and "unknown case 'no-such-case'" in r.output


def test_no_data_at_all_is_a_clear_error(tmp_path, monkeypatch):
    """A case whose sources returned nothing: one message, exit 2 (nothing to draw)."""
    import shutdown.collect as C
    from shutdown.collect import CollectReport, SourceReport

    def nothing(case, **kw):
        return CollectReport(case=case.name, sources=[SourceReport("ioda", "unreachable", message="ioda: cannot reach x")])
    monkeypatch.setattr(C, "collect_case", nothing)
    with pytest.raises(InputError, match="no source returned any data.*ioda: cannot reach x"):
        report.gather("kz-2022-01", cache=tmp_path / "empty")


# --------------------------------------------------------------------------- interactive charts
def _charts(out):
    from shutdown.interactive import embedded
    return embedded((out / "report.html").read_text(encoding="utf-8"))


def test_interactive_charts_show_what_the_figures_draw(built):
    """One source of truth: the embedded charts carry the sidecars' windows, the report's
    verdicts, and the drawn series' own points."""
    case, data, out = built
    charts = _charts(out)
    m = json.loads((out / "manifest.json").read_text())
    assert set(charts) == set(m["charts"]) == {"overview", "networks", "alignment"}
    verdict = dict(zip(data.summary["event"], data.summary["verdict"]))
    for name, spec in charts.items():
        side = json.loads((out / f"figures/{name}.json").read_text())
        meta = spec["usermeta"]["shutdown"]
        assert meta["simulated"] is True and meta["x_range_utc"] == side["x_range_utc"]
        got = {e["id"]: (e["drawn_start_utc"], e["drawn_end_utc"]) for e in spec["datasets"]["events"]}
        assert got == {e["id"]: (e["drawn_start_utc"], e["drawn_end_utc"]) for e in side["events"]}
        for e in spec["datasets"]["events"]:
            ev = next(x for x in data.events if x.id == e["id"])
            assert (e["quote_kk"], e["text_en"], e["citation"]) == (ev.quote_kk, ev.text_en, ev.citation)
            assert e["verdict"] == ("context (not aligned)" if ev.kind == "context" else verdict[ev.id])
        assert "SIMULATED" in json.dumps(spec)          # title and watermark
    # evidence: every non-identity column of the verdict row, e.g. the independent sources
    e3 = next(e for e in charts["overview"]["datasets"]["events"] if e["id"] == "kz-03-shutdown")
    row = data.summary.set_index("event").loc["kz-03-shutdown"]
    assert f"n_sources: {int(row['n_sources'])}" in e3["evidence"] and row["sources"].replace(",", ", ") in e3["evidence"]
    # detected spans: the overview sidecar's
    side = json.loads((out / "figures/overview.json").read_text())
    assert sorted((d["start"], d["end"]) for d in charts["overview"]["datasets"]["detected"]) == \
        sorted((d["drawn_start_utc"], d["drawn_end_utc"]) for d in side["detected"])
    # the Gantt's detected bars, one per drawn verdict interval, with its verdict
    al = json.loads((out / "figures/alignment.json").read_text())
    assert sorted((d["event"], d["verdict"], d["start"]) for d in charts["alignment"]["datasets"]["detected"]) \
        == sorted((d["event"], d["verdict"], d["drawn_start_utc"]) for d in al["detected"])


def test_interactive_series_are_the_drawn_points(built):
    """Every point of a chart line is a point of the figure's line (time and value, to 4
    significant digits), inside the figure's window; dense lines keep their minimum."""
    import numpy as np
    from shutdown import interactive
    case, data, out = built
    spec = _charts(out)["overview"]
    fig, rec = plot.overview_figure(data.tidy, data.events, data.intervals, case)
    desc = plot.describe(fig, rec)
    x0, x1 = (pd.Timestamp(t).value // 10**6 for t in desc["x_range_utc"])
    pts = pd.DataFrame(spec["datasets"]["series"])
    pts["s"] = [spec["usermeta"]["shutdown"]["series"][i] for i in pts["i"]]
    assert len(pts) and pts["t"].between(x0, x1).all()
    import matplotlib.dates as mdates
    epoch = mdates.date2num(np.datetime64("1970-01-01"))
    for rec in desc["series"]:
        # the figure's own line artist (the chart is built from the record: this reads the
        # picture, so a record that drifted from it fails here)
        ax = next(a for a in fig.axes if a.get_label() == rec["panel"])
        line = next(ln for ln in ax.get_lines() if ln.get_label() == rec["label"])
        xy = np.asarray(line.get_xydata(), float)
        t = np.round((xy[:, 0] - epoch) * 86400) * 1000
        drawn = dict(zip(t, xy[:, 1]))
        mine = pts[pts["s"] == rec["label"]]
        assert len(mine) <= interactive.MAX_POINTS
        for tt, v in zip(mine["t"], mine["v"]):
            assert v == pytest.approx(drawn[tt], rel=1e-3, abs=1e-9)
        inside = [(a, b) for a, b in zip(t, xy[:, 1]) if x0 <= a <= x1 and np.isfinite(b)]
        assert mine["v"].min() == pytest.approx(min(b for _, b in inside), rel=1e-3, abs=1e-9)


def test_thin_keeps_extremes_of_each_bucket():
    import numpy as np
    from shutdown.interactive import thin
    t = np.arange(5000.0)
    v = np.ones(5000)
    v[1234] = 0.0            # a one-bin outage
    v[4000] = 3.0            # a spike
    tt, vv, k = thin(t, v, limit=1000)
    assert len(tt) <= 1000 and k == 10
    assert 1234.0 in tt and 4000.0 in tt and vv.min() == 0.0 and vv.max() == 3.0
    assert list(tt) == sorted(tt)
    tt, vv, k = thin(t[:800], v[:800], limit=1000)
    assert k == 1 and len(tt) == 800
    # missing values: one NaN where they begin, so the chart's line breaks there too
    v = np.ones(100)
    v[40:60] = np.nan
    v[90:] = np.nan
    tt, vv, k = thin(np.arange(100.0), v, limit=1000)
    assert list(tt[np.isnan(vv)]) == [40.0, 90.0] and (~np.isnan(vv)).sum() == 70
    assert list(tt) == sorted(tt)


def test_html_prints_and_works_without_javascript(built):
    """The static PNG sits under every interactive chart; print CSS and the page's default
    (no JavaScript) show it; the library is inlined once."""
    case, data, out = built
    h = (out / "report.html").read_text()
    for name in ("overview", "networks", "alignment"):
        block = h[h.index(f'<div class="fig" data-chart="{name}">'):]
        block = block[:block.index("</figure>")]
        assert '<div class="static"><img' in block and 'class="chart-banner">SIMULATED DATA' in block
    assert "@media print" in h and ".fig.live .static{display:none}" in h and "<noscript>" in h
    assert h.count("vegaEmbed(") >= 1 and h.count("/* Vega, Vega-Lite, vega-embed") == 1
    assert not re.search(r'<script[^>]+src=|<link[^>]+href=', h)


def test_measured_charts_say_no_simulated(tmp_path, monkeypatch):
    from shutdown import interactive
    monkeypatch.setattr(plot.style, "DPI", 60)
    case = load_case("kz-2022-01")
    raw = make_cache(tmp_path / "cache", case, make_tidy(case, simulated=False, asns=False), simulated=False)
    data = make_report_data(case, raw, simulated=False)
    fig, rec = plot.overview_figure(data.tidy, data.events, data.intervals, case)
    desc = dict(plot.describe(fig, rec), event_kinds=plot.FIGURES["overview"].event_kinds)
    spec = interactive.chart("overview", rec, desc, data)
    assert "SIMULATED" not in json.dumps(spec)
    assert spec["usermeta"]["shutdown"]["simulated"] is False
    assert "chart-banner" not in interactive.figure_html("overview", spec, "<img>", False)
