"""Judging an upstream's answer (loader.answers): which missing sessions stay pending and which are covered.

Day numbers are built from a hand-written week of sessions, so every expectation below is read off the dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import numpy as np

from quantdb_lab.domain.calendar import SessionState, day_number
from quantdb_lab.loader.answers import ask_again, judged
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.records import SeriesMeta

# Mon 2025-03-03 .. Fri 03-07 and Mon 03-10 .. Wed 03-12: the sessions of this file
SESSIONS = np.array([day_number(date(2025, 3, 3) + timedelta(days=k)) for k in (0, 1, 2, 3, 4, 7, 8, 9)])
FINAL = SessionState(date(2025, 3, 12), True, False)  # after the close of the last session: every bar final
NOW = datetime(2025, 3, 12, 9, 0, tzinfo=timezone.utc)


def days(*which: int) -> np.ndarray:
    return SESSIONS[list(which)]


def stored_to_monday() -> SeriesMeta:
    """A series whose last row is Monday 03-03 and whose coverage ends there."""
    first = day_number(date(2025, 1, 2))
    return SeriesMeta(coverage=Coverage.from_pairs([[first, int(SESSIONS[0])]]), rows=40, first_day=first,
                      last_day=int(SESSIONS[0]))  # fmt: skip


def answer(meta: SeriesMeta, first: int, last: int, served: np.ndarray) -> SeriesMeta:
    start, end = (date.fromordinal(date(1970, 1, 1).toordinal() + int(SESSIONS[k])) for k in (first, last))
    return judged(meta, start=start, end=end, sessions=SESSIONS[first : last + 1], served=served, state=FINAL,
                  now=NOW)  # fmt: skip


def covered(meta: SeriesMeta, which: np.ndarray) -> list[bool]:
    return meta.coverage.covered(which).tolist()


def test_a_first_empty_answer_at_the_end_stays_pending_and_is_asked_again():
    meta = stored_to_monday()
    empty = np.array([], dtype=np.int64)
    assert ask_again(days(1, 2, 3), empty, meta)
    after = answer(meta, 1, 3, empty)
    assert after.pending.covered(days(1, 2, 3)).all()
    assert covered(after, days(1, 2, 3)) == [False, False, False]


def test_an_answer_confirming_a_trailing_gap_covers_the_newer_sessions_it_shows_empty_too():
    """Tue-Thu were pending (one empty answer); the next answer, Tue-Mon, is empty again: Tue-Thu are
    confirmed, and Fri and Mon continue the same gap, so nothing is left pending and nothing is asked again."""
    meta = answer(stored_to_monday(), 1, 3, np.array([], dtype=np.int64))
    empty = np.array([], dtype=np.int64)
    assert not ask_again(days(1, 2, 3, 4, 5), empty, meta)
    after = answer(meta, 1, 5, empty)
    assert covered(after, days(1, 2, 3, 4, 5)) == [True] * 5
    assert not after.pending


def test_new_rows_end_the_gap_and_a_short_end_after_them_stays_pending():
    """Tue-Thu pending; the next answer has a row on Fri (trading resumed) and none on Mon or Tue: the
    suspension is over, so Mon-Tue after the new row may be an answer cut short and stay pending."""
    meta = answer(stored_to_monday(), 1, 3, np.array([], dtype=np.int64))
    friday = days(4)
    assert ask_again(days(1, 2, 3, 4, 5, 6), friday, meta)
    after = answer(meta, 1, 6, friday)
    assert after.pending.covered(days(5, 6)).all()
    assert covered(after, days(5, 6)) == [False, False]


def test_a_trailing_gap_starting_at_a_session_never_asked_stays_pending():
    """Only Thu was pending; an answer for Tue-Mon with no rows at all starts its gap at Tue, a session asked
    for the first time: the answer is not a confirmation of that gap, so its new sessions stay pending."""
    meta = replace(stored_to_monday(), pending=Coverage.of_days(days(3), SESSIONS))
    empty = np.array([], dtype=np.int64)
    assert ask_again(days(1, 2, 3, 4, 5), empty, meta)
    after = answer(meta, 1, 5, empty)
    assert after.pending.covered(days(1, 2, 4, 5)).all()
