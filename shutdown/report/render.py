"""The report's blocks (``report.document``) as Markdown and as one self-contained HTML
page (figures embedded as base64 PNG under their interactive charts)."""
from __future__ import annotations

import base64
import html
from pathlib import Path

from shutdown import sidecar
from shutdown.i18n import _
from shutdown.result import Result


# --------------------------------------------------------------------------- renderers
def _flat(blocks):
    """Blocks with ("event", id, [blocks]) groups opened up."""
    for blk in blocks:
        if blk[0] == "event":
            yield from blk[2]
        else:
            yield blk


def to_markdown(blocks) -> str:
    out = []
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    for blk in _flat(blocks):
        k = blk[0]
        if k == "h1":
            out.append(f"# {blk[1]}\n")
        elif k == "h2":
            out.append(f"## {blk[1]}\n")
        elif k == "h3":
            out.append(f"### {blk[1]}\n")
        elif k == "banner":
            out.append(f"> **{blk[1]}**\n")
        elif k == "p":
            out.append(f"{blk[1]}\n")
        elif k == "list":
            out.append("\n".join(f"- {x}" for x in blk[1]) + "\n")
        elif k == "figure":
            name, cap, vector = blk[1], blk[2], blk[3] if len(blk) > 3 else []
            d = sidecar.FIGURE_DIR
            # SVG and PDF only where written (report --formats)
            also = (" " + _("Also as: {files}.").format(files=", ".join(
                f"[{f.upper()}]({d}/{name}.{f})" for f in vector))) if vector else ""
            out.append(f"![{name}]({d}/{name}.png)\n\n*{_('Figure')} ({name}).* {cap} "
                       + _("What it draws: [{name}.json]({json}); the numbers it plots: "
                           "[{name}.csv]({csv}).").format(name=name, json=f"{d}/{name}.json",
                                                         csv=f"{d}/{name}.csv") + also + "\n")
        elif k == "table":
            cols, rows = blk[1], blk[2]
            lines = ["| " + " | ".join(esc(c) for c in cols) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(esc(x) for x in r) + " |" for r in rows]
            out.append("\n".join(lines) + "\n")
        elif k == "quote":
            kk, en, cite = blk[1], blk[2], blk[3]
            note = f" ({blk[5]})" if len(blk) > 5 and blk[5] else ""
            second = f"> *{en}*{note}\n>\n" if en else ""
            out.append(f"> {kk}\n>\n{second}> — {cite}\n")
    return "\n".join(out)


_CSS = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;
color:#111;line-height:1.45}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1rem;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #999;padding:.2rem .4rem;text-align:left;vertical-align:top}
th{background:#eee}
figure{margin:1rem 0}figure img{width:100%;height:auto;border:1px solid #ccc}
figcaption{font-size:.9rem}
blockquote{border-left:4px solid #888;margin:.5rem 0;padding:.2rem .8rem;background:#f6f6f6}
.banner{border:3px solid #000;background:#ffe;padding:.6rem;font-weight:bold;font-size:1.1rem}
.sim{position:fixed;top:.3rem;right:.5rem;font-weight:bold;background:#000;color:#fff;padding:.2rem .5rem}
code{font-size:.85em}
"""


def to_html(blocks, out: Path, data: Result, charts: dict | None = None) -> str:
    """A single HTML file: figures embedded as base64 PNG, and for those in ``charts``
    (``shutdown.interactive``) an interactive chart over the PNG; no external resource."""
    import re

    from shutdown import interactive
    e = html.escape
    charts = charts or {}

    def inline(s: str) -> str:
        return re.sub(r"`([^`]+)`", lambda m: f"<code>{m.group(1)}</code>", e(str(s)))

    def render(blk) -> str:
        k = blk[0]
        if k in ("h1", "h2", "h3"):
            return f"<{k}>{e(blk[1])}</{k}>"
        if k == "banner":
            return f'<p class="banner">{e(blk[1])}</p>'
        if k == "p":
            return f"<p>{inline(blk[1])}</p>"
        if k == "list":
            return "<ul>" + "".join(f"<li>{inline(x)}</li>" for x in blk[1]) + "</ul>"
        if k == "figure":
            name, cap = blk[1], blk[2]
            png = (out / sidecar.FIGURE_DIR / f"{name}.png").read_bytes()
            b64 = base64.b64encode(png).decode("ascii")
            img = f'<img alt="{e(name)} figure" src="data:image/png;base64,{b64}">'
            body = (interactive.figure_html(name, charts[name], img, data.simulated) if name in charts
                    else img)
            data_link = (f' {e(_("The numbers it plots:"))} <a href="{sidecar.FIGURE_DIR}/{e(name)}.csv">'
                         f"{e(name)}.csv</a>.")
            return (f'<figure id="fig-{e(name)}">{body}<figcaption><b>{e(_("Figure"))} ({e(name)}).</b> '
                    f"{e(cap)}{data_link}</figcaption></figure>")
        if k == "table":
            cols, rows = blk[1], blk[2]
            return ("<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr></thead><tbody>"
                    + "".join("<tr>" + "".join(f"<td>{e(x)}</td>" for x in r) + "</tr>" for r in rows)
                    + "</tbody></table>")
        if k == "quote":
            kk, en, cite = blk[1], blk[2], blk[3]
            lang, note = (blk[4], blk[5]) if len(blk) > 5 else ("en", "")
            second = (f'<p lang="{e(lang)}"><i>{e(en)}</i>' + (f" ({e(note)})" if note else "") + "</p>"
                      if en else "")
            return (f'<blockquote><p lang="kk">{e(kk)}</p>{second}'
                    f"<p>— {e(cite)}</p></blockquote>")
        if k == "event":
            return f'<section class="event" id="event-{e(blk[1])}">' + "".join(map(render, blk[2])) + "</section>"
        return ""

    title = next((blk[1] for blk in blocks if blk[0] == "h1"), "report")
    parts = ["<!DOCTYPE html>", f'<html lang="{e(data.lang)}"><head><meta charset="utf-8">',
             f"<title>{e(title)}</title><style>{_CSS}</style>"]
    if charts:
        parts.append(interactive.head())
    parts.append("</head><body>")
    if data.simulated:
        parts.append(f'<div class="sim">{e(_("SIMULATED"))}</div>')
    parts.extend(render(blk) for blk in blocks)
    if charts:
        parts.append(interactive.BOOT)
    parts.append("</body></html>")
    return "\n".join(parts)
