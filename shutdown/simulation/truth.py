"""Ground truth: the scenario's episodes as rows detection can be scored against.

One row per (episode, entity, signal it touches), with the tidy table's names:
``source``/``signal``/``subtype`` as ``normalize`` writes them, so a detected
interval and a truth row are matched on equal keys. Atlas rows are per probe
class; an OONI volume drop is ``measurements``/``all``; a service block is the
test's ``anomaly`` count going *up* (``direction = "up"``).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from shutdown.errors import InputError
from shutdown.schema import ATLAS_PROBE_CLASSES
from shutdown.scenario import Scenario
from shutdown.simulation.world import GTR_PRODUCTS

GROUND_TRUTH_FILE = "ground_truth.json"
TRUTH_COLUMNS = ["entity_type", "entity_code", "source", "signal", "subtype", "start_utc",
                 "end_utc", "kind", "depth", "direction", "episode", "type"]


def ground_truth(scenario: Scenario) -> pd.DataFrame:
    rows = []
    for ep in scenario.episodes:
        for etype, code in ep.entities:
            for s in ep.signals:
                if s.source == "ioda":
                    if s.signal == "gtr" and etype == "asn":
                        continue              # no Google traffic data per network
                    subs = [s.subtype] if s.subtype or s.signal != "gtr" else list(GTR_PRODUCTS)
                    keys = [("ioda", s.signal, sub, "down") for sub in subs]
                elif s.source == "ooni":
                    if etype == "region":
                        continue              # OONI has no regions
                    if s.signal == "measurements":
                        keys = [("ooni", "measurements", "all", "down")]
                    else:
                        keys = [("ooni", s.signal, "anomaly", "up")]
                else:
                    subs = [s.subtype] if s.subtype else list(ATLAS_PROBE_CLASSES)
                    keys = [("atlas", s.signal, sub, "down") for sub in subs]
                for source, signal, sub, direction in keys:
                    rows.append(truth_row(ep, etype, code, source, signal, sub, direction))
    for renderer in _renderers_with_truth():
        rows += renderer.truth_rows(scenario)
    return _frame(rows)


def truth_row(ep, etype, code, source, signal, subtype, direction) -> dict:
    return {"entity_type": etype, "entity_code": code, "source": source, "signal": signal,
            "subtype": subtype, "start_utc": ep.start, "end_utc": ep.end, "kind": ep.kind,
            "depth": ep.depth, "direction": direction, "episode": ep.id, "type": ep.type}


def _renderers_with_truth() -> list:
    """The renderers of other sources (``render_<source>.truth_rows(scenario)``): a source
    whose simulated series follow the scenario's episodes says which rows they make."""
    import importlib

    from shutdown.sources import registry
    out = []
    for name in registry.names():
        try:
            mod = importlib.import_module(f"shutdown.simulation.render_{name}")
        except ModuleNotFoundError:
            continue
        if callable(getattr(mod, "truth_rows", None)):
            out.append(mod)
    return out


def _frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=TRUTH_COLUMNS)
    for c in ("entity_type", "entity_code", "source", "signal", "subtype", "kind", "direction",
              "episode", "type"):
        df[c] = df[c].astype("string")
    for c in ("start_utc", "end_utc"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    df["depth"] = df["depth"].astype("float64")
    return df.drop_duplicates().sort_values(["start_utc", "entity_type", "entity_code", "source",
                                             "signal", "subtype"], kind="stable").reset_index(drop=True)


def truth_document(scenario: Scenario, seed: int) -> dict:
    """What ``ground_truth.json`` holds: the episodes with their citations, and the rows."""
    df = ground_truth(scenario)
    recs = []
    for r in df.to_dict("records"):
        r["start_utc"] = r["start_utc"].strftime("%Y-%m-%dT%H:%M:%SZ")
        r["end_utc"] = r["end_utc"].strftime("%Y-%m-%dT%H:%M:%SZ")
        recs.append({k: (None if pd.isna(v) else v) for k, v in r.items()})
    episodes = [{"id": e.id, "title": e.title, "type": e.type, "kind": e.kind, "depth": e.depth,
                 "start_utc": e.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "end_utc": e.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "entities": [f"{t}:{c}" for t, c in e.entities],
                 "signals": [str(s) for s in e.signals], "sources": list(e.sources),
                 "note": e.note} for e in scenario.episodes]
    return {"SIMULATED": True, "scenario": scenario.name, "synthetic": scenario.synthetic,
            "seed": int(seed), "columns": TRUTH_COLUMNS, "episodes": episodes, "rows": recs}


def load_ground_truth(where) -> pd.DataFrame:
    """The ground truth written by ``shutdown simulate``: give the cache
    directory or the ``ground_truth.json`` file itself."""
    p = Path(where).expanduser()
    if p.is_dir():
        p = p / GROUND_TRUTH_FILE
    try:
        doc = json.loads(p.read_text())
    except FileNotFoundError:
        raise InputError("no ground truth here; run `shutdown simulate` first", path=p) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError("ground truth file is not valid JSON", path=p) from None
    return _frame(doc.get("rows", []))
