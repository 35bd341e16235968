"""The in-process copy of stored frames in front of the Parquet files, bounded in bytes, least recently used out.

A warm read is served from here in microseconds; without a bound, a kernel that reads the whole market once
would keep every frame for its lifetime. Entries carry the series' generation, so a copy is used only while
it is the stored version. The budget is ``$QUANTDB_LAB_MEMORY_MB`` (see ``quantdb_lab.config``); a frame
larger than the whole budget is served but not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

import polars as pl


class HoldsFrame(Protocol):
    frame: pl.DataFrame


F = TypeVar("F", bound=HoldsFrame)


class MemoryLayer(Generic[F]):
    """``get(key, generation)`` / ``put(key, generation, value)``, thread-safe, at most ``budget`` bytes of
    frames (polars' estimate of each value's ``frame``). A generation is whatever names the version a value
    was made from (a series' generation number; a loader's session state and catalog version)."""

    def __init__(self, budget: int) -> None:
        if budget < 0:
            raise ValueError(f"memory budget must be >= 0 bytes, not {budget}")
        self.budget = budget
        self.used = 0
        self._entries: OrderedDict[Hashable, tuple[Hashable, F, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, generation: Hashable) -> F | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != generation:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, generation: Hashable, value: F) -> None:
        size = int(value.frame.estimated_size())
        with self._lock:
            self._forget(key)
            if size > self.budget:
                return
            self._entries[key] = (generation, value, size)
            self.used += size
            while self.used > self.budget:
                oldest = next(iter(self._entries))
                self._forget(oldest)

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._forget(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.used = 0

    def __contains__(self, key: Hashable) -> bool:  # any generation
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def _forget(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.used -= entry[2]
