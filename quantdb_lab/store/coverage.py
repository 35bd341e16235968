"""Coverage: which trading sessions of a series have been fetched and are final, as sorted day intervals.

Intervals hold day numbers (days since 1970-01-01), both ends inclusive, each end a session that was fetched.
Ranges that came back empty (suspensions, days before listing) are covered too, so they are never asked for
again. Only sessions matter: the weekend between two intervals is not a gap, which is why ``missing_runs``
groups the uncovered *sessions* rather than calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_NO_DAYS = np.empty(0, np.int64)
_NO_DAYS.setflags(write=False)  # shared by every empty coverage (thousands per whole-market plan): never written


@dataclass(frozen=True, slots=True)
class Coverage:
    starts: np.ndarray  # int64, ascending, non-overlapping after normalise()
    ends: np.ndarray

    @classmethod
    def empty(cls) -> Coverage:
        return cls(_NO_DAYS, _NO_DAYS)

    @classmethod
    def from_pairs(cls, pairs: list[list[int]] | list[tuple[int, int]]) -> Coverage:
        if not pairs:
            return cls.empty()
        arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        return cls(arr[:, 0].copy(), arr[:, 1].copy()).normalise()

    def to_pairs(self) -> list[list[int]]:
        return [[int(a), int(b)] for a, b in zip(self.starts, self.ends)]

    def normalise(self) -> Coverage:
        """Sort and merge intervals that overlap or touch (``b + 1 >= c``)."""
        if len(self.starts) <= 1:
            return self
        order = np.argsort(self.starts, kind="stable")
        starts, ends = self.starts[order], self.ends[order]
        out_s, out_e = [int(starts[0])], [int(ends[0])]
        for s, e in zip(starts[1:], ends[1:]):
            if s <= out_e[-1] + 1:
                out_e[-1] = max(out_e[-1], int(e))
            else:
                out_s.append(int(s))
                out_e.append(int(e))
        return Coverage(np.array(out_s, np.int64), np.array(out_e, np.int64))

    def add(self, start: int, end: int) -> Coverage:
        if end < start:
            return self
        return Coverage(np.append(self.starts, start), np.append(self.ends, end)).normalise()

    def subtract(self, other: Coverage) -> Coverage:
        """The days of this coverage that are not in ``other``."""
        if not self or not other:
            return self
        out_s, out_e = [], []
        for s, e in zip(self.starts.tolist(), self.ends.tolist()):
            cursor = s
            for a, b in zip(other.starts.tolist(), other.ends.tolist()):
                if b < cursor or a > e:
                    continue
                if a > cursor:
                    out_s.append(cursor)
                    out_e.append(a - 1)
                cursor = max(cursor, b + 1)
                if cursor > e:
                    break
            if cursor <= e:
                out_s.append(cursor)
                out_e.append(e)
        return Coverage(np.array(out_s, np.int64), np.array(out_e, np.int64))

    @classmethod
    def of_days(cls, days: np.ndarray, sessions: np.ndarray) -> Coverage:
        """Intervals of the ``days`` (a subset of the consecutive ``sessions``), one per run of neighbours."""
        if not len(days):
            return cls.empty()
        index = np.searchsorted(sessions, days)
        breaks = np.flatnonzero(np.diff(index) != 1)
        firsts = np.concatenate(([0], breaks + 1))
        lasts = np.concatenate((breaks, [len(days) - 1]))
        return cls(days[firsts].astype(np.int64), days[lasts].astype(np.int64))

    @property
    def first(self) -> int | None:
        return int(self.starts[0]) if len(self.starts) else None

    @property
    def last(self) -> int | None:
        return int(self.ends[-1]) if len(self.ends) else None

    def covered(self, days: np.ndarray) -> np.ndarray:
        """Boolean mask: is each day inside some interval."""
        if not len(self.starts) or not len(days):
            return np.zeros(len(days), dtype=bool)
        i = np.searchsorted(self.starts, days, side="right") - 1
        inside = i >= 0
        idx = np.clip(i, 0, None)
        return inside & (days <= self.ends[idx])

    def __bool__(self) -> bool:
        return bool(len(self.starts))


def missing_runs(sessions: np.ndarray, coverage: Coverage) -> list[tuple[int, int]]:
    """Runs of consecutive uncovered sessions, as (first, last) day numbers.

    ``sessions`` must be consecutive sessions of the calendar (a slice), so neighbours in the array are
    neighbouring sessions: a holiday inside a run never splits it.
    """
    if not len(sessions):
        return []
    missing = ~coverage.covered(sessions)
    if not missing.any():
        return []
    padded = np.concatenate(([False], missing, [False])).astype(np.int8)
    edges = np.diff(padded)
    firsts = np.flatnonzero(edges == 1)
    lasts = np.flatnonzero(edges == -1) - 1
    return [(int(sessions[a]), int(sessions[b])) for a, b in zip(firsts, lasts)]
