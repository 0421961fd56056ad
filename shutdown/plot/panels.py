"""Axes-level drawing: each function draws one panel on an Axes it is given, from plain
data (the tidy table, the detected intervals, the baseline window), and adds what it drew
to the figure's ``Record``. Figures (``figures.py``) lay panels out and compose them.

The primitives: ``draw_series`` (a line), ``draw_detected`` (grey spans where the
detector found outages in that panel's series), ``no_data`` (a panel that says what is
missing). The panels: ``draw_source_panel`` (an overview panel as its source declares it,
``overview_panels``), ``draw_network_panel`` (``network_series``), ``draw_region_panel``
(``region_panels``), ``draw_alignment_panel`` (the Gantt chart) and ``draw_heat_panel``
(OONI per local day). Which series a panel draws, and what it calls them, come from the
sources' declarations (``shutdown.sources.registry``): nothing here names a source.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from shutdown.i18n import _ as gettext, current
from shutdown.plot.derive import (baseline_ratio, intervals_for, overall_verdict, select,
                                  trial_share)
from shutdown.plot.lanes import event_label, event_record, short_id
from shutdown.plot.record import Record, num, plain, utc
from shutdown.verdict import NAMES as VERDICTS, Verdict
from shutdown.plot.style import DETECTED_STYLE, EVENT_STYLE, FONT_SIZE, OI, SERIES_STYLE, VERDICT_STYLE


@dataclass
class PanelData:
    """What every panel of one figure draws from."""
    tidy: pd.DataFrame
    intervals: pd.DataFrame | None
    baseline: tuple            # UTC window of the baseline (shares of baseline)
    x0: pd.Timestamp           # the time axis
    x1: pd.Timestamp


# --------------------------------------------------------------------------- primitives
def draw_series(ax, s: pd.Series, label: str, style: int, meta: dict, rec: Record):
    colour, ls = SERIES_STYLE[style % len(SERIES_STYLE)]
    if s.empty:
        return
    label = gettext(label)
    # as datetime64[us], what date2num makes of datetimes (not one datetime per point)
    x = mdates.date2num(s.index.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[us]"))
    ax.plot(x, s.to_numpy(dtype=float), color=colour, ls=ls, lw=1.0, label=label)
    rec.add("series", {"panel": ax.get_label(), "label": label, "n_points": int(s.size),
                       "first_utc": plain(s.index.min()), "last_utc": plain(s.index.max()), **meta})
    rec.add("points", {"mark": "line", "ax": ax, "series": label, "meta": meta, "index": s.index,
                       "values": s.to_numpy(dtype=float), "colour": colour, "ls": ls})


# the detected intervals' columns a sidecar lists for each span
_DETECTED_KEEP = ["source", "entity_type", "entity_code", "signal", "subtype", "metric", "start_utc",
                  "end_utc", "kind", "direction", "depth", "level", "simulated"]


def draw_detected(ax, intervals: pd.DataFrame, x0, x1, rec: Record):
    """Shade where the detector found outages in this panel's series (grey: measured, not
    documented). Overlapping intervals of several series are merged into one span, so the
    shade stays one grey; the sidecar lists each span's member intervals."""
    spans = []   # [start, end, members]
    rows = [r for _, r in intervals.iterrows()] if len(intervals) else []
    for r in sorted(rows, key=lambda r: utc(r["start_utc"])):
        s, e = max(utc(r["start_utc"]), x0), min(utc(r["end_utc"]), x1)
        if e <= s:
            continue
        if spans and s <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], e)
            spans[-1][2].append(r)
        else:
            spans.append([s, e, [r]])
    for s, e, members in spans:
        gid = f"detected:{len(rec.detected)}"
        ax.axvspan(num(s), num(e), gid=gid, zorder=0, **DETECTED_STYLE)
        rec.add("detected", {"gid": gid, "panel": ax.get_title(loc="left") or ax.get_label(),
                             "intervals": [{k: plain(m[k]) for k in _DETECTED_KEEP if k in m.index}
                                           for m in members]})


def no_data(ax, what: str, rec: Record):
    ax.set_yticks([])
    what = gettext(what)
    ax.text(0.5, 0.5, what, transform=ax.transAxes, ha="center", va="center",
            fontsize=FONT_SIZE, color="#555555", style="italic")
    rec.add("missing", {"panel": ax.get_label(), "what": what})


# A compact panel title sitting on the panel's top edge: where matplotlib's automatic title
# placement put the former ``pad=2`` titles (their descent is larger than 2 pt, so it moved
# them up until they touched the edge), without that pass (it measures every y tick again
# before the panel is drawn).
TITLE_ON_TOP = dict(loc="left", y=1.0, pad=0, va="bottom")


# --------------------------------------------------------------------------- overview panels
# A source declares its overview panels (``DECLARATION["panels"]``, see
# ``shutdown.sources.registry``); a panel names its series and how each is made from the
# tidy table: one of TRANSFORMS, (PanelData, source, series spec, entity) -> (series, what
# the sidecar calls the transform). Only the series a panel draws are shaded: shading gtr
# or probes_connected outages under lines that do not show them would mislead.
TRANSFORMS = {
    "none": lambda d, src, g, et, code: (select(d.tidy, src, g["signal"], g.get("subtype"), et, code), "none"),
    # a level: its share of its baseline median (1 = normal)
    "level_ratio": lambda d, src, g, et, code: (
        baseline_ratio(select(d.tidy, src, g["signal"], g.get("subtype"), et, code), d.baseline), "baseline_ratio"),
    # a trials signal: k of n as its source declares them (OONI's named tests summed and
    # pooled as detection pools them; Atlas probes reachable over reporting)
    "trial_share": lambda d, src, g, et, code: trial_share(
        d.tidy, src, g.get("signals") or g["signal"], g.get("subtype"), et, code, d.baseline),
}


def overview_panels(tidy, case, entity_type, entity_code) -> list[tuple]:
    """[(Source, panel spec)] of the case's sources, in the registry's order: the panels a
    source declares, else one of its connectivity and traffic signals as shares of their
    baseline, when it has data for the entity."""
    from shutdown.sources import registry
    out = []
    for name, src in registry.sources().items():
        if name not in case.sources:
            continue
        if src.panels:
            out.extend((src, spec) for spec in src.panels)
            continue
        sigs = [g for g in src.signals if g.role in ("connectivity", "traffic")
                and not select(tidy, name, g.signal, None, entity_type, entity_code).empty]
        if sigs:
            out.append((src, {"title": f"{src.title}: {gettext('share of baseline (1 = normal)')}",
                              "series": [{"signal": g.signal, "label": g.label or g.signal,
                                          "transform": "level_ratio"} for g in sigs]}))
    return out


def draw_source_panel(ax, d: PanelData, src, spec: dict, entity_type, entity_code, rec: Record) -> None:
    """One panel a source declares (``overview_panels``): its series, each made by its
    transform and drawn in its style (default: its place in the panel); the panel says what
    is missing when none has data; grey where the detector found outages in its signals."""
    used = set()
    for i, g in enumerate(spec["series"]):
        s, how = TRANSFORMS[g["transform"]](d, src.name, g, entity_type, entity_code)
        if s.empty:
            continue
        used.add(how)
        draw_series(ax, s, g["label"], g.get("style", i),
                    {"source": src.name, "signal": g.get("signal") or ",".join(g["signals"]),
                     **({"subtype": g["subtype"]} if "subtype" in g else {}),
                     "entity_type": entity_type, "entity_code": entity_code, "transform": how}, rec)
    # a title may depend on how the series could be made (``title_when``: transform -> title)
    only = next(iter(used)) if len(used) == 1 else None
    ax.set_title(gettext(spec.get("title_when", {}).get(only, spec["title"])), loc="left", y=1.0)
    if not used:
        no_data(ax, gettext(spec.get("missing", "no data")).format(code=entity_code), rec)
    if spec.get("ylim"):
        ax.set_ylim(*spec["ylim"])
    else:
        ax.set_ylim(bottom=0)
    series = spec["series"]
    subtypes = [g["subtype"] for g in series if "subtype" in g]
    draw_detected(ax, intervals_for(d.intervals, entity_type=entity_type, entity_code=entity_code,
                                    source=src.name,
                                    signal=list(dict.fromkeys(x for g in series
                                                              for x in g.get("signals", [g.get("signal")]))),
                                    subtype=subtypes if len(subtypes) == len(series) else None),
                  d.x0, d.x1, rec)


# --------------------------------------------------------------------------- per network
def network_series() -> list[tuple]:
    """[(Source, series spec)] the per-network figure draws, as the sources declare them
    (``network_series``), in the registry's order; a series' place is its style."""
    from shutdown.sources import registry
    return [(src, g) for src in registry.sources().values() for g in src.network_series]


def draw_network_panel(ax, d: PanelData, net, rec: Record) -> set[int]:
    """One network (ASN): ``network_series``, each made by its transform; returns the
    indices drawn (for the legend)."""
    code = str(net.asn)
    ax.set_title(f"{net.name} (AS{net.asn})", **TITLE_ON_TOP)
    series = network_series()
    used = set()
    for i, (src, g) in enumerate(series):
        s, how = TRANSFORMS[g["transform"]](d, src.name, g, "asn", code)
        if s.empty:
            continue
        used.add(i)
        draw_series(ax, s, g["label"], i, {"source": src.name, "signal": g["signal"],
                                          "subtype": g.get("subtype") or "", "entity_type": "asn",
                                          "entity_code": code, "transform": how}, rec)
    if not used:
        no_data(ax, gettext("no source returned data for AS{asn}").format(asn=net.asn), rec)
    draw_detected(ax, intervals_for(d.intervals, entity_type="asn", entity_code=code,
                                    source=list(dict.fromkeys(src.name for src, _ in series)),
                                    signal=[g["signal"] for _, g in series]), d.x0, d.x1, rec)
    return used


# --------------------------------------------------------------------------- region
def region_panels(reg: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(source, signal, subtype) of the panels the region figure draws for these rows: the
    sources' ``region_panels`` in the registry's order, one per signal the rows hold, in
    its preferred subtype (else the first). One panel per signal keeps the figure within a
    report page; the other subtypes are in the tidy table."""
    from shutdown.sources import registry
    have = reg[["source", "signal", "subtype"]].drop_duplicates()
    out = []
    for name, src in registry.sources().items():
        for g in src.region_panels:
            sig = g["signal"]
            subs = sorted(have.loc[(have["source"] == name) & (have["signal"] == sig), "subtype"].astype(str))
            if subs:
                want = g.get("subtype")
                out.append((name, sig, want if want in subs else subs[0]))
    return out


def draw_region_panel(ax, d: PanelData, country: str, region: str, panel: tuple, rec: Record):
    """One (source, signal, subtype): the country and the region as shares of their baseline."""
    from shutdown.sources import registry
    src, sig, sub = panel
    declared, signal = registry.sources().get(src), registry.signal(src, sig)
    name = f"{declared.title if declared else src} {signal.name if signal else sig}" + (f" ({sub})" if sub else "")
    ax.set_title(f"{gettext(name)}: {gettext('share of baseline')}", **TITLE_ON_TOP)
    c = baseline_ratio(select(d.tidy, src, sig, sub, "country", country), d.baseline)
    r = baseline_ratio(select(d.tidy, src, sig, sub, "region", region), d.baseline)
    draw_series(ax, c, f"{country} ({gettext('country')})", 0,
                {"source": src, "signal": sig, "subtype": sub, "entity_type": "country",
                 "entity_code": country, "transform": "baseline_ratio"}, rec)
    draw_series(ax, r, str(region), 1,
                {"source": src, "signal": sig, "subtype": sub, "entity_type": "region",
                 "entity_code": region, "transform": "baseline_ratio"}, rec)
    draw_detected(ax, intervals_for(d.intervals, entity_type="region", entity_code=region,
                                    source=src, signal=sig), d.x0, d.x1, rec)


# --------------------------------------------------------------------------- alignment (Gantt)
def series_name(r, short: bool = False) -> str:
    """'IODA probing', 'Atlas probes (end-user) [Almaty]', 'OONI telegram' ... from the
    declarations: '<source's short title> <signal's short name>' where the signal declares
    one, else its label ('Cloudflare Radar: HTTP requests'; short: 'HTTP requests')."""
    from shutdown.sources import registry
    source, sig = str(r.get("source")), str(r.get("signal", ""))
    src, declared = registry.sources().get(source), registry.signal(source, sig)
    if declared is not None and declared.short:
        name = declared.short if short else f"{src.short} {declared.short}"
    else:
        label = declared.label if declared is not None and declared.label else f"{r.get('source')} {sig}"
        name = label.split(": ", 1)[-1] if short else label
    sub = r.get("subtype")
    if isinstance(sub, str) and sub and sub != "all" and not short:
        name += f" ({sub.lower()})"
    if not short and str(r.get("entity_type", "country")) not in ("country", "nan", "None"):
        name += f" [{r.get('entity_code')}]"
    if r.get("role") == "control":
        name += " (control)"
    return name


def clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def strength(r) -> str:
    """A verdict's evidence in a few characters: resolution, tests or probes before ->
    after, p-value (count signals) or z (detected intervals)."""
    def number(k):
        v = r.get(k) if hasattr(r, "get") else None
        try:
            v = float(v)
        except (TypeError, ValueError):
            return None
        return v if v == v else None
    res = r.get("resolution") if hasattr(r, "get") else None
    res = str(res).split(" (")[0] if isinstance(res, str) and res else ""
    nb, na, p = number("n_before"), number("n_after"), number("p_value")
    stat = r.get("statistic") if hasattr(r, "get") else None
    parts = [res] if res else []
    if p is not None:
        if nb is not None and na is not None:
            parts.append(f"n {nb:.0f}→{na:.0f}")
        parts.append(f"p={p:.0e}" if p < 0.001 else f"p={p:.2g}")
    elif isinstance(stat, str) and stat:
        parts.append(stat.replace("z=", "z "))
    return ", ".join(parts)


def gantt_lines(groups) -> int:
    """The rows the Gantt chart needs for [(event, display rows)]."""
    return sum(2 + int((r["verdict"].astype(str) != "not-measurable").sum()) if len(r) else 2
               for _, r in groups) or 1


def draw_alignment_panel(ax, groups, x0, x1, rec: Record):
    """Each event of [(event, display rows)] as an outlined window (hatched by kind), a bold
    row label with its overall verdict, then one line per row: the detected interval coloured
    by verdict (or a circle where none), the span a pooled change can lie in, the measured
    transition, and the evidence's strength at the right edge."""
    y, yt, yl = 0, [], []
    for ev, rows in groups:
        s, e = ev.window_utc
        colour, hatch = EVENT_STYLE.get(ev.kind, (OI["grey"], ""))
        ax.add_patch(Rectangle((num(max(s, x0)), y - 0.4), num(min(e, x1)) - num(max(s, x0)), 0.8,
                               facecolor="white", edgecolor="black", lw=0.9, hatch=hatch,
                               gid=f"event:{ev.id}"))
        rec.add("events", event_record(ev.id, ev.kind, ev.precision, event_label(ev), s, e))
        rec.place("event_rows", y, at=ev.id)
        overall = overall_verdict(rows)
        yt.append(y)
        short = Verdict(overall).short if overall in VERDICTS else overall
        ev_title = getattr(ev, f"title_{current()}", "") or ev.title or gettext(ev.kind)
        yl.append(f"{short_id(ev.id)} {clip(ev_title, 27)} [{gettext(short)}]")
        y += 1
        if rows.empty:
            yt.append(y)
            yl.append("    " + gettext("(no alignment rows)"))
            y += 1
            continue
        nm = rows[rows["verdict"].astype(str) == "not-measurable"]
        for _, r in rows.iterrows():
            v = str(r.get("verdict", "not-measurable"))
            rec.add("verdicts", {"event": ev.id, "verdict": v,
                                 **{k: plain(r[k]) for k in ("source", "signal", "subtype",
                                                             "entity_type", "entity_code", "role")
                                    if k in r.index}})
            if v == "not-measurable":
                continue
            vc, vh = VERDICT_STYLE.get(v, (OI["grey"], ""))
            ds, de = r.get("det_start_utc"), r.get("det_end_utc")
            if ds is not None and de is not None and not pd.isna(ds) and not pd.isna(de):
                ds, de = max(utc(ds), x0), min(utc(de), x1)
                n = len(rec.detected)
                ax.add_patch(Rectangle((num(ds), y - 0.33), num(de) - num(ds), 0.66,
                                       facecolor=vc, edgecolor="black", lw=0.4, hatch=vh,
                                       gid=f"detected:{n}"))
                rec.place("detected_rows", y, at=f"detected:{n}")
                rec.add("detected", {"gid": f"detected:{n}", "panel": "alignment",
                                     "event": ev.id, "verdict": v,
                                     **{k: plain(r[k]) for k in ("source", "signal", "subtype",
                                                                 "entity_type", "entity_code")
                                        if k in r.index}})
            else:
                ax.plot([num(max(s, x0))], [y], marker="o", mfc="none", mec=vc, ms=4)
                rec.place("marks", {"row": y, "t": max(s, x0), "marker": "o"})
            uf, ut = r.get("uncertain_from"), r.get("uncertain_to")
            if uf is not None and ut is not None and not pd.isna(uf) and not pd.isna(ut):
                # where a pooled change can lie: timing no finer than the pooling
                ax.plot([num(max(utc(uf), x0)), num(min(utc(ut), x1))], [y, y],
                        color="black", lw=2.2, alpha=0.55, solid_capstyle="butt")
            t = r.get("transition_utc")
            if t is not None and not pd.isna(t) and x0 <= utc(t) <= x1:
                ax.plot([num(t)], [y], marker="|", color="black", ms=7, mew=1.2)
                rec.place("marks", {"row": y, "t": utc(t), "marker": "|"})
            st = strength(r)
            if st:
                ax.text(0.998, y, st, transform=ax.get_yaxis_transform(), ha="right",
                        va="center", fontsize=FONT_SIZE - 3, color="#222222", zorder=5,
                        bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=0.5))
            yt.append(y)
            yl.append(f"    {clip(gettext(series_name(r)), 34)}: {gettext(v)}")
            y += 1
        if len(nm):
            names = ", ".join(dict.fromkeys(series_name(r, short=True) for _, r in nm.iterrows()))
            ax.plot([num(max(s, x0))], [y], marker="o", mfc="none", mec=VERDICT_STYLE["not-measurable"][0],
                    ms=4)
            rec.place("marks", {"row": y, "t": max(s, x0), "marker": "o"})
            yt.append(y)
            yl.append(f"    {gettext('not measurable')}: {clip(names, 30)}")
            y += 1
    ax.set_ylim(y - 0.4, -0.6)
    ax.set_yticks(yt, labels=yl, fontsize=FONT_SIZE - 2)
    rec.layout["rows"] = [label.strip() for label in yl]
    ax.tick_params(axis="y", length=0)


# --------------------------------------------------------------------------- evidence heat maps
def draw_heat_panel(ax, k, n, rows, label, cmap, meta: dict, rec: Record, dark_low=True):
    """A heat map of local days (``derive.day_counts``): each cell's colour the share k/n,
    its text the n it rests on; a cell without tests stays white and hatched, so thin
    evidence reads as thin. Returns the colour scale (for ``heat_colorbar``)."""
    days = list(n.columns)
    norm = matplotlib.colors.Normalize(0, 1)
    cm = matplotlib.colormaps[cmap]
    # day edges and the counts as arrays, once (not a lookup per cell); a row without
    # tests has n = 0
    starts = [num(day) for day in days]
    ends = [num(day + pd.Timedelta(days=1)) for day in days]
    nn_all = n.reindex(index=list(rows), fill_value=0.0).to_numpy(dtype=float)
    kk_all = k.reindex(index=list(rows), columns=days, fill_value=0.0).to_numpy(dtype=float)
    cells = []      # (row, day, share or None, n): the CSV's
    for i, r in enumerate(rows):
        for j, day in enumerate(days):
            a, b = starts[j], ends[j]
            nn, kk = float(nn_all[i, j]), float(kk_all[i, j])
            cells.append((r, day, kk / nn if nn > 0 else None, nn))
            # add_artist: the panel's limits are set, not autoscaled from its cells
            if nn > 0:
                share = kk / nn
                ax.add_artist(Rectangle((a, i), b - a, 1, facecolor=cm(norm(share)), edgecolor="white",
                                        lw=0.5))
                ax.text((a + b) / 2, i + 0.5, f"{nn:.0f}", ha="center", va="center",
                        fontsize=FONT_SIZE - 3, color="white" if (share < 0.5) == dark_low else "black")
            else:
                ax.add_artist(Rectangle((a, i), b - a, 1, facecolor="white", edgecolor="#DDDDDD",
                                        hatch="////", lw=0.3))
    ax.set_ylim(len(rows), 0)
    ax.set_yticks(np.arange(len(rows)) + 0.5)
    ax.set_yticklabels(rows, fontsize=FONT_SIZE - 2)
    ax.set_title(label, loc="left")
    rec.add("series", {**meta, "rows": list(rows), "days": [plain(d) for d in days]})
    rec.add("points", {"mark": "cell", "ax": ax, "series": label, "meta": meta, "cells": cells})
    return matplotlib.cm.ScalarMappable(norm=norm, cmap=cm)


def heat_colorbar(fig, sm, ax):
    """A small horizontal scale above the panel's right end (the page has no right margin)."""
    cax = ax.inset_axes([0.80, 1.04, 0.19, 0.05])
    cb = fig.colorbar(sm, cax=cax, orientation="horizontal", ticks=[0, 0.5, 1])
    cb.ax.tick_params(labelsize=FONT_SIZE - 3, length=2, pad=1)
    cb.ax.xaxis.set_ticks_position("top")
