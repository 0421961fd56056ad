"""Every figure's numbers beside it (figures/<name>.csv, shutdown.plot.data): the points
the figure draws, linked from the report, listed in the manifest, verified by check."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shutdown import plot
from shutdown.cli import app
import test_plot_fixtures as F

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return F.shared_report(tmp_path_factory, REPO)


@pytest.fixture
def rep(shared, tmp_path):
    root = shared[0]
    dst = tmp_path / "r"
    shutil.copytree(root, dst)
    m = json.loads((dst / "out/manifest.json").read_text())
    m["case_file"] = str(dst / "cases/kz-2022-01.toml")
    m["cache_root"] = str(dst / "cache")
    (dst / "out/manifest.json").write_text(json.dumps(m))
    return dst


def rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_figure_has_its_csv_listed_linked_and_marked(shared):
    out = shared[0] / "out"
    m = json.loads((out / "manifest.json").read_text())
    md, page = (out / "report.md").read_text(), (out / "report.html").read_text()
    assert {r["name"] for r in m["figures"]} == set(plot.FIGURES)
    for rec in m["figures"]:
        name = rec["name"]
        f = rec["files"]["csv"]
        assert f["path"] == f"figures/{name}.csv" and (out / f["path"]).is_file()
        assert f"(figures/{name}.csv)" in md and f'href="figures/{name}.csv"' in page
        table = rows(out / f["path"])
        assert list(table[0]) == plot.data.COLUMNS
        assert {r["simulated"] for r in table} == {"true"}
        side = json.loads((out / f"figures/{name}.json").read_text())
        assert side["data"]["rows"] == len(table)
        # the documented events it draws, at the windows the sidecar read from the artists
        drawn = {(e["drawn_start_utc"], e["drawn_end_utc"]) for e in side["events"]}
        assert drawn == {(r["time_utc"], r["end_utc"]) for r in table if r["mark"] == "documented"}


def test_the_csv_holds_exactly_the_lines_the_figure_draws(shared):
    """Each drawn line's points on the axis (matplotlib's own data) are the CSV's, value for value."""
    import matplotlib.dates as mdates
    import pandas as pd
    root, case, data = shared
    fig, rec = plot.figure(data, "overview")
    table = rows(root / "out/figures/overview.csv")
    x0, x1 = (plot.record.num(t) for t in case.window_utc)
    checked = 0
    for ax in fig.axes:
        panel = ax.get_title(loc="left")
        for line in ax.get_lines():
            label = line.get_label()
            if label.startswith("_"):
                continue
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            on = (x >= x0 - 1e-9) & (x <= x1 + 1e-9)
            got = [r for r in table if r["mark"] == "line" and r["panel"] == panel and r["series"] == label]
            assert len(got) == on.sum() > 0, (panel, label)
            vals = np.array([float(r["value"]) if r["value"] else np.nan for r in got])
            np.testing.assert_array_equal(vals, y[on])
            t = pd.to_datetime([r["time_utc"] for r in got]).tz_convert(None)
            np.testing.assert_allclose(mdates.date2num(t.to_pydatetime()), x[on], atol=1e-6)
            local = pd.to_datetime([r["time_local"] for r in got[:3]], format="ISO8601")
            assert all(str(v.utcoffset()) == "6:00:00" for v in local)      # Asia/Almaty
            checked += 1
    fig.clear()
    assert checked >= 3


def test_check_fails_when_a_csv_number_is_changed(rep, monkeypatch):
    import test_check as C
    C._pass_expectations(monkeypatch)
    out = rep / "out"
    assert CliRunner().invoke(app, ["check", str(out)]).exit_code == 0
    p = out / "figures/overview.csv"
    lines = p.read_text().splitlines()
    i = next(i for i, ln in enumerate(lines) if ",line," in ln)
    cells = next(csv.reader([lines[i]]))
    cells[plot.data.COLUMNS.index("value")] = str(float(cells[plot.data.COLUMNS.index("value")]) + 0.5)
    import io
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    lines[i] = buf.getvalue()
    p.write_text("\n".join(lines) + "\n")
    r = CliRunner().invoke(app, ["check", str(out)])
    assert r.exit_code == 1
    assert "FAIL figure overview: figures/overview.csv is not the data its sidecar records" in r.output
    # and a missing one
    (out / "figures/overview.csv").unlink()
    r = CliRunner().invoke(app, ["check", str(out)])
    assert "FAIL figure overview: figures/overview.csv is missing" in r.output
