"""The report's figures: each drawn (in worker processes), saved, read back (sidecar, CSV,
interactive chart) -- or, when its render key is unchanged, copied from the report
already in the directory or from the figure cache.

The figure cache (``<cache>/figures/<render key>/``, the last :data:`KEEP` renders) holds
the files of every figure drawn, so a figure whose inputs, code and settings are unchanged
is copied even into a new ``--out``. A copy is made only of files that still hash as
recorded; ``--redraw`` draws everything.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from shutdown import i18n, parallel, plot, sidecar
from shutdown.errors import InputError
from shutdown.plot import FIGURES
from shutdown.result import Result

KEEP = 40                  # renders the figure cache keeps (a demo's figures: ~10 MB each render)
_RECORD = "record.json"    # a cached render's files and their hashes, as a manifest lists them


def figures(data: Result) -> dict:
    """name -> matplotlib Figure, for every figure of plot.FIGURES."""
    return {name: plot.figure(data, name).figure for name in FIGURES}


def render_key(data: Result, name: str, formats) -> str:
    """Everything a figure's files are a function of: its inputs (case, timeline, tidy table,
    raw entries), this package's code, matplotlib's and Altair's versions and the output settings."""
    return sidecar.sha256_bytes(sidecar.dump({
        "figure": name, "inputs": data.hashes, "formats": list(formats), "dpi": plot.style.DPI,
        **({"lang": data.lang} if data.lang != i18n.DEFAULT else {}),
        "code": sidecar.code_sha256(), "matplotlib": sidecar.version("matplotlib"),
        "altair": sidecar.version("altair")}))


def cache_dir() -> Path:
    from shutdown.paths import default_cache_dir
    return default_cache_dir() / "figures"


def copy_render(where: Path, rec: dict, figdir: Path) -> tuple[dict, dict] | None:
    """The figure whose files ``rec`` lists (``{"files": {fmt: {path, sha256}}, "sidecar":
    {...}}``, paths relative to ``where``) copied into ``figdir`` when every file still
    hashes as recorded: ({format: path}, sidecar record); else None (draw it)."""
    try:
        parts = {**rec["files"], "sidecar": rec["sidecar"]}
        for part in parts.values():
            if sidecar.sha256_file(where / part["path"]) != part["sha256"]:
                return None
        files = {}
        for fmt, part in parts.items():
            dest = figdir / Path(part["path"]).name
            shutil.copyfile(where / part["path"], dest)
            files[fmt] = str(dest)
        desc = sidecar.read_json(Path(files.pop("sidecar")), "sidecar")
        return files, desc
    except (KeyError, TypeError, AttributeError, OSError, InputError):
        return None


def reuse(previous: Path | None, name: str, key: str, figdir: Path) -> tuple[dict, dict] | None:
    """The figure as the previous report in the same directory drew it, else as the figure
    cache keeps it, when its render key is this run's; else None (draw)."""
    if previous is not None:
        try:
            man = sidecar.read_json(previous / sidecar.MANIFEST, "manifest")
            rec = next((r for r in man["figures"] if r.get("name") == name and r.get("render_key") == key),
                       None)
        except (KeyError, TypeError, AttributeError, OSError, InputError):
            rec = None
        got = copy_render(previous, rec, figdir) if rec else None
        if got is not None:
            return got
    kept = cache_dir() / key
    try:
        rec = json.loads((kept / _RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    got = copy_render(kept, rec, figdir)
    if got is not None:
        os.utime(kept)        # recently used: kept longest
    return got


def keep(key: str, record: dict, out: Path) -> None:
    """Put a drawn figure's files (as its manifest ``record`` lists them, under ``out``)
    in the figure cache, and drop the least recently used renders beyond KEEP. A cache
    that cannot be written only costs the time."""
    root = cache_dir()
    dest = root / key
    try:
        tmp = root / f".{key}.{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        flat = {}
        for fmt, part in {**record["files"], "sidecar": record["sidecar"]}.items():
            # a copy, not a hard link: a file of the report edited in place would change it
            shutil.copyfile(out / part["path"], tmp / Path(part["path"]).name)
            flat[fmt] = {"path": Path(part["path"]).name, "sha256": part["sha256"]}
        side = flat.pop("sidecar")
        (tmp / _RECORD).write_text(json.dumps({"files": flat, "sidecar": side}), encoding="utf-8")
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
        renders = sorted((p for p in root.iterdir() if not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for old in renders[KEEP:]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        shutil.rmtree(root / f".{key}.{os.getpid()}", ignore_errors=True)


def draw_figure(data: Result, name: str, figdir: Path, formats, chart: bool = True) -> tuple:
    """Draw, save and read back one figure: ({format: path}, sidecar record). Runs in a
    worker process when there is more than one core, so it returns plain data only.
    ``chart=False``: without its interactive chart, which needs the verdicts; returns
    (files, sidecar record, ``interactive.Plotted`` or None) for ``add_chart``."""
    from shutdown import interactive
    fig, rec = plot.figure(data, name)
    try:
        files = {fmt: str(p) for fmt, p in plot.save(fig, figdir / name, formats=formats).items()}
        desc = plot.describe(fig, rec)
        # the numbers drawn, as a tidy CSV from the same record (the sidecar names its hash)
        desc["data"] = plot.data.write(rec, desc, data.case.timezone, figdir / f"{name}.{plot.data.FORMAT}")
        files[plot.data.FORMAT] = str(figdir / f"{name}.{plot.data.FORMAT}")
        if name not in interactive.CHARTS:
            return (files, desc) if chart else (files, desc, None)
        if not chart:
            return files, desc, interactive.plotted(rec)
        return add_chart(data, name, (files, desc, rec), figdir)
    finally:
        fig.clear()            # a Figure outside pyplot: nothing holds it once cleared


def kept(previous: Path | None, name: str, key: str) -> bool:
    """Whether the directory's old report or the figure cache lists the figure under this
    render key (a quick look, no hashing: ``reuse`` decides)."""
    if (cache_dir() / key / _RECORD).is_file():
        return True
    try:
        man = sidecar.read_json(previous / sidecar.MANIFEST, "manifest") if previous else {}
        return any(r.get("name") == name and r.get("render_key") == key for r in man.get("figures", []))
    except (AttributeError, OSError, InputError):
        return False


def edited_since(previous: Path | None, case) -> bool:
    """Whether the report in ``previous`` was made from another case file or timeline than
    ``case``'s now (two small files hashed, before the inputs are read): then every figure
    will be drawn, and the report starts its workers at once."""
    if previous is None:
        return False
    try:
        was = sidecar.read_json(previous / sidecar.MANIFEST, "manifest")["inputs"]
        return (was["case_sha256"] != sidecar.sha256_file(case.path)
                or was["timeline_sha256"] != sidecar.sha256_file(case.timeline_path))
    except (KeyError, TypeError, OSError, InputError):
        return False


def warm() -> None:
    """What a drawing worker imports before its first figure (``parallel.Ahead``)."""
    from importlib import import_module
    for module in ("figures", "describe", "save", "data"):
        getattr(plot, module)           # matplotlib with the Agg backend
    for module in ("panels", "gantt"):
        import_module(f"shutdown.interactive.{module}")


def draw_task(data: Result, name: str, figdir: Path, formats, chart: bool = True) -> tuple:
    """``draw_figure`` in a worker started ahead (``parallel.Ahead``), in the report's language."""
    with i18n.use(data.lang):
        return draw_figure(data, name, figdir, formats, chart)


def balanced(names: list, n: int) -> list[list]:
    """``names`` split into ``n`` batches whose summed ``FigureDef.weight`` differ least
    (the longest batch as short as can be; every split tried: a report has a handful of
    figures), each heaviest first. A queue of single figures would leave one worker alone
    with the last figure while the other waits."""
    import itertools
    weight = {name: FIGURES[name].weight for name in names}
    best, best_span = None, float("inf")
    for owner in itertools.product(range(n), repeat=len(names)):
        if owner and owner[0] != 0:       # the same splits with the batches renumbered
            continue
        loads = [0.0] * n
        for name, i in zip(names, owner):
            loads[i] += weight[name]
        if max(loads) < best_span - 1e-9:
            best, best_span = owner, max(loads)
    batches = [sorted((name for name, i in zip(names, best or ()) if i == k), key=lambda name: -weight[name])
               for k in range(n)]
    # the heaviest first: ``draw_batches`` draws the first in the worker itself, the others in
    # processes forked from it, which start colder (their pages are copied as they write them)
    return sorted((b for b in batches if b), key=lambda b: -sum(weight[name] for name in b))


def draw_batches(data: Result, batches: list, figdir: Path, formats, chart: bool = False) -> list:
    """``draw_task`` for each figure of each batch, the batches side by side (the first in
    this worker, each other in a process forked from it: ``parallel.fork_each``), as one
    task: [[result per figure] per batch]."""
    return parallel.fork_each(batches, lambda names: [draw_task(data, n, figdir, formats, chart)
                                                      for n in names])


def submit_batches(ahead, data: Result, names: list, figdir: Path, formats, chart: bool = False) -> dict:
    """``names`` drawn by ``ahead``'s worker in balanced batches, one per process it may
    use: {name: a future of its ``draw_task`` result}."""
    batches = balanced(names, ahead.workers)
    task = ahead.submit(draw_batches, data, batches, figdir, formats, chart)
    return {n: Part(task, i, j) for i, batch in enumerate(batches) for j, n in enumerate(batch)}


class Part:
    """The result of one figure of a task that draws several (``draw_batches``): what
    ``Ahead.result`` takes as a future."""

    def __init__(self, future, batch: int, index: int):
        self.future, self.batch, self.index = future, batch, index

    def result(self):
        return self.future.result()[self.batch][self.index]


def _moved(result: tuple, figdir: Path) -> tuple:
    """A figure drawn ahead into a scratch directory, its files moved into ``figdir``."""
    files, *rest = result
    moved = {}
    for fmt, path in files.items():
        moved[fmt] = str(figdir / Path(path).name)
        os.replace(path, moved[fmt])
    return (moved, *rest)


def add_chart(data: Result, name: str, drawn: tuple, figdir: Path) -> tuple[dict, dict]:
    """(files, sidecar record) of a figure drawn as (files, sidecar record, record), with
    its interactive chart (report.html's) built from the record and the report's data."""
    from shutdown import interactive
    files, desc, rec = drawn
    if rec is not None:
        spec = interactive.chart(name, rec, dict(desc, event_kinds=FIGURES[name].event_kinds), data)
        files = {**files, interactive.FORMAT: str(interactive.save(spec, figdir / name))}
    return files, desc


def draw_or_reuse(data: Result, figdir: Path, formats, keys: dict, previous: Path | None,
                  redraw: bool, ahead=None, early: dict | None = None) -> tuple[dict, list]:
    """{name: (files, sidecar record)} of every figure, and the names drawn this run.
    ``ahead``: worker processes already started (``parallel.Ahead``); ``early``: name ->
    future of a figure they drew before the analysis ended (into a scratch directory)."""
    early = early or {}
    done = {name: None if redraw else reuse(previous, name, keys[name], figdir) for name in FIGURES}
    todo = [name for name in FIGURES if done[name] is None]
    order = [n for n in todo if n not in early]
    if ahead is not None or parallel.workers(len(order)) > 1:     # the longest first: the workers finish together
        order.sort(key=lambda n: -FIGURES[n].weight)
    if ahead is not None:
        late = submit_batches(ahead, data, order, figdir, formats, chart=True) if order else {}
        for n in todo:
            if n in early:      # drawn into the scratch directory, before or with the verdicts
                drawn = _moved(ahead.result(early[n], draw_task, data, n, figdir, formats, False), figdir)
                # drawn before the verdicts were known: charted here, now that they are
                done[n] = add_chart(data, n, drawn, figdir) if len(drawn) == 3 else drawn
            else:
                done[n] = ahead.result(late[n], draw_task, data, n, figdir, formats)
        return done, todo
    done.update(zip(order, parallel.run_each(order, lambda name: draw_figure(data, name, figdir, formats))))
    return done, todo
