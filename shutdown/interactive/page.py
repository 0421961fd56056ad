"""The page side of the interactive charts: the inlined Vega library (bundled by
vl-convert once and kept in the cache), the styles, each figure's block (the chart over its
static PNG) and the script that renders them; :func:`embedded` reads the charts back from
a report.html (``shutdown check``)."""
from __future__ import annotations

import html
import json
import re
from functools import lru_cache

_EMBED_OPTIONS = {"actions": {"export": True, "source": False, "compiled": False, "editor": False},
                  "renderer": "svg"}


@lru_cache(maxsize=1)
def library_js() -> str:
    """Vega, Vega-Lite and vega-embed as one script (for the Vega-Lite version Altair writes).

    vl-convert bundles it on every call (~2 s, as long as the rest of a warm report), so
    the bundle is kept in the cache directory and reused. Its name carries the installed
    versions of both packages (which decide its content), read from their metadata:
    importing altair only to name the file took a tenth of a warm report."""
    from importlib.metadata import version

    from shutdown.paths import default_cache_dir
    name = f"vega-bundle-vl-convert-{version('vl-convert-python')}-altair-{version('altair')}.js"
    path = default_cache_dir() / "vendor" / name
    try:
        js = path.read_text(encoding="utf-8")
        if js:
            return js
    except OSError:
        pass
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert
    js = vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert()).replace(
        "</script", "<\\/script")
    from shutdown.errors import InputError
    from shutdown.store import atomic_write
    try:
        atomic_write(path, js.encode("utf-8"))
    except (OSError, InputError):   # a read-only cache only costs the time
        pass
    return js


# --------------------------------------------------------------------------- page
CSS = """
.fig .interactive{overflow-x:auto}
.fig.live .static{display:none}
.fig .vega-bindings{font-size:.8rem;display:flex;flex-wrap:wrap;gap:.2rem 1rem}
.fig .event-details:empty{display:none}
.fig .event-details{border:1px solid #999;padding:.4rem .8rem;margin:.4rem 0;background:#fafafa}
.chart-banner{font-weight:bold;border:2px solid #000;padding:.2rem .5rem;background:#ffe;margin:.3rem 0}
#vg-tooltip-element{max-width:36rem}
#vg-tooltip-element table tr td.value{max-width:28rem;max-height:none;white-space:normal;overflow-wrap:anywhere}
@media print{.fig .interactive,.fig .event-details,.chart-banner{display:none!important}
.fig.live .static{display:block!important}}
"""


def head() -> str:
    """What the page's <head> needs: the styles and the inlined library."""
    return (f"<style>{CSS}</style>\n<script>/* Vega, Vega-Lite, vega-embed (inlined: no network) */\n"
            f"{library_js()}\n</script>")


def figure_html(name: str, spec: dict, static_html: str, simulated: bool) -> str:
    """One figure: the interactive chart over its static PNG (shown without JavaScript,
    when rendering fails, and in print)."""
    e = html.escape
    payload = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    banner = ('<p class="chart-banner">SIMULATED DATA: this interactive chart is drawn from '
              "simulated responses, not measurements.</p>" if simulated else "")
    return (f'<div class="fig" data-chart="{e(name)}">{banner}'
            f'<div class="interactive" id="vis-{e(name)}"></div>'
            f'<div class="event-details" id="details-{e(name)}" aria-live="polite"></div>'
            f'<script type="application/json" id="chart-{e(name)}">{payload}</script>'
            f'<div class="static">{static_html}</div></div>')


# Renders every embedded chart; on success the static PNG gives way (CSS .live), on
# failure it stays. Clicking an event shows its card from "Documented events".
BOOT = """
<noscript><p><b>JavaScript is off:</b> the static figures are shown; the interactive charts
need JavaScript (they load nothing from the network).</p></noscript>
<script>
window.shutdownCharts = {};
document.querySelectorAll('.fig[data-chart]').forEach(function (fig) {
  var name = fig.dataset.chart;
  var spec = JSON.parse(document.getElementById('chart-' + name).textContent);
  vegaEmbed('#vis-' + name, spec, %s).then(function (res) {
    window.shutdownCharts[name] = res.view;
    fig.classList.add('live');
    res.view.addEventListener('click', function (ev, item) {
      var d = item && item.datum;
      var card = d && d.quote_kk !== undefined && document.getElementById('event-' + d.id);
      if (card) {
        var box = document.getElementById('details-' + name);
        box.replaceChildren(card.cloneNode(true));
        box.firstChild.removeAttribute('id');
      }
    });
  }).catch(function (err) { console.error('chart ' + name + ': ' + err); });
});
</script>
""" % json.dumps(_EMBED_OPTIONS)


# --------------------------------------------------------------------------- reading the page
_CHART_RE = re.compile(r'<script type="application/json" id="chart-([^"]+)">(.*?)</script>', re.S)


def embedded(page: str) -> dict:
    """name -> spec of every chart embedded in a report.html text."""
    return {m.group(1): json.loads(m.group(2)) for m in _CHART_RE.finditer(page)}
