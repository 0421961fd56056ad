"""Raw-response cache with provenance, and the tidy tables built from it.

Layout under the cache root (``--cache`` / ``$SHUTDOWN_CACHE`` /
``~/.cache/shutdown``)::

    CACHE.json                          what kind of data this cache holds
    raw/<source>/<kk>/<key>.body.gz     the response body exactly as it came, gzipped
    raw/<source>/<kk>/<key>.meta.json   provenance: url, params, fetched_utc, status,
                                        sha256 of the body, tool version, simulated
    tables/<case>.parquet               the normalized (tidy) table of a case

A *dataset* (``write_dataset``) is a tidy table too large for one file: a directory
of Parquet files, one per source and entity, which detection reads on Dask
(``detect.run_dataset``)::

    DATASET.json                                            simulated or measured
    source=<s>/entity_type=<t>/entity_code=<c>/part-0.parquet   every row of its series

The key hashes the source, the API path and the parameters -- not the base URL
(a mirror serves the same data) and never a credential. An entry is complete
when its meta file exists: the body is written first, both through a temporary
file and an atomic rename, so an interrupted run leaves no half entry and a
rerun simply fetches what is missing.

A cache holds measured or simulated data, never both: ``CACHE.json`` records
which, and writing the other kind into it is refused. A cache without the marker
takes the kind of the entries it already holds, and no entry is ever replaced by
one of the other kind. ``lock()`` keeps two writers (two ``collect`` runs, or
``collect`` and ``simulate``) out of one cache at the same time.

Every damaged file (marker, provenance record, table) and every failed write
(read-only directory, full disk) is an InputError naming the file and what to do.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
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


def write_failed(path: Path, exc: OSError) -> InputError:
    """A failed write (read-only directory, full disk) as one line: the file and what to do."""
    why = exc.strerror or type(exc).__name__
    return InputError(f"cannot write ({why}); nothing half-written was left behind -- free "
                      "space or fix permissions, or use another --cache directory, then rerun",
                      path=path)


def _abandon(tmp, path: Path, exc: BaseException) -> None:
    """After a failed write through ``tmp``: no temporary file left behind, and an
    OSError (full disk, read-only directory) raised as one line naming ``path``."""
    if tmp is not None:
        Path(tmp).unlink(missing_ok=True)
    if isinstance(exc, OSError):
        raise write_failed(path, exc) from None


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: all or nothing."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        _abandon(tmp, path, exc)
        raise


def read_json_object(path: Path, what: str, fix: str) -> dict:
    """A JSON object from ``path``; a damaged file is an InputError saying ``fix``."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        obj = None
    if not isinstance(obj, dict):
        raise InputError(f"damaged {what} (not a JSON object); {fix}", path=path)
    return obj


class RawCache:
    """Content-addressed store of raw upstream responses."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()

    # -- what kind of cache this is ------------------------------------------------
    @property
    def marker_path(self) -> Path:
        return self.root / "CACHE.json"

    def kind(self) -> dict | None:
        """``{"simulated": bool, ...}`` or None for a cache without a marker."""
        if not self.marker_path.exists():
            return None
        k = read_json_object(self.marker_path, "cache marker",
                             "delete it (the kind is then read from the cached entries)")
        if not isinstance(k.get("simulated"), bool):
            raise InputError("damaged cache marker (no 'simulated': true/false); delete it (the "
                             "kind is then read from the cached entries)", path=self.marker_path)
        return k

    def holds_simulated(self) -> bool | None:
        """What the cache holds: the marker, else its first readable entry; None when empty."""
        k = self.kind()
        if k is not None:
            return k["simulated"]
        for p in sorted((self.root / "raw").glob("*/*/*.meta.json")):
            meta = _read_meta(p)
            if meta is not None:
                return bool(meta.get("simulated"))
        return None

    @property
    def simulated(self) -> bool:
        return bool(self.holds_simulated())

    def claim(self, simulated: bool, scenario: str | None = None, write: bool = True) -> None:
        """Refuse (InputError, exit 2) unless this cache may take data of this kind;
        with ``write``, record the kind in a cache that has no marker yet."""
        held = self.holds_simulated()
        if held is not None and held != simulated:
            what = "simulated" if held else "measured"
            raise InputError(f"this cache holds {what} data and "
                             f"{'simulated' if simulated else 'measured'} data never go into it "
                             "-- use another --cache directory", path=self.root)
        if write and self.kind() is None:
            info = {"simulated": simulated, "tool_version": TOOL_VERSION}
            if scenario:
                info["scenario"] = scenario
            atomic_write(self.marker_path, json.dumps(info, indent=1).encode())


    @contextmanager
    def lock(self, what: str = "collect"):
        """Hold the cache's writer lock; a second writer is refused at once (exit 2).

        The lock is an advisory ``flock`` on ``<cache>/.lock``: the kernel drops it when
        the holder exits, even after ``kill -9``, so it never goes stale."""
        try:
            import fcntl
        except ImportError:        # pragma: no cover - not POSIX: no lock
            yield
            return
        path = self.root / ".lock"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fh = open(path, "a+")
        except OSError as exc:
            raise write_failed(path, exc) from None
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise InputError(f"the cache is in use ({holder}); wait for it to finish or use "
                                 "another --cache directory", path=self.root) from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"{what}, pid {os.getpid()}")
            fh.flush()
            yield
        finally:
            fh.close()

    # -- entries -------------------------------------------------------------------
    def _paths(self, source: str, key: str) -> tuple[Path, Path]:
        d = self.root / "raw" / source / key[:2]
        return d / f"{key}.body.gz", d / f"{key}.meta.json"

    def get(self, source: str, path: str, params: dict | None = None) -> CachedResponse | None:
        """The cached response, or None when absent or damaged (then it is refetched)."""
        body_p, meta_p = self._paths(source, request_key(source, path, params))
        meta = _read_meta(meta_p)
        if meta is None:
            return None
        try:
            body = gzip.decompress(body_p.read_bytes())
        except (OSError, EOFError, gzip.BadGzipFile):
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
        self.claim(simulated, scenario)
        key = request_key(source, path, params)
        body_p, meta_p = self._paths(source, key)
        old = _read_meta(meta_p)
        if old is not None and bool(old.get("simulated")) != bool(simulated):
            raise InputError("this entry holds data of the other kind (simulated vs measured); "
                             "it is never replaced -- use another --cache directory", path=meta_p)
        meta = {
            "source": source,
            "key": key,
            "path": path,
            "url": strip_secrets_from_url(url),
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
            meta = _read_meta(p)
            if meta is None:
                raise InputError("damaged cache entry (provenance is not a JSON object); delete "
                                 "it and rerun `shutdown collect` to fetch it again", path=p)
            yield meta

    def verify(self, sources) -> list[str]:
        """Entries of ``sources`` whose body is missing or no longer has the sha256 its
        provenance records (e.g. replaced by hand): one line each."""
        bad = []
        for source in sources:
            for meta in self.entries(source):
                body_p, _ = self._paths(source, str(meta.get("key")))
                try:
                    digest = hashlib.sha256(gzip.decompress(body_p.read_bytes())).hexdigest()
                except (OSError, EOFError, gzip.BadGzipFile):
                    digest = None
                if digest != meta.get("sha256"):
                    what = "missing or unreadable" if digest is None else "changed"
                    bad.append(f"raw entry {body_p.relative_to(self.root)}: body {what} (its sha256 "
                               "differs from its provenance record); rerun `shutdown collect "
                               "--refresh` and the report")
        return bad

    # -- tidy tables -----------------------------------------------------------------
    def table_path(self, name: str) -> Path:
        from shutdown.validate import NAME_RE
        if not NAME_RE.match(name) or ".." in name:   # never a path outside tables/
            raise InputError(f"{name!r} is not a valid table name")
        return self.root / "tables" / f"{name}.parquet"


def _read_meta(p: Path) -> dict | None:
    """A provenance record, or None when absent or damaged (not a JSON object)."""
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


def strip_secrets_from_url(url: str) -> str:
    """``url`` as it may be stored or shown: no user info (``user:password@``), no
    credential parameters."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
    parts = urlsplit(str(url))
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
    if parts.query:
        q = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in SECRET_PARAMS]
        parts = parts._replace(query=urlencode(q))
    return urlunsplit(parts)


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame as Parquet atomically."""
    path, tmp = Path(path), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException as exc:
        _abandon(tmp, path, exc)
        raise
    return path


def read_table(path: Path) -> pd.DataFrame:
    """A table this tool wrote; a damaged one is an InputError saying how to rebuild it."""
    try:
        return pd.read_parquet(path)
    except Exception as exc:      # pyarrow's errors differ by version: one message
        raise _damaged_table(path, exc) from None


def _damaged_table(path, exc) -> InputError:
    return InputError(f"damaged table ({type(exc).__name__}); delete it: it is rebuilt from "
                      "the raw cache on the next run", path=path)


def _parquet_file(path):
    import pyarrow.parquet as pq
    try:
        return pq.ParquetFile(path)
    except Exception as exc:
        raise _damaged_table(path, exc) from None


# Key of a group in a grouped table: all series of one entity stay together, so each
# group can be judged alone (detection and fusion never look across entities).
GROUP_KEY = ("entity_type", "entity_code")


def write_grouped_table(groups, path: Path) -> Path:
    """Write DataFrames (each holding whole entities, see GROUP_KEY) as one Parquet
    file, one row group per DataFrame, atomically, without holding them all in memory:
    ``read_table_groups`` gives them back one at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    path, tmp, writer = Path(path), None, None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
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
    except BaseException as exc:
        if writer is not None:
            writer.close()
        _abandon(tmp, path, exc)
        raise
    return path


def read_table_groups(path: Path):
    """Yield the row groups of a Parquet table as DataFrames, one at a time."""
    for i in range(table_groups(path)):
        yield read_table_group(path, i)


def table_groups(path: Path) -> int:
    return _parquet_file(path).num_row_groups


def read_table_group(path: Path, i: int) -> pd.DataFrame:
    try:
        return _parquet_file(path).read_row_group(i).to_pandas()
    except InputError:
        raise
    except Exception as exc:
        raise _damaged_table(path, exc) from None


def table_time_range(path: Path, column: str = "ts_utc") -> tuple:
    """(min, max) of a column over a Parquet table, from its statistics (no data read)."""
    meta = _parquet_file(path).metadata
    j = meta.schema.names.index(column)
    stats = [meta.row_group(i).column(j).statistics for i in range(meta.num_row_groups)]
    lo = [st.min for st in stats if st is not None and st.has_min_max]
    hi = [st.max for st in stats if st is not None and st.has_min_max]
    return (min(lo), max(hi)) if lo else (None, None)


# A partitioned dataset: one file per (source, entity), holding every row of its series,
# so each file can be judged alone (no series, OONI share or Atlas share crosses one;
# fusion, which compares sources, runs on the intervals of all of them). The names are
# hive-style for people and other tools; the files hold every tidy column themselves.
DATASET_KEY = ("source", "entity_type", "entity_code")
DATASET_MARKER = "DATASET.json"
_PART = "part-0.parquet"


def dataset_part(root: Path, source, entity_type, entity_code) -> Path:
    """The file of one (source, entity) in a dataset (values quoted: any code is a name)."""
    from urllib.parse import quote
    return Path(root).joinpath(*(f"{k}={quote(str(v), safe='')}" for k, v in
                                 zip(DATASET_KEY, (source, entity_type, entity_code))), _PART)


def write_dataset(tables, path: Path) -> Path:
    """Write tidy tables (an iterable: one table in memory at a time) into the dataset at
    ``path``, one file per (source, entity). A file that exists already is merged with
    the new rows (a (series, time) row given again replaces the stored one, so writing a
    table twice changes nothing); every file is replaced atomically. Simulated and
    measured tables never share a dataset (``DATASET.json`` says which it holds)."""
    root = Path(path)
    marker = root / DATASET_MARKER
    held = read_json_object(marker, "dataset marker", "delete the dataset and write it again").get(
        "simulated", "?") if marker.exists() else None
    if held not in (None, True, False):
        raise InputError("damaged dataset marker (no true/false 'simulated'); delete the dataset "
                         "and write it again", path=marker)
    for df in tables:
        if not len(df):
            continue
        sim = simulated_only(df)
        if held is None:
            atomic_write(marker, json.dumps({"simulated": sim}).encode())
            held = sim
        elif sim != held:
            raise InputError(f"the dataset holds {'simulated' if held else 'measured'} data and this "
                             f"table is {'simulated' if sim else 'measured'}; refusing to mix them",
                             path=root)
        for key, part in df.groupby(list(DATASET_KEY), observed=True, sort=False):
            p = dataset_part(root, *key)
            if p.exists():
                old = read_table(p)
                part = pd.concat([old, part], ignore_index=True).drop_duplicates(
                    ["signal", "subtype", "ts_utc"], keep="last").sort_values(
                    ["signal", "subtype", "ts_utc"], kind="stable", ignore_index=True)
            # key columns as categoricals: a few distinct strings per file, stored once
            write_table(part.astype({c: "category" for c in ("source", "entity_type", "entity_code",
                                                              "signal", "subtype", "unit")
                                     if c in part}), p)
    if held is None:
        raise InputError("no rows to write: a dataset needs at least one non-empty table", path=root)
    return root


def dataset_files(path: Path) -> list[str]:
    """The files of a dataset, in a fixed order (an InputError if it holds none)."""
    root = Path(path).expanduser()
    files = sorted(str(p) for p in root.glob(f"source=*/entity_type=*/entity_code=*/{_PART}"))
    if not files:
        raise InputError("not a dataset (no source=*/entity_type=*/entity_code=*/part-0.parquet); "
                         "write one with shutdown.store.write_dataset", path=root)
    return files


def dataset_time_range(path: Path, column: str = "ts_utc") -> tuple:
    """(min, max) of a column over a dataset, from its files' statistics (no data read)."""
    ranges = [table_time_range(f, column) for f in dataset_files(path)]
    lo = [r[0] for r in ranges if r[0] is not None]
    hi = [r[1] for r in ranges if r[1] is not None]
    return (min(lo), max(hi)) if lo else (None, None)


def simulated_only(tidy: pd.DataFrame, cache: "RawCache | None" = None, table_path=None) -> bool:
    """True for simulated data, False for measured: the one check that the two never mix.
    Refuses a table that mixes them, and one whose label disagrees with what its cache
    holds (``table_path``: a stored table, which is rebuilt from the cache once deleted)."""
    flags = set(tidy["simulated"].astype(bool).unique()) if len(tidy) else set()
    where = table_path or (cache.root if cache is not None else None)
    if len(flags) > 1:
        raise InputError("the table mixes simulated and measured rows; simulated and measured data "
                         "are never shown together -- rebuild it from one cache", path=where)
    held = cache.holds_simulated() if cache is not None else None
    if not flags:
        return bool(held)
    sim = bool(flags.pop())
    if held is not None and sim != held:
        raise InputError(f"the table is labelled {'simulated' if sim else 'measured'} but the cache holds "
                         f"{'simulated' if held else 'measured'} data; refusing to mix them"
                         + ("; delete the table: it is rebuilt from the raw cache" if table_path else ""),
                         path=where)
    return sim


def as_cache(cache) -> "RawCache":
    """A RawCache from a RawCache, a directory, or None (the default cache)."""
    if isinstance(cache, RawCache):
        return cache
    from shutdown.paths import default_cache_dir
    root = Path(cache).expanduser() if cache else default_cache_dir()
    if root.exists() and not root.is_dir():     # else every read finds "no data": a wrong answer
        where = "--cache" if cache else "$SHUTDOWN_CACHE"
        raise InputError(f"the cache ({where}) is not a directory; point it at a directory",
                         path=root)
    return RawCache(root)

