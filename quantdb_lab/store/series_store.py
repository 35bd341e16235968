"""The local store: one namespace per data source, self-verifying Parquet frames, a SQLite catalog, and
cross-sectional segments for whole-market reads.

Layout under the cache directory (``v2`` is the layout version; the v1 layout, whose keys had no source, is set
aside on first open and never read: ``store.legacy``)::

    v2/<source>/catalog.sqlite                                   what is stored (``store.catalog``)
    v2/<source>/frames/<dataset>/<symbol>.<generation>.parquet  one file per series: its whole stored history
    v2/<source>/segments/<dataset>/<period>.<seq>.parquet       the market by period, sorted by date, symbol
    v2/<source>/locks/                                           per-series and compaction locks
    v2/common/                                                   state shared by every source (the throttle)

Why these choices:

* The source (``akshare``, ``simulated-...``, ``replay-...``) is the first part of every path: a simulated bar
  can never be read by an akshare Lab, nor an empty-range memory of one provider be taken for another's.
* A series' own file is the truth and serves single-series reads (one small file). Segments are a verified,
  read-optimised copy of many series for cross-sectional reads (``store.market``): written by
  ``store.compaction``, they hold each series' rows before its ``dirty_from`` day; rows written since come
  from the series' own file. So a write touches one small file and a whole-market read a few large ones.
* Every file is checked on read: its CRC-32, then the frame's invariants (row count, first and last day,
  strictly increasing dates). A mismatch raises ``StoreError``; the loader then fetches the series' whole
  stored span again. A damaged catalog is rebuilt from the files' footers (``store.repair``).
* Writes take a per-series file lock (the loader holds it across fetch and write, so a second kernel waiting on
  the same series finds it filled); readers never lock. A bounded in-process copy of each frame, valid while
  the series' generation is unchanged, makes a warm read one catalog lookup and no Parquet decode.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Final

import filelock
import numpy as np
import polars as pl

from quantdb_lab.config import memory_budget_bytes
from quantdb_lab.domain.datasets import datasets
from quantdb_lab.errors import StoreError
from quantdb_lab.store.catalog import DIRTY_ALL, Catalog, Entry
from quantdb_lab.store.checksum import crc32
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.frame_files import FrameFileError, read_verified, write_frame_file
from quantdb_lab.store.housekeeping import clear_series
from quantdb_lab.store.memory import MemoryLayer
from quantdb_lab.store.records import SeriesKey, SeriesMeta, StoredFrame, day_numbers

__all__ = ["SCHEMA_VERSION", "Coverage", "SeriesKey", "SeriesMeta", "SeriesStore", "StoredFrame", "source_name"]

SCHEMA_VERSION = 2
NAMESPACE = f"v{SCHEMA_VERSION}"
COMMON = "common"
_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")
_READ_ATTEMPTS = 3  # a write may replace a file between reading the catalog and reading the file

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


def source_name(source: str) -> str:
    """``source`` checked as a folder name (letters, digits, ``_ . -``): it names the namespace."""
    if not isinstance(source, str) or not _SOURCE.match(source) or ".." in source or source == COMMON:
        raise StoreError(f"refusing to use {source!r} as a source namespace")
    return source


def safe_name(symbol: str) -> str:
    if not isinstance(symbol, str) or not symbol or any(c in symbol for c in "/\\:*?[]\x00") or symbol.startswith("."):
        raise StoreError("refusing to store a series under an unsafe name", symbol=str(symbol)[:80])
    return symbol


def index_column(frame: pl.DataFrame, dataset: str | None = None) -> str:
    """The column a stored frame is ordered by: the registered dataset's (``domain.datasets``), else ``date``
    for daily data and ``time`` for intraday bars."""
    if dataset is not None and dataset in datasets():
        return datasets()[dataset].index_column
    return "time" if "time" in frame.columns and "date" not in frame.columns else "date"


def unique_index(dataset: str) -> bool:
    """Whether a series of ``dataset`` holds one row per index value (False for registered event lists)."""
    found = datasets().get(dataset)
    return True if found is None else found.unique_index


# A Parquet file decodes to at most this many times its size (bars: 2-4x): a batch whose files add up to less
# than the memory budget over it fits without measuring.
_DECODED_PER_FILE_BYTE: Final = 20


class SeriesStore:
    """Frames and metadata of one source's namespace in one cache directory."""

    def __init__(self, root: Path, *, source: str = "default", memory_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.source = source_name(source)
        self.base = self.root / NAMESPACE / self.source
        self.common = self.root / NAMESPACE / COMMON
        try:
            for sub in ("frames", "segments", "locks"):
                (self.base / sub).mkdir(parents=True, exist_ok=True)
            self.common.mkdir(parents=True, exist_ok=True)
            from quantdb_lab.store.legacy import set_aside_legacy  # the one-time move of a v1 cache

            set_aside_legacy(self.root)
            self.catalog = self._open_catalog()
            self._opened_inode = self._catalog_inode()
        except OSError as exc:
            raise StoreError(f"cannot open the cache directory {self.root}: {exc}") from exc
        _prime_parquet_reader()
        # frames kept in memory for warm reads, bounded (QUANTDB_LAB_MEMORY_MB unless memory_bytes is given)
        budget = memory_budget_bytes() if memory_bytes is None else memory_bytes
        self.memory: MemoryLayer[StoredFrame] = MemoryLayer(budget)
        self._metas: dict[SeriesKey, SeriesMeta] = {}  # read_meta answers, valid while the catalog is unchanged
        self._seen_version: int | None = None
        self._meta_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SeriesStore({str(self.root)!r}, source={self.source!r})"

    # -- the catalog ---------------------------------------------------------------------------------------
    @property
    def catalog_path(self) -> Path:
        return self.base / "catalog.sqlite"

    def _catalog_inode(self) -> int | None:
        try:
            return self.catalog_path.stat().st_ino
        except FileNotFoundError:
            return None

    def _open_catalog(self) -> Catalog:
        try:
            catalog = Catalog(self.catalog_path)
            catalog.check()
            return catalog
        except sqlite3.DatabaseError as exc:
            from quantdb_lab.store.repair import is_damage, rebuild_catalog

            if not is_damage(exc):
                raise StoreError(f"the cache catalog is busy ({exc}); another process holds it") from exc
            return rebuild_catalog(self, reason=str(exc))

    def _catalog_call(self, operation):  # noqa: ANN001, ANN202 - ``operation(catalog)``, rebuilt once if damaged
        try:
            return operation(self.catalog)
        except sqlite3.DatabaseError as exc:
            from quantdb_lab.store.repair import is_damage, rebuild_catalog

            if not is_damage(exc):  # busy or locked past the timeout: a real wait, not a broken file
                raise StoreError(f"the cache catalog is busy ({exc}); another process holds it") from exc

            self.catalog.close()
            if self._catalog_inode() not in (None, self._opened_inode):
                self.catalog = Catalog(self.catalog_path)  # another kernel already rebuilt it: use theirs
            else:
                self.catalog = rebuild_catalog(self, reason=str(exc))
            self._opened_inode = self._catalog_inode()
            with self._meta_lock:
                self._metas.clear()
                self._seen_version = None
            try:
                return operation(self.catalog)
            except sqlite3.DatabaseError as again:
                raise StoreError(f"the cache catalog {self.catalog_path} is unusable: {again}") from again

    # -- paths ---------------------------------------------------------------------------------------------
    def frames_dir(self, dataset: str) -> Path:
        return self.base / "frames" / safe_name(dataset)

    def file_of(self, key: SeriesKey, entry: Entry) -> Path:
        return self.frames_dir(key.dataset) / entry.file

    def frame_path(self, key: SeriesKey) -> Path:
        """The series' file as the catalog names it now (for tests and tools; readers use the catalog)."""
        entry = self._catalog_call(lambda c: c.get(key.dataset, key.symbol))
        if entry is None:
            raise StoreError("no such series", dataset=key.dataset, symbol=key.symbol)
        return self.file_of(key, entry)

    @contextmanager
    def lock(self, key: SeriesKey, timeout: float = 600.0) -> Iterator[None]:
        path = self.base / "locks" / f"{safe_name(key.dataset)}.{safe_name(key.symbol)}.lock"
        try:
            with filelock.FileLock(str(path), timeout=timeout):
                yield
        except filelock.Timeout as exc:
            raise StoreError("timed out waiting for another writer", dataset=key.dataset, symbol=key.symbol) from exc

    # -- reading -------------------------------------------------------------------------------------------
    def read_meta(self, key: SeriesKey) -> SeriesMeta | None:
        def lookup(catalog: Catalog) -> SeriesMeta | None:
            version = catalog.data_version()
            with self._meta_lock:
                if version != self._seen_version:
                    self._metas.clear()
                    self._seen_version = version
                elif key in self._metas:
                    return self._metas[key]
            entry = catalog.get(key.dataset, key.symbol)
            if entry is not None:
                with self._meta_lock:
                    self._metas[key] = entry.meta
            return entry.meta if entry is not None else None

        return self._catalog_call(lookup)

    def version(self) -> tuple[int, int, int]:
        """Changes whenever anything in this namespace's catalog changes, in any process: what in-memory
        results derived from many series are validated against."""
        catalog = self.catalog
        return (id(catalog), self._catalog_call(lambda c: c.data_version()), catalog.commits)

    def read_metas(self, dataset: str, symbols: Iterable[str] | None = None) -> dict[str, SeriesMeta]:
        """Metadata of many series in one catalog query (all of ``dataset`` when ``symbols`` is None)."""
        entries = self._catalog_call(lambda c: c.get_many(dataset, symbols))
        return {symbol: entry.meta for symbol, entry in entries.items()}

    def read_frame(self, key: SeriesKey, meta: SeriesMeta) -> pl.DataFrame:
        """The stored frame; raises StoreError when the file is missing, damaged or not what was written."""
        return self.read_stored(key, meta).frame

    def read_stored(self, key: SeriesKey, meta: SeriesMeta) -> StoredFrame:
        """Like ``read_frame``, with the day-number index used for slicing."""
        cached = self.memory.get(key, meta.generation)
        if cached is not None:
            return cached
        problem = "it is not in the catalog"
        for _ in range(_READ_ATTEMPTS):
            entry = self._catalog_call(lambda c: c.get(key.dataset, key.symbol))
            if entry is None:
                break
            cached = self.memory.get(key, entry.meta.generation)
            if cached is not None:
                return cached
            try:
                stored = verify_series(read_verified(self.file_of(key, entry), entry.crc), entry.meta, key.dataset)
            except FrameFileError as exc:
                problem = str(exc)
                latest = self._catalog_call(lambda c: c.get(key.dataset, key.symbol))
                if latest is not None and latest.meta.generation != entry.meta.generation:
                    continue  # replaced by another writer meanwhile: read the new version
                break
            self.memory.put(key, entry.meta.generation, stored)
            return stored
        raise StoreError(f"the stored frame cannot be trusted: {problem}", dataset=key.dataset, symbol=key.symbol)

    def preload(self, keys: Iterable[SeriesKey]) -> int:
        """Read the frames of many series into memory in one batched Parquet read (several times faster than one
        read per file); returns how many of them are in memory afterwards. Every file's checksum and invariants
        are checked; what does not verify is left for ``read_stored``, which raises the precise error."""
        ready, by_dataset = 0, {}
        for key in dict.fromkeys(keys):
            if key in self.memory:
                ready += 1
            else:
                by_dataset.setdefault(key.dataset, []).append(key.symbol)
        for dataset, symbols in by_dataset.items():
            entries = self._catalog_call(lambda c: c.get_many(dataset, symbols))
            fitting, sampled = self._fitting(dataset, {s: e for s, e in entries.items() if e.rows})
            ready += sampled + self._preload_entries(dataset, fitting)
        return ready

    def _fitting(self, dataset: str, entries: dict[str, Entry]) -> tuple[dict[str, Entry], int]:
        """The entries a batch may read into memory without pushing its own frames out again (they would then
        be read a second time, one by one), sized from the first one, which is read now. Returns those and
        whether the sample is in memory (0 or 1)."""
        if sum(entry.bytes for entry in entries.values()) * _DECODED_PER_FILE_BYTE <= self.memory.budget:
            return entries, 0  # plainly fits: no sample read
        (symbol, first), rest = next(iter(entries.items())), list(entries.items())[1:]
        try:
            sample = self.read_stored(SeriesKey(dataset, symbol), first.meta)
        except StoreError:
            return dict(rest), 0  # the damaged one is read_stored's to report; the rest as before
        per_row = sample.frame.estimated_size() / max(first.rows, 1)
        total, fitting = sample.frame.estimated_size(), {}
        for name, entry in rest:
            total += entry.rows * per_row
            if total > self.memory.budget:
                break
            fitting[name] = entry
        return fitting, int(SeriesKey(dataset, symbol) in self.memory)

    def _preload_entries(self, dataset: str, entries: dict[str, Entry]) -> int:
        good: list[tuple[str, Entry, bytes]] = []
        for symbol, entry in entries.items():
            try:
                data = self.file_of(SeriesKey(dataset, symbol), entry).read_bytes()
            except OSError:
                continue
            if crc32(data) == entry.crc:
                good.append((symbol, entry, data))
        if len(good) < 2:  # one file: a batch saves nothing, read_stored will read it
            return 0
        try:
            frame = pl.read_parquet([io.BytesIO(data) for _, _, data in good])
        except Exception:  # noqa: BLE001 - differing schemas or an undecodable file: per-file reads decide
            return 0
        ready, offset = 0, 0
        for symbol, entry, _ in good:
            part = frame.slice(offset, entry.rows)
            offset += entry.rows
            try:
                stored = verify_series(part, entry.meta, dataset)
            except FrameFileError:
                continue
            self.memory.put(SeriesKey(dataset, symbol), entry.meta.generation, stored)
            ready += 1
        return ready

    # -- writing -------------------------------------------------------------------------------------------
    def write(self, key: SeriesKey, frame: pl.DataFrame, meta: SeriesMeta) -> SeriesMeta:
        """Replace the series with ``frame`` and ``meta`` (call under ``lock``). Returns the stored meta."""
        symbol = safe_name(key.symbol)
        column = index_column(frame, key.dataset)
        if frame.height and column in frame.columns and not frame.get_column(column).is_sorted():
            frame = frame.sort(column)
        previous = self._catalog_call(lambda c: c.get(key.dataset, symbol))
        dirty_from = self._dirty_from(key, previous, frame, column)
        days = day_numbers(frame, column) if frame.height and column in frame.columns else np.empty(0, np.int64)

        def commit(catalog: Catalog) -> SeriesMeta:
            with catalog.transaction() as con:
                generation = catalog.next_generation(con)
            stored = replace(meta, rows=frame.height, generation=generation,
                             first_day=int(days[0]) if len(days) else None,
                             last_day=int(days[-1]) if len(days) else None)  # fmt: skip
            name = f"{symbol}.{generation}.parquet"
            footer = {"layout": SCHEMA_VERSION, "source": self.source, "dataset": key.dataset, "symbol": symbol,
                      "meta": stored.to_json()}  # fmt: skip
            try:
                size, crc = write_frame_file(self.frames_dir(key.dataset) / name, frame, footer)
            except OSError as exc:
                raise StoreError(f"could not write the cache file: {exc}", dataset=key.dataset, symbol=symbol) from exc
            stored = replace(stored, bytes=size)
            with catalog.transaction() as con:
                catalog.put(con, key.dataset, symbol, Entry(stored, name, frame.height, crc, size, dirty_from))
            return stored

        stored = self._catalog_call(commit)
        if previous is not None and previous.file != f"{symbol}.{stored.generation}.parquet":
            self.file_of(key, previous).unlink(missing_ok=True)
        with self._meta_lock:
            self._metas[key] = stored
        self.memory.put(key, stored.generation, StoredFrame.of(frame, column))
        return stored

    def install(self, dataset: str, items: list[tuple[str, pl.DataFrame, SeriesMeta]]) -> dict[str, SeriesMeta]:
        """Write many series this store does not hold yet (call under their locks), all made visible in one
        catalog transaction: a process killed before it leaves only unreferenced files (``clear --stale``),
        never a partial series. A series another writer stored meanwhile is left as that writer stored it.
        Returns the stored meta of each series installed."""
        if not items:
            return {}

        def allocate(catalog: Catalog) -> int:  # one generation each, from the namespace's one counter
            with catalog.transaction() as con:
                first = catalog.next_generation(con)
                con.execute("UPDATE info SET value = CAST(value AS INTEGER) + ? WHERE key='generation'", (len(items) - 1,))
            return first

        first = self._catalog_call(allocate)
        staged: list[tuple[str, Entry, pl.DataFrame, str]] = []
        try:
            for offset, (symbol, frame, meta) in enumerate(items):
                symbol = safe_name(symbol)
                column = index_column(frame, dataset)
                days = day_numbers(frame, column) if frame.height and column in frame.columns else np.empty(0, np.int64)
                stored = replace(meta, rows=frame.height, generation=first + offset,
                                 first_day=int(days[0]) if len(days) else None,
                                 last_day=int(days[-1]) if len(days) else None)  # fmt: skip
                name = f"{symbol}.{stored.generation}.parquet"
                footer = {"layout": SCHEMA_VERSION, "source": self.source, "dataset": dataset, "symbol": symbol,
                          "meta": stored.to_json()}  # fmt: skip
                size, crc = write_frame_file(self.frames_dir(dataset) / name, frame, footer)
                stored = replace(stored, bytes=size)
                staged.append((symbol, Entry(stored, name, frame.height, crc, size, DIRTY_ALL), frame, column))
        except OSError as exc:
            for symbol, entry, _, _ in staged:
                (self.frames_dir(dataset) / entry.file).unlink(missing_ok=True)
            raise StoreError(f"could not write the cache file: {exc}", dataset=dataset) from exc

        def commit(catalog: Catalog) -> set[str]:
            with catalog.transaction() as con:
                present = set(catalog.get_many(dataset, [s for s, *_ in staged], con=con))
                for symbol, entry, _, _ in staged:
                    if symbol not in present:
                        catalog.put(con, dataset, symbol, entry)
            return present

        present = self._catalog_call(commit)
        out = {}
        for symbol, entry, frame, column in staged:
            if symbol in present:
                (self.frames_dir(dataset) / entry.file).unlink(missing_ok=True)
                continue
            key = SeriesKey(dataset, symbol)
            with self._meta_lock:
                self._metas[key] = entry.meta
            self.memory.put(key, entry.meta.generation, StoredFrame.of(frame, column))
            out[symbol] = entry.meta
        return out

    def _dirty_from(self, key: SeriesKey, previous: Entry | None, frame: pl.DataFrame, column: str) -> int | None:
        """The first day from which the segments' copy of the series no longer matches ``frame``."""
        if previous is None or previous.dirty_from == DIRTY_ALL:
            return DIRTY_ALL
        try:
            old = self.read_stored(key, previous.meta)
        except StoreError:
            return DIRTY_ALL
        changed = first_change(old.frame, frame, column)
        if changed is None:
            return previous.dirty_from
        return changed if previous.dirty_from is None else min(changed, previous.dirty_from)

    def remember_events(self, key: SeriesKey, generation: int, events: tuple) -> None:
        """Keep factor events derived after the write (from a dividend table fetched later) with the series'
        metadata, without rewriting its file; nothing happens if the series changed meanwhile."""

        def update(catalog: Catalog) -> None:
            with catalog.transaction() as con:
                row = con.execute("SELECT meta, generation FROM series WHERE dataset=? AND symbol=?",
                                  (key.dataset, key.symbol)).fetchone()  # fmt: skip
                if row is None or row[1] != generation:
                    return
                meta = replace(SeriesMeta.from_json(json.loads(row[0])), events=events)
                con.execute("UPDATE series SET meta=? WHERE dataset=? AND symbol=?",
                            (json.dumps(meta.to_json()), key.dataset, key.symbol))  # fmt: skip
            with self._meta_lock:
                self._metas.pop(key, None)

        self._catalog_call(update)

    def drop(self, key: SeriesKey) -> None:
        """Forget a series (a damaged one is fetched again)."""
        entry = self._catalog_call(lambda c: c.get(key.dataset, key.symbol))
        self._catalog_call(lambda c: c.delete(key.dataset, key.symbol))
        with self._meta_lock:
            self._metas.pop(key, None)
        self.memory.discard(key)
        if entry is not None:
            self.file_of(key, entry).unlink(missing_ok=True)

    # -- housekeeping --------------------------------------------------------------------------------------
    def keys(self) -> list[SeriesKey]:
        return [SeriesKey(dataset, symbol) for dataset, symbol in self._catalog_call(lambda c: c.keys())]

    def clear(self, *, symbols: set[str] | None = None, dataset: str | None = None) -> int:
        """Remove matching series (all when no filter is given); returns how many were removed."""
        return clear_series(self, symbols=symbols, dataset=dataset)

    def clear_other_versions(self) -> list[str]:
        """Delete the folders of older layouts (the set-aside v1 cache among them)."""
        from quantdb_lab.store.legacy import remove_legacy

        return remove_legacy(self.root)

    def usage(self) -> dict[str, dict[str, int]]:
        """Series, rows and bytes on disk per dataset."""
        return self._catalog_call(lambda c: c.usage())

    def read_market(self, dataset: str, symbols: list[str] | None = None, *, start=None, end=None):  # noqa: ANN001, ANN201
        """Many series as one frame in (date, symbol) order (``store.market.read_market``)."""
        from quantdb_lab.store.market import read_market

        return read_market(self, dataset, symbols, start=start, end=end)

    def preload_market(self, dataset: str, *, start=None, end=None):  # noqa: ANN001, ANN201
        """Start decoding what ``read_market`` of that range will read (``store.market.preload_market``): a
        Future to wait for before the read."""
        from quantdb_lab.store.market import preload_market

        return preload_market(self, dataset, start=start, end=end)

    def compact(self, dataset: str = "bars", *, wait: float = 0.0) -> dict:
        """Bring the cross-sectional segments of ``dataset`` up to date (``store.compaction``); a report."""
        from quantdb_lab.store.compaction import compact

        return compact(self, dataset, wait=wait)

    def close(self) -> None:
        self.catalog.close()


def first_change(old: pl.DataFrame, new: pl.DataFrame, column: str) -> int | None:
    """The first day (day number) where ``new`` differs from ``old``, both sorted by ``column``; None if equal."""
    if old.columns != new.columns or old.schema != new.schema:
        return min(_first_day(old, column), _first_day(new, column))
    n = min(old.height, new.height)
    if n:
        differs = (old.head(n).hash_rows() != new.head(n).hash_rows()).to_numpy()
        if differs.any():
            i = int(np.argmax(differs))
            return min(int(day_numbers(old.slice(i, 1), column)[0]), int(day_numbers(new.slice(i, 1), column)[0]))
    if old.height == new.height:
        return None
    longer = old if old.height > new.height else new
    return int(day_numbers(longer.slice(n, 1), column)[0])


def _first_day(frame: pl.DataFrame, column: str) -> int:
    return int(day_numbers(frame.head(1), column)[0]) if frame.height and column in frame.columns else DIRTY_ALL


def verify_series(frame: pl.DataFrame, meta: SeriesMeta, dataset: str | None = None) -> StoredFrame:
    """The frame's own invariants against its meta: row count, first and last day, and index values strictly
    increasing (non-decreasing for datasets with several rows per index value)."""
    if frame.height != meta.rows:
        raise FrameFileError(f"the file has {frame.height} rows where the catalog records {meta.rows}")
    column = index_column(frame, dataset)
    if column not in frame.columns:
        return StoredFrame.of(frame, column)
    stored = StoredFrame.of(frame, column)
    days = stored.days
    if len(days):
        if meta.first_day is not None and (int(days[0]) != meta.first_day or int(days[-1]) != meta.last_day):
            raise FrameFileError("the file's first or last day differs from the catalog")
        unique = unique_index(dataset) if dataset is not None else column == "date"
        strictly = np.all(np.diff(days) > 0) if unique and column == "date" else frame.get_column(column).is_sorted()
        if len(days) > 1 and not strictly:
            raise FrameFileError("the file's dates are not strictly increasing (duplicated or unsorted rows)")
    return stored
