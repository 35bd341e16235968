"""The SSE/SZSE trading calendar as data: a sorted array of sessions plus the session hours.

Sessions come from exchange_calendars' XSHG, whose holiday list ends with the last year it was released for
(2026-12-31 in 4.13; a newer release moves the bound on by itself). Past that bound the calendar uses the
provider's trade dates: given up front (``extend``), or asked for by an ``extender`` the first time a query
goes past the bound (the Lab's asks the provider through the reference cache, so a query inside the bound never
costs an upstream call). Where neither knows a day it falls back to weekdays with a
:class:`CalendarBoundsWarning`, never a crash. Shanghai and Shenzhen share one calendar.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
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


# Asked with the last day a query past the bound needs; returns trade dates (any span, in any order) or None
# when it has nothing (the calendar then assumes weekdays where it still knows nothing, with a warning).
Extender = Callable[[date], Sequence[date] | None]


class TradingCalendar:
    """Sessions as an ascending int64 array of days since 1970-01-01 (fast ``searchsorted``)."""

    def __init__(self, days: np.ndarray, *, bound: date, source: str, extender: Extender | None = None) -> None:
        # (days, bound) change together when an extender adds sessions: one tuple, replaced whole.
        self._span = (np.asarray(days, dtype=np.int64), bound)
        self.source = source
        self._extender = extender
        self._extending = threading.Lock()

    @property
    def bound(self) -> date:
        """The last day whose session status this calendar knows (past it: weekdays, with a warning)."""
        return self._span[1]

    @property
    def _days(self) -> np.ndarray:
        return self._span[0]

    @classmethod
    def xshg(cls) -> TradingCalendar:
        days, bound = _xshg_days()
        return cls(days, bound=bound, source="exchange_calendars XSHG")

    @classmethod
    def from_dates(cls, dates: list[date], *, source: str) -> TradingCalendar:
        days = np.unique(np.array([_day(d) for d in dates], dtype=np.int64))
        return cls(days, bound=_date(days[-1]) if len(days) else FIRST_SESSION, source=source)

    def extend(self, trade_dates: Sequence[date]) -> TradingCalendar:
        """A calendar that uses ``trade_dates`` past this one's bound (e.g. the provider's own list)."""
        days, bound = _merged(self._span, trade_dates)
        if bound == self.bound:
            return self
        return TradingCalendar(days, bound=bound, source=f"{self.source} + provider trade dates")

    def extended_by(self, extender: Extender) -> TradingCalendar:
        """This calendar, asking ``extender`` for trade dates the first time a query goes past its bound."""
        return TradingCalendar(self._days, bound=self.bound, source=self.source, extender=extender)

    # -- queries ---------------------------------------------------------------------------------------
    def _days_through(self, end: date) -> np.ndarray:
        days, bound = self._span
        if end <= bound:
            return days
        if self._extender is not None:
            days, bound = self._extend_to(end)
            if end <= bound:
                return days
        warnings.warn(
            f"{end.isoformat()} is past the trading calendar's bound {bound.isoformat()} ({self.source}); "
            "weekdays are assumed to be sessions there. A newer exchange-calendars or the provider's trade "
            "dates for that year would know its holidays.",
            CalendarBoundsWarning,
            stacklevel=4,
        )
        extra = np.arange(_day(bound) + 1, _day(end) + 1, dtype=np.int64)
        weekdays = extra[((extra + 3) % 7) < 5]  # 1970-01-01 was a Thursday
        return np.concatenate([days, weekdays])

    def _extend_to(self, end: date) -> tuple[np.ndarray, date]:
        with self._extending:  # one question to the extender at a time; the others then see its answer
            span = self._span
            if end <= span[1]:
                return span
            dates = self._extender(end) if self._extender is not None else None
            if dates:
                merged = _merged(span, dates)
                if merged[1] != span[1]:
                    self._span = span = merged
                    if "provider trade dates" not in self.source:
                        self.source = f"{self.source} + provider trade dates"
            return span

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
        days, _ = self._span
        i = np.searchsorted(days, _day(day), side="right")
        if i < len(days):  # known without looking past the bound (no warning, no fetch in late December)
            return _date(days[i])
        days = self._days_through(day + timedelta(days=30))
        i = np.searchsorted(days, _day(day), side="right")
        return _date(days[i])

    def state(self, now: datetime) -> SessionState:
        local = to_exchange_time(now)
        today = local.date()
        clock = local.time()
        if self.is_session(today) and clock >= SESSION_OPEN:
            return SessionState(today, clock >= SESSION_FINAL, clock < SESSION_CLOSE)
        return SessionState(self.previous_session(today), True, False)


def _merged(span: tuple[np.ndarray, date], trade_dates: Sequence[date]) -> tuple[np.ndarray, date]:
    """``span``'s sessions followed by those of ``trade_dates`` past its bound, and the new bound."""
    days, bound = span
    later = np.unique(np.array([_day(d) for d in trade_dates if d > bound], dtype=np.int64))
    if not len(later):
        return span
    return np.concatenate([days, later]), _date(later[-1])


day_number = _day
from_day_number = _date


def final_after(session: date) -> datetime:
    """The moment a session's bar becomes final, in exchange time."""
    return to_exchange_time(datetime.combine(session, SESSION_FINAL))
