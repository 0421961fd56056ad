"""Raw-response cache with provenance, and the tidy tables built from it.

Layout under the cache root (``--cache`` / ``$SHUTDOWN_CACHE`` /
``~/.cache/shutdown``)::

    CACHE.json                          what kind of data this cache holds
    raw/<source>/<kk>/<key>.body.gz     the response body exactly as it came, gzipped
    raw/<source>/<kk>/<key>.meta.json   provenance: url, params, fetched_utc, status,
                                        sha256 of the body, tool version, simulated
    tables/<case>.parquet               the normalized (tidy) table of a case

The key hashes the source, the API path and the parameters -- not the base URL
(a mirror serves the same data) and never a credential. An entry is complete
when its meta file exists: the body is written first, both through a temporary
file and an atomic rename, so an interrupted run leaves no half entry and a
rerun simply fetches what is missing.

A cache holds measured or simulated data, never both: ``CACHE.json`` records
which, and writing the other kind into it is refused.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shutdown.errors import InputError

TOOL_VERSION = "0.1.0"
# Parameter names that carry credentials: never part of a key, never written.
SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token", "password"})


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    meta: dict

    def json(self):
        return json.loads(self.body)


def public_params(params: dict | None) -> dict:
    """Parameters with credentials removed, values as strings, sorted."""
    return {k: str(v) for k, v in sorted((params or {}).items()) if k.lower() not in SECRET_PARAMS}


def request_key(source: str, path: str, params: dict | None) -> str:
    canon = json.dumps([source, path, public_params(params)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:40]


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class RawCache:
    """Content-addressed store of raw upstream responses."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()

    # -- what kind of cache this is ------------------------------------------------
    @property
    def marker_path(self) -> Path:
        return self.root / "CACHE.json"

    def kind(self) -> dict | None:
        """``{"simulated": bool, ...}`` or None for an empty cache."""
        try:
            return json.loads(self.marker_path.read_text())
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InputError("corrupt cache marker; delete it or the cache", path=self.marker_path) from None

    @property
    def simulated(self) -> bool:
        k = self.kind()
        return bool(k and k.get("simulated"))

    def _claim(self, simulated: bool, scenario: str | None) -> None:
        k = self.kind()
        if k is None:
            info = {"simulated": simulated, "tool_version": TOOL_VERSION}
            if scenario:
                info["scenario"] = scenario
            atomic_write(self.marker_path, json.dumps(info, indent=1).encode())
        elif bool(k.get("simulated")) != simulated:
            what = "simulated" if k.get("simulated") else "measured"
            raise InputError(f"this cache holds {what} data; simulated and measured data are "
                             "never mixed -- use another cache directory", path=self.root)

    # -- entries -------------------------------------------------------------------
    def _paths(self, source: str, key: str) -> tuple[Path, Path]:
        d = self.root / "raw" / source / key[:2]
        return d / f"{key}.body.gz", d / f"{key}.meta.json"

    def get(self, source: str, path: str, params: dict | None = None) -> CachedResponse | None:
        """The cached response, or None when absent or damaged (then it is refetched)."""
        body_p, meta_p = self._paths(source, request_key(source, path, params))
        try:
            meta = json.loads(meta_p.read_text())
            body = gzip.decompress(body_p.read_bytes())
        except (FileNotFoundError, json.JSONDecodeError, OSError, EOFError):
            return None
        if hashlib.sha256(body).hexdigest() != meta.get("sha256"):
            return None
        return CachedResponse(body, meta)

    def put(self, source: str, path: str, params: dict | None, body: bytes, *, url: str,
            status: int, fetched_utc: str | None = None, simulated: bool = False,
            scenario: str | None = None, extra: dict | None = None,
            compresslevel: int = 9) -> dict:
        """Store one response as it came; return its provenance record.

        ``compresslevel`` only trades disk for time (the simulator writes
        hundreds of MB of Atlas results and uses 1); the body read back is the same.
        """
        self._claim(simulated, scenario)
        key = request_key(source, path, params)
        body_p, meta_p = self._paths(source, key)
        meta = {
            "source": source,
            "key": key,
            "path": path,
            "url": _strip_secrets_from_url(url),
            "params": public_params(params),
            "fetched_utc": fetched_utc or pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": int(status),
            "sha256": hashlib.sha256(body).hexdigest(),
            "bytes": len(body),
            "tool_version": TOOL_VERSION,
            "simulated": bool(simulated),
        }
        if extra:
            meta.update(extra)
        # mtime=0 keeps the gzip bytes a pure function of the body (reproducible caches).
        atomic_write(body_p, gzip.compress(body, mtime=0, compresslevel=compresslevel))
        atomic_write(meta_p, json.dumps(meta, indent=1, sort_keys=True).encode())
        return meta

    def entries(self, source: str | None = None):
        """Provenance records of all complete entries, in a stable order."""
        base = self.root / "raw"
        pattern = f"{source}/*/*.meta.json" if source else "*/*/*.meta.json"
        for p in sorted(base.glob(pattern)):
            try:
                yield json.loads(p.read_text())
            except (json.JSONDecodeError, OSError):
                continue

    # -- tidy tables -----------------------------------------------------------------
    def table_path(self, name: str) -> Path:
        return self.root / "tables" / f"{name}.parquet"


def _strip_secrets_from_url(url: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
    parts = urlsplit(url)
    if not parts.query:
        return url
    q = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in SECRET_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(q)))


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as Parquet atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# Key of a group in a grouped table: all series of one entity stay together, so each
# group can be judged alone (detection and fusion never look across entities).
GROUP_KEY = ("entity_type", "entity_code")


def write_grouped_table(groups, path: Path) -> Path:
    """Write DataFrames (each holding whole entities, see GROUP_KEY) as one Parquet
    file, one row group per DataFrame, atomically, without holding them all in memory:
    ``read_table_groups`` gives them back one at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    writer = None
    try:
        for df in groups:
            t = pa.Table.from_pandas(df, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, t.schema)
            writer.write_table(t, row_group_size=max(1, len(df)))
        if writer is None:
            raise ValueError("write_grouped_table: no group to write")
        writer.close()
        writer = None
        os.replace(tmp, path)
    except BaseException:
        if writer is not None:
            writer.close()
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_table_groups(path: Path):
    """Yield the row groups of a Parquet table as DataFrames, one at a time."""
    for i in range(table_groups(path)):
        yield read_table_group(path, i)


def table_groups(path: Path) -> int:
    import pyarrow.parquet as pq
    return pq.ParquetFile(path).num_row_groups


def read_table_group(path: Path, i: int) -> pd.DataFrame:
    import pyarrow.parquet as pq
    return pq.ParquetFile(path).read_row_group(i).to_pandas()


def table_time_range(path: Path, column: str = "ts_utc") -> tuple:
    """(min, max) of a column over a Parquet table, from its statistics (no data read)."""
    import pyarrow.parquet as pq
    meta = pq.ParquetFile(path).metadata
    j = meta.schema.names.index(column)
    stats = [meta.row_group(i).column(j).statistics for i in range(meta.num_row_groups)]
    lo = [st.min for st in stats if st is not None and st.has_min_max]
    hi = [st.max for st in stats if st is not None and st.has_min_max]
    return (min(lo), max(hi)) if lo else (None, None)

