"""Figures: events at their true windows, labels that do not overlap, SIMULATED marks,
readable styles. Built from the hand-made frames of test_plot_fixtures."""
from __future__ import annotations

import colorsys

import matplotlib.colors as mcolors
import pandas as pd
import pytest

from shutdown import plot
from shutdown.case import load_case
from shutdown.timeline import load_timeline
from test_plot_fixtures import OFF, OTHER_ENTRIES, OTHER_TITLE, make_intervals, make_others, make_tidy


@pytest.fixture(scope="module")
def kz():
    case = load_case("kz-2022-01")
    events = load_timeline(case.timeline_path, case=case)
    return case, events, make_tidy(case, simulated=True), make_intervals(case, simulated=True)


@pytest.fixture(scope="module")
def overview(kz):
    case, events, tidy, iv = kz
    return plot.overview_figure(tidy, events, iv, case)


def test_events_drawn_at_their_true_window(overview, kz):
    case, events, *_ = kz
    drawn = {e["id"]: e for e in plot.describe(*overview)["events"]}
    assert set(drawn) == {e.id for e in events}          # the overview shows every documented event
    # day precision: the whole local day (Asia/Almaty, UTC+6), not a line at midnight
    assert (drawn["kz-03-shutdown"]["drawn_start_utc"], drawn["kz-03-shutdown"]["drawn_end_utc"]) == \
        ("2022-01-04T18:00:00Z", "2022-01-05T18:00:00Z")
    # hour precision, Almaty 09:00-14:00 local
    assert (drawn["kz-06-almaty-window"]["drawn_start_utc"], drawn["kz-06-almaty-window"]["drawn_end_utc"]) == \
        ("2022-01-07T03:00:00Z", "2022-01-07T08:00:00Z")
    # night: 22:00 the evening before to 06:00 local
    assert drawn["kz-05-night-restore"]["drawn_start_utc"] == "2022-01-05T16:00:00Z"
    assert drawn["kz-05-night-restore"]["drawn_end_utc"] == "2022-01-06T00:00:00Z"
    for d in drawn.values():
        assert d["documented"] is True


def members(desc):
    return [m for d in desc["detected"] for m in d.get("intervals", [d])]


def test_detected_intervals_are_shaded_where_detected(overview, kz):
    case, _, _, iv = kz
    det = plot.describe(*overview)["detected"]
    ioda = [d for d in det if any(m["source"] == "ioda" for m in d["intervals"])]
    assert len(ioda) == 1                         # ping-slash24 and merit-nt overlap: one span
    assert {m["signal"] for m in ioda[0]["intervals"]} == {"ping-slash24", "merit-nt"}
    assert (ioda[0]["drawn_start_utc"], ioda[0]["drawn_end_utc"]) == \
        (OFF[0].strftime("%Y-%m-%dT%H:%M:%SZ"), OFF[1].strftime("%Y-%m-%dT%H:%M:%SZ"))
    # the messenger panel: the telegram rise before the cut, a span of its own
    msg = [d for d in det if d["panel"].startswith("OONI messenger")]
    assert [m["signal"] for d in msg for m in d["intervals"]] == ["telegram"]
    # ASN intervals are not shaded on the country overview
    assert all(m["entity_type"] == "country" for m in members(plot.describe(*overview)))


def test_legend_names_the_detected_shade_only_where_a_panel_shows_it(kz, overview):
    case, events, tidy, iv = kz
    shade = "detected outage (this panel)"

    def labels(drawn):
        return [t.get_text() for lg in drawn.figure.legends for t in lg.get_texts()]
    assert overview.record.detected and shade in labels(overview)
    evidence = plot.evidence_figure(tidy, events, case)     # per-day heat maps: nothing shaded
    assert not evidence.record.detected and shade not in labels(evidence)
    assert "documented: shutdown" in labels(evidence)


def test_series_drawn_per_source_family(overview):
    desc = plot.describe(*overview)
    got = {(s["source"], s["signal"], s.get("subtype", "")) for s in desc["series"]}
    assert ("ioda", "ping-slash24", "") in {(a, b, "") for a, b, _ in got}
    assert any(s == "ooni" and sig == "measurements" for s, sig, _ in got)
    assert ("atlas", "probes_reachable", "end-user") in got and ("atlas", "probes_reachable", "infrastructure") in got
    assert desc["missing"] == []
    assert desc["x_range_utc"] == ["2022-01-01T18:00:00Z", "2022-01-11T18:00:00Z"]


@pytest.mark.parametrize("which", ["overview", "networks", "region"])
def test_event_labels_do_not_overlap(kz, which):
    case, events, tidy, iv = kz
    fig, _ = getattr(plot, f"{which}_figure")(tidy, events, iv, case)
    labels = [t for t in fig.findobj(lambda a: (a.get_gid() or "").startswith("event-label:"))]
    assert len(labels) >= 7
    assert plot.label_overlaps(fig) == []
    # and every label stays inside the figure
    r = fig.canvas.get_renderer()
    W, H = fig.bbox.width, fig.bbox.height
    for t in labels:
        bb = t.get_window_extent(r)
        assert bb.x0 >= 0 and bb.x1 <= W + 1 and bb.y0 >= 0 and bb.y1 <= H, t.get_text()


def test_other_documenters_drawn_in_their_own_lane(kz):
    """Another documenter's outages are bars of a lane of their own, under artist ids and a
    record key of their own: never among the report's events (check compares those)."""
    case, events, tidy, iv = kz
    fig, rec = plot.overview_figure(tidy, events, iv, case, make_others(events, case))
    desc = plot.describe(fig, rec)
    assert {e["id"] for e in desc["events"]} == {e.id for e in events}
    got = {d["entry"]: d for d in desc["documenters"]}
    assert set(got) == {i for i, _, _ in OTHER_ENTRIES}
    iso = lambda t: pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")
    for i, s, e in OTHER_ENTRIES:
        assert got[i]["documenter"] == OTHER_TITLE and got[i]["gid"] == f"documenter:d0:{i}"
        # one still open is drawn to the axis end, and recorded without an end
        assert (got[i]["drawn_start_utc"], got[i]["drawn_end_utc"]) == (iso(s), iso(e or case.window_utc[1]))
        assert got[i]["end_utc"] == (iso(e) if e else None)
    assert got["ent-3"]["label"] == "outage ent-3 (still open)"
    # the lane sits below every report event, is named, says SIMULATED, and no label overlaps
    strip = next(a for a in fig.axes if a.get_label() == "events")
    ys = {(p.get_gid() or "").split(":")[0]: [] for p in strip.patches}
    for p in strip.patches:
        ys[(p.get_gid() or "").split(":")[0]].append(p.get_y())
    assert min(ys["documenter"]) > max(ys["event"])
    heads = [t.get_text() for t in fig.findobj(lambda a: (a.get_gid() or "").startswith("lane:"))]
    assert heads == [f"{OTHER_TITLE} (SIMULATED)"]
    assert plot.label_overlaps(fig) == []
    # without other documenters the figure has no lane and no such record key
    assert "documenters" not in plot.describe(*plot.overview_figure(tidy, events, iv, case))


def test_simulated_watermark_and_title(kz, overview):
    case, events, tidy, iv = kz
    texts = [t.get_text() for t in overview.figure.findobj(lambda a: hasattr(a, "get_text"))]
    assert "SIMULATED" in texts
    assert overview.figure._suptitle.get_text().startswith("SIMULATED DATA")
    measured = plot.overview_figure(make_tidy(case, simulated=False), events, None, case)
    texts = [t.get_text() for t in measured.figure.findobj(lambda a: hasattr(a, "get_text"))]
    assert not any("SIMULATED" in t for t in texts)
    assert plot.describe(*measured)["simulated"] is False


def test_figures_return_their_record_beside_the_figure(kz, overview):
    """What a figure draws is a Record returned with it, not metadata hung on the Figure;
    describe reads the record against the artists, so a record entry without its artist
    is not reported as drawn."""
    fig, rec = overview
    assert isinstance(rec, plot.Record) and rec.figure == "overview"
    assert not hasattr(fig, "shutdown")
    gone = {**rec.events[0], "gid": "event:not-drawn"}
    rec2 = plot.Record(rec.figure, rec.simulated, rec.entity, events=[gone], x_range=rec.x_range)
    assert plot.describe(fig, rec2)["events"] == []


def test_mixed_simulated_and_measured_refused(kz):
    case, events, tidy, _ = kz
    mixed = tidy.copy()
    mixed.loc[mixed.index[:10], "simulated"] = False
    with pytest.raises(ValueError, match="mixes simulated and measured"):
        plot.overview_figure(mixed, events, None, case)


def test_overview_panels_are_the_sources_declared_panels(kz, overview, monkeypatch):
    """The overview iterates the registry: each source's declared panels, in order; change a
    declaration and the figure follows (no panel is hand-made in plot/)."""
    import dataclasses

    from shutdown.plot.panels import TRANSFORMS
    from shutdown.sources import registry
    case, events, tidy, iv = kz
    fig, _ = overview
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_label().startswith("panel")]
    want = [spec.get("title_when", {}).get("probes_reachable/probes_reporting", spec["title"])
            for name, src in registry.sources().items() if name in case.sources for spec in src.panels]
    assert len(want) >= 4 and titles == want     # the fixture has no Radar data: no default panel
    assert {g["transform"] for src in registry.sources().values() for spec in src.panels
            for g in spec["series"]} <= set(TRANSFORMS)
    srcs = dict(registry.sources())
    srcs["ioda"] = dataclasses.replace(srcs["ioda"], panels=(
        {"title": "IODA: Google traffic", "missing": "no gtr for {code}",
         "series": [{"signal": "gtr", "label": "gtr", "transform": "baseline_ratio"}]},))
    monkeypatch.setattr(registry, "sources", lambda: srcs)
    fig, rec = plot.overview_figure(tidy, events, iv, case)
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_label().startswith("panel")]
    assert titles == ["IODA: Google traffic"] + want[1:]
    assert {"panel": "panel0", "what": "no gtr for KZ"} in rec.missing
    assert not any(s["source"] == "ioda" for s in rec.series)


def test_networks_and_region_figures_draw_what_the_sources_declare(kz, monkeypatch):
    """A source's declaration is all the per-network and region figures need: a new source
    declaring ``network_series`` and ``region_panels`` (and its names) is drawn there, after
    the others; one that declares neither (Radar) stays out of both, as it always has."""
    import pandas as pd

    from shutdown.plot.panels import series_name
    from shutdown.sources import registry
    case, events, tidy, iv = kz
    fake = registry._source("tests.fakeplot", {
        "name": "fakeplot", "title": "Fake Probe", "short": "Fake", "order": 99,
        "default_url": "https://fake.example",
        "signals": [{"signal": "reach", "unit": "hosts", "meaning": "hosts answering", "role": "connectivity",
                     "label": "Fake Probe: reach", "name": "reachability", "short": "reach"}],
        "network_series": [{"signal": "reach", "subtype": "v4", "label": "Fake reach (× baseline)",
                            "transform": "baseline_ratio"}],
        "region_panels": [{"signal": "reach", "subtype": "v4"}]})
    srcs = {**registry.sources(), "fakeplot": fake}
    monkeypatch.setattr(registry, "sources", lambda: srcs)
    # every IODA probing row again, as the fake source's (v4 and v6) and as Radar's
    probing = tidy[tidy["source"].eq("ioda") & tidy["signal"].eq("ping-slash24")]
    extra = [probing.assign(source="fakeplot", signal="reach", subtype=sub) for sub in ("v6", "v4")]
    extra.append(probing.assign(source="radar", signal="http_requests"))
    more = pd.concat([tidy, *extra], ignore_index=True)

    fig, rec = plot.networks_figure(more, events, iv, case)
    fake_series = [s for s in rec.series if s["source"] == "fakeplot"]
    assert sorted(s["entity_code"] for s in fake_series) == sorted(str(n.asn) for n in case.networks)
    assert {(s["subtype"], s["label"]) for s in fake_series} == {("v4", "Fake reach (× baseline)")}
    assert not any(s["source"] == "radar" for s in rec.series)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    declared = [g["label"] for src in srcs.values() for g in src.network_series]
    drawn = [label for label in declared if label in {s["label"] for s in rec.series}]
    assert declared[-1] == "Fake reach (× baseline)" and legend[:len(drawn)] == drawn
    # its style is its place among the declared series, so a line keeps its look
    lines = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_label() == declared[-1]]
    assert lines and {ln.get_color() for ln in lines} == {plot.SERIES_STYLE[len(declared) - 1][0]}

    region = case.regions[0].name
    fig, rec = plot.region_figure(more, events, iv, case, region)
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_label().startswith("panel")]
    assert titles[-1] == "Fake Probe reachability (v4): share of baseline"
    assert not any(s["source"] == "radar" for s in rec.series)
    # the alignment chart's row names: the declared short title and short name
    row = {"source": "fakeplot", "signal": "reach", "subtype": "v4", "entity_type": "region",
           "entity_code": region}
    assert series_name(row) == f"Fake reach (v4) [{region}]" and series_name(row, short=True) == "reach"


def test_series_names_come_from_the_declarations():
    from shutdown.plot.panels import series_name
    assert series_name({"source": "ioda", "signal": "ping-slash24"}) == "IODA probing"
    assert series_name({"source": "atlas", "signal": "probes_reachable", "subtype": "end-user",
                        "entity_type": "region", "entity_code": "Almaty"}) == "Atlas probes (end-user) [Almaty]"
    assert series_name({"source": "ooni", "signal": "measurements", "subtype": "all"}) == "OONI volume"
    assert series_name({"source": "ooni", "signal": "telegram"}, short=True) == "telegram"
    # without a declared short name: the label, and after "Title: " when short
    assert series_name({"source": "radar", "signal": "netflows"}) == "Cloudflare Radar: NetFlows"
    assert series_name({"source": "radar", "signal": "netflows"}, short=True) == "NetFlows"
    assert series_name({"source": "nosuch", "signal": "x", "role": "control"}) == "nosuch x (control)"


def test_networks_small_multiples(kz):
    case, events, tidy, iv = kz
    fig, rec = plot.networks_figure(tidy, events, iv, case)
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_label().startswith("panel")]
    assert titles == [f"{n.name} (AS{n.asn})" for n in case.networks]
    desc = plot.describe(fig, rec)
    per_asn = {s["entity_code"] for s in desc["series"]}
    assert per_asn == {str(n.asn) for n in case.networks}
    # the two ASNs with detected intervals are shaded, the others are not
    assert sorted({m["entity_code"] for m in members(desc)}) == sorted(str(n.asn) for n in case.networks[:2])
    # context events are explained in the overview, not repeated here
    assert "kz-01-protests" not in {e["id"] for e in desc["events"]}


def test_region_against_country_and_missing_region(kz):
    case, events, tidy, iv = kz
    desc = plot.describe(*plot.region_figure(tidy, events, iv, case))
    codes = {(s["entity_type"], s["entity_code"]) for s in desc["series"]}
    assert codes == {("country", "KZ"), ("region", "Almaty")}
    none = plot.describe(*plot.region_figure(make_tidy(case, True, regions=False), events, iv, case))
    assert none["series"] == []
    assert "no source returned regional data for Almaty" in none["missing"][0]["what"]


def test_alignment_gantt_coloured_by_verdict(kz):
    from shutdown import pipeline
    case, events, tidy, _ = kz
    res = pipeline.analyse(pipeline.Result(case, events, tidy, simulated=True))
    fig, rec = plot.alignment_figure(events, res.intervals, res.alignment, case, simulated=True)
    desc = plot.describe(fig, rec)
    assert {e["id"] for e in desc["events"]} == {e.id for e in events if e.kind != "context"}
    # the national shutdown: one bar per source family, each the detected interval behind the verdict
    conf = [d for d in desc["detected"] if d["event"] == "kz-03-shutdown"]
    assert {(d["source"], d["signal"]) for d in conf} >= {("ioda", "ping-slash24"), ("atlas", "probes_reachable")}
    for d in conf:
        assert d["verdict"] == "confirmed"
        assert (d["drawn_start_utc"], d["drawn_end_utc"]) == ("2022-01-05T05:00:00Z", "2022-01-10T04:00:00Z") \
            or d["signal"] == "probes_reachable"
    colour = {a.get_gid(): mcolors.to_hex(a.get_facecolor())
              for a in fig.findobj(lambda a: (a.get_gid() or "").startswith("detected:"))}
    for d in desc["detected"]:
        assert colour[d["gid"]] == plot.VERDICT_STYLE[d["verdict"]][0].lower()
    # y labels: event rows carry the event's overall verdict
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any(l.startswith("kz-03 Internet blocked nationwide [confirmed]") for l in labels)


def test_display_rows_one_per_family():
    rows = pd.DataFrame([
        dict(event="e", role="primary", family="ioda/ping-slash24", source="ioda", verdict="not-observed", minutes_off=None),
        dict(event="e", role="primary", family="ioda/ping-slash24", source="ioda", verdict="confirmed", minutes_off=0.0),
        dict(event="e", role="primary", family="atlas", source="atlas", verdict="not-measurable", minutes_off=None),
        dict(event="e", role="control", family="ioda/ping-slash24", source="ioda", verdict="confirmed", minutes_off=None),
        dict(event="e", role="control", family="atlas", source="atlas", verdict="contradicted", minutes_off=None),
    ])
    out = plot.display_rows(rows)
    assert list(zip(out["role"], out["family"], out["verdict"])) == [
        ("primary", "ioda/ping-slash24", "confirmed"), ("primary", "atlas", "not-measurable"),
        ("control", "atlas", "contradicted")]


def _luminance(hexcol):
    r, g, b = mcolors.to_rgb(hexcol)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("styles", [plot.EVENT_STYLE, plot.VERDICT_STYLE])
def test_styles_readable_in_greyscale(styles):
    """Two styles never differ by hue alone: either the hatch or the grey level differs."""
    items = list(styles.items())
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            (a, (ca, ha)), (b, (cb, hb)) = items[i], items[j]
            assert ha != hb or abs(_luminance(ca) - _luminance(cb)) > 0.15, (a, b)
    # series: line styles all differ
    assert len({str(ls) for _, ls in plot.SERIES_STYLE}) == len(plot.SERIES_STYLE)


def test_save_writes_png_svg_pdf_with_ids(tmp_path, overview):
    files = plot.save(overview.figure, tmp_path / "overview")
    assert set(files) == {"png", "svg", "pdf"}
    assert files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert files["pdf"].read_bytes()[:5] == b"%PDF-"
    svg = files["svg"].read_text()
    assert 'id="event:kz-03-shutdown"' in svg     # the ids survive into the SVG


def test_region_figure_draws_one_panel_per_signal_in_a_fixed_order():
    import pandas as pd
    from shutdown.plot import region_panels
    reg = pd.DataFrame({
        "source": ["atlas", "atlas", "atlas", "ioda", "ioda", "ioda", "ioda"],
        "signal": ["probes_reporting", "probes_reachable", "probes_reachable", "gtr", "gtr", "bgp",
                   "ping-slash24"],
        "subtype": ["end-user", "infrastructure", "end-user", "YOUTUBE", "WEB_SEARCH", "", ""]})
    assert region_panels(reg) == [("ioda", "ping-slash24", ""), ("ioda", "gtr", "WEB_SEARCH"),
                                  ("ioda", "bgp", ""), ("atlas", "probes_reachable", "end-user")]
    # without the preferred subtype, the first one stands in
    only_yt = reg[reg["subtype"] != "WEB_SEARCH"]
    assert ("ioda", "gtr", "YOUTUBE") in region_panels(only_yt)


def test_messenger_share_is_pooled_as_detection_pools_a_test():
    """A test or two an hour do not draw a line jumping between 0 and 1: the figure pools
    neighbouring hours as detection does (one rule, detect.series.pooled_share), and
    leaves a gap where even the pool holds too few tests."""
    from shutdown.detect import series as S
    ts = pd.date_range("2022-01-01", periods=96, freq="h", tz="UTC")
    n = pd.Series(1.0, index=ts)                         # one test an hour
    n.iloc[48:72] = 0.0                                  # a day without tests
    bad = pd.Series([float(i % 2) for i in range(96)], index=ts).where(n > 0, 0.0)
    rows = []
    for outcome, v in (("anomaly", bad), ("ok", n - bad), ("confirmed", 0 * n), ("failure", 0 * n)):
        rows.append(pd.DataFrame({"source": "ooni", "entity_type": "country", "entity_code": "KZ",
                                  "signal": "telegram", "subtype": outcome, "ts_utc": ts,
                                  "value": v.to_numpy(), "unit": "measurements", "simulated": True}))
    tidy = pd.concat(rows, ignore_index=True)
    drawn = plot.messenger_anomaly_share(tidy, "country", "KZ", tests=("telegram",))
    hourly = bad / n.where(n > 0)
    assert set(hourly.dropna().unique()) == {0.0, 1.0}             # what an hourly share shows
    ok = drawn.dropna()
    assert len(ok) and ok.between(0.3, 0.7).all()                 # pooled: about a half
    assert drawn.loc["2022-01-03 06:00":"2022-01-03 18:00"].isna().all()   # no tests: a gap
    # the same numbers detection judges this test on
    s = S.build(tidy)
    k = s.keys.index[(s.keys["signal"] == "telegram") & (s.keys["metric"] == "anomaly_share")][0]
    det = pd.Series(s.value[s.starts[k]:s.starts[k + 1]],
                    index=pd.to_datetime(s.ts[s.starts[k]:s.starts[k + 1]], utc=True))
    pd.testing.assert_series_equal(drawn, det.reindex(drawn.index), check_names=False, check_freq=False)
