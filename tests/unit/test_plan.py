"""The planner as tables: request x stored coverage x clock -> upstream calls."""

from datetime import date, datetime, timedelta

import pytest

from quantdb_lab.domain.calendar import TradingCalendar, day_number
from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.domain.modes import BACKTESTING, RESEARCH, TRADING
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidDateRangeError, InvalidRequestError, LookAheadError
from quantdb_lab.loader.plan import BarRequest, plan_load
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.series_store import SeriesKey, SeriesMeta

CAL = TradingCalendar.xshg()
SYM = parse_symbol("600519")
BARS = SeriesKey("bars", "600519.SH")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EXCHANGE_TZ)


def covered(*spans, provisional=None, provisional_at=None) -> SeriesMeta:
    pairs = [[day_number(date.fromisoformat(a)), day_number(date.fromisoformat(b))] for a, b in spans]
    return SeriesMeta(
        coverage=Coverage.from_pairs(pairs),
        provisional_day=day_number(date.fromisoformat(provisional)) if provisional else None,
        provisional_at=at(provisional_at).timestamp() if provisional_at else None,
        rows=1,
    )


def calls(plan):
    return [(f.key.dataset, f.start.isoformat(), f.end.isoformat()) for f in plan.fetches]


def req(start, end, adjust=""):
    return BarRequest(SYM, date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None, adjust)


CASES = [
    # name, request, stored, now, expected calls
    ("cold unadjusted year: one call", req("2024-01-01", "2024-12-31"), {}, "2025-06-01 12:00",
     [("bars", "2024-01-02", "2024-12-31")]),
    ("cold hfq year: one call for the unadjusted bars since the listing", req("2024-01-01", "2024-12-31", "hfq"),
     {}, "2025-06-01 12:00", [("bars", "1990-12-19", "2024-12-31")]),
    ("cold qfq year: one call reaching the latest session", req("2024-01-01", "2024-12-31", "qfq"), {},
     "2025-06-01 12:00", [("bars", "2024-01-02", "2025-05-30")]),
    ("warm hfq: nothing once the history is stored", req("2024-01-01", "2024-12-31", "hfq"),
     {BARS: covered(("1990-12-19", "2025-05-30"))}, "2025-06-01 12:00", []),
    ("qfq after an unadjusted read of the same year: only the sessions up to R", req("2024-01-01", "2024-12-31", "qfq"),
     {BARS: covered(("2024-01-02", "2024-12-31"))}, "2025-06-01 12:00", [("bars", "2025-01-02", "2025-05-30")]),
    ("warm: nothing", req("2024-01-01", "2024-12-31"), {BARS: covered(("2024-01-02", "2024-12-31"))},
     "2025-06-01 12:00", []),
    ("extend by a few sessions over New Year", req("2024-01-01", "2025-01-08"),
     {BARS: covered(("2024-01-02", "2024-12-31"))}, "2025-06-01 12:00", [("bars", "2025-01-02", "2025-01-08")]),
    ("spring festival inside a missing span does not split it", req("2024-02-01", "2024-02-29"), {},
     "2025-06-01 12:00", [("bars", "2024-02-01", "2024-02-29")]),
    ("a hole between two cached months", req("2024-01-01", "2024-03-31"),
     {BARS: covered(("2024-01-02", "2024-01-31"), ("2024-03-01", "2024-03-29"))}, "2025-06-01 12:00",
     [("bars", "2024-02-01", "2024-02-29")]),
    ("weekend after a covered Friday: zero calls", req("2025-05-01", None),
     {BARS: covered(("2025-04-30", "2025-05-30"))}, "2025-05-31 10:00", []),
    ("only non-sessions requested: zero calls", req("2025-05-31", "2025-06-02"), {}, "2025-06-10 12:00", []),
    ("range partly in the future is served to the latest session", req("2025-05-26", "2030-01-01"),
     {BARS: covered(("2025-05-26", "2025-05-30"))}, "2025-06-01 12:00", []),
    ("open session, nothing stored: fetch through today", req("2025-06-03", None), {}, "2025-06-03 10:30",
     [("bars", "2025-06-03", "2025-06-03")]),
    ("open session, provisional bar fresh for the mode: served", req("2025-06-02", None),
     {BARS: covered(("2025-06-02", "2025-06-02"), provisional="2025-06-03", provisional_at="2025-06-03 10:00")},
     "2025-06-03 10:30", []),
    ("after close but before final: still provisional and fresh", req("2025-06-02", None),
     {BARS: covered(("2025-06-02", "2025-06-02"), provisional="2025-06-03", provisional_at="2025-06-03 14:50")},
     "2025-06-03 15:10", []),
    ("after the session is final the provisional bar is replaced", req("2025-06-02", None),
     {BARS: covered(("2025-06-02", "2025-06-02"), provisional="2025-06-03", provisional_at="2025-06-03 14:50")},
     "2025-06-03 15:45", [("bars", "2025-06-03", "2025-06-03")]),
]


@pytest.mark.parametrize("name, request_, stored, now, expected", CASES, ids=[c[0] for c in CASES])
def test_plan_table(name, request_, stored, now, expected):
    assert calls(plan_load(request_, RESEARCH, stored, CAL, at(now))) == expected


def test_provisional_bar_expires_with_the_mode():
    stored = {BARS: covered(("2025-06-02", "2025-06-02"), provisional="2025-06-03", provisional_at="2025-06-03 10:00")}
    research = plan_load(req("2025-06-02", None), RESEARCH, stored, CAL, at("2025-06-03 10:30"))
    trading = plan_load(req("2025-06-02", None), TRADING, stored, CAL, at("2025-06-03 10:30"))
    assert research.fetches == () and research.provisional == date(2025, 6, 3)
    assert calls(trading) == [("bars", "2025-06-03", "2025-06-03")]


def test_as_of_cutoff():
    mode = BACKTESTING.with_(as_of=date(2024, 6, 28))
    with pytest.raises(LookAheadError):
        plan_load(req("2024-01-01", "2024-07-31"), mode, {}, CAL, at("2025-06-01 12:00"))
    plan = plan_load(req("2024-06-01", None, "qfq"), mode, {}, CAL, at("2025-06-01 12:00"))
    assert plan.end == date(2024, 6, 28) and plan.reference == date(2024, 6, 28)
    assert calls(plan) == [("bars", "2024-06-03", "2024-06-28")]


def test_wholly_future_range_and_bad_adjust():
    with pytest.raises(InvalidDateRangeError):
        plan_load(req("2030-01-01", "2030-02-01"), RESEARCH, {}, CAL, at("2025-06-01 12:00"))
    with pytest.raises(InvalidRequestError):
        plan_load(req("2024-01-01", "2024-02-01", "forward"), RESEARCH, {}, CAL, at("2025-06-01 12:00"))


def test_sessions_in_2024():
    # 242 SSE sessions in 2024 (exchange fact, independent of this code)
    assert len(CAL.sessions(date(2024, 1, 1), date(2024, 12, 31))) == 242


def test_calendar_past_its_bound_warns_and_extends():
    from quantdb_lab.errors import CalendarBoundsWarning

    with pytest.warns(CalendarBoundsWarning):
        days = CAL.sessions(CAL.bound + timedelta(days=1), CAL.bound + timedelta(days=14))
    assert all(d.weekday() < 5 for d in days) and len(days) == 10
    provided = [CAL.bound + timedelta(days=5), CAL.bound + timedelta(days=6)]
    extended = CAL.extend(provided)
    assert extended.sessions(CAL.bound + timedelta(days=1), CAL.bound + timedelta(days=6)) == provided
