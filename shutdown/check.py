"""``shutdown check DIR``: do the figures of a report still agree with the data and the timeline?

Passes (status 0) only when

1. every figure the manifest lists exists, its files and sidecar are the ones
   the report wrote (hashes), and it is current: the inputs' hashes in its
   sidecar match the case file, the timeline and the cache as they are now;
2. every documented event of the *current* timeline is drawn where its window
   says (read from the sidecar, which ``report`` read back from the drawn
   artists), and nothing the timeline lacks is labelled as documented; the same
   for the interactive charts embedded in ``report.html`` (their events data),
   which also show the report's verdicts;
3. every expectation of the case (``[[expectations]]`` in the case file) holds
   when detection and alignment are run again on the cache and the timeline.

Each failure is one line naming the figure or event and what was found (status
1). A report directory that is missing, empty or has no readable manifest is
unusable input (status 2, via InputError).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shutdown import sidecar
from shutdown.errors import InputError


@dataclass
class CheckResult:
    failures: list = field(default_factory=list)
    notes: list = field(default_factory=list)      # what passed, for the summary line

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def status(self) -> int:
        return 0 if self.ok else 1


def open_report(out) -> dict:
    """The manifest of a report directory; InputError (exit 2) when there is no usable report."""
    out = Path(out)
    if not out.exists():
        raise InputError("report directory not found (make it with `shutdown report CASE --out DIR`)",
                         path=out)
    if not out.is_dir():
        raise InputError("not a directory", path=out)
    if not any(out.iterdir()):
        raise InputError("report directory is empty (make it with `shutdown report CASE --out DIR`)",
                         path=out)
    mp = out / sidecar.MANIFEST
    m = sidecar.read_json(mp, "report manifest")
    _shape(m, dict, mp, None, None, "a JSON object")
    for key in ("case", "figures", "inputs", "simulated"):
        if key not in m:
            raise InputError(f"report manifest lacks {key!r}; regenerate the report",
                             path=mp, field=key)
    _shape(m["case"], str, mp, None, "case", "a case name")
    _shape(m["simulated"], bool, mp, None, "simulated", "true or false")
    for key in ("cache_root", "case_file"):
        _shape(m.get(key) or "", str, mp, None, key, "a path")
    _shape(m["inputs"], dict, mp, None, "inputs", "an object of input hashes")
    _shape(m["figures"], list, mp, None, "figures", "a list of figures")
    for i, c in enumerate(_shape(m.get("charts") or [], list, mp, None, "charts", "a list of names")):
        _shape(c, str, mp, f"charts[{i}]", None, "a chart name")
    for i, v in enumerate(_shape(m.get("verdicts") or [], list, mp, None, "verdicts", "a list")):
        _shape(v, dict, mp, f"verdicts[{i}]", None, "an object")
        _shape(v.get("event"), str, mp, f"verdicts[{i}]", "event", "an event id")
    _shape(m.get("reports") or {}, dict, mp, None, "reports", "an object")
    for i, rec in enumerate(m["figures"]):
        where = f"figures[{i}]"
        _shape(rec, dict, mp, where, None, "an object")
        _shape(rec.get("name"), str, mp, where, "name", "a figure name")
        _shape(rec.get("files", {}), dict, mp, where, "files", "an object")
        for f in [rec.get("sidecar"), *rec.get("files", {}).values()]:
            _shape(f, dict, mp, where, "sidecar" if f is rec.get("sidecar") else "files",
                   "{path, sha256}")
            _inside(_shape(f.get("path"), str, mp, where, "path", "a relative path"), out, mp, where)
            _shape(f.get("sha256"), str, mp, where, "sha256", "a hex digest")
    for i, x in enumerate(_shape(m.get("expectations") or [], list, mp, None, "expectations",
                                 "a list")):
        w = f"expectations[{i}]"
        _shape(x, dict, mp, w, None, "an object")
        _shape(x.get("event"), str, mp, w, "event", "an event id")
        _shape(x.get("verdicts"), list, mp, w, "verdicts", "a list of verdicts")
        _shape(x.get("min_sources"), int, mp, w, "min_sources", "a whole number")
    for n, r in (m.get("reports") or {}).items():
        _shape(r, dict, mp, f"reports.{n}", None, "{path, sha256}")
        _inside(_shape(r.get("path"), str, mp, f"reports.{n}", "path", "a relative path"), out, mp,
                f"reports.{n}")
    return m


def _inside(rel: str, out: Path, mp: Path, where: str) -> str:
    """A manifest path names a file inside the report directory, never elsewhere."""
    try:
        ok = not Path(rel).is_absolute() and (out / rel).resolve().is_relative_to(out.resolve())
    except (OSError, RuntimeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"path {rel[:60]!r} is outside the report directory; regenerate the "
                         "report", path=mp, where=where, field="path")
    return rel


def _shape(val, typ, path, where, field, what):
    """Unusable report input (exit 2): one line naming the file, the item and the field."""
    if not isinstance(val, typ) or isinstance(val, bool) and typ is not bool:
        raise InputError(f"expected {what}, got {str(val)[:40]!r}; regenerate the report "
                         "(`shutdown report CASE --out DIR`)", path=path, where=where, field=field)
    return val


def _read_sidecar(sp: Path, name: str) -> dict:
    side = _shape(sidecar.read_json(sp, f"sidecar of figure {name}"), dict, sp, None, None,
                  "a JSON object")
    for key, typ, what in (("events", list, "a list of drawn events"),
                           ("inputs", dict, "an object of input hashes"),
                           ("x_range_utc", list, "[start, end] in UTC"),
                           ("data", dict, "an object recording the figure's data file")):
        _shape(side.get(key, typ()), typ, sp, None, key, what)
    for i, d in enumerate(side.get("events", [])):
        _shape(d, dict, sp, f"events[{i}]", None, "an object")
        _shape(d.get("id"), str, sp, f"events[{i}]", "id", "an event id")
        for k in ("drawn_start_utc", "drawn_end_utc"):
            _stamp(d.get(k), sp, f"event {d['id']!r}", k)
    ps = side.get("png_size")
    if ps is not None and not (isinstance(ps, list) and len(ps) == 2
                               and all(isinstance(v, int) and not isinstance(v, bool) for v in ps)):
        _shape(None, list, sp, None, "png_size", "[width, height] in pixels")
    xr = side.get("x_range_utc")
    if xr is not None:
        if len(xr) != 2 or (xr[0] is None) != (xr[1] is None):
            _shape(None, list, sp, None, "x_range_utc", "[start, end] in UTC")
        for v in xr:
            _stamp(v, sp, None, "x_range_utc")
    return side


def _stamp(v, path, where, field):
    """A UTC time stamp in a sidecar, or None; anything else makes the sidecar unusable."""
    if v is None:
        return None
    try:
        return _ts(v)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"expected an ISO 8601 UTC time, got {str(v)[:40]!r}; regenerate the "
                         "report", path=path, where=where, field=field) from None


def _load_case(m: dict, out: Path):
    from shutdown.case import load_case
    p = m.get("case_file")
    if isinstance(p, str) and p and Path(p).is_file():
        return load_case(p)
    return load_case(m["case"])


def check_dir(out, *, cache=None, recompute: bool = True) -> CheckResult:
    """Check the report in ``out``; ``cache`` overrides the cache root the manifest names."""
    from shutdown.timeline import load_timeline

    out = Path(out)
    m = open_report(out)
    res = CheckResult()
    fail = res.failures.append
    case = _load_case(m, out)

    # -- 1. files are the report's, and current ------------------------------------
    root = Path(cache) if cache is not None else Path(m.get("cache_root") or "")
    inputs = _cache_now(case, root, m, fail)
    events = inputs.events if inputs is not None else load_timeline(case.timeline_path, case=case)
    sidecars = _figures_current(out, m, case, inputs.hashes if inputs is not None else None, fail)
    _data_match(out, m, sidecars, fail)
    for n, r in sorted((m.get("reports") or {}).items()):
        p = out / r["path"]
        if not p.is_file():
            fail(f"{n} is missing")
        elif sidecar.sha256_file(p) != r["sha256"]:
            fail(f"{n} was changed after the report was made")
    if not res.failures:
        res.notes.append(f"{len(m['figures'])} figures current")

    # -- 2. documented events drawn where the timeline puts them ---------------------
    n_ok = 0
    for name, side in sidecars.items():
        n_ok += _events_match(f"figure {name}", side, events, fail)
    res.notes.append(f"{n_ok} event drawings match the timeline")

    # -- 2b. the interactive charts of report.html show the same ---------------------
    if m.get("charts"):
        n_ok = _charts_match(out, m, events, fail)
        res.notes.append(f"{n_ok} interactive event drawings match the timeline")

    # -- 3. expectations still hold ----------------------------------------------------
    if case.expectations:
        held = _expectations_hold(case, inputs, root, m, recompute, fail)
        res.notes.append(f"{held} of {len(case.expectations)} expectations hold")
    return res


def _cache_now(case, root: Path, m: dict, fail):
    """The case's inputs as the cache holds them now (``pipeline.load_inputs``), after
    checking its raw bodies against their records and its kind against the report's;
    None (and a failure) when the cache is not there."""
    from shutdown import pipeline
    if not root.is_dir():
        fail(f"cache {root} not found: cannot tell whether the figures are current "
             "(pass --cache DIR, or rerun the report)")
        return None
    inputs = pipeline.load_inputs(case, cache=root)
    raw = inputs.raw
    # what the figures rest on is the raw bodies: hash them, not only their records
    bad = raw.verify(case.sources)
    for line in bad[:5]:
        fail(line)
    if len(bad) > 5:
        fail(f"... and {len(bad) - 5} more raw entries changed")
    if bool(raw.simulated) != bool(m["simulated"]):
        fail(f"the report says {'simulated' if m['simulated'] else 'measured'} data but the cache "
             f"{root} holds {'simulated' if raw.simulated else 'measured'} data")
    return inputs


def _figures_current(out: Path, m: dict, case, now: dict | None, fail) -> dict:
    """{name: sidecar} of the manifest's figures, after checking each file's hash and,
    when the inputs' hashes ``now`` are known, that the figure was drawn from them; every
    figure of the registry is expected (one removed with its files and entry fails)."""
    from shutdown.plot import FIGURES        # the figures every report draws
    listed = [rec.get("name") for rec in m["figures"]]
    for name in FIGURES:
        if name not in listed:
            fail(f"figure {name}: every report draws it, but the manifest does not list it "
                 "(removed?); regenerate the report")
    sidecars = {}
    for rec in m["figures"]:
        name = rec.get("name", "?")
        for fmt, f in sorted(rec.get("files", {}).items()):
            p = out / f["path"]
            if not p.is_file():
                fail(f"figure {name}: {f['path']} is missing")
            elif sidecar.sha256_file(p) != f["sha256"]:
                fail(f"figure {name}: {f['path']} was changed after the report was made")
        sp = out / rec["sidecar"]["path"]
        if not sp.is_file():
            fail(f"figure {name}: sidecar {rec['sidecar']['path']} is missing")
            continue
        side = _read_sidecar(sp, name)
        if sidecar.sha256_file(sp) != rec["sidecar"]["sha256"]:
            fail(f"figure {name}: sidecar {rec['sidecar']['path']} was edited after the report was made "
                 "(its hash differs from the manifest); regenerate the report")
        if bool(side.get("simulated")) != bool(m["simulated"]):
            fail(f"figure {name}: sidecar says simulated={side.get('simulated')} but the report says "
                 f"simulated={m['simulated']}")
        sidecars[name] = side
        png = rec.get("files", {}).get("png")
        if png and (out / png["path"]).is_file() and side.get("png_size") is not None:
            got = sidecar.png_size(out / png["path"])
            if got != side["png_size"]:
                fail(f"figure {name}: {png['path']} is {_px(got)}, but the figure was drawn at "
                     f"{_px(side['png_size'])} (another image?); regenerate the report")
        if now is not None:
            was = side.get("inputs", {})
            for key, what in (("timeline_sha256", f"the timeline {case.timeline_path.name}"),
                              ("case_sha256", f"the case file {case.path.name}"),
                              ("tidy_sha256", "the tidy table"),
                              ("raw_sha256", "the raw cache entries")):
                if was.get(key) != now[key]:
                    fail(f"figure {name}: not current: {what} changed after the figure was made "
                         f"(was {str(was.get(key))[:12]}, now {now[key][:12]})")
    return sidecars


def _expectations_hold(case, inputs, root: Path, m: dict, recompute: bool, fail) -> int:
    """How many of the case's expectations hold: judged again on the cache (``recompute``),
    else as the manifest recorded them; a failure for each that does not."""
    from shutdown import pipeline
    tidy = inputs.tidy if inputs is not None else None
    if recompute and tidy is not None and len(tidy):
        results = pipeline.analyse(inputs).expectations
    elif tidy is not None and not len(tidy):
        fail(f"the cache {root} has no data for case {case.name}: no expectation can hold")
        results = []
    else:
        results = m.get("expectations") or []
    for x in results:
        if not x.get("ok"):
            fail(f"{x['event']}: expected {' or '.join(x['verdicts'])} from at least "
                 f"{x['min_sources']} source(s); found {x.get('found')}")
    return sum(1 for x in results if x.get("ok"))


def _data_match(out: Path, m: dict, sidecars: dict, fail) -> None:
    """Every figure has its numbers beside it (``figures/<name>.csv``, ``shutdown.plot.data``):
    listed in the manifest, the file its sidecar names (hash), in the columns written, with
    as many points per line as the sidecar counted, simulated as the report says."""
    from shutdown.plot import data
    for rec in m["figures"]:
        name, side = rec.get("name", "?"), sidecars.get(rec.get("name"))
        f = rec.get("files", {}).get(data.FORMAT)
        if f is None or side is None or not (out / f["path"]).is_file():
            if f is None:
                fail(f"figure {name}: no data file (figures/{name}.csv) in the manifest; regenerate the report")
            continue
        p, want = out / f["path"], side.get("data") or {}
        if sidecar.sha256_file(p) != want.get("sha256"):
            fail(f"figure {name}: {f['path']} is not the data its sidecar records (its numbers were "
                 "changed); regenerate the report")
            continue
        rows = data.read(p)
        lines: dict = {}
        for r in rows:
            if r.get("mark") == "line":
                lines[r.get("series")] = lines.get(r.get("series"), 0) + 1
        if lines != want.get("lines") or len(rows) != want.get("rows"):
            fail(f"figure {name}: {f['path']} holds {len(rows)} rows, its sidecar {want.get('rows')}")
        if any(r.get("simulated") != ("true" if m["simulated"] else "false") for r in rows):
            fail(f"figure {name}: {f['path']} has rows not marked simulated={m['simulated']}")


def _events_match(what: str, drawn_by: dict, events, fail) -> int:
    """Every event of the timeline inside ``drawn_by``'s x range is drawn at its window
    (clipped to the axis), and nothing else is labelled as documented. ``drawn_by`` is a
    sidecar or an interactive chart's record: x_range_utc, event_kinds, events with id and
    drawn_start_utc/drawn_end_utc. Returns the number of events drawn where they belong."""
    from shutdown.timeline import iso_z
    by_id = {e.id: e for e in events}
    x0, x1 = (_ts(t) for t in drawn_by.get("x_range_utc", [None, None]))
    kinds = drawn_by.get("event_kinds")
    drawn = {d["id"]: d for d in drawn_by.get("events", [])}
    for d in drawn_by.get("events", []):
        if d["id"] not in by_id:
            fail(f"{d['id']}: {what} labels it as documented, but the timeline has no such event")
    n_ok = 0
    for ev in events:
        if kinds == "non-context" and ev.kind == "context":
            continue
        s, e = ev.window_utc
        if x0 is None or e <= x0 or s >= x1:
            continue
        want = (max(s, x0), min(e, x1))
        d = drawn.get(ev.id)
        if d is None:
            fail(f"{ev.id}: documented {iso_z(s)}–{iso_z(e)}, but {what} does not draw it")
            continue
        got = (_ts(d.get("drawn_start_utc")), _ts(d.get("drawn_end_utc")))
        if got != want:
            fail(f"{ev.id}: the timeline says {iso_z(want[0])}–{iso_z(want[1])} but {what} "
                 f"draws {_z(got[0])}–{_z(got[1])}")
        else:
            n_ok += 1
    return n_ok


def _charts_match(out: Path, m: dict, events, fail) -> int:
    """The charts the manifest lists are in report.html; each shows the timeline's events
    at their windows, the report's verdicts, and simulated as the report says."""
    from shutdown.interactive import embedded
    page = out / "report.html"
    charts = embedded(page.read_text(encoding="utf-8")) if page.is_file() else {}
    context = {e.id for e in events if e.kind == "context"}     # not aligned: no verdict to compare
    verdicts = {v.get("event"): v.get("verdict") for v in m.get("verdicts") or [] if v.get("event") not in context}
    n_ok = 0
    for name in m["charts"]:
        spec = charts.get(name)
        if spec is None:
            fail(f"interactive chart {name}: not found in report.html")
            continue
        meta = (spec.get("usermeta") or {}).get("shutdown", {})
        rec = dict(meta, events=(spec.get("datasets") or {}).get("events", []))
        if bool(meta.get("simulated")) != bool(m["simulated"]):
            fail(f"interactive chart {name}: says simulated={meta.get('simulated')} but the report "
                 f"says simulated={m['simulated']}")
        n_ok += _events_match(f"interactive chart {name}", rec, events, fail)
        for d in rec["events"]:
            want = verdicts.get(d["id"])
            if want is not None and d.get("verdict") != want:
                fail(f"{d['id']}: interactive chart {name} shows verdict {d.get('verdict')} but the "
                     f"report's verdict is {want}")
    return n_ok


def _px(size) -> str:
    return "not a PNG" if not size else f"{size[0]}x{size[1]} px"


def _ts(v):
    import pandas as pd
    if v is None:
        return None
    return pd.Timestamp(v).tz_convert("UTC") if pd.Timestamp(v).tzinfo else pd.Timestamp(v).tz_localize("UTC")


def _z(v) -> str:
    from shutdown.timeline import iso_z
    return "?" if v is None else iso_z(v)
