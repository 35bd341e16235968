"""Finders for tests and demos: which simulated symbols go ex-dividend, are suspended or hit limit streaks.

Ex-dates and suspensions come from schedules, which never need a price path, so scanning a whole market is
cheap (milliseconds). These helpers ignore the clock on purpose: a test asks "who goes ex-dividend next week"
and then moves its FixedClock there.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import day_number, from_day_number
from quantdb_lab.domain.symbols import Symbol

if TYPE_CHECKING:
    from quantdb_lab.providers.simulated.market import SimulatedMarket

STREAKS_SCHEMA = {"start": pl.Date(), "end": pl.Date(), "length": pl.Int64(), "direction": pl.Int64()}


def ex_dates(market: SimulatedMarket, symbol: str | Symbol) -> list[date]:
    """Every scheduled ex-date of ``symbol`` up to the horizon (clock ignored)."""
    schedule = market.schedule(symbol)
    if schedule is None or not len(schedule.ex_pos):
        return []
    return [from_day_number(d) for d in market.factors.days[schedule.bar_g[schedule.ex_pos]]]


def symbols_with_action_between(market: SimulatedMarket, start: date, end: date) -> list[str]:
    """Stocks (A-share and HK) with an ex-date in ``[start, end]``."""
    lo, hi = day_number(start), day_number(end)
    out = []
    for symbol in market.symbols("stock") + market.symbols("hk"):
        days = [day_number(d) for d in ex_dates(market, symbol)]
        if any(lo <= d <= hi for d in days):
            out.append(symbol)
    return out


def next_action_after(
    market: SimulatedMarket, day: date, *, symbol: str | Symbol | None = None
) -> tuple[str, date] | None:
    """The earliest (symbol, ex_date) strictly after ``day``, over one symbol or the whole market."""
    candidates = [symbol] if symbol is not None else market.symbols("stock") + market.symbols("hk")
    best: tuple[str, date] | None = None
    for candidate in candidates:
        later = [d for d in ex_dates(market, candidate) if d > day]
        if later and (best is None or later[0] < best[1]):
            best = (str(candidate), later[0])
    return best


def suspensions(market: SimulatedMarket, symbol: str | Symbol) -> list[tuple[date, date]]:
    """Suspension runs as (first session without a bar, last session without a bar)."""
    schedule = market.schedule(symbol)
    if schedule is None:
        return []
    days = market.factors.days
    return [(from_day_number(days[a]), from_day_number(days[b])) for a, b in schedule.suspensions]


def symbols_with_suspension_between(market: SimulatedMarket, start: date, end: date) -> list[str]:
    """Stocks with at least one suspended session inside ``[start, end]``."""
    out = []
    for symbol in market.symbols("stock") + market.symbols("hk"):
        if any(first <= end and last >= start for first, last in suspensions(market, symbol)):
            out.append(symbol)
    return out


def limit_streaks(market: SimulatedMarket, symbol: str | Symbol, *, min_length: int = 2) -> pl.DataFrame:
    """Runs of consecutive bars closing at the daily limit (direction +1 up, -1 down) in the full history."""
    history = market.history(symbol)
    if history is None or not len(history.flag):
        return pl.DataFrame(schema=STREAKS_SCHEMA)
    sign = np.sign(history.flag).astype(np.int64)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], sign, [0]])))
    rows = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if sign[a] != 0 and b - a >= min_length:
            rows.append((from_day_number(history.days[a]), from_day_number(history.days[b - 1]), int(b - a),
                         int(sign[a])))  # fmt: skip
    return pl.DataFrame(rows, schema=STREAKS_SCHEMA, orient="row")


def find_limit_streak(
    market: SimulatedMarket,
    *,
    min_length: int = 3,
    direction: int = 1,
    board: str | None = None,
    before: date | None = None,
) -> tuple[str, date, date] | None:
    """The first stock (in symbol order) with a limit streak of at least ``min_length`` bars ending by
    ``before``: (symbol, first day, last day). Generates histories one by one until found."""
    for symbol in market.symbols("stock"):
        profile = market.profile(symbol)
        if board is not None and profile is not None and profile.board != board:
            continue
        streaks = limit_streaks(market, symbol, min_length=min_length).filter(pl.col("direction") == direction)
        if before is not None:
            streaks = streaks.filter(pl.col("end") <= before)
        if streaks.height:
            return symbol, streaks["start"][0], streaks["end"][0]
    return None
