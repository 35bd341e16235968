"""The local store: one Parquet file per (dataset, symbol) plus a diskcache index of JSON metadata.

Layout under the cache directory (``v1`` is the schema version: a new version reads nothing of an old one)::

    v1/index/            diskcache (SQLite) with JSONDisk values, eviction_policy="none": metadata is never evicted
    v1/frames/<dataset>/<symbol>.parquet
    v1/locks/<dataset>.<symbol>.lock

Why these choices:

* JSON values only: a shared cache directory must not be a code-execution hole (diskcache pickles by default).
* Writes are atomic (temporary file, then ``os.replace``) and the metadata is written after the frame, so a
  reader that sees new metadata always finds the frame it describes; a reader never takes a lock.
* A per-key file lock serialises writers across threads and kernels; the loader holds it across fetch and write
  so a second kernel waiting on the same series finds it filled instead of fetching it again.
* An in-process memory copy of each frame is reused while the index generation is unchanged, which is what
  makes a warm read cost one small SQLite lookup and no Parquet decode.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import diskcache
import filelock
import numpy as np
import polars as pl

from quantdb_lab.config import memory_budget_bytes
from quantdb_lab.errors import StoreError
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.housekeeping import clear_series, usage_by_dataset
from quantdb_lab.store.memory import MemoryLayer

SCHEMA_VERSION = 1
_NAMESPACE = f"v{SCHEMA_VERSION}"
_FILE = "__file__"  # the column a batched read names each row's file in


@dataclass(frozen=True, slots=True)
class StoredFrame:
    """A stored frame with its dates as day numbers, so range slicing is a numpy binary search."""

    frame: pl.DataFrame
    days: np.ndarray  # int64 days since 1970-01-01, ascending

    @classmethod
    def of(cls, frame: pl.DataFrame) -> StoredFrame:
        if "date" not in frame.columns or frame.is_empty():
            return cls(frame, np.empty(0, np.int64))
        return cls(frame, frame.get_column("date").to_numpy().astype("datetime64[D]").astype(np.int64))


class SeriesKey(NamedTuple):
    dataset: str  # "bars" (unadjusted daily) or "hfq" (back-adjusted daily, the adjustment source)
    symbol: str  # canonical symbol

    def __str__(self) -> str:
        return f"{self.dataset}:{self.symbol}"


@dataclass(frozen=True, slots=True)
class SeriesMeta:
    coverage: Coverage = field(default_factory=Coverage.empty)
    provisional_day: int | None = None  # the open session's bar, stored but not final
    provisional_at: float | None = None  # epoch seconds it was fetched
    fetched_at: float | None = None  # epoch seconds of the last successful fetch
    rows: int = 0
    bytes: int = 0
    generation: int = 0

    def to_json(self) -> dict:
        return {
            "coverage": self.coverage.to_pairs(),
            "provisional_day": self.provisional_day,
            "provisional_at": self.provisional_at,
            "fetched_at": self.fetched_at,
            "rows": self.rows,
            "bytes": self.bytes,
            "generation": self.generation,
        }

    @classmethod
    def from_json(cls, data: dict) -> SeriesMeta:
        return cls(
            coverage=Coverage.from_pairs(data.get("coverage", [])),
            provisional_day=data.get("provisional_day"),
            provisional_at=data.get("provisional_at"),
            fetched_at=data.get("fetched_at"),
            rows=int(data.get("rows", 0)),
            bytes=int(data.get("bytes", 0)),
            generation=int(data.get("generation", 0)),
        )


_primed = False


def _prime_parquet_reader() -> None:
    """Read a one-row Parquet buffer once per process: polars starts its thread pool and reader on the first
    query (5-15 ms), which otherwise lands on the user's first warm read instead of on opening the store."""
    global _primed
    if not _primed:
        buffer = io.BytesIO()
        pl.DataFrame({"x": [0.0]}).write_parquet(buffer)
        buffer.seek(0)
        pl.read_parquet(buffer)
        _primed = True


def _safe_name(symbol: str) -> str:
    if not symbol or any(c in symbol for c in "/\\:") or symbol.startswith("."):
        raise StoreError("refusing to store a series under an unsafe name", symbol=symbol)
    return symbol


class SeriesStore:
    """Parquet frames and their metadata for one cache directory."""

    def __init__(self, root: Path, *, memory_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.base = self.root / _NAMESPACE
        try:
            (self.base / "frames").mkdir(parents=True, exist_ok=True)
            (self.base / "locks").mkdir(parents=True, exist_ok=True)
            self._index = diskcache.Cache(
                str(self.base / "index"), disk=diskcache.JSONDisk, eviction_policy="none", size_limit=2**40
            )
        except (OSError, diskcache.Timeout) as exc:
            raise StoreError(f"cannot open the cache directory {self.root}: {exc}") from exc
        _prime_parquet_reader()
        # frames kept in memory for warm reads, bounded (QUANTDB_LAB_MEMORY_MB unless memory_bytes is given)
        budget = memory_budget_bytes() if memory_bytes is None else memory_bytes
        self._memory: MemoryLayer[StoredFrame] = MemoryLayer(budget)

    # -- paths -------------------------------------------------------------------------------------------
    def frame_path(self, key: SeriesKey) -> Path:
        return self.base / "frames" / key.dataset / f"{_safe_name(key.symbol)}.parquet"

    def _index_key(self, key: SeriesKey) -> str:
        return f"{_NAMESPACE}:{key.dataset}:{key.symbol}"

    @contextmanager
    def lock(self, key: SeriesKey, timeout: float = 600.0) -> Iterator[None]:
        path = self.base / "locks" / f"{key.dataset}.{_safe_name(key.symbol)}.lock"
        try:
            with filelock.FileLock(str(path), timeout=timeout):
                yield
        except filelock.Timeout as exc:
            raise StoreError("timed out waiting for another writer", dataset=key.dataset, symbol=key.symbol) from exc

    # -- reading -----------------------------------------------------------------------------------------
    def read_meta(self, key: SeriesKey) -> SeriesMeta | None:
        data = self._index.get(self._index_key(key))
        return SeriesMeta.from_json(data) if data is not None else None

    def read_frame(self, key: SeriesKey, meta: SeriesMeta) -> pl.DataFrame:
        """The stored frame for ``meta``'s generation; raises StoreError when the file is missing or corrupt."""
        return self.read_stored(key, meta).frame

    def read_stored(self, key: SeriesKey, meta: SeriesMeta) -> StoredFrame:
        """Like ``read_frame``, with the day-number index used for slicing."""
        cached = self._memory.get(key, meta.generation)
        if cached is not None:
            return cached
        path = self.frame_path(key)
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:  # any decode failure means the file cannot be trusted
            raise StoreError(f"unreadable cache file ({type(exc).__name__})", dataset=key.dataset, symbol=key.symbol) from exc
        if frame.height != meta.rows:
            raise StoreError(
                f"cache file has {frame.height} rows where the index records {meta.rows}",
                dataset=key.dataset,
                symbol=key.symbol,
            )
        stored = StoredFrame.of(frame)
        self._memory.put(key, meta.generation, stored)
        return stored

    def preload(self, keys: Iterable[SeriesKey]) -> int:
        """Read the frames of many series into memory in one batched Parquet read (several times faster than
        one read per file); returns how many of them are in memory afterwards. Keys already in memory are
        skipped without reading their metadata (``read_stored`` checks the generation). Best effort: a file that
        does not read or does not match its metadata is left for ``read_stored``, which raises the precise error."""
        wanted, ready = {}, 0
        for key in dict.fromkeys(keys):
            if key in self._memory:
                ready += 1
                continue
            meta = self.read_meta(key)
            if meta is not None and meta.rows:
                wanted[self.frame_path(key)] = (key, meta)
        if len(wanted) < 2:  # one file: a batch saves nothing, read_stored will read it
            return ready
        try:
            frames = pl.read_parquet(list(wanted), include_file_paths=_FILE).partition_by(
                _FILE, as_dict=True, include_key=False
            )
        except Exception:  # noqa: BLE001 - a mismatched schema or an unreadable file: per-file reads decide
            return ready
        for (path,), frame in frames.items():
            key, meta = wanted[Path(path)]
            if frame.height == meta.rows:
                self._memory.put(key, meta.generation, StoredFrame.of(frame))
                ready += 1
        return ready

    # -- writing -----------------------------------------------------------------------------------------
    def write(self, key: SeriesKey, frame: pl.DataFrame, meta: SeriesMeta) -> SeriesMeta:
        """Replace the series with ``frame`` and ``meta`` (call under ``lock``). Returns the stored meta."""
        path = self.frame_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            frame.write_parquet(tmp, statistics=True)
            os.replace(tmp, path)
        except Exception as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StoreError(f"could not write the cache file: {exc}", dataset=key.dataset, symbol=key.symbol) from exc
        previous = self.read_meta(key)
        stored = replace(
            meta,
            rows=frame.height,
            bytes=path.stat().st_size,
            generation=(previous.generation if previous else 0) + 1,
        )
        self._index.set(self._index_key(key), stored.to_json())
        self._memory.put(key, stored.generation, StoredFrame.of(frame))
        return stored

    def drop(self, key: SeriesKey) -> None:
        """Forget a series (used for a corrupt file: it is fetched again)."""
        self._index.delete(self._index_key(key))
        self._memory.discard(key)
        self.frame_path(key).unlink(missing_ok=True)

    # -- housekeeping ------------------------------------------------------------------------------------
    def keys(self) -> list[SeriesKey]:
        out = []
        for raw in self._index.iterkeys():
            namespace, dataset, symbol = str(raw).split(":", 2)
            if namespace == _NAMESPACE:
                out.append(SeriesKey(dataset, symbol))
        return out

    def clear(self, *, symbols: set[str] | None = None, dataset: str | None = None) -> int:
        """Remove matching series (all when no filter is given); returns how many were removed."""
        return clear_series(self, symbols=symbols, dataset=dataset)

    def clear_other_versions(self) -> list[str]:
        """Delete the directories of older schema versions; a cache is never misread across versions."""
        removed = []
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("v") and child.name != _NAMESPACE and child.name[1:].isdigit():
                shutil.rmtree(child)
                removed.append(child.name)
        return removed

    def usage(self) -> dict[str, dict[str, int]]:
        """Rows, files and bytes on disk per dataset."""
        return usage_by_dataset(self)

    def close(self) -> None:
        self._index.close()
