"""Counters and provenance: what a Lab did, and where each result came from."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one series of a result came from."""

    symbol: str
    adjust: str
    start: date
    end: date
    rows: int
    from_cache: bool  # no upstream call was needed
    upstream_calls: int
    fetched: tuple[tuple[str, date, date], ...]  # (dataset, start, end) of each call
    stale: bool = False  # served from cache because the upstream failed
    provisional: date | None = None  # the open session's not-yet-final bar is included
    synthetic: bool = False  # the provider is a simulation
    source: str = ""  # the store namespace the rows came from (the provider's data identity, e.g. "akshare")
    served_by: tuple[tuple[str, date, date], ...] = ()  # (upstream source, first, last session) of the rows
    notes: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass
class Stats:
    """Thread-safe counters of one Lab (portfolio workers update them concurrently)."""

    hits: int = 0  # series served without any upstream call
    misses: int = 0  # series that needed at least one call
    stale_served: int = 0
    corrupt_refetched: int = 0
    rows_fetched: int = 0
    upstream_calls: Counter = field(default_factory=Counter)
    served: Counter = field(default_factory=Counter)  # daily-bar fetches by the upstream source that served them
    source_issues: list = field(default_factory=list)  # cross-check disagreements (quality issue frames)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, provenance: Provenance, *, rows_fetched: int = 0) -> None:
        with self._lock:
            if provenance.from_cache:
                self.hits += 1
            else:
                self.misses += 1
            self.stale_served += int(provenance.stale)
            self.rows_fetched += rows_fetched

    def count_call(self, function: str) -> None:
        with self._lock:
            self.upstream_calls[function] += 1

    def count_served(self, source: str) -> None:
        with self._lock:
            self.served[source] += 1

    def record_source_issues(self, issues) -> None:  # noqa: ANN001 - a quality.issues.ISSUES frame
        with self._lock:
            self.source_issues.append(issues)

    def count_corrupt(self) -> None:
        with self._lock:
            self.corrupt_refetched += 1

    def snapshot(self) -> dict:
        with self._lock:
            total = self.hits + self.misses
            return {
                "hits": self.hits,
                "misses": self.misses,
                "hit_rate": (self.hits / total) if total else None,
                "stale_served": self.stale_served,
                "corrupt_refetched": self.corrupt_refetched,
                "rows_fetched": self.rows_fetched,
                "upstream_calls": dict(self.upstream_calls),
                "upstream_calls_total": sum(self.upstream_calls.values()),
                "served_by_source": dict(self.served),
                "source_issues": sum(f.height for f in self.source_issues),
            }

    def reset(self) -> None:
        with self._lock:
            self.hits = self.misses = self.stale_served = self.corrupt_refetched = self.rows_fetched = 0
            self.upstream_calls.clear()
            self.served.clear()
            self.source_issues.clear()
