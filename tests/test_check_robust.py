"""Issue 11 items 2 and 12: ``check`` hashes the raw bodies it vouches for, and an unusable
manifest or sidecar is one line and exit 2 (a mismatch is exit 1), never a traceback."""
from __future__ import annotations

import gzip
import json

import pytest

from test_check import _pass_expectations, base, fails, rep, repo_root, run  # noqa: F401


def edit_json(path, fn):
    obj = json.loads(path.read_text())
    path.write_text(json.dumps(fn(obj)))


def unusable(rep, path, fn, needle):
    """After ``fn`` edits the JSON file ``path``: exit 2, one line naming it and ``needle``."""
    edit_json(path, fn)
    r = run(rep / "out")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    errors = [l for l in r.output.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and str(path) in errors[0] and needle in errors[0], r.output


def test_replaced_raw_body_fails_the_check(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    body = sorted((rep / "cache/raw").rglob("*.body.gz"))[0]
    body.write_bytes(gzip.compress(b'{"data": "something else"}'))     # meta file untouched
    r = run(rep / "out")
    assert r.exit_code == 1, r.output
    bad = [l for l in fails(r) if l.startswith("FAIL raw entry ")]
    assert len(bad) == 1 and body.name in bad[0] and "body changed" in bad[0]
    assert "Traceback" not in r.output


def test_missing_raw_body_fails_the_check(rep, monkeypatch):
    _pass_expectations(monkeypatch)
    sorted((rep / "cache/raw").rglob("*.body.gz"))[0].unlink()
    r = run(rep / "out")
    assert r.exit_code == 1 and any("body missing or unreadable" in l for l in fails(r))


def _first_figure(fn):
    def edit(m):
        fn(m["figures"][0])
        return m
    return edit


MANIFEST_FAULTS = {
    "list": (lambda m: [m], "expected a JSON object"),
    "string": (lambda m: "manifest", "expected a JSON object"),
    "figures-5": (lambda m: dict(m, figures=5), "field 'figures'"),
    "figure-5": (lambda m: dict(m, figures=[5]), "figures[0]"),
    "no-sidecar": (_first_figure(lambda f: f.pop("sidecar")), "field 'sidecar'"),
    "sidecar-path-5": (_first_figure(lambda f: f["sidecar"].update(path=5)), "field 'path'"),
    "files-list": (_first_figure(lambda f: f.update(files=[1])), "field 'files'"),
    "case-5": (lambda m: dict(m, case=5), "field 'case'"),
    "reports-5": (lambda m: dict(m, reports={"report.md": 5}), "reports.report.md"),
    "expectations-5": (lambda m: dict(m, expectations=[5]), "expectations[0]"),
}


@pytest.mark.parametrize("name", MANIFEST_FAULTS)
def test_unusable_manifest_exits_2(rep, name):
    fn, needle = MANIFEST_FAULTS[name]
    unusable(rep, rep / "out/manifest.json", fn, needle)


SIDECAR_FAULTS = {
    "list": (lambda s: [s], "expected a JSON object"),
    "event-without-id": (lambda s: dict(s, events=[{"drawn_start_utc": None}]), "field 'id'"),
    "events-5": (lambda s: dict(s, events=5), "field 'events'"),
    "x-range-garbage": (lambda s: dict(s, x_range_utc=["yesterday", "soon"]), "field 'x_range_utc'"),
    "x-range-short": (lambda s: dict(s, x_range_utc=[1]), "field 'x_range_utc'"),
    "x-range-half": (lambda s: dict(s, x_range_utc=["2022-01-05T00:00:00Z", None]),
                     "field 'x_range_utc'"),
    "drawn-garbage": (lambda s: dict(s, events=[{"id": "x", "drawn_start_utc": {"a": 1}}]),
                      "field 'drawn_start_utc'"),
}


@pytest.mark.parametrize("name", SIDECAR_FAULTS)
def test_unusable_sidecar_exits_2(rep, name):
    fn, needle = SIDECAR_FAULTS[name]
    unusable(rep, rep / "out/figures/overview.json", fn, needle)


def test_truncated_table_in_the_cache_exits_2(rep):
    tables = sorted((rep / "cache/tables").glob("*.parquet"))
    assert tables
    t = [p for p in tables if "outages" not in p.name][0]
    t.write_bytes(t.read_bytes()[:100])
    r = run(rep / "out")
    assert r.exit_code == 2 and "Traceback" not in r.output
    errors = [l for l in r.output.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and str(t) in errors[0] and "damaged table" in errors[0]
