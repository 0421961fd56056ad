"""The exploration notebooks run top to bottom, offline, and match their .py twins.

Each ``notebooks/*.ipynb`` is executed with nbclient in a kernel started from
*this* interpreter (a kernelspec written into a temporary folder, so neither a
user's own kernels nor PATH decide which Python runs), from a working directory
that is not ``notebooks/``. The simulated demo cache is built once per checkout
(pytest's cache folder) and shared by both notebooks; building it is the slow
part (the `shared_cache` fixture of conftest.py), running a notebook on it takes seconds.

The pairing check reads each ``.py`` (jupytext percent format) and its
``.ipynb`` and compares them cell by cell: editing one without
``jupytext --sync`` fails here. Committed notebooks carry no outputs.
"""
from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "shutdown-test-python"
# Per cell. The demo cache is built before the notebooks run, so no cell comes near it;
# it only stops a hung kernel from hanging CI.
CELL_TIMEOUT = 300


def test_the_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"01-kazakhstan-2022.ipynb", "02-new-case.ipynb"} <= names, names


# --------------------------------------------------------------------------- pairing
def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def pairing_problems(ipynb: Path) -> list[str]:
    """What differs between a notebook and its paired ``.py``; empty when in sync."""
    py = ipynb.with_suffix(".py")
    if not py.is_file():
        return [f"{py.name} is missing (pair it: jupytext --set-formats ipynb,py:percent {ipynb.name})"]
    nb = nbformat.read(ipynb, as_version=4)
    text = jupytext.read(py, fmt="py:percent")
    problems = []
    formats = nb.metadata.get("jupytext", {}).get("formats", "")
    if "py:percent" not in formats:
        problems.append(f"{ipynb.name}: not paired with py:percent (metadata jupytext.formats={formats!r})")
    a, b = _cells(nb), _cells(text)
    if len(a) != len(b):
        problems.append(f"{ipynb.name} has {len(a)} cells, {py.name} has {len(b)}")
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            la, lb = x[1].splitlines(), y[1].splitlines()
            j = next((k for k, (u, v) in enumerate(zip(la, lb)) if u != v), min(len(la), len(lb)))
            problems.append(f"cell {i} ({x[0]}) differs between {ipynb.name} and {py.name}, line {j + 1}: "
                            f"{(la[j:j + 1] or [''])[0]!r} vs {(lb[j:j + 1] or [''])[0]!r}")
            break
    return problems


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_and_py_are_in_sync(ipynb):
    assert pairing_problems(ipynb) == [], "run: jupytext --sync notebooks/*.ipynb"


def test_a_stale_pair_is_detected(tmp_path):
    src = NOTEBOOK_DIR / "01-kazakhstan-2022.ipynb"
    nb_copy, py_copy = tmp_path / src.name, tmp_path / src.with_suffix(".py").name
    nb_copy.write_bytes(src.read_bytes())
    py_copy.write_text(src.with_suffix(".py").read_text().replace("\nLIVE = False ", "\nLIVE = True ", 1))
    problems = pairing_problems(nb_copy)
    assert problems and "LIVE" in problems[0]


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(ipynb):
    nb = nbformat.read(ipynb, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, \
                f"{ipynb.name} cell {i} has outputs; strip them before committing"
    assert nb.metadata.get("kernelspec", {}).get("language") == "python"


# --------------------------------------------------------------------------- execution
@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernelspec that runs sys.executable, whatever is on PATH or in ~/.local/share/jupyter."""
    d = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(path=str(d / KERNEL))
    return KernelSpecManager(kernel_dirs=[str(d)], ensure_native_kernel=False)


def execute(ipynb: Path, cwd: Path, kernel_specs) -> nbformat.NotebookNode:
    nb = nbformat.read(ipynb, as_version=4)
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, allow_errors=False,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()       # raises CellExecutionError, naming the cell, on the first error
    return nb


def _text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                out.append(o.text)
            elif "data" in o:
                out.append(o.data.get("text/plain", ""))
    return "\n".join(out)


def _images(nb) -> int:
    return sum(1 for c in nb.cells for o in c.get("outputs", [])
               if "data" in o and "image/png" in o.data)


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_offline_and_says_simulated(ipynb, tmp_path, monkeypatch, shared_cache,
                                                  kernel_specs):
    monkeypatch.setenv("SHUTDOWN_CACHE", str(shared_cache))
    monkeypatch.setenv("TMPDIR", str(tmp_path))          # files the notebooks write go here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    cwd = tmp_path / "elsewhere"                         # not notebooks/: paths must not depend on it
    cwd.mkdir()
    nb = execute(ipynb, cwd, kernel_specs)
    text = _text(nb)
    assert "SIMULATED DATA" in text                      # the banner printed over simulated data
    assert _images(nb) >= 1                              # figures render inline
    assert "Traceback" not in text
