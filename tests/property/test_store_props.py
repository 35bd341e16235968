"""Properties of coverage, merging and the as_of cutoff (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdb_lab.domain.calendar import TradingCalendar, day_number
from quantdb_lab.domain.modes import BACKTESTING
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidDateRangeError, LookAheadError
from quantdb_lab.loader.plan import BarRequest, plan_load
from quantdb_lab.store.coverage import Coverage, missing_runs
from tests.support.sim import at

CAL = TradingCalendar.xshg()
SESSIONS = CAL.session_days(date(2020, 1, 1), date(2024, 12, 31))
spans = st.lists(st.tuples(st.integers(0, len(SESSIONS) - 1), st.integers(0, 40)), max_size=8)


def _coverage(pairs) -> Coverage:
    return Coverage.from_pairs([[int(SESSIONS[a]), int(SESSIONS[min(a + n, len(SESSIONS) - 1)])] for a, n in pairs])


@given(spans)
def test_coverage_is_sound_and_runs_are_exactly_the_uncovered_sessions(pairs):
    coverage = _coverage(pairs)
    runs = missing_runs(SESSIONS, coverage)
    in_runs = set()
    for first, last in runs:
        in_runs.update(int(x) for x in SESSIONS[(SESSIONS >= first) & (SESSIONS <= last)])
    naive = {int(x) for x in SESSIONS if not any(a <= x <= b for a, b in coverage.to_pairs())}
    assert in_runs == naive
    # runs are maximal: the session before and after each run is covered (or out of range)
    for first, last in runs:
        i, j = int(np.searchsorted(SESSIONS, first)), int(np.searchsorted(SESSIONS, last))
        assert i == 0 or int(SESSIONS[i - 1]) not in naive
        assert j == len(SESSIONS) - 1 or int(SESSIONS[j + 1]) not in naive


@given(spans, spans)
def test_adding_coverage_is_idempotent_and_order_free(a, b):
    one, two = _coverage(a), _coverage(b)
    merged = one
    for start, end in two.to_pairs():
        merged = merged.add(start, end)
    again = merged
    for start, end in two.to_pairs():
        again = again.add(start, end)
    other = two
    for start, end in one.to_pairs():
        other = other.add(start, end)
    assert merged.to_pairs() == again.to_pairs() == other.to_pairs()


@settings(max_examples=60)
@given(st.dates(date(2015, 1, 1), date(2024, 12, 31)), st.integers(0, 400), st.integers(-30, 60))
def test_nothing_after_as_of_is_ever_planned(as_of, span, end_offset):
    mode = BACKTESTING.with_(as_of=as_of)
    start = as_of - timedelta(days=span)
    end = as_of + timedelta(days=end_offset)
    request = BarRequest(parse_symbol("600519"), start, end, "qfq")
    try:
        plan = plan_load(request, mode, {}, CAL, at("2025-06-06 16:00"))
    except LookAheadError:
        assert end > as_of
        return
    except InvalidDateRangeError:  # no session between start and the cutoff: nothing to serve
        assert end <= as_of and not CAL.sessions(start, as_of)
        return
    assert end <= as_of
    assert plan.end <= as_of and plan.reference <= as_of
    assert all(f.end <= as_of for f in plan.fetches)
    assert all(day_number(f.start) <= day_number(f.end) for f in plan.fetches)
