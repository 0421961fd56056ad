"""What a survey writes: survey.csv and survey.parquet (one row per record), the summary
figures (verdicts by scope, kind and year; a small chart per confirmed record), each with the
CSV of what it charts, and survey.md / survey.html. Rows resting on simulated data say
SIMULATED in their ``data`` column, and every figure and page built from them says so too.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from shutdown.plot import style as S
from shutdown.store import atomic_write
from shutdown.survey.run import COLUMNS

GROUPS = ("scope", "kind", "year")
MAX_SMALL = 24          # small charts of confirmed records drawn (the rest listed in the CSV)


def _csv(rows: list[dict], cols: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: "" if r.get(c) is None else r.get(c) for c in cols})
    return buf.getvalue().encode()


def table_rows(rows: list[dict]) -> list[dict]:
    return [{**{c: r.get(c) for c in COLUMNS}, "data": "SIMULATED" if r.get("simulated")
             else "measured"} for r in rows]


def write_tables(rows: list[dict], out: Path) -> list[Path]:
    import pandas as pd
    recs = table_rows(rows)
    cols = COLUMNS + ["data"]
    atomic_write(out / "survey.csv", _csv(recs, cols))
    df = pd.DataFrame(recs, columns=cols)
    df["minutes_off"] = pd.to_numeric(df["minutes_off"], errors="coerce")
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    atomic_write(out / "survey.parquet", buf.getvalue())
    return [out / "survey.csv", out / "survey.parquet"]


def verdict_counts(rows: list[dict]) -> list[dict]:
    """The numbers the verdicts figure charts: (group, value, verdict, count)."""
    counts: dict[tuple, int] = {}
    for r in rows:
        year = str(r["documented_start"])[:4]
        for g, v in (("scope", r["scope"]), ("kind", r["kind"] or "unstated"), ("year", year)):
            k = (g, v, r["verdict"])
            counts[k] = counts.get(k, 0) + 1
    return [{"group": g, "value": v, "verdict": vd, "count": n}
            for (g, v, vd), n in sorted(counts.items())]


def _mark(fig, simulated: bool) -> None:
    if simulated:
        fig.text(0.5, 0.5, "SIMULATED", ha="center", va="center", fontsize=40, color="#999999",
                 alpha=0.25, rotation=20, transform=fig.transFigure)


def verdicts_figure(rows: list[dict], simulated: bool):
    import matplotlib
    from matplotlib.figure import Figure
    data = verdict_counts(rows)
    verdicts = [v for v in S.VERDICTS_ORDER if any(d["verdict"] == v for d in data)]
    with matplotlib.rc_context(S.RC):
        fig = Figure(figsize=(S.PAGE_WIDTH_IN, 2.2 * len(GROUPS) + 0.8))
        axes = fig.subplots(len(GROUPS), 1, squeeze=False)[:, 0]
        for ax, g in zip(axes, GROUPS):
            values = sorted({d["value"] for d in data if d["group"] == g})
            bottom = [0] * len(values)
            for vd in verdicts:
                colour, hatch = S.VERDICT_STYLE[vd]
                h = [next((d["count"] for d in data if (d["group"], d["value"], d["verdict"]) ==
                           (g, v, vd)), 0) for v in values]
                bars = ax.bar(range(len(values)), h, bottom=bottom, color=colour, hatch=hatch,
                              edgecolor="#333333", lw=0.4, label=vd)
                for b, v, n in zip(bars, values, h):
                    b.set_gid(f"bar:{g}:{v}:{vd}:{n}")
                bottom = [a + b for a, b in zip(bottom, h)]
            ax.set_xticks(range(len(values)), values)
            ax.set_ylabel("records")
            ax.set_title({"scope": "Geographic scope", "kind": "Kind",
                          "year": "Year of the documented start"}[g], loc="left")
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        fig.suptitle(("SIMULATED -- " if simulated else "") + "Survey: verdict per documented "
                     "record", x=0.01, ha="left", fontsize=S.FONT_SIZE + 1)
        fig.tight_layout()
        _mark(fig, simulated)
    return fig, data


def small_figure(row: dict, simulated: bool):
    import datetime as dt

    import matplotlib
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure
    series = row.get("_series") or []
    num = lambda t: date2num(dt.datetime.fromisoformat(t.replace("Z", "+00:00")))
    with matplotlib.rc_context(S.RC):
        fig = Figure(figsize=(3.4, 1.6))
        ax = fig.add_subplot()
        for i, sig in enumerate(sorted({s["signal"] for s in series})):
            pts = [s for s in series if s["signal"] == sig]
            colour, ls = S.SERIES_STYLE[i % len(S.SERIES_STYLE)]
            ln, = ax.plot([num(p["ts_utc"]) for p in pts],
                          [float("nan") if p["share_of_baseline"] is None else p["share_of_baseline"]
                           for p in pts], color=colour, ls=ls, lw=0.8, label=sig)
            ln.set_gid(f"series:{sig}")
        span = ax.axvspan(num(row["window_start_utc"]), num(row["window_end_utc"]),
                          **S.DETECTED_STYLE)
        span.set_gid("documented")
        if row.get("transition_utc"):
            ax.axvline(num(row["transition_utc"]), color="#000000", lw=0.7, ls="--")
        loc = AutoDateLocator(maxticks=4)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))
        ax.set_ylim(0, 1.4)
        ax.set_title(f"{'SIMULATED ' if simulated else ''}{row['event_id']} {row['country']}: "
                     f"{row['verdict']}", fontsize=S.FONT_SIZE - 1, loc="left")
        ax.legend(fontsize=S.FONT_SIZE - 3, frameon=False, loc="lower left")
        fig.tight_layout()
        _mark(fig, simulated)
    return fig, series


def _plain(v):
    """numpy scalars as Python numbers (json's default)."""
    if hasattr(v, "item"):
        return v.item()
    raise TypeError(f"not JSON: {type(v).__name__}")


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=S.DPI, metadata={"Software": "shutdown"})
    return buf.getvalue()


def drawn(fig) -> dict:
    out = {"bars": [], "series": [], "documented": []}
    from matplotlib.dates import num2date
    for ax in fig.axes:
        for p in ax.patches:
            gid = p.get_gid() or ""
            if gid.startswith("bar:"):
                _, g, v, vd, n = gid.split(":", 4)
                out["bars"].append({"group": g, "value": v, "verdict": vd, "count": int(n),
                                    "height": round(p.get_height(), 6)})
            elif gid == "documented":
                x0, x1 = p.get_x(), p.get_x() + p.get_width()
                out["documented"].append([num2date(x0).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                          num2date(x1).strftime("%Y-%m-%dT%H:%M:%SZ")])
        for ln in ax.lines:
            gid = ln.get_gid() or ""
            if gid.startswith("series:"):
                out["series"].append({"signal": gid[7:], "points": len(ln.get_xdata())})
    return out


def write(rows: list[dict], out: Path, title: str) -> list[Path]:
    from shutdown.documented.page import to_html
    simulated = any(r.get("simulated") for r in rows)
    written = write_tables(rows, out)
    figs = out / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    shown = {}

    def put(name, fig, data, cols, caption):
        png = _png(fig)
        side = {"figure": name, "caption": caption, "simulated": simulated, "rows": len(data),
                "drawn": drawn(fig)}
        for suffix, blob in ((".png", png), (".csv", _csv(data, cols)),
                             (".json", json.dumps(side, indent=2, default=_plain).encode())):
            atomic_write(figs / f"{name}{suffix}", blob)
            written.append(figs / f"{name}{suffix}")
        shown[name] = (png, caption)

    fig, data = verdicts_figure(rows, simulated)
    put("verdicts", fig, data, ["group", "value", "verdict", "count"],
        "Verdict of every surveyed record, by scope, kind and the year it starts.")
    confirmed = [r for r in rows if str(r["verdict"]).startswith("confirmed") and r.get("_series")]
    for r in confirmed[:MAX_SMALL]:
        fig, data = small_figure(r, simulated)
        put(f"event-{r['event_id']}", fig, data, ["signal", "ts_utc", "share_of_baseline"],
            f"{r['event_id']} ({r['country']}, {r['documented_start']}): IODA's signals of "
            "the record's region, network or country, as shares of their baseline median, hourly; shaded: the documented "
            "window; dashed: the transition the verdict rests on.")
    lines = [f"# {'SIMULATED -- ' if simulated else ''}Survey: {title}", ""]
    if simulated:
        lines += ["**SIMULATED data** -- every row below rests on a made-up world per record "
                  "(`survey --demo`), not on measurements.", ""]
    tally: dict[str, int] = {}
    for r in rows:
        tally[r["verdict"]] = tally.get(r["verdict"], 0) + 1
    lines += [f"{len(rows)} records judged.", "", "| verdict | records |", "|---|---|"]
    lines += [f"| {v} | {n} |" for v, n in sorted(tally.items(), key=lambda kv: -kv[1])]
    lines += ["", "Every row: [survey.csv](survey.csv) ([survey.parquet](survey.parquet)).", ""]
    for name, (_, caption) in shown.items():
        lines += [f"![{name}](figures/{name}.png)", "",
                  f"*{caption}* Data: [figures/{name}.csv](figures/{name}.csv).", ""]
    if len(confirmed) > MAX_SMALL:
        lines += [f"{len(confirmed) - MAX_SMALL} further confirmed records are in survey.csv.", ""]
    lines += ["| record | country | verdict | sources | evidence |", "|---|---|---|---|---|"]
    lines += [f"| {r['event_id']} | {r['country']} | {r['verdict']} | {r['n_sources']} | "
              f"{str(r['evidence'])[:140].replace('|', '/')} |" for r in rows]
    md = "\n".join(lines) + "\n"
    atomic_write(out / "survey.md", md.encode())
    html_lines = [ln.replace("(figures/", "(") if ln.startswith("![") else ln for ln in lines]
    atomic_write(out / "survey.html", to_html(html_lines, {k: v[0] for k, v in shown.items()},
                                              f"Survey: {title}").encode())
    return written + [out / "survey.md", out / "survey.html"]
