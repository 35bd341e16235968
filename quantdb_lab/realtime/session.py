"""When live quotes can change: a session's trading minutes, each minute's quote published at its end.

Quotes change from 09:30 through the 11:30 bar and from the 13:01 bar through the closing auction's 15:00
bar, so the windows are 09:30 <= t < 11:31 and 13:01 <= t < 15:01 (exchange time) on session days.
Outside them ``next_open`` says when trading starts again and ``closed_note`` says so in one line.
"""

from __future__ import annotations

from datetime import date, datetime, time

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


def next_open(calendar: TradingCalendar, now: datetime) -> datetime:
    """When trading next starts after ``now`` (exchange time): today's open or afternoon, else the next session's
    open. ``now`` inside a window gives that window's own start."""
    moment = to_exchange_time(now)
    today = moment.date()
    if calendar.is_session(today):
        if moment.time() < LUNCH[0]:
            return datetime.combine(today, SESSION_OPEN, tzinfo=moment.tzinfo)
        if moment.time() < WINDOWS[1][1]:
            return datetime.combine(today, LUNCH[1], tzinfo=moment.tzinfo)
    return datetime.combine(calendar.next_session(today), SESSION_OPEN, tzinfo=moment.tzinfo)


def last_session(calendar: TradingCalendar, now: datetime) -> date | None:
    """The latest session that has opened by ``now`` (what a replay can run)."""
    moment = to_exchange_time(now)
    today = moment.date()
    opened = calendar.is_session(today) and moment.time() >= SESSION_OPEN
    return today if opened else calendar.previous_session(today)


def closed_note(calendar: TradingCalendar, now: datetime, *, as_of: datetime | None = None) -> str:
    """One line: the market is closed, when it opens again, what is shown meanwhile and how to watch a session
    now (a replay of the latest session on the simulated market)."""
    moment, opens = to_exchange_time(now), next_open(calendar, now)
    word = "resumes" if opens.date() == moment.date() and opens.time() == LUNCH[1] else "opens"
    shown = (f"showing the last snapshot, as of {to_exchange_time(as_of):%Y-%m-%d %H:%M}" if as_of is not None
             else "no quote snapshot yet (quotes are fetched only while a session trades)")  # fmt: skip
    session = last_session(calendar, now)
    replay = (f"; quantdb_lab.realtime.replay(date({session.year}, {session.month}, {session.day}), symbols) "
              "replays a simulated session now" if session is not None else "")  # fmt: skip
    return (f"market closed at {moment:%Y-%m-%d %H:%M} (exchange time); trading {word} {opens:%A %Y-%m-%d %H:%M}; "
            f"{shown}{replay}")


def elapsed_minutes(moment: datetime) -> int:
    """Trading minutes since 09:30 (0..240; 120 over lunch)."""
    clock = to_exchange_time(moment).time()
    minutes = clock.hour * 60 + clock.minute
    if clock < LUNCH[0]:
        return max(minutes - (9 * 60 + 30), 0)
    if clock < LUNCH[1]:
        return 120
    return min(120 + minutes - 13 * 60, 240)
