"""Simulator scenarios: what happened, per entity and signal, as a TOML file.

A scenario (``data/scenarios/<name>.toml``) says how each entity behaves
normally and lists the ground-truth *episodes* -- the intervals in which some
signals of some entities fell (or, for OONI app tests, in which anomalies rose).
``shutdown.simulation`` turns it into raw upstream responses; the episodes are
the known truth detection is scored against.

File format (every field is checked; an unknown field is an error, to catch typos)::

    name = "kz-2022-01"
    title = "..."
    synthetic = false          # true: an invented test case, not documented reality
    case = "kz-2022-01"        # the case the scenario is written for
    fetched_utc = "2022-02-01T00:00:00Z"   # provenance time stamped on every response

    [defaults.asn]             # normal behaviour for any ASN entity (also "country", "region")
    ioda.ping-slash24 = { level = 300, daily = 0.1, noise = 0.03 }

    [[entities]]
    entity = "country:KZ"      # "country:XX" | "asn:9198" | "region:Almaty"
    ioda.bgp = { level = 2600, noise = 0.002, missing = 0.001, glitch = 0.0005 }
    ooni = { level = 30, daily = 0.5, anomaly = 0.02, failure = 0.01,
             tests = { web_connectivity = 0.85, telegram = 0.04 } }
    atlas = { probes = 20, infrastructure = 4 }

    [[episodes]]
    id = "kz-national-cut"
    start = 2022-01-05T11:15:00Z
    end = 2022-01-06T00:00:00Z
    entities = ["country:KZ", "asn:9198"]
    signals = ["ioda.ping-slash24", "ooni.measurements", "atlas.probes_reachable:end-user"]
    type = "cut"               # cut | throttling | service-block
    depth = 0.97               # fraction of normal lost (service-block: anomaly share)
    kind = "full"              # optional: full | partial (default: full when depth >= 0.9)
    sources = ["https://... -- what it says"]

Normal-behaviour parameters of an IODA signal: ``level`` (typical value),
``daily`` (relative amplitude of the daily cycle), ``peak_utc`` (UTC hour of the
daily peak), ``noise`` (relative standard deviation per bin), ``missing``
(probability a bin is null), ``glitch`` (probability a bin is a spurious dip).

Modules: ``model`` (the scenario as plain frozen dataclasses, the built-in normal
behaviour), ``load`` (reading and checking a file), ``episodes`` (the ground-truth
episodes: signal names, what each acts on, contradictions), ``fields`` (checks of one
field shared by both readers).
"""
from shutdown.scenario.episodes import effect_keys, parse_signal_ref
from shutdown.scenario.load import list_scenarios, load_scenario, resolve_scenario_path
from shutdown.scenario.model import (BUILTIN_ATLAS, BUILTIN_IODA, BUILTIN_OONI, EPISODE_TYPES,
                                     FULL_DEPTH, IODA_SIGNALS, MAX_LEVEL, MAX_NOISE, MAX_PROBES,
                                     MODELLED, EntityNormal, Episode, Scenario, SignalRef,
                                     SiteBehaviour, Whitelist)

__all__ = ["BUILTIN_ATLAS", "BUILTIN_IODA", "BUILTIN_OONI", "EPISODE_TYPES", "FULL_DEPTH",
           "IODA_SIGNALS", "MAX_LEVEL", "MAX_NOISE", "MAX_PROBES", "MODELLED", "EntityNormal",
           "Episode", "Scenario", "SignalRef", "SiteBehaviour", "Whitelist", "effect_keys",
           "list_scenarios", "load_scenario", "parse_signal_ref", "resolve_scenario_path"]
