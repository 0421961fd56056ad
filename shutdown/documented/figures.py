"""Figures of a match: shares matched under both rules, and each country's documenters on one
time axis. Each function takes plain data (``rules.run`` results, Documents) and returns a
matplotlib Figure and the rows it charts (what the CSV beside it holds); ``drawn(fig)`` reads
back from the artists what the figure shows, for the sidecar a test compares with the data.
"""
from __future__ import annotations

import datetime as dt

from shutdown.plot import style as S

RULE_STYLE = {"sigcomm23": (S.OI["sky"], "////"), "windows": (S.OI["blue"], "")}
GROUP_TITLES = {"geo_scope": "Geographic scope", "kind": "Kind (a row may be several)",
                "year": "Year of the documented start"}
LANE_STYLE = [(S.OI["vermillion"], "////"), (S.OI["blue"], "...")]


def share_rows(results: list[dict], groups=("geo_scope", "kind", "year")) -> list[dict]:
    """The numbers the shares figure charts: one row per (rule, group, value)."""
    rows = []
    for r in results:
        for x in r["by"]:
            if x["group"] in groups:
                rows.append({"rule": r["rule"], "group": x["group"], "value": x["value"],
                             "matched": x["matched"], "of": x["of"],
                             "share": x["share"] if x["share"] is not None else 0.0})
        rows.append({"rule": r["rule"], "group": "total", "value": "all",
                     "matched": r["total"]["matched"], "of": r["total"]["of"],
                     "share": r["total"]["share"] or 0.0})
    return rows


def shares_figure(results: list[dict], title: str):
    """Bars of the share of A's records B holds, per group value, one bar per rule."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    rows = share_rows(results)
    groups = [g for g in ("geo_scope", "kind", "year") if any(r["group"] == g for r in rows)]
    rules = [r["rule"] for r in results]
    with matplotlib.rc_context(S.RC):
        fig = Figure(figsize=(S.PAGE_WIDTH_IN, 2.3 * len(groups) + 0.6))
        axes = fig.subplots(len(groups), 1, squeeze=False)[:, 0]
        width = 0.8 / max(len(rules), 1)
        for ax, g in zip(axes, groups):
            values = sorted({r["value"] for r in rows if r["group"] == g})
            for k, rule in enumerate(rules):
                colour, hatch = RULE_STYLE.get(rule, (S.OI["grey"], "xx"))
                for i, v in enumerate(values):
                    hit = [r for r in rows if (r["rule"], r["group"], r["value"]) == (rule, g, v)]
                    if not hit:
                        continue
                    r = hit[0]
                    first = rule not in ax.get_legend_handles_labels()[1]
                    bar = ax.bar(i + (k - (len(rules) - 1) / 2) * width, r["share"] * 100, width,
                                 color=colour, hatch=hatch, edgecolor="#333333", lw=0.5,
                                 label=rule if first else None)[0]
                    bar.set_gid(f"bar:{rule}:{g}:{v}")
                    ax.annotate(f"{r['matched']}/{r['of']}", (bar.get_x() + bar.get_width() / 2,
                                                              bar.get_height()),
                                ha="center", va="bottom", fontsize=S.FONT_SIZE - 2,
                                xytext=(0, 1), textcoords="offset points")
            ax.set_xticks(range(len(values)), values)
            ax.set_ylabel("% matched")
            ax.set_ylim(0, 110)
            ax.set_title(GROUP_TITLES.get(g, g), loc="left")
        axes[0].legend(title="rule", loc="upper right", frameon=False, ncols=len(rules))
        fig.suptitle(title, fontsize=S.FONT_SIZE + 1, x=0.01, ha="left")
        fig.tight_layout()
    return fig, rows


def strip_rows(country: str, lanes: list[tuple[str, list]], pairs: list[dict]) -> list[dict]:
    matched = {}
    for p in pairs:
        matched.setdefault(p["a"], []).append(p["b"])
        matched.setdefault(p["b"], []).append(p["a"])
    rows = []
    for lane, events in lanes:
        for e in events:
            if e.country != country:
                continue
            s, t = e.window_utc
            rows.append({"country": country, "lane": lane, "id": e.id, "kind": e.kind,
                         "scope": e.scope, "area": ", ".join(e.areas),
                         "start_utc": s.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "end_utc": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "end_documented": e.end is not None,
                         "matched_with": ";".join(matched.get(e.id, []))})
    return rows


def strip_figure(country: str, lanes: list[tuple[str, list]], pairs: list[dict], title: str):
    """One lane per documenter: each record a bar over its UTC window (a record with no
    documented end drawn as a bar of its first unit, outlined only), a matched pair joined."""
    import matplotlib
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure
    rows = strip_rows(country, lanes, pairs)
    num = lambda t: date2num(dt.datetime.fromisoformat(t.replace("Z", "+00:00")))
    # overlapping records of one documenter go to rows of their own within its lane
    packed, depth = {}, {}
    for lane, _ in lanes:
        ends: list[float] = []
        for r in sorted((x for x in rows if x["lane"] == lane), key=lambda x: x["start_utc"]):
            s, t = num(r["start_utc"]), num(r["end_utc"])
            k = next((i for i, e in enumerate(ends) if e <= s), len(ends))
            ends[k:k + 1] = [max(t, s + 0.02)]
            packed[r["id"]] = k
        depth[lane] = max(len(ends), 1)
    step = 0.32
    with matplotlib.rc_context(S.RC):
        fig = Figure(figsize=(S.PAGE_WIDTH_IN, 0.9 + sum(0.3 + step * d for d in depth.values())))
        ax = fig.add_subplot()
        base, top, ticks = {}, 0.0, {}
        for lane, _ in reversed(lanes):
            base[lane] = top
            ticks[lane] = top + step * (depth[lane] - 1) / 2
            top += step * depth[lane] + 0.5
        mids = {}
        for i, (lane, _) in enumerate(lanes):
            colour, hatch = LANE_STYLE[i % len(LANE_STYLE)]
            for r in (x for x in rows if x["lane"] == lane):
                s, t = num(r["start_utc"]), num(r["end_utc"])
                w = max(t - s, 0.02)
                y = base[lane] + step * packed[r["id"]]
                bar = ax.barh(y, w, left=s, height=step * 0.8,
                              facecolor=colour + ("55" if r["end_documented"] else "00"),
                              edgecolor=colour, hatch=hatch, lw=0.7)[0]
                bar.set_gid(f"record:{lane}:{r['id']}")
                mids[r["id"]] = (s + w / 2, y)
        for p in pairs:
            if p["a"] in mids and p["b"] in mids:
                (x0, y0), (x1, y1) = mids[p["a"]], mids[p["b"]]
                ln, = ax.plot([x0, x1], [y0, y1], color="#333333", lw=0.6)
                ln.set_gid(f"pair:{p['a']}:{p['b']}")
        ax.set_yticks(list(ticks.values()), list(ticks))
        ax.set_ylim(-0.4, top - 0.3)
        loc = AutoDateLocator()
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))
        ax.set_xlabel("UTC (each record over its documented window; a line joins a matched pair)")
        ax.set_title(title, loc="left")
        fig.tight_layout()
    return fig, rows


def drawn(fig) -> dict:
    """What the figure shows, read back from its artists: bars (gid, height or x-span) and
    the pairs joined."""
    from matplotlib.dates import num2date
    out = {"bars": [], "records": [], "pairs": []}
    for ax in fig.axes:
        for p in ax.patches:
            gid = p.get_gid() or ""
            if gid.startswith("bar:"):
                _, rule, group, value = gid.split(":", 3)
                out["bars"].append({"rule": rule, "group": group, "value": value,
                                    "percent": round(p.get_height(), 6)})
            elif gid.startswith("record:"):
                _, lane, rid = gid.split(":", 2)
                out["records"].append({"lane": lane, "id": rid,
                                       "start_utc": num2date(p.get_x()).strftime("%Y-%m-%dT%H:%M:%SZ")})
        for ln in ax.lines:
            gid = ln.get_gid() or ""
            if gid.startswith("pair:"):
                _, a, b = gid.split(":", 2)
                out["pairs"].append({"a": a, "b": b})
    return out
