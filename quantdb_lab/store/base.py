"""What the loader needs from a store, whichever backend holds the frames.

Two backends satisfy it:

* :class:`quantdb_lab.store.series_store.SeriesStore`: the local directory (the default: embedded, no server).
* :class:`quantdb_lab.store.layered.LayeredStore`: that local directory as a read-through layer in front of a
  shared object store (:class:`quantdb_lab.store.shared.SharedStore`, ``s3://bucket/prefix``).

The protocol is the smallest the loader uses: metadata and frames by key, replace-a-series writes, a per-key
lock that spans the fetch, and housekeeping. Everything is keyed by :class:`SeriesKey`; metadata is
:class:`SeriesMeta` (coverage, provisional bar, ``fetched_at``, rows, bytes, generation).

Contract (tests/contract/test_store_contract.py runs it against every backend):

* ``read_meta`` never takes a lock and returns None for an unknown key.
* ``write(key, frame, meta)`` is called under ``lock(key)``; it replaces the series and returns the stored meta,
  whose ``generation`` is larger than any earlier one of that key, and whose ``rows`` is ``frame.height``.
* ``read_stored(key, meta)`` returns the frame written with ``meta`` (StoreError when it cannot be trusted).
* ``preload(keys)`` reads the frames of many series into memory at once and returns how many of them are in
  memory afterwards (best effort: errors are left to ``read_stored``); ``read_stored`` returns the same frames.
* ``lock(key)`` excludes every other holder of the same key: threads, processes, and (shared backend) machines.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

import polars as pl

from quantdb_lab.store.series_store import SeriesKey, SeriesMeta, StoredFrame


@runtime_checkable
class SeriesBackend(Protocol):
    """A store of (dataset, symbol) series with coverage metadata; see the module docstring for the contract."""

    def read_meta(self, key: SeriesKey) -> SeriesMeta | None: ...

    def read_frame(self, key: SeriesKey, meta: SeriesMeta) -> pl.DataFrame: ...

    def read_stored(self, key: SeriesKey, meta: SeriesMeta) -> StoredFrame: ...

    def preload(self, keys: Iterable[SeriesKey]) -> int: ...

    def write(self, key: SeriesKey, frame: pl.DataFrame, meta: SeriesMeta) -> SeriesMeta: ...

    def drop(self, key: SeriesKey) -> None: ...

    def lock(self, key: SeriesKey, timeout: float = 600.0) -> AbstractContextManager[None]: ...

    def keys(self) -> list[SeriesKey]: ...

    def clear(self, *, symbols: set[str] | None = None, dataset: str | None = None) -> int: ...

    def usage(self) -> dict[str, dict[str, int]]: ...

    def close(self) -> None: ...
