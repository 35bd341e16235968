"""When live quotes can change: a session's trading minutes, each minute's quote published at its end.

Quotes change from 09:30 through the 11:30 bar and from the 13:01 bar through the closing auction's 15:00
bar, so the windows are 09:30 <= t < 11:31 and 13:01 <= t < 15:01 (exchange time) on session days.
"""

from __future__ import annotations

from datetime import datetime, time

from quantdb_lab.domain.calendar import SESSION_OPEN, TradingCalendar
from quantdb_lab.domain.clock import to_exchange_time

LUNCH = (time(11, 30), time(13, 0))
WINDOWS = ((SESSION_OPEN, time(11, 31)), (time(13, 1), time(15, 1)))


def trading_now(calendar: TradingCalendar, now: datetime) -> bool:
    moment = to_exchange_time(now)
    clock = moment.time()
    if not any(first <= clock < last for first, last in WINDOWS):
        return False
    return calendar.is_session(moment.date())


def elapsed_minutes(moment: datetime) -> int:
    """Trading minutes since 09:30 (0..240; 120 over lunch)."""
    clock = to_exchange_time(moment).time()
    minutes = clock.hour * 60 + clock.minute
    if clock < LUNCH[0]:
        return max(minutes - (9 * 60 + 30), 0)
    if clock < LUNCH[1]:
        return 120
    return min(120 + minutes - 13 * 60, 240)
