"""The local cache as a read-through layer in front of the shared (team) store.

How the local layer learns of newer shared data, and what each read costs:

* A warm read (the local layer covers the request, within the mode's freshness) is the local store's read:
  ``read_meta`` answers from the local index and makes **no request** to the object store. Closed sessions are
  final, so a covered range can never be stale relative to the team's copy; only gaps and the open session's
  provisional bar can, and those make the loader's plan fetch.
* A series the local layer has never seen is pulled from the shared store on ``read_meta`` (a cold read): one
  GET of the head, one GET of the data file, then it is local.
* When the plan has gaps, the loader takes ``lock(key)``: the local file lock, then the shared lease. Under the
  lease ``read_meta`` consults the Delta log once (the truth, whatever any head says) and merges whatever the
  team added into the local layer. If that fills the gap, nothing is fetched upstream; otherwise the fetch is
  committed to the shared store first, then written locally.
* If the shared store is down (after the retries, see ``shared.retry``), reads and writes fall back to the
  local layer with a StoreUnavailableWarning; local fetches made then are published with the next write of the
  same series, because the local copy is merged into every later commit.

``keys``, ``usage`` and ``clear`` act on the local layer only: clearing a laptop's cache never deletes the
team's data (``SharedStore.clear`` does that, on purpose).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

import diskcache
import polars as pl

from quantdb_lab.config import apply_file_mode
from quantdb_lab.errors import CacheRepairedWarning, StoreError, StoreUnavailableError, StoreUnavailableWarning
from quantdb_lab.store.merge import merge_series
from quantdb_lab.store.series_store import SeriesKey, SeriesMeta, SeriesStore, StoredFrame

if TYPE_CHECKING:
    from quantdb_lab.store.shared.delta_store import SharedStore


def _warn(key: SeriesKey, exc: Exception, what: str) -> None:
    warnings.warn(f"{key}: the shared store is unavailable ({exc}); {what}", StoreUnavailableWarning, stacklevel=4)


class LayeredStore:
    """A :class:`SeriesStore` (local, fast) in front of a :class:`SharedStore` (the team's truth)."""

    def __init__(self, local: SeriesStore, shared: SharedStore) -> None:
        if shared is not None and local.source != shared.source:
            raise StoreError(f"the local layer holds source {local.source!r} and the shared store {shared.source!r}: "
                             "one layered store serves one source")  # fmt: skip
        self.local = local
        self.shared = shared
        # Which shared generation each local series last matched: JSON values only, like the local index.
        self._synced = diskcache.Cache(
            str(local.base / "shared-sync"), disk=diskcache.JSONDisk, eviction_policy="none", size_limit=2**30
        )
        for path in (local.base / "shared-sync").iterdir():  # SQLite's own mode is not the cache's
            apply_file_mode(path)
        self._state = threading.local()

    # what the Lab needs beyond the protocol
    @property
    def base(self):
        return self.local.base

    @property
    def root(self):
        return self.local.root

    @property
    def source(self) -> str:
        return self.local.source

    @property
    def common(self):
        return self.local.common

    @property
    def memory(self):
        return self.local.memory

    @property
    def url(self) -> str:
        return self.shared.url

    def _sync_key(self, key: SeriesKey) -> str:
        return f"{self.shared.url}|{key.dataset}:{key.symbol}"

    def _per_thread(self, name: str) -> set[SeriesKey]:
        value = getattr(self._state, name, None)
        if value is None:
            value = set()
            setattr(self._state, name, value)
        return value

    # -- locking -----------------------------------------------------------------------------------------
    @contextmanager
    def lock(self, key: SeriesKey, timeout: float = 600.0) -> Iterator[None]:
        """The local file lock (kernels on this machine queue here, cheaply), then the shared lease."""
        degraded, synced = self._per_thread("degraded"), self._per_thread("synced")
        with ExitStack() as stack:
            stack.enter_context(self.local.lock(key, timeout))
            try:
                stack.enter_context(self.shared.lock(key, timeout))
            except StoreUnavailableError as exc:
                _warn(key, exc, "filling the local cache alone")
                degraded.add(key)
            try:
                yield
            finally:
                degraded.discard(key)
                synced.discard(key)

    # -- reading -----------------------------------------------------------------------------------------
    def read_meta(self, key: SeriesKey) -> SeriesMeta | None:
        if self.shared.holds(key):
            if key not in self._per_thread("synced"):
                self._sync(key)
                self._per_thread("synced").add(key)
            return self.local.read_meta(key)
        meta = self.local.read_meta(key)
        if meta is not None or key in self._per_thread("degraded"):
            return meta
        return self._pull(key)

    def _pull(self, key: SeriesKey) -> SeriesMeta | None:
        """A cold read: copy the team's series into the local layer (two GETs), unless a kernel here is busy
        filling it (then the loader's lock waits for that kernel instead)."""
        try:
            shared_meta = self.shared.read_meta(key)
            if shared_meta is None:
                return None
            frame = self.shared.read_frame(key, shared_meta)
        except StoreUnavailableError as exc:
            _warn(key, exc, "serving the local cache")
            return None
        try:
            with self.local.lock(key, timeout=0):
                return self._store_local(key, frame, shared_meta, shared_meta.generation)
        except StoreError:
            return self.local.read_meta(key)

    def prefetch(self, keys: list[SeriesKey], *, workers: int = 16) -> int:
        """Pull the series the local layer lacks, concurrently (a cold read of many symbols is bound by request
        latency, not bandwidth); returns how many were pulled. Series the team store lacks are left to the loader."""
        from concurrent.futures import ThreadPoolExecutor

        from quantdb_lab.store.shared.cold_market import MANIFEST_READ_MIN, install_published

        missing = [key for key in dict.fromkeys(keys) if self.local.read_meta(key) is None]
        if len(missing) < 2 or self.shared.retrier.is_open:
            return 0
        pulled = 0
        if len(missing) >= MANIFEST_READ_MIN:  # many at once: the published cross-section first (``cold_market``)
            try:
                installed = install_published(self, missing)
            except StoreUnavailableError as exc:
                warnings.warn(f"the team store is unavailable ({exc}); the published cross-section was not read",
                              StoreUnavailableWarning, stacklevel=3)  # fmt: skip
                installed = set()
            except StoreError as exc:  # an answer that cannot be believed: the series one by one, as before
                warnings.warn(f"the team store's published cross-section cannot be used ({exc}); the series are "
                              "pulled one by one", CacheRepairedWarning, stacklevel=3)  # fmt: skip
                installed = set()
            missing = [key for key in missing if key not in installed]
            pulled = len(installed)
        if not missing or self.shared.retrier.is_open:
            return pulled
        with ThreadPoolExecutor(max_workers=min(workers, len(missing)), thread_name_prefix="quantdb-pull") as pool:
            return pulled + sum(meta is not None for meta in pool.map(self._pull, missing))

    def _sync(self, key: SeriesKey) -> None:
        """Under the lease: bring the local layer up to the shared truth, keeping anything only it holds."""
        try:
            shared_meta = self.shared.read_meta(key)
            if shared_meta is None or self._synced.get(self._sync_key(key)) == shared_meta.generation:
                return
            frame = self.shared.read_frame(key, shared_meta)
        except StoreUnavailableError as exc:
            _warn(key, exc, "using the local cache")
            self._per_thread("degraded").add(key)
            return
        meta = shared_meta
        local_meta = self.local.read_meta(key)
        if local_meta is not None and local_meta.rows:
            try:
                local_frame = self.local.read_frame(key, local_meta)
                frame, meta = merge_series(local_frame, local_meta, frame, shared_meta)
            except StoreError:
                pass  # a corrupt local copy: the shared one replaces it
        self._store_local(key, frame, meta, shared_meta.generation)

    def _store_local(self, key: SeriesKey, frame: pl.DataFrame, meta: SeriesMeta, generation: int) -> SeriesMeta:
        stored = self.local.write(key, frame, meta)
        self.remember_sync(key, generation, stored.generation)
        return stored

    def remember_sync(self, key: SeriesKey, shared_generation: int, local_generation: int) -> None:
        """The local copy's generation ``local_generation`` is the shared ``shared_generation``: what ``_sync``
        compares against, and what publishing the segments tells new members (``shared.publish``)."""
        self._synced.set(self._sync_key(key), shared_generation)
        self._synced.set(self._sync_key(key) + "|local", local_generation)

    def _synced_generation(self, key: SeriesKey, local_generation: int) -> int | None:
        """The shared generation the local copy is, when it is exactly one (None: changed here since, or never
        synced, e.g. a fetch kept locally while the team store was down)."""
        if self._synced.get(self._sync_key(key) + "|local") != local_generation:
            return None
        return self._synced.get(self._sync_key(key))

    def read_frame(self, key: SeriesKey, meta: SeriesMeta) -> pl.DataFrame:
        return self.local.read_frame(key, meta)

    def read_metas(self, dataset: str, symbols=None) -> dict[str, SeriesMeta]:  # noqa: ANN001
        """The local layer's metadata (what is warm here); series it lacks go through ``read_meta``."""
        return self.local.read_metas(dataset, symbols)

    def version(self) -> tuple[int, int, int]:
        return self.local.version()

    def read_market(self, dataset: str, symbols=None, *, start=None, end=None):  # noqa: ANN001, ANN201
        return self.local.read_market(dataset, symbols, start=start, end=end)

    def compact(self, dataset: str = "bars", *, wait: float = 0.0) -> dict:
        """Compact the local layer, then publish its segments to the team store (``shared.publish``): the
        team's readers, and DuckDB or Spark over S3, get the cross-section as a few files."""
        from quantdb_lab.store.shared.publish import publish_segments

        report = self.local.compact(dataset, wait=wait)
        try:
            report["team"] = publish_segments(self.shared, self.local, dataset, synced=self._synced_generation)
        except StoreUnavailableError as exc:
            warnings.warn(f"the team store is unavailable ({exc}); the segments were not published",
                          StoreUnavailableWarning, stacklevel=2)  # fmt: skip
        return report

    def read_stored(self, key: SeriesKey, meta: SeriesMeta) -> StoredFrame:
        return self.local.read_stored(key, meta)

    def preload(self, keys: Iterable[SeriesKey]) -> int:
        """Pull what the local layer lacks from the team store, then batch-read the local frames."""
        keys = list(keys)
        self.prefetch(keys)
        return self.local.preload(keys)

    # -- writing -----------------------------------------------------------------------------------------
    def write(self, key: SeriesKey, frame: pl.DataFrame, meta: SeriesMeta) -> SeriesMeta:
        """Commit to the shared store first (the truth), then keep the same in the local layer."""
        if self.shared.holds(key) and key not in self._per_thread("degraded"):
            try:
                frame, committed = self.shared.commit(key, frame, meta)
                return self._store_local(key, frame, committed, committed.generation)
            except StoreUnavailableError as exc:
                _warn(key, exc, "keeping this fetch in the local cache; it is shared with the next write")
                self._per_thread("degraded").add(key)
        return self.local.write(key, frame, meta)

    def drop(self, key: SeriesKey) -> None:
        """Forget the local copy (a corrupt file); the next locked read pulls the team's copy again."""
        self.local.drop(key)
        self._synced.delete(self._sync_key(key))
        self._synced.delete(self._sync_key(key) + "|local")

    # -- housekeeping (local layer) ----------------------------------------------------------------------
    def keys(self) -> list[SeriesKey]:
        return self.local.keys()

    def clear(self, *, symbols: set[str] | None = None, dataset: str | None = None) -> int:
        removed = 0
        for key in self.keys():
            if (symbols is None or key.symbol in symbols) and (dataset is None or key.dataset == dataset):
                with self.local.lock(key):
                    self.drop(key)
                removed += 1
        return removed

    def usage(self) -> dict[str, dict[str, int]]:
        return self.local.usage()

    def close(self) -> None:
        self.shared.close()
        self._synced.close()
        self.local.close()
