"""Judging an upstream's answer before it is remembered: what it covers, what stays pending, and what is
provisional. Pure: day numbers in, metadata out. Used by every loader (daily bars and the other datasets).

* A session between two served ones that has no row is the upstream's own statement that nothing happened that
  day (a suspension, a day without a limit-up): one answer covers it.
* An answer to a request for the whole history (from the first session the market had) that starts later says
  where the series' history starts (its listing): the sessions before its first row are covered by it.
* Other sessions missing before the first or after the last served row may be an answer cut short: they stay pending
  (uncovered) and are asked for once more on a later read, whose answer confirms them. An answer that is empty, or
  cut short at the end, about sessions not already pending, is asked again at once (``ask_again``).
* The open session's rows are stored and served but not covered: fetched again once the mode says they are stale,
  and replaced once the session is final.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import numpy as np

from quantdb_lab.domain.calendar import FIRST_SESSION, SessionState, day_number
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.records import SeriesMeta


def open_day_of(state: SessionState) -> int | None:
    return day_number(state.latest) if state.latest is not None and not state.latest_final else None


def expected_sessions(sessions: np.ndarray, state: SessionState) -> np.ndarray:
    """The sessions an answer should hold rows for (the open one may have none yet)."""
    open_day = open_day_of(state)
    return sessions[sessions != open_day] if open_day is not None else sessions


def unserved(expected: np.ndarray, served: np.ndarray) -> np.ndarray:
    """The sessions of ``expected`` with no row among ``served`` (both day numbers)."""
    return expected if not len(served) else expected[~np.isin(expected, served)]


def ask_again(expected: np.ndarray, served: np.ndarray, meta: SeriesMeta) -> bool:
    """Whether an answer must be asked for again at once: empty, or cut short at the end, about sessions not
    already pending (an answer about pending sessions is their confirmation)."""
    missing = unserved(expected, served)
    new = missing[~meta.pending.covered(missing)]
    return bool(len(new)) and (not len(served) or new[-1] > served.max())


def judged(meta: SeriesMeta, *, start: date, end: date, sessions: np.ndarray, served: np.ndarray,
           state: SessionState, now: datetime, next_session: date | None = None) -> SeriesMeta:  # fmt: skip
    """``meta`` after an answer for ``[start, end]`` (``sessions`` its sessions) that served ``served`` days.

    ``next_session`` (the first session after ``end``): the days up to it are no sessions, so the coverage runs
    through them and touches the next fetch's; a range of sessions is then one interval, checked in O(log n)."""
    missing = unserved(expected_sessions(sessions, state), served)
    if len(served):
        before = missing < served.min()
        if start <= FIRST_SESSION:  # a whole-history answer: its first row is where the history starts
            before &= False
        missing = missing[before | (missing > served.max())]
    gaps = Coverage.of_days(missing, sessions)
    confirmed = gaps.subtract(gaps.subtract(meta.pending))
    pending = meta.pending.subtract(Coverage.from_pairs([[day_number(start), day_number(end)]]))
    for a, b in gaps.subtract(confirmed).to_pairs():
        pending = pending.add(a, b)
    last = day_number(end) if next_session is None else max(day_number(end), day_number(next_session) - 1)
    open_day = open_day_of(state)
    if open_day is not None and end >= state.latest:
        last = open_day - 1
        provisional_day, provisional_at = open_day, now.timestamp()
    elif meta.provisional_day is not None and meta.provisional_day <= day_number(end):
        provisional_day = provisional_at = None
    else:
        provisional_day, provisional_at = meta.provisional_day, meta.provisional_at
    return replace(
        meta,
        coverage=meta.coverage.add(day_number(start), last).subtract(pending),
        provisional_day=provisional_day,
        provisional_at=provisional_at,
        fetched_at=now.timestamp(),
        pending=pending,
        pending_since=(meta.pending_since or now.timestamp()) if pending else None,
    )
