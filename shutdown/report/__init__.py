"""``shutdown report``: collect (from cache where possible), detect, align, draw, write.

Two halves, so a notebook or a test can use either:

``gather(case, ...) -> Result``
    runs the pipeline (``shutdown.pipeline.load_inputs`` and ``analyse``): the raw
    cache (the offline demo's simulated one, or the live APIs through ``collect``),
    the tidy table, detected intervals, the alignment of the documented timeline
    with them, in one record (``shutdown.result.Result``).
``write(data, out) -> Path``
    draws the figures (``report.figures``: PNG, SVG/PDF when asked, sidecar JSON and
    CSV each, and for the overview, networks and alignment figures the interactive
    chart built from the same record: ``shutdown.interactive``), writes ``report.md``,
    a self-contained ``report.html`` (figures embedded as base64 PNG under their
    interactive charts) and ``manifest.json`` (what ``shutdown check`` verifies).

Both reports are built from one list of blocks (``report.document``: heading,
paragraph, table, figure, quote), so the Markdown and the HTML (``report.render``)
never say different things.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from shutdown import i18n, plot, sidecar
from shutdown.errors import InputError
from shutdown.plot import FIGURES
from shutdown.report import figures
from shutdown.report.document import (alignment_table, document, event_line, event_quote, event_title,
                                      not_measured, per_source_table, provenance_entries,
                                      provenance_summary)
from shutdown.report.figures import render_key
from shutdown.report.render import to_html, to_markdown
from shutdown.result import Result
from shutdown.timeline import iso_z

__all__ = ["Result", "alignment_table", "build", "default_out", "document", "event_line", "event_quote",
           "event_title", "gather", "not_measured", "per_source_table",
           "provenance_entries", "provenance_summary", "render_key", "replace", "to_html",
           "to_markdown", "write"]


# --------------------------------------------------------------------------- pipeline
def gather(case, *, cache=None, demo: bool = False, refresh: bool = False,
           progress: bool | None = None, budget=None) -> Result:
    """Run the pipeline for ``case`` (``shutdown.pipeline``: collect from the cache where
    possible -- within ``budget``, a ``shutdown.budget.Budget`` -- or the offline demo;
    detect; align) and return everything the report shows."""
    from shutdown import memo, pipeline
    inputs = pipeline.load_inputs(case, cache=cache, demo=demo, collect=not demo, refresh=refresh,
                                  progress=progress, budget=budget)
    inputs.require_data("nothing to draw")
    return memo.analyse(inputs)        # from the cache when these inputs were analysed before


def build(case, out, *, formats, redraw: bool = False, lang: str = i18n.DEFAULT, cache=None,
          demo: bool = False, refresh: bool = False, progress: bool | None = None,
          budget=None, ahead=None) -> tuple[Result, Path]:
    """``gather`` then ``write``, as ``shutdown report`` runs them, overlapped: once the
    inputs are read, their hashes say which figures must be drawn; if any, worker
    processes start now (importing matplotlib while this process runs the analysis) and
    draw the figures as soon as what they need is known (``FigureDef.needs``): the evidence
    figure at once, the overview, networks and region figures after detection, while
    alignment runs. ``ahead``: workers already started (``start_workers``; the command
    starts them before it reads the case when every figure is to be drawn), closed here.
    Returns the data and the directory written."""
    from shutdown import memo, pipeline
    from shutdown.case import as_case
    out = Path(out)
    early, scratch = {}, None
    # with --redraw, or a case or timeline edited since the report in ``out``, every figure
    # is drawn: the workers start now and import matplotlib while this process reads the inputs
    if ahead is None and (redraw or figures.edited_since(out if out.is_dir() else None, as_case(case))):
        ahead = start_workers()
    try:
        inputs = pipeline.load_inputs(case, cache=cache, demo=demo, collect=not demo, refresh=refresh,
                                      progress=progress, budget=budget)
        inputs.require_data("nothing to draw")
        first = inputs.replace(lang=lang)                # what a figure without analysis draws from
        keys = {name: render_key(first, name, formats) for name in FIGURES}
        previous = out if out.is_dir() else None
        todo = [n for n in FIGURES if redraw or not figures.kept(previous, n, keys[n])]

        def start(stage: str, data: Result) -> None:      # the figures that need no more than this
            names = [n for n in todo if FIGURES[n].needs == stage]
            if names:
                early.update(figures.submit_batches(ahead, data, names, scratch, formats))

        if ahead is None and todo:
            ahead = start_workers()
        # The analysis of inputs seen before comes from the cache (``memo``): then every
        # figure can go now, split between the workers by weight; else the figures that
        # need only the inputs go now, those that need no alignment after detection
        # (``detected``). The record keeps the inputs' hashes render_key made.
        data = memo.kept(first)
        if ahead is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.early."))
            if data is not None:        # with the verdicts: charted by the workers too
                early.update(figures.submit_batches(ahead, data, todo, scratch, formats, chart=True))
            else:
                start("inputs", first)
        if data is None:
            data = memo.analyse(first, detected=(lambda found: start("detection", found))
                                if ahead is not None else None)
        return data, write(data, out, formats=formats, redraw=redraw, ahead=ahead, early=early)
    except BaseException:
        if ahead is not None:
            ahead.abandon()         # the error is not held back by workers still starting
        raise
    finally:
        if ahead is not None:
            ahead.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def start_workers():
    """A worker process for drawing the figures (``parallel.Ahead``), importing matplotlib
    from now on; it draws each task's figures in as many processes as there are cores,
    forking the others from itself once it has matplotlib and the data (one import of
    matplotlib, not one per core). None where the figures are drawn in this process (one
    core, no fork)."""
    from shutdown import parallel
    n = parallel.workers(len(FIGURES))
    return parallel.Ahead(n, figures.warm, processes=1) if n > 1 else None


# --------------------------------------------------------------------------- write
def write(data: Result, out, formats=None, redraw: bool = False, ahead=None, early=None) -> Path:
    """Write the report directory; replaces an older report there as a whole.
    ``formats``: the figure files to write (a subset of plot.style.FORMATS; PNG is always
    written, the HTML report embeds it). A figure whose render key (inputs, code,
    settings: see ``render_key``) matches the older report's is copied from it instead
    of drawn again, unless ``redraw``. ``ahead`` and ``early``: worker processes started
    before, and figures they drew already (see ``build``)."""
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
            _write_into(data, tmp, formats, previous=out if out.exists() else None, redraw=redraw,
                        ahead=ahead, early=early)
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


def _write_into(data: Result, out: Path, formats, previous: Path | None = None,
                redraw: bool = False, ahead=None, early=None) -> None:
    inputs = data.hashes
    figdir = out / sidecar.FIGURE_DIR
    figdir.mkdir(parents=True, exist_ok=True)
    keys = {name: figures.render_key(data, name, formats) for name in FIGURES}
    done, drawn = figures.draw_or_reuse(data, figdir, formats, keys, previous, redraw, ahead, early)
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
        if name in drawn:
            figures.keep(keys[name], fig_records[-1], out)
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



def default_out(case_name: str, demo: bool, lang: str = i18n.DEFAULT) -> Path:
    name = f"{case_name}-demo" if demo else case_name
    return Path("out") / (name if lang == i18n.DEFAULT else f"{name}-{lang}")


def replace(data: Result, **kw) -> Result:
    return data.replace(**kw)
