"""The analysis of a case, kept in the cache under a key of everything it is a function
of, so that a report run again on the same inputs does not detect and align again.

Two entries, because the edit-and-rerun loop changes the timeline more than the data:

* the detection: the tidy table, the window, the baseline, the time zone, the thresholds,
  this package's code and the versions of pandas and numpy (detection never reads the
  timeline, so editing it keeps this entry);
* the whole analysis (detection, other documenters, alignment, verdicts, expectations):
  the same plus the case file, the timeline and the raw cache's hashes.

Entries are pickles under ``<cache>/analysis/``, written whole (a temporary file, then a
rename) and read back only under their key; one that cannot be read is computed again
(the cost is time, never a wrong result). The last :data:`KEEP` are kept. Like the raw
responses beside them, they are trusted as the user's own files: a cache directory
shared with others must be as trusted as the code that reads it.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

from shutdown.result import Result

KEEP = 16            # entries kept (the demo's: ~9 MB each)
# What ``pipeline.analyse`` adds to the inputs' record, all kept in the analysis entry.
ANALYSIS_FIELDS = ("detection", "others", "alignment", "summary", "unexplained",
                   "expectation_table", "expectations")


def cache_dir() -> Path:
    from shutdown.paths import default_cache_dir
    return default_cache_dir() / "analysis"


def detection_key(inputs: Result, thresholds=None) -> str:
    from shutdown import sidecar
    from shutdown.detect import thresholds as T
    case = inputs.case
    thr = T.DEFAULT if thresholds is None else (
        thresholds if isinstance(thresholds, T.Thresholds) else T.DEFAULT.replace(thresholds))
    return sidecar.sha256_bytes(sidecar.dump({
        "stage": "detection", "tidy": inputs.hashes["tidy_sha256"],
        "window": [str(t) for t in case.window_utc], "baseline": [str(t) for t in case.baseline_utc],
        "timezone": case.timezone, "thresholds": repr(thr), "code": sidecar.code_sha256(),
        "pandas": sidecar.version("pandas"), "numpy": sidecar.version("numpy")}))


def analysis_key(inputs: Result, thresholds=None) -> str:
    from shutdown import sidecar
    h = inputs.hashes
    return sidecar.sha256_bytes(sidecar.dump({
        "stage": "analysis", "detection": detection_key(inputs, thresholds),
        **{k: h.get(k) for k in ("case_sha256", "timeline_sha256", "raw_sha256")}}))


def load(key: str):
    """The entry kept under ``key``, or None (none, or one that cannot be read)."""
    path = cache_dir() / f"{key}.pickle"
    try:
        with open(path, "rb") as f:
            got = pickle.load(f)
    except Exception:        # absent, truncated, from another version of a class: compute it
        return None
    try:
        os.utime(path)       # recently used: kept longest
    except OSError:
        pass
    return got


def store(key: str, value) -> None:
    """Keep ``value`` under ``key`` and drop the least recently used entries beyond KEEP.
    A cache that cannot be written only costs the time next run."""
    root = cache_dir()
    tmp = root / f".{key}.{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, root / f"{key}.pickle")
        kept = sorted(root.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except Exception:         # a full disk, a read-only cache, something that does not pickle
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def kept(inputs: Result, thresholds=None) -> Result | None:
    """``inputs`` with the analysis the cache keeps for them, or None."""
    got = load(analysis_key(inputs, thresholds))
    if isinstance(got, dict) and set(got) == set(ANALYSIS_FIELDS):
        return inputs.replace(**got)
    return None


def analyse(inputs: Result, thresholds=None, detected=None) -> Result:
    """``pipeline.analyse``, with the analysis taken from the cache where its key is kept
    (``detected`` is called all the same, with the record as far as detection takes it)."""
    from shutdown import pipeline
    from shutdown.detect import Detection
    done = kept(inputs, thresholds)
    if done is not None:
        if detected is not None:
            detected(inputs.replace(detection=done.detection, others=done.others))
        return done
    akey = analysis_key(inputs, thresholds)
    dkey = detection_key(inputs, thresholds)
    det = load(dkey)
    det = det if isinstance(det, Detection) else None
    done = pipeline.analyse(inputs, thresholds, detection=det, detected=detected)
    if det is None:
        store(dkey, done.detection)
    store(akey, {k: getattr(done, k) for k in ANALYSIS_FIELDS})
    return done
