"""The package's import graph: no circle, and the arrows the design forbids stay absent.

Read from the source (every ``import``, at module level or inside a function), so a
lazy import that closes a circle counts too."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "shutdown"


def graph() -> dict[str, set[str]]:
    mods = {}
    for p in PKG.rglob("*.py"):
        parts = p.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = p
    out = {m: set() for m in mods}
    for m, p in mods.items():
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                # "from pkg import submodule" is an arrow to the submodule, not the package
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            else:
                continue
            for n in names:
                while n and n not in mods:
                    n = n.rsplit(".", 1)[0] if "." in n else ""
                if n and n != m:
                    out[m].add(n)
    return out


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle():
    assert circles(graph()) == []


def test_the_checker_sees_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _arrows(src_prefix: str, dst_prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    return sorted((m, d) for m, ds in graph().items() if m.startswith(src_prefix)
                  for d in ds if d.startswith(dst_prefixes))


def test_detection_never_reads_the_timeline():
    assert _arrows("shutdown.detect", ("shutdown.timeline", "shutdown.align", "shutdown.documenters")) == []


def test_sources_do_no_driving_and_figures_take_plain_data():
    assert _arrows("shutdown.sources", ("shutdown.collect", "shutdown.normalize")) == []
    assert _arrows("shutdown.plot", ("shutdown.collect", "shutdown.http", "shutdown.store")) == []


def test_entry_points_run_the_pipeline_not_the_stages():
    """Commands parse, call shutdown.pipeline and print; check loads through the pipeline,
    not through report (one wiring of detect -> align, one simulated guard)."""
    stages = ("shutdown.detect", "shutdown.align", "shutdown.normalize", "shutdown.documenters")
    assert _arrows("shutdown.commands", stages) == []
    assert _arrows("shutdown.check", ("shutdown.report", *stages)) == []
    assert _arrows("shutdown.report", ("shutdown.detect", "shutdown.align", "shutdown.normalize")) == []


def test_detect_modules_and_functions_have_different_names():
    """``from shutdown.detect import fuse`` is the function; its module is ``fusion``
    (a module and a function of one name made the import mean one or the other)."""
    import importlib

    import pytest

    from shutdown.detect import fuse
    assert callable(fuse) and fuse is importlib.import_module("shutdown.detect.fusion").fuse
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("shutdown.detect.fuse")


def _loaded_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    import json
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"],
                         capture_output=True, text=True, check=True, cwd=PKG.parent)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_help_needs_no_pandas_and_a_current_report_no_matplotlib():
    """What keeps `shutdown --help` and a warm report fast: the CLI loads without pandas,
    and what a report reads when every figure is current (the figure registry, styles,
    formats, the Vega bundle's name) loads neither matplotlib nor Altair."""
    assert not {"pandas", "matplotlib", "requests"} & _loaded_after("import shutdown.cli")
    loaded = _loaded_after("import shutdown.report as R\nfrom shutdown import plot, interactive\n"
                           "[plot.FIGURES[n].caption for n in plot.FIGURES]\n"
                           "plot.check_formats('png,svg'); plot.style.DPI\n"
                           "interactive.CHARTS")
    assert "pandas" in loaded                      # the check sees what is loaded
    assert not {"matplotlib", "altair", "vl_convert"} & loaded
