"""The evidence figure: per-domain OONI results (whitelist: listed vs control sites) and
OONI circumvention tests, as heat maps of local days, under the documented events.

Each cell is one local day: its colour the share (accessible tests for a site, anomalous
tests for a circumvention tool), its text the number of tests it rests on; an empty cell
(no test) stays white and hatched, so thin evidence reads as thin. Plain data in
(the tidy table, the events, the case), a matplotlib Figure out, like ``plot``.
"""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from shutdown import plot as P
from shutdown.schema import OONI_CIRCUMVENTION_TESTS, OONI_OUTCOMES, SITE_SIGNAL


def day_counts(tidy: pd.DataFrame, case, signal_is, key, good) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(k, n) per key (rows) and local day (columns, UTC start of the day) over the window."""
    x0, x1 = case.window_utc
    d = tidy[(tidy["source"].astype(str) == "ooni") & signal_is(tidy["signal"].astype(str))]
    if not len(d):
        return pd.DataFrame(), pd.DataFrame()
    d = d.assign(key=key(d), outcome=d["subtype"].astype(str).str.rsplit("/", n=1).str[-1],
                 value=pd.to_numeric(d["value"], errors="coerce").fillna(0.0))
    ts = pd.to_datetime(d["ts_utc"], utc=True)
    d = d[(ts >= x0) & (ts < x1)].assign(
        day=ts[(ts >= x0) & (ts < x1)].dt.tz_convert(case.timezone).dt.floor("D").dt.tz_convert("UTC"))
    d = d[d["outcome"].isin(OONI_OUTCOMES)]
    n = d.pivot_table(index="key", columns="day", values="value", aggfunc="sum", fill_value=0.0)
    k = d[d["outcome"].isin(good)].pivot_table(index="key", columns="day", values="value",
                                               aggfunc="sum", fill_value=0.0)
    return k.reindex_like(n).fillna(0.0), n


def _heat(ax, k, n, rows, label, cmap, meta, fig, dark_low=True):
    days = list(n.columns)
    norm = matplotlib.colors.Normalize(0, 1)
    cm = matplotlib.colormaps[cmap]
    for i, r in enumerate(rows):
        for day in days:
            a = P._num(day)
            b = P._num(day + pd.Timedelta(days=1))
            nn = float(n.at[r, day]) if r in n.index else 0.0
            kk = float(k.at[r, day]) if r in k.index else 0.0
            if nn > 0:
                share = kk / nn
                ax.add_patch(Rectangle((a, i), b - a, 1, facecolor=cm(norm(share)), edgecolor="white",
                                       lw=0.5))
                ax.text((a + b) / 2, i + 0.5, f"{nn:.0f}", ha="center", va="center",
                        fontsize=P.FONT_SIZE - 3, color="white" if (share < 0.5) == dark_low else "black")
            else:
                ax.add_patch(Rectangle((a, i), b - a, 1, facecolor="white", edgecolor="#DDDDDD",
                                       hatch="////", lw=0.3))
    ax.set_ylim(len(rows), 0)
    ax.set_yticks(np.arange(len(rows)) + 0.5)
    ax.set_yticklabels(rows, fontsize=P.FONT_SIZE - 2)
    ax.set_title(label, loc="left")
    meta.setdefault("series", []).append({**{k_: v for k_, v in meta.pop("_next").items()},
                                          "rows": list(rows), "days": [P._plain(d) for d in days]})
    return matplotlib.cm.ScalarMappable(norm=norm, cmap=cm)


def _colorbar(fig, sm, ax):
    """A small horizontal scale above the panel's right end (the page has no right margin)."""
    cax = ax.inset_axes([0.80, 1.04, 0.19, 0.05])
    cb = fig.colorbar(sm, cax=cax, orientation="horizontal", ticks=[0, 0.5, 1])
    cb.ax.tick_params(labelsize=P.FONT_SIZE - 3, length=2, pad=1)
    cb.ax.xaxis.set_ticks_position("top")


def evidence_figure(tidy: pd.DataFrame, events, case) -> Figure:
    """Whitelist (listed vs control sites) and circumvention tests, per local day."""
    simulated = P._is_simulated(tidy)
    x0, x1 = case.window_utc
    bars = P.event_bars(events, x0, x1)
    listed = [v.lower() for e in events if e.scope_type == "sites" for v in e.scope_values]
    control = [d for d in getattr(case, "control_sites", ()) if d not in listed]
    ks, ns = day_counts(tidy, case, lambda s: s == SITE_SIGNAL,
                        lambda d: d["subtype"].astype(str).str.rsplit("/", n=1).str[0], ("ok",))
    kc, nc = day_counts(tidy, case, lambda s: s.isin(OONI_CIRCUMVENTION_TESTS),
                        lambda d: d["signal"].astype(str), ("anomaly", "confirmed"))
    site_rows = [d for d in listed + control]
    circ_rows = list(OONI_CIRCUMVENTION_TESTS)
    with matplotlib.rc_context(P.RC):
        n_rows = P.stack_rows(bars, x0, x1, P._axes_width_px(), P.FONT_SIZE - 1, P.DPI)
        hs, hc = 0.17 * max(len(site_rows), 1), 0.17 * len(circ_rows) + 0.2
        fig, strip, (p_sites, p_circ) = P._new_figure(
            2, (hs + hc) / 2, n_rows, P._title(case, "whitelist and circumvention evidence (OONI)",
                                              simulated))
        # panel heights follow their rows (same total as _new_figure laid out)
        gs = p_sites.get_subplotspec().get_gridspec()
        gs.set_height_ratios([0.25 + n_rows * P._ROW_IN, hs, hc])
        for ax in (strip, p_sites, p_circ):           # recompute positions from the new ratios
            ax.set_subplotspec(ax.get_subplotspec())
        fig.shutdown.update(figure="evidence", simulated=simulated, entity=("country", case.country))
        if len(ns):
            fig.shutdown["_next"] = {"source": "ooni", "signal": SITE_SIGNAL, "entity_type": "country",
                                     "entity_code": case.country, "transform": "ok/all per local day"}
            sm = _heat(p_sites, ks, ns, site_rows,
                       f"OONI web_connectivity, share accessible: {len(listed)} listed | control", "cividis", fig.shutdown, fig)
            p_sites.axhline(len(listed), color="black", lw=1.2)
            _colorbar(fig, sm, p_sites)
        else:
            P._no_data(p_sites, "no per-domain OONI data")
        if len(nc):
            fig.shutdown["_next"] = {"source": "ooni", "signal": ",".join(circ_rows),
                                     "entity_type": "country", "entity_code": case.country,
                                     "transform": "(anomaly+confirmed)/all per local day"}
            sm = _heat(p_circ, kc, nc, circ_rows, "OONI circumvention tests, share anomalous",
                       "cividis_r", fig.shutdown, fig, dark_low=False)
            _colorbar(fig, sm, p_circ)
        else:
            P._no_data(p_circ, "no OONI circumvention tests")
        for ax in (p_sites, p_circ):
            P.draw_event_guides(ax, bars)
        P.format_time_axes([strip, p_sites, p_circ], strip, x0, x1, case.timezone)
        P.draw_event_strip(strip, bars, n_rows, x0, x1)
        P._legend(fig, None, P._kind_handles(bars))
        P.watermark(fig, simulated)
    P._finish(fig, tidy, x0, x1)
    return fig


from matplotlib.figure import Figure  # noqa: E402  (type of the return value)
