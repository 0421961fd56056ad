"""``shutdown match A B --out DIR``: both rules' results, their figures, the CSV of every
charted number beside each figure, a sidecar of what each figure draws, and match.md/.html.

DIR/
  match.json                  both rules' results (rules.run)
  shares.png, shares.csv, shares.json     shares matched by scope, kind, year, per rule
  strip-<CC>.png/.csv/.json   a country's records, one lane per documenter, pairs joined
  match.md, match.html        the page (the HTML embeds the PNGs; loads nothing else)
"""
from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import json
from pathlib import Path

from shutdown.documented import figures, select
from shutdown.documented.rules import RULES, run
from shutdown.store import atomic_write

MAX_STRIPS = 6


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    cols = list(rows[0]) if rows else ["empty"]
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from shutdown.plot import style as S
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=S.DPI, metadata={"Software": "shutdown"})
    return buf.getvalue()


def _figure(out: Path, name: str, fig, rows, caption: str, written: list) -> dict:
    png = _png(fig)
    side = {"figure": name, "caption": caption, "csv": f"{name}.csv", "drawn": figures.drawn(fig),
            "rows": len(rows)}
    for suffix, data in ((".png", png), (".csv", _csv(rows)),
                         (".json", json.dumps(side, indent=2, ensure_ascii=False).encode())):
        atomic_write(out / f"{name}{suffix}", data)
        written.append(out / f"{name}{suffix}")
    return {"name": name, "caption": caption, "png": png}


def countries_to_draw(a, country: str | None) -> list[str]:
    if country:
        return [country]
    count: dict[str, int] = {}
    for e in a.events:
        if e.country:
            count[e.country] = count.get(e.country, 0) + 1
    return sorted(count, key=lambda c: (-count[c], c))[:MAX_STRIPS]


def write(a, b, out, start: dt.date | None = None, end: dt.date | None = None,
          country: str | None = None) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = [run(a, b, rule, start=start, end=end) for rule in RULES]
    written: list[Path] = []
    atomic_write(out / "match.json", json.dumps(results, indent=2, ensure_ascii=False,
                                                default=str).encode())
    written.append(out / "match.json")
    shown = []
    title = f"{a.title} recorded by {b.title}: share matched"
    shown.append(_figure(out, "shares", *figures.shares_figure(results, title),
                         caption=(f"Share of {a.title}'s records that {b.title} also records, "
                                  "by group, under each rule (bar labels: matched/of). sigcomm23 "
                                  "counts every record; windows only those of a kind and scope "
                                  f"{b.title} can record."), written=written))
    sel_a = select(a, None, start, end)
    windows = next(r for r in results if r["rule"] == "windows")
    for cc in countries_to_draw(sel_a, (country or "").upper() or None):
        a_cc = [e for e in sel_a.events if e.country == cc]
        if not a_cc:
            continue
        lo = min(e.window_utc[0] for e in a_cc) - dt.timedelta(days=3)
        hi = max(e.window_utc[1] for e in a_cc) + dt.timedelta(days=3)
        b_cc = [e for e in b.events if e.country == cc and e.window_utc[1] > lo
                and e.window_utc[0] < hi]
        fig, rows = figures.strip_figure(cc, [(a.title, a_cc), (b.title, b_cc)],
                                         windows["pairs"], f"{cc}: {a.title} and {b.title}")
        shown.append(_figure(out, f"strip-{cc}", fig, rows,
                             caption=(f"{cc}: every record of both documenters on one UTC axis, "
                                      "each over its documented window (outlined only: no end "
                                      "documented); a line joins a pair the windows rule "
                                      "matched."), written=written))
    md, page = _page(results, shown, a, b)
    atomic_write(out / "match.md", md.encode())
    atomic_write(out / "match.html", page.encode())
    written += [out / "match.md", out / "match.html"]
    return written


def _table(rows, cols) -> str:
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "".join("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |\n"
                          for r in rows)


def _page(results, shown, a, b) -> tuple[str, str]:
    lines = [f"# {a.title} vs {b.title}", "",
             f"A: `{a.path}` ({len(a.events)} records); B: `{b.path}` ({len(b.events)} records).",
             ""]
    for r in results:
        t = r["total"]
        lines += [f"## Rule `{r['rule']}`", "",
                  f"Matched **{t['matched']} of {t['of']}**"
                  + (f" ({t['share']:.1%})" if t["share"] is not None else "")
                  + (f"; not expected there: {r['not_expected']['of']}, of which "
                     f"{r['not_expected']['matched']} matched" if r["rule"] == "windows" else ""),
                  "", _table([{**x, "share": "" if x["share"] is None else f"{x['share']:.1%}"}
                              for x in r["by"]], ["group", "value", "matched", "of", "share"]), ""]
        if r["why"]:
            lines += ["Unmatched, by reason:", "", _table(r["why"], ["why", "count"]), ""]
    lines += ["## Figures", ""]
    for s in shown:
        lines += [f"![{s['name']}]({s['name']}.png)", "", f"*{s['caption']}* "
                  f"Data: [{s['name']}.csv]({s['name']}.csv).", ""]
    notes = results[0]["notes"]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    md = "\n".join(lines)
    return md, to_html(lines, {x["name"]: x["png"] for x in shown},
                       f"{a.title} vs {b.title}")


def to_html(lines: list[str], pngs: dict, title: str) -> str:
    """A page from markdown-ish lines (headings, tables, images, paragraphs): the PNGs
    embedded, nothing loaded from elsewhere."""
    body = []
    for ln in "\n".join(lines).split("\n"):
        if ln.startswith("!["):
            name = ln[2:ln.index("]")]
            body.append(f'<img alt="{html.escape(name)}" style="max-width:100%" '
                        f'src="data:image/png;base64,{base64.b64encode(pngs[name]).decode()}">')
        elif ln.startswith("#"):
            n = len(ln) - len(ln.lstrip("#"))
            body.append(f"<h{n}>{_inline(ln[n:].strip())}</h{n}>")
        elif ln.startswith("|"):
            if set(ln) <= set("|-"):
                continue
            cells = [_inline(c.strip()) for c in ln.strip("|").split("|")]
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        elif ln.strip():
            body.append(f"<p>{_inline(ln.removeprefix('- '))}</p>")
    text = "\n".join(body)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>"
            f"{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:64rem;"
            "margin:auto}}td{{padding:2px 8px;border-bottom:1px solid #ddd}}</style></head>"
            "<body>\n" + _close_tables(text) + "\n</body></html>\n")


def _inline(text: str) -> str:
    """Markdown's links, bold, italics and code in one escaped line."""
    import re
    t = html.escape(text)
    t = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', t)
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    t = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", t)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", t)


def _close_tables(text: str) -> str:
    """Wrap each run of <tr> lines in one <table>."""
    out, inside = [], False
    for ln in text.splitlines():
        row = ln.startswith("<tr>")
        if row and not inside:
            out.append("<table>")
            inside = True
        if not row and inside:
            out.append("</table>")
            inside = False
        out.append(ln)
    if inside:
        out.append("</table>")
    return "\n".join(out)
