"""One planner for every dataset: what a read of a dataset must fetch, and why. Pure (no I/O): tested as tables.

It reads the dataset's registry record (``domain.datasets``) and decides, the same way for every dataset:

* **the range**: reading past the mode's ``as_of`` raises LookAheadError (for every dataset alike); a range
  running into the future is served up to the latest session (or the ``as_of`` cutoff);
* **what is missing**: the sessions of the range not covered by the series' stored coverage (sessions fetched,
  including those the upstream confirmed empty); holidays and weekends never split a fetch;
* **how it is fetched**, by the dataset's ``fetch_unit``: ``run`` one call per contiguous run of missing
  sessions (the upstream filters by date), ``session`` one call per missing session (an event list asked for one
  trading date: never a non-trading date, which Eastmoney answers with the previous day's list relabelled),
  ``window`` one call for whatever the upstream still keeps (minute bars: the call returns its whole window);
* **what cannot be fetched any more**: sessions older than the upstream's memory (``upstream_keeps``) are
  reported as forgotten, never asked for;
* **freshness**: the open session's rows are provisional, served while younger than the mode's
  ``cache_duration`` and fetched again after; a snapshot dataset is fresh until a session's bar becomes final
  after it was fetched (``session``) or for a fixed time (``minutes:<n>``): ``snapshot_fresh``.

Every decision leaves a reason in ``ReadPlan.reasons``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from quantdb_lab.domain.calendar import (
    FIRST_SESSION,
    TradingCalendar,
    day_number,
    final_after,
    from_day_number,
)
from quantdb_lab.domain.clock import to_exchange_time
from quantdb_lab.domain.datasets import Dataset
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.errors import InvalidDateRangeError, LookAheadError
from quantdb_lab.store.coverage import Coverage, missing_runs
from quantdb_lab.store.records import SeriesKey, SeriesMeta

EARLIEST = FIRST_SESSION  # the market's first session: a request with no start reads from it


@dataclass(frozen=True, slots=True)
class Fetch:
    key: SeriesKey
    start: date
    end: date  # inclusive; both ends are sessions


@dataclass(frozen=True, slots=True)
class Range:
    """A request's effective range: ``start``/``end`` inclusive, never past the latest session or ``as_of``."""

    start: date
    end: date
    latest: date  # the latest session a read may see (the reference session of point-in-time adjustment)
    open_session: date | None  # that session, when it is still trading or not yet final
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReadPlan:
    key: SeriesKey
    range: Range
    fetches: tuple[Fetch, ...]
    provisional: date | None  # the open session, when the result includes its not-yet-final rows
    forgotten: tuple[tuple[date, date], ...] = ()  # missing sessions the upstream no longer keeps
    reasons: tuple[str, ...] = field(default=())

    @property
    def is_warm(self) -> bool:
        return not self.fetches


def effective_range(start: date | None, end: date | None, mode: ContextMode, calendar: TradingCalendar,
                    now: datetime, *, label: str | None = None) -> Range:  # fmt: skip
    """The range a read may serve (``label`` names the symbol or dataset in errors)."""
    notes: list[str] = []
    if mode.as_of is not None:
        if end is not None and end > mode.as_of:
            raise LookAheadError(f"reading past the point-in-time cutoff as_of={mode.as_of.isoformat()}",
                                 symbol=label, end=end, mode=mode.name)  # fmt: skip
        if start is not None and start > mode.as_of:
            raise LookAheadError("the whole range lies past as_of", symbol=label, mode=mode.name)
    state = calendar.state(now)
    latest = state.latest
    if mode.as_of is not None:
        cutoff = mode.as_of if calendar.is_session(mode.as_of) else calendar.previous_session(mode.as_of)
        if cutoff is not None and (latest is None or cutoff < latest):
            latest = cutoff
    if latest is None:
        raise InvalidDateRangeError("no trading session has happened yet", symbol=label)
    first = start or EARLIEST
    if first > latest:
        raise InvalidDateRangeError(f"the range starts after the latest session {latest.isoformat()}: there is no "
                                    "data yet", symbol=label, start=start, end=end)  # fmt: skip
    last = end
    if last is None or last > latest:
        if last is not None:
            notes.append(f"end {last.isoformat()} is in the future: served up to {latest.isoformat()}")
        last = latest
    open_session = latest if (state.latest == latest and not state.latest_final) else None
    return Range(first, last, latest, open_session, tuple(notes))


def plan_read(dataset: Dataset, key: SeriesKey, span: Range, mode: ContextMode, meta: SeriesMeta | None,
              calendar: TradingCalendar, now: datetime) -> ReadPlan:  # fmt: skip
    """What must be fetched so that ``key`` covers ``span`` (see the module docstring)."""
    meta = meta or SeriesMeta()
    reasons = list(span.notes)
    sessions = calendar.session_days(span.start, span.end)
    coverage = meta.coverage
    provisional = None
    if span.open_session is not None and span.end >= span.open_session:
        open_day = day_number(span.open_session)
        fresh = (meta.provisional_day == open_day and meta.provisional_at is not None
                 and now.timestamp() - meta.provisional_at < mode.cache_duration.total_seconds())  # fmt: skip
        if fresh:
            coverage = coverage.add(open_day, open_day)
            reasons.append(f"{span.open_session.isoformat()} is the open session: its rows are provisional, "
                           f"fetched {int(now.timestamp() - meta.provisional_at)} s ago")  # fmt: skip
        else:
            reasons.append(f"{span.open_session.isoformat()} is the open session: its rows are fetched again")
        provisional = span.open_session
    runs = missing_runs(sessions, coverage)
    forgotten: list[tuple[date, date]] = []
    # the upstream's memory runs back from today, not from a backtest's as_of
    oldest = _oldest_kept(dataset, calendar, calendar.state(now).latest or span.latest)
    if oldest is not None and runs:
        kept = []
        for first, last in runs:
            if last < oldest:
                forgotten.append((from_day_number(first), from_day_number(last)))
            elif first < oldest:
                forgotten.append((from_day_number(first), from_day_number(oldest - 1)))
                kept.append((oldest, last))
            else:
                kept.append((first, last))
        runs = kept
        if forgotten:
            reasons.append(f"{sum(_sessions(calendar, a, b) for a, b in forgotten)} missing session(s) are older "
                           f"than the {dataset.upstream_sessions} sessions the upstream keeps: they can no longer be fetched")  # fmt: skip
    fetches = _fetches(dataset, key, runs, calendar, oldest, span)
    if fetches:
        unit = {"run": "one call per run of missing sessions", "session": "one call per missing session",
                "window": "one call for the upstream's whole window"}[dataset.fetch_unit]  # fmt: skip
        reasons.append(f"{len(fetches)} call(s): {unit}")
    elif not forgotten:
        reasons.append("every session of the range is stored")
    return ReadPlan(key, span, tuple(fetches), provisional, tuple(forgotten), tuple(reasons))


def _fetches(dataset: Dataset, key: SeriesKey, runs: list[tuple[int, int]], calendar: TradingCalendar,
             oldest: int | None, span: Range) -> list[Fetch]:  # fmt: skip
    if not runs:
        return []
    if dataset.fetch_unit == "session":
        days = np.concatenate([calendar.session_days(from_day_number(a), from_day_number(b)) for a, b in runs])
        return [Fetch(key, from_day_number(int(d)), from_day_number(int(d))) for d in days]
    if dataset.fetch_unit == "window":
        first = from_day_number(oldest) if oldest is not None else from_day_number(runs[0][0])
        return [Fetch(key, max(first, from_day_number(runs[0][0])), span.latest)]
    return [Fetch(key, from_day_number(a), from_day_number(b)) for a, b in runs]


def _oldest_kept(dataset: Dataset, calendar: TradingCalendar, latest: date) -> int | None:
    """The oldest session the upstream still serves for ``dataset`` (None: it keeps everything)."""
    sessions = dataset.upstream_sessions
    if sessions is None:
        return None
    window = calendar.session_days(latest - timedelta(days=2 * sessions + 30), latest)
    return int(window[-sessions]) if len(window) >= sessions else int(window[0])


def _sessions(calendar: TradingCalendar, first: date, last: date) -> int:
    return len(calendar.session_days(first, last))


def snapshot_fresh(dataset: Dataset, fetched_at: datetime | None, calendar: TradingCalendar,
                   now: datetime) -> tuple[bool, str]:  # fmt: skip
    """Whether a stored snapshot of ``dataset`` fetched at ``fetched_at`` may still be served, and why."""
    if fetched_at is None:
        return False, "never fetched"
    now, fetched_at = to_exchange_time(now), to_exchange_time(fetched_at)
    minutes = dataset.max_age_minutes
    if minutes is not None:
        age = (now - fetched_at).total_seconds() / 60
        return age < minutes, f"fetched {age:.0f} min ago (fresh for {minutes:g})"
    state = calendar.state(now)
    if state.latest is None:
        return True, "no session has become final since"
    session = state.latest if state.latest_final else calendar.previous_session(state.latest)
    boundary = final_after(session) if session is not None else None
    if boundary is None or fetched_at >= boundary:
        return True, "no session has become final since it was fetched"
    return False, f"the {session.isoformat()} session became final after it was fetched"


def covered_days(coverage: Coverage, sessions: np.ndarray) -> np.ndarray:
    """The sessions of ``sessions`` that ``coverage`` holds (a helper for callers summarising plans)."""
    return sessions[coverage.covered(sessions)]
