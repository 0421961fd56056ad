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
# # A new case: another shutdown, no new code
#
# The package knows about Kazakhstan only through two data files: a **case file**
# (what to analyse: country, time zone, days, networks) and a **timeline** (what a
# report documents, one cited event per entry). Another shutdown is two new files.
# Their formats are in docs/formats.md ("Case files", "Timeline files"); this
# notebook uses nothing else to write them.
#
# The example is Iran, November 2019: a near-total national shutdown during the
# fuel-price protests, restored step by step about a week later. The events below
# cite the public reporting they come from.
#
# The files go into a temporary folder. To keep a case, put the case file in
# `data/cases/` and the timeline in `data/events/` (then it has a name, e.g.
# `shutdown timeline ir-2019-11`), or keep them anywhere and pass the path.
#
# **Data.** With `LIVE = False` the notebook stays offline: it renders a small
# *sketch* scenario through the simulator, so the pipeline has something to run on.
# That data is **SIMULATED** and illustrative (invented levels, times chosen to match
# the reporting roughly); it shows how the pieces fit, not what happened. With
# `LIVE = True` it collects the case from IODA, OONI and RIPE Atlas (network needed).

# %%
LIVE = False   # False: simulated sketch (offline). True: collect from the live APIs.

# %%
# %matplotlib inline
# %config InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "dpi": 90}
import tempfile
from pathlib import Path

import pandas as pd

import shutdown
from shutdown import InputError, pipeline, plot

pd.set_option("display.max_colwidth", 70)
pd.set_option("display.width", 160)

WORK = Path(tempfile.mkdtemp(prefix="shutdown-new-case-"))
print("writing into", WORK)

# %% [markdown]
# ## 1. The case file
#
# Pick the window generously: a day or two before the first event and after the
# last, so the detector sees the signals fall *and* return. `baseline_days` is how
# much normal behaviour before the window the detector learns from (at least 7,
# which `shutdown collect --baseline-days` also insists on; 14 lets it learn a weekly
# cycle too). Networks get their own panels; list them with the registry's AS holder
# name and cite where you took them from.

# %%
CASE = """\
name = "ir-2019-11"
title = "Iran, 14-25 November 2019"
country = "IR"
timezone = "Asia/Tehran"          # IANA zone: UTC+03:30 in November 2019
start = 2019-11-14
end = 2019-11-25
baseline_days = 7
timeline = "ir-2019-11.events.toml"   # relative to this file
sources = ["ioda", "ooni", "atlas"]

# The two largest mobile operators. Both ASNs are among the Iranian networks OONI measured
# (OONI et al., "Internet Censorship in Iran: Network Measurement Findings from 2014-2017",
# https://ooni.org/post/iran-internet-censorship/); holder names as registered
# (check before publishing, e.g. whois -h whois.ripe.net AS44244).
[[networks]]
asn = 197207                      # Mobile Communication Company of Iran (MCI, Hamrah-e Aval)
name = "MCI"
[[networks]]
asn = 44244                       # Iran Cell Service and Communication Company
name = "Irancell"
"""
case_path = WORK / "ir-2019-11.toml"
case_path.write_text(CASE)

case = shutdown.load_case(case_path)
print(case.title, "|", case.country, case.timezone)
print("window (UTC)  ", *case.window_utc)
print("baseline (UTC)", *case.baseline_utc)
print("networks      ", [f"AS{n.asn} {n.name}" for n in case.networks])

# %% [markdown]
# ## 2. The timeline
#
# One `[[events]]` entry per documented statement. Keep the precision the source
# gives: a source that says "on 16 November" gets `precision = "day"` and the whole
# local day as its window; only a source that gives a clock time gets `"hour"` or
# `"minute"`. `quote_kk` holds the source's own words (the field is named after the
# first case's Kazakh-language report; quote an English source in English),
# `text_en` your summary, `citation` where a reader finds it.

# %%
TIMELINE = """\
timezone = "Asia/Tehran"

[[events]]
id = "ir-15-fuel-protests"
kind = "context"
scope = "national"
date = 2019-11-15
precision = "day"
title = "Fuel price rise announced; protests begin"
quote_kk = "The demonstrations flared up on 15 November"
text_en = "Protests started on 15 November, hours after a petrol price increase was announced."
citation = "The New Arab, 'Internet partially restored in Iran following crackdown on protests', 23 Nov 2019"

[[events]]
id = "ir-16-shutdown"
kind = "shutdown"
scope = "national"
date = 2019-11-16
precision = "day"
title = "Near-total national shutdown"
quote_kk = "authorities imposed a near-total shutdown on November 16"
text_en = "The authorities cut Internet access across the country on 16 November."
citation = "RFE/RL, 'Iran partially restores Internet service after shutdown over protests', 21 Nov 2019"

[[events]]
id = "ir-16-mobile"
kind = "shutdown"
scope = "network:197207,44244"
date = 2019-11-16
precision = "day"
title = "MCI and Irancell cut mobile data"
quote_kk = "disconnected their cellular data connectivity on 16 November"
text_en = "The two largest mobile operators, MCI and Irancell, cut mobile data on 16 November."
citation = "ARTICLE 19, 'Tightening the Net 2020: After Blood and Shutdowns', section on 16 November 2019"

[[events]]
id = "ir-21-partial"
kind = "partial-restoration"
scope = "national"
date = 2019-11-21
precision = "day"
title = "Access gradually restored"
quote_kk = "the Internet is being gradually restored in the country"
text_en = "Fars reported a gradual restoration; NetBlocks saw national connectivity rise, still far below normal."
citation = "RFE/RL, 21 Nov 2019, quoting Fars and NetBlocks"

[[events]]
id = "ir-23-partial"
kind = "partial-restoration"
scope = "national"
date = 2019-11-23
precision = "day"
title = "About two-thirds of normal connectivity"
quote_kk = "connectivity levels were two-thirds of what they were before the shutdown"
text_en = "NetBlocks reported national connectivity at about two-thirds of its level before the shutdown."
citation = "The New Arab, 23 Nov 2019, reporting NetBlocks"
"""
timeline_path = WORK / "ir-2019-11.events.toml"
timeline_path.write_text(TIMELINE)

events = shutdown.load_timeline(case.timeline_path, case=case)
shutdown.events_frame(events)[["id", "kind", "scope", "precision", "start_local", "end_local", "start_utc"]]

# %% [markdown]
# A day in Tehran is not a UTC day: 16 November local runs from 20:30 UTC on the
# 15th to 20:30 UTC on the 16th. Alignment always uses these windows.
#
# ## 3. Mistakes are caught, naming the file, the event and the field
#
# A malformed file never gets as far as the analysis. Each broken variant below
# changes one line of the timeline; loading it raises `shutdown.InputError` (the
# command line prints the same message and exits with status 2).

# %%
broken = {
    "a kind that does not exist": ('kind = "shutdown"', 'kind = "blackout"'),
    "a clock time with day precision": ('precision = "day"\ntitle = "Near-total',
                                        'precision = "day"\nstart = "15:00"\ntitle = "Near-total'),
    "an impossible date": ("date = 2019-11-21", 'date = "2019-11-31"'),
    "a scope without its networks": ('scope = "network:197207,44244"', 'scope = "network:"'),
}
for what, (good, bad) in broken.items():
    assert good in TIMELINE, good
    path = WORK / "broken.events.toml"
    path.write_text(TIMELINE.replace(good, bad, 1))
    try:
        shutdown.load_timeline(path, case=case)
        print(f"{what}: accepted?!")
    except InputError as err:
        print(f"{what}:\n    {err}")

# %%
try:
    bad_case = WORK / "broken-case.toml"
    bad_case.write_text(CASE.replace('timezone = "Asia/Tehran"', 'timezone = "UTC+3:30"'))
    shutdown.load_case(bad_case)
except InputError as err:
    print("a fixed offset instead of a time zone:\n   ", err)

# %% [markdown]
# ## 4. What each event should show
#
# Nothing to configure: the event's kind decides which sources are expected to
# move, and how (`shutdown.expect.TABLE`, see docs/formats.md). A national
# shutdown is looked up on the country, `network:` scopes on those ASNs.

# %%
pd.DataFrame([{"event": ev.id, "source": x.source, "signal": x.signal, "subtype": x.subtype or "",
               "shows": x.shows} for ev in events for x in ev.expected]).head(12)

# %% [markdown]
# ## 5. Data, detection, alignment
#
# Live, `collect_case` fetches exactly what the case file asks for (the country, its
# networks, the baseline and the window) into the cache. Offline, a scenario
# describes a simulated world for the case: normal levels per entity and *episodes*
# in which signals fall (docs/simulation.md; every field in docs/formats.md and
# `shutdown/scenario/__init__.py`). The one below is a deliberately rough sketch
# (`synthetic = true`): round levels, and episode times picked to fall on the
# documented days, not taken from any measurement.

# %%
SCENARIO = """\
name = "ir-2019-11-sketch"
title = "Iran, November 2019: an illustrative sketch, not a reconstruction"
synthetic = true
case = "ir-2019-11"
fetched_utc = "2019-12-01T00:00:00Z"

[[entities]]
entity = "country:IR"
ioda.ping-slash24 = { level = 3000, daily = 0.1, noise = 0.02 }
ooni = { level = 40 }
atlas = { probes = 16, infrastructure = 4 }

[[entities]]
entity = "asn:197207"
ioda.ping-slash24 = { level = 300, daily = 0.15, noise = 0.04 }
ooni = { level = 10 }
atlas = { probes = 5 }

[[entities]]
entity = "asn:44244"
ioda.ping-slash24 = { level = 250, daily = 0.15, noise = 0.04 }
ooni = { level = 8 }
atlas = { probes = 4 }

[[episodes]]
id = "cut"
start = 2019-11-16T12:30:00Z
end = 2019-11-21T06:30:00Z
entities = ["country:IR", "asn:197207", "asn:44244"]
signals = ["ioda.ping-slash24", "ioda.merit-nt", "ooni.measurements", "atlas.probes_reachable:end-user"]
type = "cut"
depth = 0.95

[[episodes]]
id = "partly-back"
start = 2019-11-21T06:30:00Z
end = 2019-11-23T06:30:00Z
entities = ["country:IR", "asn:197207", "asn:44244"]
signals = ["ioda.ping-slash24", "ioda.merit-nt", "ooni.measurements", "atlas.probes_reachable:end-user"]
type = "throttling"
depth = 0.6
"""

# %%
if LIVE:
    # the live APIs into the default cache (~/.cache/shutdown), cache first
    inputs = pipeline.load_inputs(case, collect=True, progress=True)
    for status in inputs.source_status:
        print(f"{status['source']}: {status['status']} {status.get('message') or ''}")
else:
    from shutdown.simulate import simulate
    scenario_path = WORK / "ir-2019-11-sketch.scenario.toml"
    scenario_path.write_text(SCENARIO)
    sim = simulate(scenario_path, case=case, cache_root=WORK / "simulated-cache")
    print(f"simulated {sum(sim['files'].values())} responses in {sim['seconds']:.1f} s -> {sim['cache']}")
    inputs = pipeline.load_inputs(case, cache=sim["cache"])

tidy, SIMULATED = inputs.tidy, inputs.simulated      # load_inputs refuses a mix of the two
if SIMULATED:
    print("#" * 78 + "\n#  SIMULATED DATA - an illustrative sketch, not measurements\n" + "#" * 78)
else:
    print("measured data from the live APIs")
print(f"{len(tidy):,} rows;", tidy.groupby("source").size().to_dict())

# %%
result = pipeline.analyse(inputs)     # detection (data only), then alignment with the timeline
summary = result.summary
if SIMULATED:
    print("SIMULATED DATA - verdicts on a sketch, not findings")
summary[["event", "kind", "verdict", "n_sources", "transition_local", "minutes_off"]]

# %%
plot.overview_figure(tidy, events, result.intervals, case).figure

# %% [markdown]
# ## 6. Keep the case
#
# 1. Put the timeline in `data/events/ir-2019-11.toml` and the case file in
#    `data/cases/ir-2019-11.toml`, with `timeline = "../events/ir-2019-11.toml"`
#    (the layout of the Kazakhstan case; `data/cases/` should hold case files only).
# 2. Check the timeline from the command line: `shutdown timeline ir-2019-11`.
# 3. Collect and report: `shutdown collect ir-2019-11`, then `shutdown report ir-2019-11`.
# 4. Add `[[expectations]]` to the case file for what `shutdown check` should require.
# 5. Optionally, for an offline demo of the case: save the scenario as
#    `data/scenarios/ir-2019-11-sketch.toml` and add `scenario = "ir-2019-11-sketch"`
#    to the case file; then `shutdown report ir-2019-11 --demo` works without a network.
