"""What counts as a gap: a trading session inside the listed life with no bar and no suspension.

A gap is bounded by real bars on both sides (its anchors), because every fill here is conditioned on both
sides. Missing sessions before the first bar or after the last bar of a frame are not gaps: nothing anchors
them, and they may be a listing, a delisting or data not yet fetched. Suspended sessions are not gaps unless
the caller asks to fill them; inside a run that mixes both, the model still steps through the suspended days
(``span``) but only the unsuspended ones are filled (``sessions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from quantdb_lab.errors import InvalidRequestError

Suspensions = Iterable[tuple[date, date]]


@dataclass(frozen=True, slots=True)
class Gap:
    """One run of consecutive missing sessions between two real bars."""

    before: date  # the last real bar before the run (left anchor)
    after: date  # the first real bar after the run (right anchor)
    span: tuple[date, ...]  # every missing session of the run, suspended or not
    sessions: tuple[date, ...]  # the sessions to fill: ``span`` minus suspensions unless they are filled

    @property
    def start(self) -> date:
        return self.sessions[0]

    @property
    def end(self) -> date:
        return self.sessions[-1]

    @property
    def length(self) -> int:
        """Sessions between the anchors: what sets the uncertainty and the ``max_gap`` rule."""
        return len(self.span)


def _suspended(day: date, suspensions: Sequence[tuple[date, date]]) -> bool:
    return any(first <= day <= last for first, last in suspensions)


def find_gaps(
    dates: Iterable[date] | pl.Series,
    sessions: Iterable[date],
    *,
    suspensions: Suspensions = (),
    fill_suspensions: bool = False,
    listed: tuple[date | None, date | None] = (None, None),
) -> list[Gap]:
    """Gaps of a series whose bars fall on ``dates``, against the calendar ``sessions``.

    ``suspensions`` are (first, last) inclusive runs of known suspended sessions; ``listed`` optionally narrows
    the life of the security (listing date, delisting date). Runs of missing sessions made only of suspended
    days are skipped unless ``fill_suspensions``.
    """
    bars = sorted(set(dates))
    if not bars:
        return []
    first, last = bars[0], bars[-1]
    if listed[0] is not None:
        first = max(first, listed[0])
    if listed[1] is not None:
        last = min(last, listed[1])
    known = sorted(suspensions)
    present = set(bars)
    grid = sorted({d for d in sessions if first <= d <= last} | {d for d in bars if first <= d <= last})
    gaps: list[Gap] = []
    run: list[date] = []
    previous: date | None = None
    for day in grid:
        if day not in present:
            run.append(day)
            continue
        if run and previous is not None:
            wanted = tuple(d for d in run if fill_suspensions or not _suspended(d, known))
            if wanted:
                gaps.append(Gap(before=previous, after=day, span=tuple(run), sessions=wanted))
        run = []
        previous = day
    return gaps


def check_series(frame: pl.DataFrame) -> None:
    """Raise InvalidRequestError unless ``frame`` is one series with unique dates and the price columns."""
    missing = [c for c in ("date", "open", "high", "low", "close") if c not in frame.columns]
    if missing:
        raise InvalidRequestError(f"a series to fill needs columns {missing}")
    if frame.schema["date"] != pl.Date:
        raise InvalidRequestError(f"the date column must be pl.Date, not {frame.schema['date']}")
    if frame.is_empty():
        raise InvalidRequestError("the series is empty: there is nothing to anchor a fill")
    if "symbol" in frame.columns and frame["symbol"].n_unique() > 1:
        raise InvalidRequestError("fill one symbol at a time (the frame holds several)")
    if frame["date"].n_unique() != frame.height:
        raise InvalidRequestError("the series has duplicate dates; deduplicate it before filling")
    if frame["close"].null_count() or (frame["close"] <= 0).any():
        raise InvalidRequestError("the series has null or non-positive closes; a log-price model cannot use them")
