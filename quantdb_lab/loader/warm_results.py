"""The last warm results of single-series loads, kept while nothing they were computed from can have changed.

A warm read plans, slices and (for qfq or hfq) adjusts frames already in memory: tens of microseconds of small
steps on every repeat of the same cell. A result is reused only for the same request and mode, the same
session state (the latest session and whether it is final) and the same catalog version (which changes with
any write to the namespace, from any process). So what is kept is only a result with nothing open: no fetch,
no provisional bar (its freshness depends on the clock), not stale, and adjusted, if at all, by the factor
events the series' metadata carries (a dividend table read at load time is outside the catalog's version).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import polars as pl

from quantdb_lab.loader.stats import Provenance

CAPACITY = 64  # series: a notebook's working set of repeated cells; a whole-market pass goes through the batch


@dataclass(frozen=True, slots=True)
class WarmResult:
    frame: pl.DataFrame
    provenance: Provenance
    warn_partial: str  # the PartialDataWarning the load raised ("" none), raised again on each reuse


class WarmResults:
    """A bounded, thread-safe map from a load's key to its ``WarmResult``, least recently used out."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Hashable, WarmResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> WarmResult | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, result: WarmResult) -> None:
        with self._lock:
            self._entries[key] = result
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
