"""Judging an upstream's answer before it is remembered: what it covers, what stays pending, and what is
provisional. Pure: day numbers in, metadata out. Used by every loader (daily bars and the other datasets).

* A session between two served ones that has no row is the upstream's own statement that nothing happened that
  day (a suspension, a day without a limit-up): one answer covers it.
* An answer to a request for the whole history (from the first session the market had) that starts later says
  where the series' history starts (its listing): the sessions before its first row are covered by it.
* Other sessions missing before the first or after the last served row may be an answer cut short: they stay pending
  (uncovered) and are asked for once more on a later read, whose answer confirms them. An answer that is empty, or
  cut short at the end, about sessions not already pending, is asked again at once (``ask_again``).
* An empty answer for the sessions right after a gap the upstream already confirmed (a stock suspended for
  weeks, read every day) continues that gap: covered at once, not asked again. So does an answer that confirms
  pending sessions at the end of a series: the newer sessions it also has no rows for continue the gap it
  confirms (a stock found suspended in the morning and warmed that evening is warm the next morning).
* The open session's rows are stored and served but not covered: fetched again once the mode says they are stale,
  and replaced once the session is final.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np

from quantdb_lab.domain.calendar import FIRST_SESSION, SessionState, TradingCalendar, day_number
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.records import SeriesMeta


def neighbours(calendar: TradingCalendar, start: date, end: date) -> tuple[date | None, date | None]:
    """The sessions just before ``start`` and just after ``end``, for the two rules above that use them; past
    the calendar's bound they are not known and the rules are simply not applied (no warning: nothing is
    assumed from them)."""
    if end + timedelta(days=30) > calendar.bound:
        return calendar.previous_session(start) if start <= calendar.bound else None, None
    return calendar.previous_session(start), calendar.next_session(end)


def open_day_of(state: SessionState) -> int | None:
    return day_number(state.latest) if state.latest is not None and not state.latest_final else None


def expected_sessions(sessions: np.ndarray, state: SessionState) -> np.ndarray:
    """The sessions an answer should hold rows for (the open one may have none yet)."""
    open_day = open_day_of(state)
    return sessions[sessions != open_day] if open_day is not None else sessions


def unserved(expected: np.ndarray, served: np.ndarray) -> np.ndarray:
    """The sessions of ``expected`` with no row among ``served`` (both day numbers)."""
    return expected if not len(served) else expected[~np.isin(expected, served)]


def continues_a_gap(meta: SeriesMeta, previous: date | None) -> bool:
    """Whether the session before a fetch was confirmed to have no rows (covered, after the last stored row): an
    empty answer for the next sessions then continues a suspension the upstream already confirmed."""
    if previous is None or not meta.coverage:
        return False
    day = day_number(previous)
    return bool(meta.coverage.covered(np.array([day]))[0]) and (meta.last_day is None or meta.last_day < day)


def confirms_trailing_gap(missing: np.ndarray, served: np.ndarray, meta: SeriesMeta) -> bool:
    """Whether the sessions ``missing`` after the last served row start at a pending one: the answer confirms
    that gap, and the sessions after it in the same answer continue it."""
    trailing = missing[missing > served.max()] if len(served) else missing
    return bool(len(trailing)) and bool(meta.pending.covered(trailing[:1])[0])


def ask_again(expected: np.ndarray, served: np.ndarray, meta: SeriesMeta, *, continuing: bool = False) -> bool:
    """Whether an answer must be asked for again at once: empty, or cut short at the end, about sessions not
    already pending (an answer about pending sessions is their confirmation), unless it continues a confirmed
    gap."""
    if continuing and not len(served):
        return False
    missing = unserved(expected, served)
    if confirms_trailing_gap(missing, served, meta):
        return False
    new = missing[~meta.pending.covered(missing)]
    return bool(len(new)) and (not len(served) or new[-1] > served.max())


def judged(meta: SeriesMeta, *, start: date, end: date, sessions: np.ndarray, served: np.ndarray,
           state: SessionState, now: datetime, next_session: date | None = None,
           continuing: bool = False) -> SeriesMeta:  # fmt: skip
    """``meta`` after an answer for ``[start, end]`` (``sessions`` its sessions) that served ``served`` days.

    ``next_session`` (the first session after ``end``): the days up to it are no sessions, so the coverage runs
    through them and touches the next fetch's; a range of sessions is then one interval, checked in O(log n)."""
    missing = unserved(expected_sessions(sessions, state), served)
    if continuing and not len(served):  # a confirmed suspension goes on: this answer agrees with the last one
        missing = missing[:0]
    if len(served):
        before = missing < served.min()
        if start <= FIRST_SESSION:  # a whole-history answer: its first row is where the history starts
            before &= False
        missing = missing[before | (missing > served.max())]
    if confirms_trailing_gap(missing, served, meta):  # the gap goes on: its newer sessions are covered too
        missing = missing[missing < served.min()] if len(served) else missing[:0]
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
