"""Spreading a cold portfolio over the sources that serve it: one slot per permitted concurrent call of each
source, and every worker takes whichever source has a free slot, so each source works at its own safe rate
(its throttle still enforces it) and all of them together set the pace.

A symbol with several daily-bar sources (``providers.fetchers.sources_of``) runs in the shared pool: the worker
holds one source's slot and loads the symbol preferring that source (``loader.failover.preferring``); if the
source is banned the load fails over to the next, under that one's limit, so no host is ever asked faster than
its limit allows and nothing is fetched twice.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Final

POLL: Final = 0.05


class SourceSlots:
    """``slots``: source name -> concurrent workers it gets; ``take(order)`` blocks until one is free and
    gives the source with the largest share of its slots free."""

    def __init__(self, slots: Mapping[str, int]) -> None:
        self.order = tuple(slots)
        self._size = dict(slots)
        self._free = Counter(slots)
        self._taken: Counter[str] = Counter()
        self._turn = 0  # ties go round: idle sources take turns even when no rate binds
        self._cond = threading.Condition()

    @property
    def total(self) -> int:
        return sum(self._free.values()) + sum(self._taken.values())

    @contextmanager
    def take(self, order: Sequence[str] | None = None) -> Iterator[str]:
        order = tuple(order or self.order)
        with self._cond:
            while not any(self._free[n] > 0 for n in order):
                self._cond.wait(POLL)
            # the source with the most of its slots free; ties taken in turn, so work rotates over them
            free = [n for n in order if self._free[n] > 0]
            free = free[self._turn % len(free):] + free[: self._turn % len(free)]
            self._turn += 1
            name = max(free, key=lambda n: self._free[n] / self._size[n])
            self._free[name] -= 1
            self._taken[name] += 1
        try:
            yield name
        finally:
            with self._cond:
                self._free[name] += 1
                self._taken[name] -= 1
                self._cond.notify()
