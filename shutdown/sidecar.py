"""What a report directory promises: the manifest and one sidecar JSON per figure.

``report`` writes them, ``check`` reads them back. Layout of a report directory::

    manifest.json            case, inputs' hashes, figures and their files' hashes
    figures/<name>.png|svg|pdf
    figures/<name>.json      sidecar: what the figure draws (events with the UTC
                             windows they occupy, detected intervals, series, data
                             range), the inputs' hashes, simulated or not
    report.md, report.html

Inputs' hashes tie a figure to the exact data it was drawn from:

* ``timeline_sha256`` / ``case_sha256``: the files' bytes;
* ``tidy_sha256``: the tidy table's content (row order and dtypes normalized);
* ``raw_sha256``: over the sorted ``key:sha256`` of every raw cache entry of the
  case's sources (each entry's sha256 is the one its provenance records);
* ``inputs_sha256``: over all of the above, the one number a reader compares.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from shutdown.errors import InputError
from shutdown.schema import TEXT_COLUMNS, TIDY_COLUMNS, as_text

MANIFEST = "manifest.json"
FIGURE_DIR = "figures"
FORMAT_VERSION = 1


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def version(package: str) -> str:
    """An installed package's version, looked up once (a render key and the analysis
    cache's key name several; each lookup reads the package's metadata, ~1 ms)."""
    from importlib.metadata import version as installed
    return installed(package)


@functools.lru_cache(maxsize=1)
def code_sha256() -> str:
    """Hash of this package's source files and translation catalogues: a figure drawn by
    other code (or worded by another catalogue) is another figure."""
    pkg = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted([*pkg.rglob("*.py"), *pkg.rglob("*.po")]):
        h.update(p.relative_to(pkg).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _sort_codes(col: pd.Series) -> np.ndarray:
    """Integers that sort as the column's strings do (a keyed table's categories are
    sorted already: its codes are such integers)."""
    if isinstance(col.dtype, pd.CategoricalDtype) and col.cat.categories.is_monotonic_increasing \
            and all(isinstance(c, str) for c in col.cat.categories) and not col.isna().any():
        return col.cat.codes.to_numpy()
    return pd.factorize(col.astype(str), sort=True)[0]


def _hashable_text(col: pd.Series) -> pd.Series:
    """A text column that hashes as its Python strings do (``as_text``): a categorical of
    strings keeps its codes, with the categories as Python strings -- pandas hashes the
    few categories and takes by code, the same row hashes as hashing every string
    (``tests/test_sidecar``), ~10x faster on a keyed table."""
    if isinstance(col.dtype, pd.CategoricalDtype) and not col.isna().any() and \
            all(isinstance(c, str) for c in col.cat.categories):
        cats = pd.Index(list(col.cat.categories), dtype=object)
        return pd.Series(pd.Categorical.from_codes(col.cat.codes.to_numpy(), categories=cats),
                         index=col.index, name=col.name)
    return as_text(col)


def tidy_sha256(tidy: pd.DataFrame) -> str:
    """Content hash of a tidy table: independent of row order and of string vs object dtype."""
    if tidy is None or len(tidy) == 0:
        return sha256_bytes(b"empty tidy table")
    df = tidy[TIDY_COLUMNS].copy()
    for c in TEXT_COLUMNS:
        df[c] = _hashable_text(df[c])
    df["ts_utc"] = pd.to_datetime(df["ts_utc"], utc=True).astype("int64")
    df["value"] = df["value"].astype("float64").round(9)
    df["simulated"] = df["simulated"].astype(bool)
    # rows in the order of sort_values(TIDY_COLUMNS[:6]), found on integer codes (sorting
    # the strings themselves was most of the hash's time)
    keys = [_sort_codes(tidy[c]) for c in TIDY_COLUMNS[:5]] + [df["ts_utc"].to_numpy()]
    df = df.take(np.lexsort(keys[::-1])).reset_index(drop=True)
    rows = pd.util.hash_pandas_object(df, index=False).to_numpy(dtype=np.uint64)
    return sha256_bytes(rows.tobytes())


def raw_entries(cache, sources) -> list[dict]:
    """Provenance of the cache's raw entries for ``sources``: source, key, sha256, fetched, url."""
    out = []
    for meta in cache.entries():
        if meta.get("source") not in sources:
            continue
        out.append({"source": meta.get("source"), "key": meta.get("key"), "sha256": meta.get("sha256"),
                    "fetched_utc": meta.get("fetched_utc"), "url": meta.get("url"),
                    "status": meta.get("status"), "bytes": meta.get("bytes"),
                    "simulated": bool(meta.get("simulated"))})
    return sorted(out, key=lambda r: (r["source"] or "", r["key"] or ""))


def raw_sha256(entries: list[dict]) -> str:
    lines = sorted(f"{e['key']}:{e['sha256']}" for e in entries)
    return sha256_bytes("\n".join(lines).encode())


def inputs_record(case, tidy: pd.DataFrame, entries: list[dict]) -> dict:
    rec = {
        "case_file": str(case.path),
        "case_sha256": sha256_file(case.path),
        "timeline_file": str(case.timeline_path),
        "timeline_sha256": sha256_file(case.timeline_path),
        "tidy_sha256": tidy_sha256(tidy),
        "tidy_rows": int(len(tidy)),
        "raw_sha256": raw_sha256(entries),
        "raw_entries": len(entries),
    }
    rec["inputs_sha256"] = inputs_sha256(rec)
    return rec


def inputs_sha256(rec: dict) -> str:
    parts = [rec[k] for k in ("case_sha256", "timeline_sha256", "tidy_sha256", "raw_sha256")]
    return sha256_bytes("|".join(parts).encode())


def dump(obj) -> bytes:
    """JSON as written to disk: sorted keys, UTF-8 (Kazakh text stays readable)."""
    return (json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False, default=_default) + "\n").encode()


def _default(v):
    if isinstance(v, pd.Timestamp):
        return v.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, Path):
        return str(v)
    if v is pd.NA or v is pd.NaT:
        return None
    raise TypeError(f"not JSON serializable: {type(v).__name__}")


MAX_JSON = 64 << 20        # a manifest or sidecar far larger than any report writes


def png_size(path) -> list[int] | None:
    """[width, height] in pixels from a PNG's header, or None when it is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return [int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")]


def read_json(path: Path, what: str) -> dict:
    """Read a manifest or sidecar; a missing or unreadable one is unusable input (exit 2), and
    so is one that is not a regular file of at most MAX_JSON bytes (a FIFO would hang the read)."""
    import stat
    try:
        st = Path(path).stat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_JSON:
            raise InputError(f"{what} is not a regular file of at most {MAX_JSON >> 20} MB; "
                             "regenerate the report", path=path)
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} is not valid JSON ({exc})", path=path) from None
