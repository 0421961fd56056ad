# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Kazakhstan, January 2022: from the report's timeline to the measurements
#
# This notebook walks through the first case of the `shutdown` package the way a
# researcher would: what the report says happened, what data we have, what the raw
# signals look like, where the detector calls an outage (and how its thresholds
# change that), how the documented events line up with the detections, and how to
# redraw a figure for a paper.
#
# Every step uses the package's public functions; the command line
# (`shutdown report kz-2022-01`) runs the same functions in one go.
#
# **Data.** With `LIVE = False` (the default) the notebook runs offline on the
# simulated demo cache: responses in the upstreams' own formats, rendered from the
# scenario in `data/scenarios/kz-2022-01.toml`. Those numbers are **SIMULATED**, not
# measurements: results below carry a SIMULATED banner and every figure a SIMULATED
# watermark. Set `LIVE = True` to collect from IODA, OONI and RIPE Atlas instead
# (needs the network; the first run takes a while because OONI is queried politely,
# one request a second).

# %%
LIVE = False   # False: simulated demo cache (offline). True: collect from the live APIs.

# %%
# %matplotlib inline
# %config InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "dpi": 90}
import tempfile
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure

import shutdown
from shutdown import detect, pipeline, plot
from shutdown.detect import thresholds
from shutdown.sources import registry

pd.set_option("display.max_colwidth", 80)
pd.set_option("display.width", 160)

# %% [markdown]
# ## 1. The case and the documented timeline
#
# A *case* names what one analysis covers: country, local time zone, the window of
# local days, the baseline before it, the networks worth their own panels. It is a
# small TOML file (`data/cases/kz-2022-01.toml`, format in docs/formats.md).

# %%
case = shutdown.load_case("kz-2022-01")
print(case.title)
print("time zone       ", case.timezone)
print("window (UTC)    ", *case.window_utc)
print("baseline (UTC)  ", *case.baseline_utc)
print("sources         ", ", ".join(case.sources))
print("networks        ", ", ".join(f"AS{n.asn} {n.name}" for n in case.networks))

# %% [markdown]
# The timeline holds what the report *Qazaqstan Shutdown 2022* documents, one cited
# event per entry. An event keeps the precision the report gives: "on 5 January" is
# the whole local day, never a made-up instant at midnight.

# %%
events = shutdown.load_timeline(case.timeline_path, case=case)
timeline = shutdown.events_frame(events)
timeline[["id", "kind", "scope", "precision", "start_local", "end_local", "title"]]

# %% [markdown]
# Each kind of event says which source should show it, and how. A shutdown should
# show in active probing, the telescope, Google traffic, RIPE Atlas and OONI's volume;
# BGP *may not* show it (routes can stay announced while access is cut). Messenger
# blocking shows in OONI's app tests and should leave connectivity alone.

# %%
pd.DataFrame([{"kind": kind, "source": x.source, "signal": x.signal, "subtype": x.subtype or "",
               "shows": x.shows, "why": x.why}
              for kind in ("shutdown", "restriction") for x in shutdown.timeline.expected_for(kind)])

# %% [markdown]
# ## 2. The data: collect, or load the demo cache
#
# Collectors store every upstream response as it came, with its provenance, in a raw
# cache; a *tidy table* (one row per source, entity, signal, subtype and time bin) is
# built from that cache only. A cache holds measured or simulated data, never both:
# `pipeline.load_inputs` refuses a table that mixes them, as every command does.

# %%
# LIVE: the live APIs into the default cache (~/.cache/shutdown), cache first;
# else the simulated demo cache, built once, then reused
inputs = pipeline.load_inputs(case, demo=not LIVE, collect=LIVE, progress=True)
for status in inputs.source_status:
    print(f"{status['source']}: {status['status']} {status.get('message') or ''}")
cache, tidy, SIMULATED = inputs.raw, inputs.tidy, inputs.simulated


def banner():
    """Say what kind of data is on screen, so a screenshot cannot lose it."""
    if SIMULATED:
        print("#" * 78 + "\n#  SIMULATED DATA - not measurements "
              f"(offline demo, scenario {case.scenario})\n" + "#" * 78)
    else:
        print(f"measured data from the live APIs, cache {cache.root}")


banner()
print(f"{len(tidy):,} rows from {tidy['ts_utc'].min()} to {tidy['ts_utc'].max()}")
print("cache:", cache.root, "| marker:", cache.kind())

# %% [markdown]
# What is in the table: per source, entity type and signal, how many series
# (entities x subtypes), rows, the time covered and the bin size. Bins are the
# upstream's own (IODA's step differs per signal); the detector judges each series
# at its own bin size.

# %%
series = (tidy.groupby(["source", "entity_type", "entity_code", "signal", "subtype"])["ts_utc"]
              .agg(rows="size", first="min", last="max",
                   bin=lambda t: t.sort_values().diff().median()))
banner()
(series.groupby(["source", "entity_type", "signal"])
       .agg(series=("rows", "size"), rows=("rows", "sum"), first=("first", "min"),
            last=("last", "max"), bin=("bin", "min"))
       .reset_index())

# %% [markdown]
# Every number traces back to a stored response. Here is the provenance of one IODA
# response and the start of its body, exactly as the upstream (or, offline, the
# simulator speaking the upstream's format) sent it.

# %%
meta = next((m for m in cache.entries("ioda")
             if m["path"].endswith(f"/country/{case.country}")
             and m["params"].get("datasource") == "ping-slash24"), None)
if meta is None:
    print("no IODA active-probing response for the country in this cache")
else:
    print({k: meta[k] for k in ("url", "fetched_utc", "status", "bytes", "simulated")})
    stored = cache.get("ioda", meta["path"], meta["params"])
    print(stored.body[:300].decode("utf-8", "replace"), "...")

# %% [markdown]
# ## 3. Look at the raw signals
#
# Before any detection: the national IODA signals as a fraction of their baseline
# median (1 = normal), with the report's events as shaded spans. Expect active
# probing and the telescope to fall on 5 January, and BGP to stay flat.

# %%
x0, x1 = case.window_utc
fig = Figure(figsize=(9, 3.2))
ax = fig.add_subplot()
for signal, style in (("ping-slash24", "-"), ("merit-nt", "--"), ("bgp", ":")):
    s = plot.select(tidy, "ioda", signal, entity_code=case.country)
    r = plot.baseline_ratio(s, case.baseline_utc)
    ax.plot(r.index, r.to_numpy(), style, lw=0.8, label=registry.signal("ioda", signal).label)
for ev in events:
    if ev.kind in ("shutdown", "restoration", "partial-restoration"):
        a, b = ev.window_utc
        ax.axvspan(a, b, color=plot.EVENT_STYLE[ev.kind][0], alpha=0.15, lw=0)
ax.set_xlim(x0 - pd.Timedelta(days=2), x1)
ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
ax.set_ylim(0, 1.6)
ax.set_ylabel("share of baseline")
ax.set_title(("SIMULATED DATA - " if SIMULATED else "") + f"{case.country}: IODA, national (UTC)")
ax.legend(loc="lower left", fontsize=8)
plot.watermark(fig, SIMULATED)
fig

# %% [markdown]
# ## 4. Detect outages
#
# Detection reads only the measurements, never the timeline. It learns normal
# behaviour per series from the baseline (daily cycle, noise), then marks bins whose
# loss exceeds a threshold, with hysteresis and a minimum duration.

# %%
det = pipeline.detect(inputs)
banner()
print(f"{len(det.intervals)} intervals in {det.series['status'].eq('ok').sum()} judged series")
for note in det.notes:
    print("note:", note)
det.series["status"].value_counts()

# %% [markdown]
# The national intervals in time order. A long outage comes in pieces, *full* (the
# loss reaches `thresholds.FULL_ENTER`) and *partial*, so a cut eased for a few hours
# shows as full, partial, full.

# %%
national = det.intervals[det.intervals["entity_type"] == "country"].sort_values(["start_utc", "source"])
national[["source", "signal", "subtype", "start_utc", "end_utc", "kind", "depth"]].head(15)

# %% [markdown]
# ## 5. Tune the thresholds and see the effect
#
# All the detector's numbers live in `shutdown.detect.thresholds`, each with the
# reason for its value. To try another value, pass it to `pipeline.analyse` (or
# `detect.run`) as `thresholds={...}`: it becomes a `thresholds.Thresholds` value
# for that run only, which alignment uses too (the module keeps its own values, so
# runs with different values never disturb each other; a misspelt name is an error,
# not a silent no-op). Here: the noise multiplier `K_NOISE` (how many robust
# standard deviations of baseline noise a drop must exceed), and the floor on the
# relative drop (`MIN_DROP`) for the telescope and Google traffic raised from 30% to 40%.
#
# Deep cuts are found with any sensible setting; what moves are the shallow drops
# and the edges. Watch the national Google traffic: the first outage it finds is
# where the detector says the disruption began.

# %%
def first_outage(d, source, signal, subtype):
    iv = d.intervals
    iv = iv[(iv["source"] == source) & (iv["signal"] == signal) & (iv["subtype"] == subtype)
            & (iv["entity_type"] == "country")]
    return iv["start_utc"].min() if len(iv) else pd.NaT


floor40 = {**thresholds.MIN_DROP, ("ioda", "merit-nt"): 0.40, ("ioda", "gtr"): 0.40}
settings = {
    "default": {},
    "K_NOISE=2": {"K_NOISE": 2.0},
    "K_NOISE=8": {"K_NOISE": 8.0},
    "floor 40%": {"MIN_DROP": floor40},
}
analysed = {name: pipeline.analyse(inputs, thresholds=o) for name, o in settings.items()}
tuned = {name: a.detection for name, a in analysed.items()}
banner()
print(pd.DataFrame({
    "intervals": {n: len(d.intervals) for n, d in tuned.items()},
    "national Google traffic down from": {n: first_outage(d, "ioda", "gtr", "WEB_SEARCH") for n, d in tuned.items()},
    "national telescope down from": {n: first_outage(d, "ioda", "merit-nt", "") for n, d in tuned.items()},
}).to_string())

# %% [markdown]
# Do the verdicts depend on the setting? If a verdict changes, the conclusion about
# that event hinges on a threshold and deserves a closer look at the raw signals.

# %%
verdicts = pd.DataFrame({name: a.summary.set_index("event")["verdict"] for name, a in analysed.items()})
banner()
verdicts

# %% [markdown]
# The same comparison on one series: national Google traffic against what the
# baseline expects, and the bins each setting calls "down".

# %%
def judged(d, signal="gtr", subtype="WEB_SEARCH"):
    ev = detect.expected_values(d)
    return ev[(ev["source"] == "ioda") & (ev["signal"] == signal) & (ev["subtype"] == subtype)
              & (ev["entity_type"] == "country")].set_index("ts_utc")


zoom = (pd.Timestamp("2022-01-03", tz="UTC"), pd.Timestamp("2022-01-07", tz="UTC"))
fig = Figure(figsize=(9, 3.4))
ax = fig.add_subplot()
base = judged(tuned["default"])
ax.plot(base.index, base["value"].to_numpy(), lw=0.9, color="black", label="measured")
ax.plot(base.index, base["expected"].to_numpy(), lw=0.9, ls="--", color="grey", label="expected (baseline)")
top = float(base["expected"].max())
for i, name in enumerate(settings):
    b = judged(tuned[name])
    down = b.index[b["down"]]
    ax.plot(down, [top * (1.1 + 0.07 * i)] * len(down), "|", ms=5,
            color=plot.SERIES_STYLE[i][0], label=f"down: {name}")
ax.set_xlim(*zoom)
ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
ax.set_ylabel("Google traffic (IODA units)")
ax.set_title(("SIMULATED DATA - " if SIMULATED else "") + "Google traffic (web search), national: thresholds compared")
ax.legend(loc="lower left", fontsize=7, ncol=3)
plot.watermark(fig, SIMULATED)
fig

# %% [markdown]
# ## 6. Align the documented events with the detections
#
# Alignment is the only place where the report and the measurements meet. For each
# event and each source expected to show it, the verdict is one of *confirmed* (a
# matching transition inside the event's window), *confirmed-earlier/-later* (within
# a day outside it), *not-observed*, *contradicted* or *not-measurable*.

# %%
result = analysed["default"]          # pipeline.analyse: detection, then alignment
rows, summary = result.alignment, result.summary
banner()
summary[["event", "kind", "window_local", "verdict", "n_sources", "transition_local", "minutes_off"]]

# %% [markdown]
# The same as a chart, as the report draws it: each documented event (outlined)
# above the detected intervals its verdicts rest on, coloured by verdict.

# %%
plot.alignment_figure(events, det.intervals, rows, case, simulated=SIMULATED).figure

# %% [markdown]
# Why a verdict is what it is: the per-source rows of one event.

# %%
rows[rows["event"] == "kz-03-shutdown"][
    ["source", "signal", "subtype", "entity_code", "expects", "verdict", "transition_utc", "reason"]]

# %% [markdown]
# What the case requires to hold (`[[expectations]]` in the case file; `shutdown check`
# enforces the same).

# %%
print(result.expectation_table[["event", "ok", "message"]].to_string(index=False))

# %% [markdown]
# The other direction: where do independent sources agree on an outage
# (`det.fused`: at least two source families down together), and is any such
# outage left that no documented event accounts for? The report lists those too.

# %%
unexplained = result.unexplained
banner()
print(f"{len(unexplained)} agreed outages that no documented event accounts for")
det.fused[["entity_type", "entity_code", "start_utc", "end_utc", "kind", "n_sources", "sources"]]

# %% [markdown]
# ## 7. Redraw a figure
#
# The report's figures are plain functions of the data above, so a figure can be
# redrawn with other detections, e.g. the 40% floor from section 5. Figures built
# from simulated data carry a SIMULATED watermark. A figure function returns the
# matplotlib `Figure` and its record (what it drew; `plot.describe(fig, rec)` reads it
# back): `fig.savefig(...)` writes one file, `plot.save(fig, base)` writes PNG, SVG and PDF.
# Here it goes into a temporary folder (point `out` elsewhere to keep it).

# %%
fig, rec = plot.overview_figure(tidy, events, tuned["floor 40%"].intervals, case)
out = Path(tempfile.mkdtemp(prefix="shutdown-notebook-"))
fig.savefig(out / "overview-floor40.pdf")
print("written:", out / "overview-floor40.pdf")
fig

# %%
plot.networks_figure(tidy, events, det.intervals, case).figure

# %% [markdown]
# ## Next
#
# * The whole pipeline in one command: `shutdown report kz-2022-01 --demo` (offline,
#   simulated) or `shutdown report kz-2022-01` (live), then `shutdown check out/kz-2022-01-demo`.
# * Another shutdown: see `02-new-case.ipynb`.
