"""Opening a report in headless Chromium (Playwright driving the system's browser).

Used by tests/test_report_browser.py and docs/screenshot.py. Playwright is pointed at
an installed Chromium (Debian's ``chromium`` package; ``.ci/run`` installs it) and never
downloads a browser of its own. ``SHUTDOWN_CHROMIUM`` names another executable.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

# the charts report.html renders (shutdown.interactive); the page sets window.shutdownCharts
CHARTS = ("overview", "networks", "alignment")


def chromium_path() -> str | None:
    for cand in (os.environ.get("SHUTDOWN_CHROMIUM"), shutil.which("chromium"),
                 shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def launch(pw, executable: str):
    # --no-sandbox: CI and these machines run as root, where Chromium's sandbox refuses to start
    return pw.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])


def wait_for_charts(page, names=CHARTS, timeout_ms: int = 120_000) -> None:
    """Until every chart has rendered (vegaEmbed resolved: its figure got class "live")."""
    page.wait_for_function(
        "names => window.shutdownCharts && names.every(n => window.shutdownCharts[n] && "
        "document.querySelector('.fig[data-chart=\"' + n + '\"]').classList.contains('live'))",
        arg=list(names), timeout=timeout_ms)


# The documented-event bars of a chart, from Vega's scenegraph: each item's datum, its
# window read back from its pixels through the chart's time scale, and its box on screen.
EVENT_ITEMS_JS = """
(name) => {
  const view = window.shutdownCharts[name];
  const x = view.scale('x');
  const out = [];
  const walk = (node) => {
    if (!node) return;
    if (node.marktype === 'rect' && node.name === name + '_events_marks') {
      for (const it of node.items || []) {
        const r = it._svg.getBoundingClientRect();
        out.push({id: it.datum.id, t0: +x.invert(it.x), t1: +x.invert(it.x + it.width),
                  box: [r.x, r.y, r.width, r.height]});
      }
    }
    for (const it of node.items || []) walk(it);
  };
  walk(view.scenegraph().root);
  return out;
}
"""
