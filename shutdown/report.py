"""``shutdown report``: collect (from cache where possible), detect, align, draw, write.

Two halves, so a notebook or a test can use either:

``gather(case, ...) -> ReportData``
    runs the pipeline (``shutdown.pipeline.load_inputs`` and ``analyse``): the raw
    cache (the offline demo's simulated one, or the live APIs through ``collect``),
    the tidy table, detected intervals, the alignment of the documented timeline
    with them.
``write(data, out) -> Path``
    draws the figures (PNG, SVG, PDF + sidecar JSON each, and for the overview,
    networks and alignment figures the interactive chart read back from them:
    ``shutdown.interactive``), writes ``report.md``, a self-contained
    ``report.html`` (figures embedded as base64 PNG under their interactive
    charts) and ``manifest.json`` (what ``shutdown check`` verifies).

Both reports are built from one list of blocks (heading, paragraph, table,
figure, quote), so the Markdown and the HTML never say different things.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import html
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from shutdown import i18n, parallel, plot, sidecar
from shutdown.i18n import _
from shutdown.plot import FIGURES
from shutdown.errors import InputError
from shutdown.timeline import iso_z

@dataclass
class ReportData:
    case: object
    events: list
    tidy: pd.DataFrame
    intervals: pd.DataFrame
    alignment: pd.DataFrame          # one row per event and source/signal (see align)
    summary: pd.DataFrame            # one row per event (align.summarize)
    expectations: list = field(default_factory=list)    # dicts: event, ok, found, ...
    unexplained: pd.DataFrame | None = None
    entries: list = field(default_factory=list)          # raw-cache provenance records
    source_status: list = field(default_factory=list)    # dicts: source, status, message
    cache_root: str = ""
    simulated: bool = False
    demo: bool = False
    others: pd.DataFrame | None = None   # other documenters' entries against report and data
    lang: str = i18n.DEFAULT             # the report's language (report --lang; shutdown.i18n)

    @functools.cached_property
    def inputs(self) -> dict:
        # hashed once per run: the tidy table's hash costs as much as a figure
        return sidecar.inputs_record(self.case, self.tidy, self.entries)


# --------------------------------------------------------------------------- pipeline
def gather(case, *, cache=None, demo: bool = False, refresh: bool = False,
           progress: bool | None = None, budget=None) -> ReportData:
    """Run the pipeline for ``case`` (``shutdown.pipeline``: collect from the cache where
    possible -- within ``budget``, a ``shutdown.budget.Budget`` -- or the offline demo;
    detect; align) and return everything the report shows."""
    from shutdown import pipeline
    inputs = pipeline.load_inputs(case, cache=cache, demo=demo, collect=not demo, refresh=refresh,
                                  progress=progress, budget=budget)
    inputs.require_data("nothing to draw")
    return from_pipeline(inputs, pipeline.analyse(inputs))


def from_pipeline(inputs, result) -> ReportData:
    """The report's data from ``pipeline.load_inputs`` and ``pipeline.analyse``."""
    return ReportData(case=inputs.case, events=inputs.events, tidy=inputs.tidy,
                      intervals=result.intervals, alignment=result.alignment, summary=result.summary,
                      expectations=result.expectations, unexplained=result.unexplained,
                      entries=sidecar.raw_entries(inputs.raw, inputs.case.sources),
                      source_status=inputs.source_status, cache_root=inputs.cache_root,
                      simulated=inputs.simulated, demo=inputs.demo, others=result.others)


# --------------------------------------------------------------------------- figures
def figures(data: ReportData) -> dict:
    """name -> matplotlib Figure, for every figure of plot.FIGURES."""
    return {name: plot.figure(data, name).figure for name in FIGURES}


def render_key(data: ReportData, name: str, formats) -> str:
    """Everything a figure's files are a function of: its inputs (case, timeline, tidy table,
    raw entries), this package's code, matplotlib's and Altair's versions and the output settings."""
    from importlib.metadata import version
    return sidecar.sha256_bytes(sidecar.dump({
        "figure": name, "inputs": data.inputs, "formats": list(formats), "dpi": plot.style.DPI,
        **({"lang": data.lang} if data.lang != i18n.DEFAULT else {}),
        "code": sidecar.code_sha256(), "matplotlib": version("matplotlib"), "altair": version("altair")}))


def _reuse(previous: Path | None, name: str, key: str, figdir: Path) -> tuple[dict, dict] | None:
    """The figure as the previous report in the same directory drew it, copied over, when
    its render key is this run's and its files still hash as recorded; else None (draw)."""
    if previous is None:
        return None
    try:
        man = sidecar.read_json(previous / sidecar.MANIFEST, "manifest")
        rec = next(r for r in man["figures"] if r.get("name") == name and r.get("render_key") == key)
        parts = {**{fmt: f for fmt, f in rec["files"].items()}, "sidecar": rec["sidecar"]}
        for part in parts.values():
            if sidecar.sha256_file(previous / part["path"]) != part["sha256"]:
                return None
        files = {}
        for fmt, part in parts.items():
            dest = figdir / Path(part["path"]).name
            shutil.copyfile(previous / part["path"], dest)
            files[fmt] = str(dest)
        desc = sidecar.read_json(Path(files.pop("sidecar")), "sidecar")
        return files, desc
    except (StopIteration, KeyError, TypeError, AttributeError, OSError, InputError):
        return None


def _draw_figure(data: ReportData, name: str, figdir: Path, formats) -> tuple[dict, dict]:
    """Draw, save and read back one figure: ({format: path}, sidecar record). Runs in a
    worker process when there is more than one core, so it returns plain data only."""
    from shutdown import interactive
    fig, rec = plot.figure(data, name)
    try:
        files = {fmt: str(p) for fmt, p in plot.save(fig, figdir / name, formats=formats).items()}
        desc = plot.describe(fig, rec)
        # the numbers drawn, as a tidy CSV from the same record (the sidecar names its hash)
        desc["data"] = plot.data.write(rec, desc, data.case.timezone, figdir / f"{name}.{plot.data.FORMAT}")
        files[plot.data.FORMAT] = str(figdir / f"{name}.{plot.data.FORMAT}")
        if name in interactive.CHARTS:      # report.html's interactive chart, read back from this figure
            spec = interactive.chart(name, fig, dict(desc, event_kinds=FIGURES[name].event_kinds), data)
            files[interactive.FORMAT] = str(interactive.save(spec, figdir / name))
        return files, desc
    finally:
        fig.clear()            # a Figure outside pyplot: nothing holds it once cleared


# --------------------------------------------------------------------------- write
def write(data: ReportData, out, formats=None, redraw: bool = False) -> Path:
    """Write the report directory; replaces an older report there as a whole.
    ``formats``: the figure files to write (a subset of plot.style.FORMATS; PNG is always
    written, the HTML report embeds it). A figure whose render key (inputs, code,
    settings: see ``render_key``) matches the older report's is copied from it instead
    of drawn again, unless ``redraw``."""
    formats = plot.check_formats(plot.style.FORMATS if formats is None else formats)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory", path=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Build beside it, then swap in: an interrupted run never leaves a half report
    # whose manifest disagrees with its figures.
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        with i18n.use(data.lang):     # figures are drawn in forked workers: they inherit it
            _write_into(data, tmp, formats, previous=None if redraw or not out.exists() else out)
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_into(data: ReportData, out: Path, formats, previous: Path | None = None) -> None:
    inputs = data.inputs
    figdir = out / sidecar.FIGURE_DIR
    figdir.mkdir(parents=True, exist_ok=True)
    keys = {name: render_key(data, name, formats) for name in FIGURES}
    done = {name: _reuse(previous, name, keys[name], figdir) for name in FIGURES}
    todo = [name for name in FIGURES if done[name] is None]
    done.update(zip(todo, parallel.run_each(todo, lambda name: _draw_figure(data, name, figdir, formats))))
    fig_records, described = [], {}
    for name in FIGURES:
        files, desc = done[name]
        desc.update(case=data.case.name, inputs=inputs, simulated=data.simulated,
                    event_kinds=FIGURES[name].event_kinds,
                    files={fmt: Path(p).name for fmt, p in files.items()},
                    caption=FIGURES[name].caption)
        if "png" in files:          # check compares the PNG's own header with it
            desc["png_size"] = sidecar.png_size(files["png"])
        side = figdir / f"{name}.json"
        side.write_bytes(sidecar.dump(desc))
        described[name] = desc
        fig_records.append({
            "name": name,
            "render_key": keys[name],
            "files": {fmt: {"path": f"{sidecar.FIGURE_DIR}/{Path(p).name}", "sha256": sidecar.sha256_file(p)}
                      for fmt, p in files.items()},
            "sidecar": {"path": f"{sidecar.FIGURE_DIR}/{side.name}", "sha256": sidecar.sha256_file(side)},
        })
    blocks = document(data, described)
    (out / "report.md").write_text(to_markdown(blocks), encoding="utf-8")
    from shutdown import interactive
    charts = {name: interactive.load(done[name][0][interactive.FORMAT]) for name in FIGURES
              if interactive.FORMAT in done[name][0]}
    (out / "report.html").write_text(to_html(blocks, out, data, charts), encoding="utf-8")
    manifest = {
        "format": sidecar.FORMAT_VERSION,
        "tool": "shutdown",
        "case": data.case.name,
        "case_file": str(data.case.path),
        **({"lang": data.lang} if data.lang != i18n.DEFAULT else {}),
        "cache_root": data.cache_root,
        "demo": data.demo,
        "simulated": data.simulated,
        "generated_utc": iso_z(pd.Timestamp.now(tz="UTC")),
        "inputs": inputs,
        "raw": [{"key": e["key"], "sha256": e["sha256"], "source": e["source"]} for e in data.entries],
        "figures": fig_records,
        "charts": sorted(charts),          # interactive charts in report.html (shutdown check reads them)
        "reports": {n: {"path": n, "sha256": sidecar.sha256_file(out / n)} for n in ("report.md", "report.html")},
        "verdicts": _records(data.summary),
        "expectations": data.expectations,
    }
    (out / sidecar.MANIFEST).write_bytes(sidecar.dump(manifest))


def _records(df) -> list[dict]:
    from shutdown.output import to_records
    return [] if df is None or len(df) == 0 else to_records(df)


# --------------------------------------------------------------------------- document
def document(data: ReportData, described: dict) -> list[tuple]:
    """The report as blocks: ("h1"|"h2"|"p"|"banner", text), ("table", cols, rows),
    ("figure", name, caption), ("quote", kk, en, cite)."""
    c, sim = data.case, data.simulated
    s, e = c.window_utc
    b: list[tuple] = []
    b.append(("h1", f"{_(c.title)}: {_('Internet shutdown, measured')}" + (f" ({_('SIMULATED')})" if sim else "")))
    if sim:
        b.append(("banner", _("SIMULATED DATA. Every figure and table in this report is built from "
                              "simulated responses (the offline demo), not from measurements. Do not cite "
                              "these numbers.")))
    b.append(("p", f"Case `{c.name}`, country {c.country}. Window: {c.start} to {c.end} local "
                   f"({c.timezone}), i.e. {iso_z(s)} to {iso_z(e)} UTC; baseline {c.baseline_days} days "
                   f"before. Timeline: `{c.timeline_path.name}` ({len(data.events)} documented events). "
                   f"Inputs hash `{data.inputs['inputs_sha256'][:16]}`; `shutdown check` verifies "
                   f"figures, timeline and verdicts against `manifest.json`."))

    b.append(("h2", _("Figures")))
    for name in FIGURES:
        d = described.get(name, {})
        cap = _(FIGURES[name].caption)
        miss = [m["what"] for m in d.get("missing", [])]
        if miss:
            cap += " " + _("Not drawn (no data):") + " " + "; ".join(miss) + "."
        b.append(("figure", name, (_("SIMULATED.") + " " if sim else "") + cap))

    b.append(("h2", _("Alignment: documented events against the data")))
    b.append(("p", "One row per documented event. Verdicts: confirmed (the data shows it in the "
                   "documented window), confirmed-earlier/-later (it shows, shifted), not-observed, "
                   "contradicted (a source that should not move did, or one that should did the "
                   "opposite), not-measurable (no source covers it). Minutes are the detected start and "
                   "end minus the documented window's start and end; a day-precision window is the "
                   "whole local day, so minutes inside it are not an error."))
    cols, rows = alignment_table(data)
    b.append(("table", cols, rows))
    if data.alignment is not None and len(data.alignment):
        b.append(("h2", _("Alignment per source")))
        cols, rows = per_source_table(data)
        b.append(("table", cols, rows))

    if data.expectations:
        b.append(("h2", _("Expectations (checked in CI)")))
        cols = ["event", "required", "min sources", "holds", "found"] + (["data"] if sim else [])
        rows = [[x["event"], " / ".join(x["verdicts"]), str(x["min_sources"]), "yes" if x["ok"] else "NO",
                 x["found"]] + (["SIMULATED"] if sim else []) for x in data.expectations]
        b.append(("table", cols, rows))

    if data.unexplained is not None and not len(data.unexplained):
        b.append(("h2", _("Detected outages no documented event explains")))
        b.append(("p", "None: every outage on which independent sources agree lies near a documented "
                       "event that expects it."))
    if data.unexplained is not None and len(data.unexplained):
        b.append(("h2", _("Detected outages no documented event explains")))
        b.append(("p", "Where independent sources agree on an outage (the fused view of the detector) "
                       "but no documented event's window, within a day, accounts for it."))
        u = data.unexplained
        cols = [c_ for c_ in ("source", "entity_type", "entity_code", "signal", "subtype", "start_utc",
                              "end_utc", "depth") if c_ in u.columns]
        b.append(("table", cols + (["data"] if sim else []),
                  [[_fmt(r[c_]) for c_ in cols] + (["SIMULATED"] if sim else []) for _, r in u.iterrows()]))

    if data.others is not None:
        b.append(("h2", _("What other documenters say")))
        b.append(("p", "Outages documented by others than the report (e.g. Cloudflare Radar's "
                       "Outage Center; the overview draws them in a lane of their own), each held "
                       "against the report's windows and against the outage the detector found where "
                       "independent sources agree. Agreeing with a day-precision window says no more "
                       "than the day."))
        o = data.others
        cols = ["documenter", "entry", "start_utc", "end_utc", "start_vs_report", "end_vs_report",
                "start_vs_data", "end_vs_data"]
        b.append(("table", cols + (["data"] if sim else []),
                  [[_fmt(r[c_]) for c_ in cols] + (["SIMULATED"] if sim or r["simulated"] else [])
                   for _, r in o.iterrows()]))

    b.append(("h2", _("Documented events and their sources")))
    from shutdown.interactive import evidence
    summ = {r["event"]: r for r in data.summary.to_dict("records")} \
        if data.summary is not None and len(data.summary) else {}
    for ev in data.events:
        ls, le = ev.local_window
        ws, we = ev.window_utc
        r = summ.get(ev.id, {})
        verdict = (_("context, not a network event (not aligned)") if ev.kind == "context"
                   else f"{_(str(r.get('verdict', 'not-measurable')))}" + (f" ({evidence(r)})" if evidence(r) else ""))
        b.append(("event", ev.id, [
            ("h3", f"{ev.id}: {event_title(ev)}"),
            ("p", event_line(ev, ls, le, ws, we)),
            event_quote(ev),
            ("p", f"{_('Verdict')}: {verdict}." + (f" {_('SIMULATED data.')}" if sim else ""))]))

    b.append(("h2", _("Data provenance")))
    b.append(("p", f"Raw responses are kept as they came in the cache `{data.cache_root}`; each has "
                   "its URL, parameters, time of fetch and the SHA-256 of its body. Tidy table hash "
                   f"`{data.inputs['tidy_sha256'][:16]}` ({data.inputs['tidy_rows']} rows); raw entries "
                   f"hash `{data.inputs['raw_sha256'][:16]}` ({data.inputs['raw_entries']} entries)."))
    cols, rows = provenance_summary(data)
    b.append(("table", cols, rows))
    cols, rows = provenance_entries(data, limit=60)
    if rows:
        b.append(("p", f"Entries (first {len(rows)} of {len(data.entries)}; all are listed in "
                       "`manifest.json` and the cache):"))
        b.append(("table", cols, rows))

    b.append(("h2", _("What could not be measured")))
    gaps = not_measured(data, described)
    b.append(("list", gaps or ["Nothing: every source, network and region of the case returned data."]))
    return b


def event_title(ev) -> str:
    """The event's title in the report's language (our translation from the timeline)."""
    return getattr(ev, f"title_{i18n.current()}", "") or ev.title or _(ev.kind)


def event_line(ev, ls, le, ws, we) -> str:
    if i18n.is_english():
        return (f"Kind {ev.kind}, scope {ev.scope}, {ev.precision} precision: "
                f"{ls:%Y-%m-%d %H:%M}–{le:%Y-%m-%d %H:%M} local = {iso_z(ws)}–{iso_z(we)}."
                + (f" Note: {ev.note}" if ev.note else ""))
    # dates with CLDR month names (Babel): "5 қаңтар 2022, 00:00"
    when = f"{i18n.date(ls, 'd MMMM y, HH:mm')} – {i18n.date(le, 'd MMMM y, HH:mm')}"
    return (_("Kind {kind}, scope {scope}, {precision} precision: {local} local = {utc} UTC.").format(
        kind=_(ev.kind), scope=ev.scope, precision=_(ev.precision), local=when,
        utc=f"{iso_z(ws)}–{iso_z(we)}"))


def event_quote(ev) -> tuple:
    """("quote", Kazakh original, second text, citation, its language, note): English shows
    the timeline's English text; Kazakh the original alone; Russian our translation, marked."""
    lang = i18n.current()
    if lang == "kk":
        return ("quote", ev.quote_kk, "", ev.citation, "kk", "")
    if lang != i18n.DEFAULT and getattr(ev, f"quote_{lang}", ""):
        return ("quote", ev.quote_kk, getattr(ev, f"quote_{lang}"), ev.citation, lang,
                _("our translation"))
    return ("quote", ev.quote_kk, ev.text_en, ev.citation, "en", "")


def _fmt(v) -> str:
    if isinstance(v, pd.Timestamp):
        return iso_z(v)
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (float, int)) and not isinstance(v, bool):
        return f"{v:.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:.1f}"
    return str(v)


def _col(df, *names):
    for n in names:
        if n in df.columns:
            return n
    return None


def alignment_table(data: ReportData):
    """One row per documented event: its window, verdict, sources and minutes."""
    sim = data.simulated
    summ = data.summary if data.summary is not None else pd.DataFrame()
    by_id = {r["event"]: r for r in summ.to_dict("records")} if len(summ) else {}
    cols = [_(c_) for c_ in ("event", "kind", "precision", "documented (local)", "documented (UTC)", "verdict",
                             "independent sources", "per source family", "measured (local)",
                             "minutes off window", "contradicted by", "resolution", "evidence")] \
        + ([_("data")] if sim else [])
    rows = []
    for ev in data.events:
        s, e = ev.window_utc
        ls, le = ev.local_window
        r = by_id.get(ev.id, {})
        verdict = _("context (not aligned)") if ev.kind == "context" else _(str(r.get("verdict", "not-measurable")))
        local = (f"{ls:%d %b %H:%M}–{le:%d %b %H:%M}" if i18n.is_english()
                 else f"{i18n.date(ls, 'd MMM HH:mm')}–{i18n.date(le, 'd MMM HH:mm')}")
        rows.append([ev.id, _(ev.kind), _(ev.precision), local,
                     f"{iso_z(s)} – {iso_z(e)}", verdict,
                     "" if ev.kind == "context" else _fmt(r.get("n_sources")),
                     "" if ev.kind == "context" else _fmt(r.get("sources")),
                     _fmt(r.get("transition_local")), _fmt(r.get("minutes_off")),
                     _fmt(r.get("contradicted_by")),
                     "" if ev.kind == "context" else _fmt(r.get("resolution")),
                     "" if ev.kind == "context" else _fmt(r.get("evidence"))]
                    + ([_("SIMULATED")] if sim else []))
    return cols, rows


def per_source_table(data: ReportData):
    """One row per event and source series (primary and control), as alignment judged it."""
    al = data.alignment
    al = al[al["role"] != "none"] if "role" in al.columns else al
    want = ["event", "role", "expects", "source", "signal", "subtype", "entity_code", "verdict",
            "transition_utc", "minutes_off", "resolution", "n_before", "share_before", "n_after",
            "share_after", "statistic", "p_value", "evidence", "reason"]
    cols = [c for c in want if c in al.columns]
    # verdict and kind words in the report's language; the columns keep their names
    rows = [[_(_fmt(r[c])) if c in ("verdict", "role") else _fmt(r[c]) for c in cols]
            + ([_("SIMULATED")] if data.simulated else []) for _i, r in al.iterrows()]
    return cols + ([_("data")] if data.simulated else []), rows


def provenance_summary(data: ReportData):
    cols = ["source", "status", "raw entries", "bytes", "first fetched (UTC)", "last fetched (UTC)"] + \
        (["data"] if data.simulated else [])
    status = {s["source"]: s for s in data.source_status}
    rows = []
    for src in data.case.sources:
        ents = [e for e in data.entries if e["source"] == src]
        fetched = sorted(e["fetched_utc"] for e in ents if e.get("fetched_utc"))
        rows.append([src, status.get(src, {}).get("status", "cached"), str(len(ents)),
                     str(sum(e.get("bytes") or 0 for e in ents)),
                     fetched[0] if fetched else "", fetched[-1] if fetched else ""]
                    + (["SIMULATED"] if data.simulated else []))
    return cols, rows


def provenance_entries(data: ReportData, limit: int):
    cols = ["source", "fetched (UTC)", "sha256", "url"]
    rows = [[e["source"], e.get("fetched_utc") or "", (e.get("sha256") or "")[:16], e.get("url") or ""]
            for e in data.entries[:limit]]
    return cols, rows


def not_measured(data: ReportData, described: dict) -> list[str]:
    out = []
    for s in data.source_status:
        if s["status"] not in ("ok", "simulated"):
            out.append(f"{s['source']}: {s['status']} -- {s.get('message', '')}")
    present = {str(s) for s in data.tidy["source"].unique()}
    for src in data.case.sources:
        if src not in present:
            out.append(f"{src}: no rows in the tidy table for this case")
    for name, d in described.items():
        for m in d.get("missing", []):
            out.append(f"figure {name}: {m['what']}")
    al = data.alignment
    if al is not None and len(al) and "reason" in al.columns:
        nm = al[(al["verdict"] == "not-measurable") & (al.get("role", "primary") == "primary")]
        seen = set()
        for r in nm.itertuples():
            what = f"{r.source} {r.signal}" + (f" ({r.subtype})" if isinstance(r.subtype, str) and r.subtype else "")
            key = (r.event, what, r.reason)
            if key in seen:
                continue
            seen.add(key)
            out.append(f"event {r.event}: {what} not measurable -- {r.reason}")
    for ev in data.events:
        if ev.kind == "context":
            out.append(f"event {ev.id}: context, not a network event (not aligned)")
    return out


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
            name, cap = blk[1], blk[2]
            d = sidecar.FIGURE_DIR
            out.append(f"![{name}]({d}/{name}.png)\n\n*{_('Figure')} ({name}).* {cap} "
                       + _("Also as [SVG]({svg}) and [PDF]({pdf}); what it draws: [{name}.json]({json}); "
                           "the numbers it plots: [{name}.csv]({csv}).").format(
                           name=name, svg=f"{d}/{name}.svg", pdf=f"{d}/{name}.pdf",
                           json=f"{d}/{name}.json", csv=f"{d}/{name}.csv") + "\n")
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


def to_html(blocks, out: Path, data: ReportData, charts: dict | None = None) -> str:
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


def default_out(case_name: str, demo: bool, lang: str = i18n.DEFAULT) -> Path:
    name = f"{case_name}-demo" if demo else case_name
    return Path("out") / (name if lang == i18n.DEFAULT else f"{name}-{lang}")


def replace(data: ReportData, **kw) -> ReportData:
    return dataclasses.replace(data, **kw)
