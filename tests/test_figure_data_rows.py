"""The figure CSV's fast path for a line's points (``plot.data._Table.line``: one csv-quoted
template row, each point's time and value put in its place) writes exactly what the csv
module writes row by row, however the panel, series and unit need quoting."""
from __future__ import annotations

import csv
import io

import pytest

from shutdown.plot import data


def by_csv_module(template: dict, points) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(data.COLUMNS)
    for u, lt, v in points:
        r = {**template, "time_utc": u, "time_local": lt, "value": v}
        w.writerow([data._cell(r.get(c, "")) for c in data.COLUMNS])
    return buf.getvalue()


POINTS = [("2022-01-05T18:00:00Z", "2022-01-06T00:00:00+06:00", "0.5"),
          ("2022-01-05T19:00:00Z", "2022-01-06T01:00:00+06:00", ""),
          ("2022-01-05T20:00:00Z", "2022-01-06T02:00:00+06:00", "1.25e-05")]


@pytest.mark.parametrize("panel,series,unit", [
    ("IODA: share of baseline (1 = normal)", "KZ (country)", "share of baseline (1 = normal)"),
    ('a "quoted", comma panel', "line\nbreak", "unit, with comma"),
    ("Қазақстан: үлес", "Алматы", ""),
    (f"a title with the marker {data._MARK} in it", "s", "u"),       # the row-by-row path
])
def test_line_points_as_the_csv_module_writes_them(panel, series, unit):
    template = {"figure": "overview", "simulated": True, "panel": panel, "mark": "line",
                "series": series, "unit": unit, "source": "ioda", "signal": "bgp", "subtype": "",
                "entity_type": "country", "entity_code": "KZ", "transform": "baseline_ratio"}
    table = data._Table()
    table.line(template, *map(list, zip(*POINTS)))
    assert table.buf.getvalue() == by_csv_module(template, POINTS)
    assert (table.n, table.marks, table.lines) == (3, {"line": 3}, {series: 3})
    rows = list(csv.DictReader(io.StringIO(table.buf.getvalue())))
    assert [r["value"] for r in rows] == ["0.5", "", "1.25e-05"] and rows[0]["panel"] == panel


def test_a_line_without_points_writes_and_counts_nothing():
    table = data._Table()
    table.line({"figure": "f", "mark": "line", "series": "s"}, [], [], [])
    assert table.buf.getvalue() == ",".join(data.COLUMNS) + "\n"
    assert (table.n, table.marks, table.lines) == (0, {}, {})
