"""The pure load planner: request + mode + what is stored + calendar + now -> which upstream calls to make.

Nothing here does I/O, so the rules are tested as tables (tests/unit/test_plan.py):

* Every adjustment reads the unadjusted ``bars`` alone (``loader.adjust`` derives qfq and hfq from the factor
  events they carry). ``""`` needs them over the request. ``"hfq"`` needs them from the listing (the first
  session) to the end: the back-adjusted price multiplies every factor since. ``"qfq"`` needs them from the start
  to the reference session R (the latest session, or the ``as_of`` cutoff): every factor after a day up to R
  scales it, so a dividend paid after the first fetch changes the scale, and only the new sessions are fetched.
* One upstream call per contiguous run of missing sessions of each series; holidays and weekends inside a run
  never split it, and nothing is asked for non-sessions or for final sessions already stored.
* The open session's bar is provisional: it is served while younger than the mode's ``cache_duration`` and
  fetched again after that, and again once the session is final.
* A range partly in the future is served up to the latest session; reading past ``as_of`` raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from quantdb_lab.domain.calendar import (
    FIRST_SESSION,
    TradingCalendar,
    day_number,
    from_day_number,
)
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import (
    InvalidDateRangeError,
    InvalidRequestError,
    LookAheadError,
)
from quantdb_lab.store.coverage import missing_runs
from quantdb_lab.store.series_store import SeriesKey, SeriesMeta

EARLIEST = FIRST_SESSION  # the market's first session: a request with no start reads from it
ADJUSTMENTS = ("", "qfq", "hfq")


@dataclass(frozen=True, slots=True)
class BarRequest:
    symbol: Symbol
    start: date | None
    end: date | None
    adjust: str


@dataclass(frozen=True, slots=True)
class Fetch:
    key: SeriesKey
    start: date
    end: date  # inclusive; both ends are sessions


@dataclass(frozen=True, slots=True)
class Need:
    key: SeriesKey
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class LoadPlan:
    request: BarRequest
    start: date  # effective, inclusive
    end: date  # effective, inclusive: never past the latest session or as_of
    reference: date  # session R that qfq is scaled to
    needs: tuple[Need, ...]
    fetches: tuple[Fetch, ...]
    provisional: date | None  # the open session, when the result includes its not-yet-final bar
    notes: tuple[str, ...]

    @property
    def is_warm(self) -> bool:
        return not self.fetches


def _effective_range(request: BarRequest, mode: ContextMode, calendar: TradingCalendar, now: datetime):
    notes: list[str] = []
    end = request.end
    if mode.as_of is not None:
        if end is not None and end > mode.as_of:
            raise LookAheadError(
                f"reading past the point-in-time cutoff as_of={mode.as_of.isoformat()}",
                symbol=request.symbol.canonical,
                end=end,
                mode=mode.name,
            )
        if request.start is not None and request.start > mode.as_of:
            raise LookAheadError("the whole range lies past as_of", symbol=request.symbol.canonical, mode=mode.name)
    state = calendar.state(now)
    latest = state.latest
    if mode.as_of is not None:
        cutoff = mode.as_of if calendar.is_session(mode.as_of) else calendar.previous_session(mode.as_of)
        if cutoff is not None and (latest is None or cutoff < latest):
            latest = cutoff
    if latest is None:
        raise InvalidDateRangeError("no trading session has happened yet", symbol=request.symbol.canonical)
    start = request.start or EARLIEST
    if start > latest:
        raise InvalidDateRangeError(
            f"the range starts after the latest session {latest.isoformat()}: there is no data yet",
            symbol=request.symbol.canonical,
            start=request.start,
            end=request.end,
        )
    if end is None or end > latest:
        if end is not None:
            notes.append(f"end {end.isoformat()} is in the future: served up to {latest.isoformat()}")
        end = latest
    open_session = latest if (state.latest == latest and not state.latest_final) else None
    return start, end, latest, open_session, notes


def _needs(request: BarRequest, start: date, end: date, reference: date) -> tuple[Need, ...]:
    symbol = request.symbol.canonical
    if request.adjust == "":
        return (Need(SeriesKey("bars", symbol), start, end),)
    if request.adjust == "hfq":
        return (Need(SeriesKey("bars", symbol), EARLIEST, end),)
    return (Need(SeriesKey("bars", symbol), start, reference),)


def plan_load(
    request: BarRequest,
    mode: ContextMode,
    stored: dict[SeriesKey, SeriesMeta | None],
    calendar: TradingCalendar,
    now: datetime,
) -> LoadPlan:
    """Decide the upstream calls for ``request``; ``stored`` maps each needed key to its metadata (or None)."""
    if request.adjust not in ADJUSTMENTS:
        raise InvalidRequestError(f"adjust must be one of '', 'qfq', 'hfq', not {request.adjust!r}")
    start, end, reference, open_session, notes = _effective_range(request, mode, calendar, now)
    needs = _needs(request, start, end, reference)
    fetches: list[Fetch] = []
    provisional_served = None
    for need in needs:
        meta = stored.get(need.key) or SeriesMeta()
        sessions = calendar.session_days(need.start, need.end)
        coverage = meta.coverage
        if open_session is not None and need.end >= open_session:
            fresh = (
                meta.provisional_day == day_number(open_session)
                and meta.provisional_at is not None
                and now.timestamp() - meta.provisional_at < mode.cache_duration.total_seconds()
            )
            if fresh:
                coverage = coverage.add(day_number(open_session), day_number(open_session))
            provisional_served = open_session
        for first, last in missing_runs(sessions, coverage):
            fetches.append(Fetch(need.key, from_day_number(first), from_day_number(last)))
    if provisional_served is not None:
        notes.append(f"{provisional_served.isoformat()} is the open session: its bar is provisional")
    return LoadPlan(
        request=request,
        start=start,
        end=end,
        reference=reference,
        needs=needs,
        fetches=tuple(fetches),
        provisional=provisional_served,
        notes=tuple(notes),
    )
