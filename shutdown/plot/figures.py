"""The figure functions the registry (``catalogue.FIGURES``) names.

Each ``*_figure`` function takes plain data -- the tidy table, the documented events
(``timeline.Event``), the detected intervals, the alignment table, the case -- lays out
a page, composes panels (``panels``) under the event strip (``lanes``) and returns
``Drawn(figure, record)``. Writing files is ``save``; reading back is ``describe``.

Adding a figure: a function here and one ``FigureDef`` in ``catalogue.FIGURES``; the
report draws, captions, saves and describes it, and ``shutdown check`` verifies it, from
that entry.
"""
from __future__ import annotations


import matplotlib
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from shutdown.i18n import _, is_english
from shutdown.plot import style as S
from shutdown.plot.derive import day_counts, display_rows, is_simulated, subtype_part
from shutdown.plot.lanes import (draw_event_guides, draw_event_strip, event_bars, kind_handles, lane_handles,
                                 other_lanes, stack_lanes, stack_rows)
from shutdown.plot.layout import (axes_width_px, day_formatter, day_label, format_time_axes, legend,
                                  new_figure, title, watermark)
from shutdown.plot.panels import (PanelData, draw_alignment_panel, draw_heat_panel, draw_network_panel,
                                  draw_region_panel, draw_source_panel, gantt_lines, heat_colorbar, no_data,
                                  network_series, overview_panels, region_panels)
from shutdown.plot.record import Drawn, Record, num
from shutdown.plot.style import FONT_SIZE, PAGE_WIDTH_IN, RC, RIGHT_IN, ROW_IN, SERIES_STYLE, VERDICT_STYLE, \
    VERDICTS_ORDER
from shutdown.schema import OONI_CIRCUMVENTION_TESTS, SITE_SIGNAL



def _finish_page(fig, strip, panels, bars, n_rows, case, rec, simulated, handles=(), lanes=()) -> None:
    """What every strip-and-panels figure ends with: time axes, the event strip (and other
    documenters' ``lanes`` below the report's events), the legend (extra ``handles`` first,
    then the event kinds) and the SIMULATED watermark."""
    x0, x1 = case.window_utc
    format_time_axes([strip, *panels], strip, x0, x1, case.timezone)
    draw_event_strip(strip, bars, n_rows, x0, x1, rec, lanes)
    legend(fig, list(handles) + kind_handles(bars, detected=bool(rec.detected)) + lane_handles(lanes))
    watermark(fig, simulated)
    rec.panels_of(fig, fig.get_suptitle())

def _strip(events, x0, x1, context=True):
    """The event bars of the window (without context events unless asked) and their rows."""
    bars = [b for b in event_bars(events, x0, x1) if context or b.kind != "context"]
    return bars, stack_rows(bars, x0, x1, axes_width_px(), FONT_SIZE - 1, S.DPI)


def overview_figure(tidy: pd.DataFrame, events, intervals: pd.DataFrame | None, case,
                    others: pd.DataFrame | None = None) -> Drawn:
    """One panel per source family on a shared UTC axis, documented events on top; below
    them a lane per other documenter of ``others`` (``documenters.compare``'s table)."""
    simulated = is_simulated(tidy)
    x0, x1 = case.window_utc
    cc = case.country
    d = PanelData(tidy, intervals, case.baseline_utc, x0, x1)
    rec = Record("overview", simulated, ("country", cc))
    with matplotlib.rc_context(RC):
        bars, n_rows = _strip(events, x0, x1)
        lanes = other_lanes(others, x0, x1)
        n_rows += stack_lanes(lanes, n_rows, x0, x1, axes_width_px(), FONT_SIZE - 1, S.DPI)
        specs = overview_panels(tidy, case, "country", cc)      # as the sources declare them
        fig, strip, panels = new_figure(len(specs), 1.25, n_rows,
                                        title(case, "the Internet shutdown as measured", simulated))
        for ax, (src, spec) in zip(panels, specs):
            draw_source_panel(ax, d, src, spec, "country", cc, rec)
        for ax in panels:
            draw_event_guides(ax, bars)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="lower left", frameon=True, framealpha=0.85, ncol=3,
                          fontsize=FONT_SIZE - 2, borderpad=0.3, handlelength=2.5)
        _finish_page(fig, strip, panels, bars, n_rows, case, rec, simulated, lanes=lanes)
    rec.finish(tidy, x0, x1)
    return Drawn(fig, rec)


def networks_figure(tidy: pd.DataFrame, events, intervals, case) -> Drawn:
    """Small multiples, one row per network of the case, same axes, so operators compare."""
    simulated = is_simulated(tidy)
    x0, x1 = case.window_utc
    nets = list(case.networks)
    d = PanelData(tidy, intervals, case.baseline_utc, x0, x1)
    rec = Record("networks", simulated, ("asn", None))
    with matplotlib.rc_context(RC):
        bars, n_rows = _strip(events, x0, x1, context=False)
        fig, strip, panels = new_figure(max(len(nets), 1), 0.95, n_rows,
                                        title(case, "per network (ASN)", simulated))
        used = set()
        for ax, net in zip(panels, nets):
            used |= draw_network_panel(ax, d, net, rec)
            draw_event_guides(ax, bars)
        if not nets:
            no_data(panels[0], _("the case lists no networks"), rec)
        ymax = max([ax.get_ylim()[1] for ax in panels] + [1.2])
        for ax in panels:
            ax.set_ylim(0, min(ymax, 1.6))
            ax.set_ylabel(_("of normal"))
        series = network_series()
        handles = [(matplotlib.lines.Line2D([], [], color=SERIES_STYLE[i][0], ls=SERIES_STYLE[i][1]),
                    _(series[i][1]["label"])) for i in sorted(used)]
        _finish_page(fig, strip, panels, bars, n_rows, case, rec, simulated, handles)
    rec.finish(tidy, x0, x1)
    return Drawn(fig, rec)


def region_figure(tidy: pd.DataFrame, events, intervals, case, region: str | None = None) -> Drawn:
    """A region (e.g. Almaty) against the whole country, per source with regional data."""
    simulated = is_simulated(tidy)
    x0, x1 = case.window_utc
    region = region or (case.regions[0].name if case.regions else None)
    reg = tidy[(tidy["entity_type"] == "region") & (tidy["entity_code"] == str(region))] \
        if region else tidy.iloc[0:0]
    pairs = region_panels(reg)
    d = PanelData(tidy, intervals, case.baseline_utc, x0, x1)
    rec = Record("region", simulated, ("region", region))
    with matplotlib.rc_context(RC):
        bars, n_rows = _strip(events, x0, x1, context=False)
        fig, strip, panels = new_figure(max(len(pairs), 1), 1.1, n_rows,
                                        title(case, _("{region} against the country").format(region=region or _("region")), simulated))
        for ax, pair in zip(panels, pairs):
            draw_region_panel(ax, d, case.country, region, pair, rec)
            draw_event_guides(ax, bars)
            ax.set_ylim(bottom=0)
            ax.legend(loc="lower left", fontsize=FONT_SIZE - 2, ncol=2, framealpha=0.85)
        if not pairs:
            no_data(panels[0], _("no source returned regional data for {region}").format(
                region=region or _("any region")), rec)
        _finish_page(fig, strip, panels, bars, n_rows, case, rec, simulated)
    rec.finish(tidy, x0, x1)
    return Drawn(fig, rec)


def alignment_figure(events, intervals, alignment: pd.DataFrame, case, simulated: bool) -> Drawn:
    """Gantt chart: each documented event (outlined) above the detections matched to it,
    coloured by verdict. ``alignment`` has one row per event and source/signal with
    the columns of ``shutdown.align.align`` (event, role, family, source, signal, verdict,
    transition_utc, ...) and optionally det_start_utc/det_end_utc, the detected interval."""
    x0, x1 = case.window_utc
    evs = [e for e in events if e.kind != "context" and e.window_utc[1] > x0 and e.window_utc[0] < x1]
    al = alignment if alignment is not None and len(alignment) else pd.DataFrame(columns=["event", "verdict"])
    groups = [(ev, display_rows(al[al["event"] == ev.id])) for ev in evs]
    rec = Record("alignment", simulated, ("case", case.name))
    with matplotlib.rc_context(RC):
        # other languages' row labels run longer (Cyrillic is wider, verdicts are words)
        top_in, bottom_in, left_in = 0.8, 1.05, 2.7 if is_english() else 3.2
        h = top_in + 0.17 * gantt_lines(groups) + bottom_in
        fig = Figure(figsize=(PAGE_WIDTH_IN, h), dpi=S.DPI)
        ax = fig.add_axes([left_in / PAGE_WIDTH_IN, bottom_in / h,
                           1 - (left_in + RIGHT_IN) / PAGE_WIDTH_IN, 1 - (bottom_in + top_in) / h],
                          label="alignment")
        fig.suptitle(title(case, "documented events against detected intervals", simulated),
                     fontsize=FONT_SIZE + 2, y=1 - 0.12 / h, va="top")
        draw_alignment_panel(ax, groups, x0, x1, rec)
        ax.set_xlim(num(x0), num(x1))
        ax.xaxis.set_major_locator(mdates.DayLocator(tz="UTC"))
        ax.xaxis.set_major_formatter(day_formatter())
        ax.set_xlabel(_("UTC"))
        ax.grid(axis="x", color="#DDDDDD", lw=0.5)
        first = x0.tz_convert(case.timezone).normalize()
        local_days = [d for d in pd.date_range(first, x1.tz_convert(case.timezone), freq="1D")
                      if x0 <= d <= x1]
        top = ax.secondary_xaxis("top")
        top.set_xticks([num(d) for d in local_days], labels=[day_label(d) for d in local_days])
        top.set_xlabel(_("local time ({tz}); ticks at local midnight").format(tz=case.timezone),
                       fontsize=FONT_SIZE - 1)
        used = sorted({str(r) for _, rows in groups for r in rows.get("verdict", [])})
        handles = [Patch(facecolor="white", edgecolor="black", label=_("documented window")),
                   matplotlib.lines.Line2D([], [], marker="|", color="black", ls="none", ms=7, mew=1.2,
                                           label=_("measured transition")),
                   matplotlib.lines.Line2D([], [], color="black", lw=2.2, alpha=0.55,
                                           label=_("span of a pooled change"))]
        handles += [Patch(facecolor=VERDICT_STYLE[v][0], hatch=VERDICT_STYLE[v][1], edgecolor="black",
                          lw=0.4, label=_(v)) for v in VERDICTS_ORDER if v in used]
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4 if is_english() else 3),
                   frameon=False,
                   fontsize=FONT_SIZE - 1, bbox_to_anchor=(0.5, 0.2 / h))
        for t in ax.get_yticklabels():
            if not t.get_text().startswith("    "):
                t.set_fontweight("bold")
        watermark(fig, simulated)
        rec.panels_of(fig, fig.get_suptitle())
    rec.x_range = (x0, x1)      # the data range stays unknown: the figure draws no series
    return Drawn(fig, rec)


def evidence_figure(tidy: pd.DataFrame, events, case) -> Drawn:
    """Whitelist (listed vs control sites) and circumvention tests, per local day: OONI's
    per-domain results and circumvention tests as heat maps under the documented events."""
    simulated = is_simulated(tidy)
    x0, x1 = case.window_utc
    listed = [v.lower() for e in events if e.scope_type == "sites" for v in e.scope_values]
    control = [d for d in getattr(case, "control_sites", ()) if d not in listed]
    ks, ns = day_counts(tidy, case, lambda s: s == SITE_SIGNAL,
                        lambda d: subtype_part(d, 0), ("ok",))
    kc, nc = day_counts(tidy, case, lambda s: s.isin(OONI_CIRCUMVENTION_TESTS),
                        lambda d: d["signal"].astype(str), ("anomaly", "confirmed"))
    site_rows = [d for d in listed + control]
    circ_rows = list(OONI_CIRCUMVENTION_TESTS)
    rec = Record("evidence", simulated, ("country", case.country))
    with matplotlib.rc_context(RC):
        bars, n_rows = _strip(events, x0, x1)
        hs, hc = 0.17 * max(len(site_rows), 1), 0.17 * len(circ_rows) + 0.2
        fig, strip, (p_sites, p_circ) = new_figure(
            2, (hs + hc) / 2, n_rows, title(case, "whitelist and circumvention evidence (OONI)", simulated))
        # panel heights follow their rows (same total as new_figure laid out)
        gs = p_sites.get_subplotspec().get_gridspec()
        gs.set_height_ratios([0.25 + n_rows * ROW_IN, hs, hc])
        for ax in (strip, p_sites, p_circ):           # recompute positions from the new ratios
            ax.set_subplotspec(ax.get_subplotspec())
        if len(ns):
            sm = draw_heat_panel(p_sites, ks, ns, site_rows,
                                 _("OONI web_connectivity, share accessible: {n} listed | control").format(n=len(listed)),
                                 "cividis", {"source": "ooni", "signal": SITE_SIGNAL, "entity_type": "country",
                                             "entity_code": case.country, "transform": "ok/all per local day"},
                                 rec)
            p_sites.axhline(len(listed), color="black", lw=1.2)
            heat_colorbar(fig, sm, p_sites)
        else:
            no_data(p_sites, _("no per-domain OONI data"), rec)
        if len(nc):
            sm = draw_heat_panel(p_circ, kc, nc, circ_rows, _("OONI circumvention tests, share anomalous"),
                                 "cividis_r", {"source": "ooni", "signal": ",".join(circ_rows),
                                               "entity_type": "country", "entity_code": case.country,
                                               "transform": "(anomaly+confirmed)/all per local day"},
                                 rec, dark_low=False)
            heat_colorbar(fig, sm, p_circ)
        else:
            no_data(p_circ, _("no OONI circumvention tests"), rec)
        for ax in (p_sites, p_circ):
            draw_event_guides(ax, bars)
        _finish_page(fig, strip, [p_sites, p_circ], bars, n_rows, case, rec, simulated)
    rec.finish(tidy, x0, x1)
    return Drawn(fig, rec)
