"""The SSE/SZSE trading calendar as data: a sorted array of sessions plus the session hours.

Sessions come from exchange_calendars' XSHG, whose holiday list ends at 2026-12-31 (past that it would treat
every weekday as a session). Past that bound the calendar uses the provider's trade dates when it has been
given them (``extend``), and otherwise falls back to weekdays with a :class:`CalendarBoundsWarning`, never a
crash. Shanghai and Shenzhen share one calendar.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import numpy as np

from quantdb_lab.domain.clock import to_exchange_time
from quantdb_lab.errors import CalendarBoundsWarning

FIRST_SESSION = date(1990, 12, 19)
SESSION_OPEN = time(9, 30)
SESSION_CLOSE = time(15, 0)
# Eastmoney settles the day's volume and amount some minutes after the closing auction; a bar fetched
# before this time is provisional and is fetched again (QuantDB kept a 77,545 mid-session volume forever).
SESSION_FINAL = time(15, 30)

_EPOCH = date(1970, 1, 1)


def _day(value: date) -> int:
    return (value - _EPOCH).days


def _date(day: int | np.integer) -> date:
    return _EPOCH + timedelta(days=int(day))


@lru_cache(maxsize=1)
def _xshg_days() -> tuple[np.ndarray, date]:
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        # exchange_calendars 4.x trips a pandas 3.1 deprecation inside its own constructor: not ours to act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=".*Series.values.*")
        calendar = xcals.get_calendar("XSHG", start=FIRST_SESSION.isoformat())
    sessions = calendar.sessions.to_numpy().astype("datetime64[D]").astype(np.int64)
    return sessions, calendar.last_session.date()


@dataclass(frozen=True, slots=True)
class SessionState:
    """Where ``now`` stands: the latest session with any data, and whether its bar is final yet."""

    latest: date | None  # latest session that has started trading at ``now``
    latest_final: bool  # its bar is final (fetched after SESSION_FINAL counts as final)
    open_now: bool  # within trading hours of a session right now


class TradingCalendar:
    """Sessions as an ascending int64 array of days since 1970-01-01 (fast ``searchsorted``)."""

    def __init__(self, days: np.ndarray, *, bound: date, source: str) -> None:
        self._days = np.asarray(days, dtype=np.int64)
        self.bound = bound
        self.source = source

    @classmethod
    def xshg(cls) -> TradingCalendar:
        days, bound = _xshg_days()
        return cls(days, bound=bound, source="exchange_calendars XSHG")

    @classmethod
    def from_dates(cls, dates: list[date], *, source: str) -> TradingCalendar:
        days = np.unique(np.array([_day(d) for d in dates], dtype=np.int64))
        return cls(days, bound=_date(days[-1]) if len(days) else FIRST_SESSION, source=source)

    def extend(self, trade_dates: list[date]) -> TradingCalendar:
        """A calendar that uses ``trade_dates`` past this one's bound (e.g. the provider's own list)."""
        later = np.array([_day(d) for d in trade_dates if d > self.bound], dtype=np.int64)
        if not len(later):
            return self
        days = np.concatenate([self._days, np.unique(later)])
        return TradingCalendar(days, bound=_date(days[-1]), source=f"{self.source} + provider trade dates")

    # -- queries ---------------------------------------------------------------------------------------
    def _days_through(self, end: date) -> np.ndarray:
        if end <= self.bound:
            return self._days
        warnings.warn(
            f"{end.isoformat()} is past the trading calendar's bound {self.bound.isoformat()} ({self.source}); "
            "weekdays are assumed to be sessions there. Give the calendar the provider's trade dates.",
            CalendarBoundsWarning,
            stacklevel=4,
        )
        extra = np.arange(_day(self.bound) + 1, _day(end) + 1, dtype=np.int64)
        weekdays = extra[((extra + 3) % 7) < 5]  # 1970-01-01 was a Thursday
        return np.concatenate([self._days, weekdays])

    def session_days(self, start: date, end: date) -> np.ndarray:
        """Sessions in ``[start, end]`` as day numbers."""
        days = self._days_through(end)
        lo = np.searchsorted(days, _day(start), side="left")
        hi = np.searchsorted(days, _day(end), side="right")
        return days[lo:hi]

    def sessions(self, start: date, end: date) -> list[date]:
        return [_date(d) for d in self.session_days(start, end)]

    def is_session(self, day: date) -> bool:
        days = self._days_through(day)
        i = np.searchsorted(days, _day(day))
        return bool(i < len(days) and days[i] == _day(day))

    def previous_session(self, day: date) -> date | None:
        """The last session strictly before ``day``."""
        days = self._days_through(day)
        i = np.searchsorted(days, _day(day), side="left")
        return _date(days[i - 1]) if i > 0 else None

    def next_session(self, day: date) -> date:
        """The first session strictly after ``day``."""
        horizon = day + timedelta(days=30)
        days = self._days_through(horizon)
        i = np.searchsorted(days, _day(day), side="right")
        return _date(days[i])

    def state(self, now: datetime) -> SessionState:
        local = to_exchange_time(now)
        today = local.date()
        clock = local.time()
        if self.is_session(today) and clock >= SESSION_OPEN:
            return SessionState(today, clock >= SESSION_FINAL, clock < SESSION_CLOSE)
        return SessionState(self.previous_session(today), True, False)


day_number = _day
from_day_number = _date


def final_after(session: date) -> datetime:
    """The moment a session's bar becomes final, in exchange time."""
    return to_exchange_time(datetime.combine(session, SESSION_FINAL))
