"""The report as a list of blocks (heading, paragraph, table, figure, quote, event), so
the Markdown and the HTML (``report.render``) never say different things."""
from __future__ import annotations

import pandas as pd

from shutdown import i18n
from shutdown.i18n import _
from shutdown.plot import FIGURES
from shutdown.result import Result
from shutdown.timeline import iso_z


# --------------------------------------------------------------------------- document
def document(data: Result, described: dict) -> list[tuple]:
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
                   f"Inputs hash `{data.hashes['inputs_sha256'][:16]}`; `shutdown check` verifies "
                   f"figures, timeline and verdicts against `manifest.json`."))
    b += _figure_blocks(data, described)
    b += _alignment_blocks(data)
    b += _event_blocks(data)
    b += _provenance_blocks(data, described)
    return b


def _figure_blocks(data: Result, described: dict) -> list[tuple]:
    """The figures, each with its caption and what it could not draw."""
    b: list[tuple] = []
    sim = data.simulated
    b.append(("h2", _("Figures")))
    for name in FIGURES:
        d = described.get(name, {})
        cap = _(FIGURES[name].caption)
        miss = [m["what"] for m in d.get("missing", [])]
        if miss:
            cap += " " + _("Not drawn (no data):") + " " + "; ".join(miss) + "."
        b.append(("figure", name, (_("SIMULATED.") + " " if sim else "") + cap,
                  [f for f in ("svg", "pdf") if f in d.get("files", {})]))
    return b


def _alignment_blocks(data: Result) -> list[tuple]:
    """The verdicts: per event, per source, the expectations, the outages no event explains,
    and what other documenters say."""
    b: list[tuple] = []
    sim = data.simulated
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
    return b


def _event_blocks(data: Result) -> list[tuple]:
    """Each documented event: its window, its quote and source, its verdict."""
    b: list[tuple] = []
    sim = data.simulated
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
    return b


def _provenance_blocks(data: Result, described: dict) -> list[tuple]:
    """Where the data came from, and what could not be measured."""
    b: list[tuple] = []
    b.append(("h2", _("Data provenance")))
    b.append(("p", f"Raw responses are kept as they came in the cache `{data.cache_root}`; each has "
                   "its URL, parameters, time of fetch and the SHA-256 of its body. Tidy table hash "
                   f"`{data.hashes['tidy_sha256'][:16]}` ({data.hashes['tidy_rows']} rows); raw entries "
                   f"hash `{data.hashes['raw_sha256'][:16]}` ({data.hashes['raw_entries']} entries)."))
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


def alignment_table(data: Result):
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


def per_source_table(data: Result):
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


def provenance_summary(data: Result):
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


def provenance_entries(data: Result, limit: int):
    cols = ["source", "fetched (UTC)", "sha256", "url"]
    rows = [[e["source"], e.get("fetched_utc") or "", (e.get("sha256") or "")[:16], e.get("url") or ""]
            for e in data.entries[:limit]]
    return cols, rows


def not_measured(data: Result, described: dict) -> list[str]:
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
