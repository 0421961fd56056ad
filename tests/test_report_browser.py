"""The demo report in a real browser: headless Chromium opens report.html from file://.

Asserts what a researcher relies on: the interactive charts render with no console
error and no request leaving file://; every documented event is drawn in the
interactive overview at the UTC window its sidecar records (read back from the
pixels through the chart's own time scale); hovering an event shows its Kazakh
quote and its verdict, clicking it shows its card; series toggle and the time
axis zooms; a screenshot is not blank; without JavaScript, and in print, the
static figures show.

The report is the offline demo of kz-2022-01, built on the demo cache the
notebook tests share (``shared_cache`` in conftest.py). Chromium is the system's
(Debian's ``chromium``, installed by ``.ci/run``); where none is installed the
tests skip, saying so -- except in CI (``CI`` set), where that is a failure.
"""
from __future__ import annotations

import io
import json
import os

import pytest

from browser import CHARTS, EVENT_ITEMS_JS, chromium_path, launch, wait_for_charts


@pytest.fixture(scope="module")
def chromium():
    path = chromium_path()
    if path is None:
        msg = ("no Chromium installed (apt-get install chromium, or set SHUTDOWN_CHROMIUM); "
               ".ci/run installs it")
        if os.environ.get("CI"):
            pytest.fail("CI: " + msg)
        pytest.skip(msg)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("playwright is not installed: make setup installs the test extra")
    return path


@pytest.fixture(scope="module")
def demo_report(shared_cache, tmp_path_factory):
    """`shutdown report kz-2022-01 --demo` on the shared demo cache (PNG only, lower dpi:
    the static figures' layout is in inches, only their pixels are fewer)."""
    from shutdown import plot, report
    out = tmp_path_factory.mktemp("browser") / "kz-2022-01-demo"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHUTDOWN_CACHE", str(shared_cache))
        mp.setattr(plot.style, "DPI", 80)
        mp.setattr(plot.style, "FORMATS", ("png",))
        data = report.gather("kz-2022-01", demo=True, progress=False)
        report.write(data, out)
    return out


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright
    pw = sync_playwright().start()
    b = launch(pw, chromium)
    yield b
    b.close()
    pw.stop()


class Opened:
    """A page on the report, with what it logged and requested."""

    def __init__(self, browser, report_dir, **context):
        self.errors, self.requests = [], []
        self.context = browser.new_context(viewport={"width": 1100, "height": 1300}, **context)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        # nothing may leave the machine: anything but file:, data: or blob: is recorded and refused
        self.context.route("**/*", lambda route: route.continue_()
                           if route.request.url.split(":", 1)[0] in ("file", "data", "blob") else route.abort())
        self.page.goto((report_dir / "report.html").as_uri())

    def remote(self) -> list[str]:
        return [u for u in self.requests if u.split(":", 1)[0] not in ("file", "data", "blob")]


@pytest.fixture
def opened(browser, demo_report):
    o = Opened(browser, demo_report)
    wait_for_charts(o.page)
    yield o
    o.context.close()


def test_charts_render_from_file_with_no_error_and_no_network(opened):
    assert opened.errors == []
    assert opened.remote() == []
    assert opened.requests and opened.requests[0].startswith("file://")
    for name in CHARTS:     # rendered, so the static PNG gave way on screen
        assert opened.page.locator(f'.fig[data-chart="{name}"] svg.marks').count() == 1
        assert not opened.page.locator(f'.fig[data-chart="{name}"] .static img').is_visible()


def test_every_documented_event_is_drawn_at_its_sidecar_window(opened, demo_report):
    import pandas as pd
    from shutdown.case import load_case
    from shutdown.timeline import load_timeline
    case = load_case("kz-2022-01")
    x0, x1 = case.window_utc
    in_window = {e.id for e in load_timeline(case.timeline_path, case=case)
                 if e.window_utc[1] > x0 and e.window_utc[0] < x1}
    ms = lambda t: pd.Timestamp(t).value // 10**6
    for name in CHARTS:
        side = json.loads((demo_report / f"figures/{name}.json").read_text())
        want = {e["id"]: (ms(e["drawn_start_utc"]), ms(e["drawn_end_utc"])) for e in side["events"]}
        items = opened.page.evaluate(EVENT_ITEMS_JS, name)
        got = {i["id"]: (i["t0"], i["t1"]) for i in items}
        assert set(got) == set(want), name
        for eid, (a, b) in want.items():     # to the second (pixels are floats, not rounded)
            assert abs(got[eid][0] - a) < 1000 and abs(got[eid][1] - b) < 1000, (name, eid, got[eid], (a, b))
        if name == "overview":          # the overview draws every event of the timeline
            assert set(got) == in_window and len(in_window) >= 8


def test_hovering_an_event_shows_its_quote_and_verdict(opened, demo_report):
    from shutdown.case import load_case
    from shutdown.timeline import load_timeline
    case = load_case("kz-2022-01")
    events = {e.id: e for e in load_timeline(case.timeline_path, case=case)}
    verdicts = {v["event"]: v["verdict"] for v in json.loads((demo_report / "manifest.json").read_text())["verdicts"]}
    page = opened.page
    items = {i["id"]: i for i in page.evaluate(EVENT_ITEMS_JS, "overview")}
    tip = page.locator("#vg-tooltip-element")
    for eid in ("kz-03-shutdown", "kz-06-almaty-window"):
        x, y, w, h = items[eid]["box"]
        page.mouse.move(x + w / 2, y + h / 2)
        tip.wait_for(state="visible")
        text = " ".join(tip.inner_text().split())
        ev = events[eid]
        assert " ".join(ev.quote_kk.split()) in text
        assert " ".join(ev.text_en.split()) in text and ev.citation in text
        assert f"verdict {verdicts[eid]}" in text and "n_sources:" in text
        page.mouse.move(5, 5)
    # a click shows the event's card (quote, citation, verdict) under the chart
    x, y, w, h = items["kz-03-shutdown"]["box"]
    page.mouse.click(x + w / 2, y + h / 2)
    card = " ".join(page.locator("#details-overview").inner_text().split())
    assert card.startswith("kz-03-shutdown:") and events["kz-03-shutdown"].citation in card
    assert f"Verdict: {verdicts['kz-03-shutdown']}" in card


_POINTS_JS = """
([name, series]) => {
  const found = [];
  const walk = (node) => {
    if (!node) return;
    if (node.marktype === 'symbol' && node.name && node.name.startsWith(name + '_points'))
      for (const it of node.items || []) if (it.datum.s === series) {
        const r = it._svg.getBoundingClientRect();
        found.push({t: it.datum.t, v: it.datum.v, box: [r.x, r.y, r.width, r.height]});
      }
    for (const it of node.items || []) walk(it);
  };
  walk(window.shutdownCharts[name].scenegraph().root);
  return found;
}
"""


def test_hovering_a_line_reads_the_point_in_utc_and_local_time(opened):
    """The readout names a point of the line as the chart has it: its UTC time, the same
    instant in Almaty (UTC+6 in 2022), its value."""
    import re
    import pandas as pd
    page = opened.page
    for other in ("telescope", "BGP"):          # the panel's other lines, off
        page.locator("#fig-overview .vega-bindings label", has_text=f"show {other}").locator("input").uncheck()
    # unchecking scrolled to the checkboxes under the chart: bring its first panel back
    page.locator("#fig-overview").evaluate("e => e.scrollIntoView({block: 'start'})")
    pts = page.evaluate(_POINTS_JS, ["overview", "active probing"])
    x, y, w, h = pts[400]["box"]
    assert 0 <= y <= page.viewport_size["height"], "the point to hover is off screen"
    page.mouse.move(x + w / 2, y + h / 2)
    tip = page.locator("#vg-tooltip-element")
    tip.wait_for(state="visible")
    text = " ".join(tip.inner_text().split())
    m = re.fullmatch(r"series active probing UTC (\S+ \S+) UTC local \(Asia/Almaty\) (\S+ \S+) UTC\+6 "
                     r"value (\S+)", text)
    assert m, text
    t = pd.Timestamp(m.group(1), tz="UTC")
    assert pd.Timestamp(m.group(2), tz="Asia/Almaty") == t           # the same instant, local
    by_t = {p["t"]: p["v"] for p in pts}
    assert float(m.group(3)) == pytest.approx(by_t[t.value // 10**6], rel=1e-3)
    assert abs(t.value // 10**6 - pts[400]["t"]) <= 3600_000          # a point under the pointer


_LINE_POINTS_JS = """
([name, series]) => {
  let n = 0;
  const walk = (node) => {
    if (!node) return;
    if (node.marktype === 'line')
      for (const it of node.items || []) if (it.datum && it.datum.s === series) n += 1;
    for (const it of node.items || []) walk(it);
  };
  walk(window.shutdownCharts[name].scenegraph().root);
  return n;
}
"""


def test_series_toggle_and_time_axis_zooms_all_panels(opened):
    page = opened.page
    assert page.evaluate(_LINE_POINTS_JS, ["overview", "telescope"]) > 100
    page.locator("#fig-overview .vega-bindings label", has_text="show telescope").locator("input").uncheck()
    page.wait_for_function(f"() => ({_LINE_POINTS_JS})(['overview', 'telescope']) === 0")
    assert page.evaluate(_LINE_POINTS_JS, ["overview", "active probing"]) > 100    # the others stay

    domain = "() => window.shutdownCharts.overview.scale('x').domain().map(Number)"
    before = page.evaluate(domain)
    bar = lambda: {i["id"]: i for i in page.evaluate(EVENT_ITEMS_JS, "overview")}["kz-08-restored"]["box"]
    bar_before = bar()
    # scroll over the lowest panel: the one time scale every panel and the event strip share zooms
    panel = page.locator("#fig-overview svg.marks").bounding_box()
    page.mouse.move(panel["x"] + 400, panel["y"] + panel["height"] - 80)
    page.mouse.wheel(0, -400)
    page.wait_for_function(f"() => {{ const d = ({domain})(); return d[1] - d[0] < {before[1] - before[0]}; }}")
    after = page.evaluate(domain)
    assert before[0] <= after[0] < after[1] <= before[1]
    assert bar() != bar_before                      # the event strip moved with the panel
    page.mouse.dblclick(panel["x"] + 400, panel["y"] + panel["height"] - 80)
    page.wait_for_function(f"() => ({domain})()[0] === {before[0]}")


def test_screenshot_is_not_blank(opened, tmp_path):
    import numpy as np
    from PIL import Image
    png = opened.page.locator("#fig-overview").screenshot()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.width > 600 and img.height > 600
    px = np.asarray(img).reshape(-1, 3)
    ink = float((px.min(axis=1) < 235).mean())
    assert ink > 0.05, f"only {ink:.1%} of the screenshot is not white"
    assert len(np.unique(px, axis=0)) > 50            # lines, bands, text: many colours


def test_without_javascript_and_in_print_the_static_figures_show(browser, demo_report, opened):
    off = Opened(browser, demo_report, java_script_enabled=False)
    try:
        for name in CHARTS:
            fig = off.page.locator(f'.fig[data-chart="{name}"]')
            assert fig.locator(".static img").is_visible()
            assert fig.locator(".interactive").inner_html() == ""
        assert off.page.locator("table").first.is_visible()
        assert off.remote() == []
    finally:
        off.context.close()
    page = opened.page                  # rendered charts, printed: the PNGs instead
    page.emulate_media(media="print")
    for name in CHARTS:
        fig = page.locator(f'.fig[data-chart="{name}"]')
        assert fig.locator(".static img").is_visible() and not fig.locator(".interactive").is_visible()
