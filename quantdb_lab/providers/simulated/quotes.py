"""Live quote snapshots of a SimulatedMarket, read off the same intraday paths as its provisional bars.

At a moment ``now`` during a session, a symbol's quote is the path's point ``minute`` minutes in (``last``), the
path's extremes so far (``high``/``low``), and the cumulative volume and amount of the minute bars that
``SimulatedMarket.intraday_path`` reports up to then, so a snapshot and the minute bars always agree. Before the
open and after the close the latest session's final state is shown. A symbol listed but without a bar in the
session (suspended) is ``halted`` with its previous close. Limit prices follow the board rules the daily
simulation clips at; indices and Hong Kong stocks have none (null).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.domain.clock import EXCHANGE_TZ, to_exchange_time
from quantdb_lab.domain.quotes import QUOTES, conform_quotes, empty_quotes
from quantdb_lab.providers.simulated.engine import _limits
from quantdb_lab.providers.simulated.intraday import MINUTES, OPEN_AUCTION_SHARE, minute_end_times
from quantdb_lab.providers.simulated.market import SimulatedMarket


@dataclass(frozen=True, slots=True)
class _Day:
    """One symbol's session, precomputed: path points, running extremes and cumulative volume/amount."""

    prices: np.ndarray  # 241 points
    high: np.ndarray  # running max of prices
    low: np.ndarray
    volume: np.ndarray  # 241 cumulative volumes (index 0: opening auction)
    amount: np.ndarray
    prev_close: float
    limit: float  # fraction; inf for none


class QuoteBook:
    """Builds snapshots; memoises each (symbol, session) day so a replay's polls cost microseconds per row."""

    def __init__(self, market: SimulatedMarket, *, cache_size: int = 4096) -> None:
        self.market = market
        self._days: OrderedDict[tuple[str, int], _Day | None] = OrderedDict()
        self._lock = threading.Lock()
        self._cache_size = cache_size

    def snapshot(self, symbols: list[str] | None, *, now: datetime) -> pl.DataFrame:
        market = self.market
        moment = to_exchange_time(now)
        vis = market.visibility(moment)
        if vis.latest is None:
            return empty_quotes()
        session = vis.latest
        minute = MINUTES if vis.settled else int(vis.minute)
        stamp = _quote_time(session, minute)
        rows: dict[str, list] = {name: [] for name in QUOTES}
        for symbol in symbols if symbols is not None else market.symbols("stock"):
            found = self._day(symbol, session)
            if found is None:
                continue
            day, halted = found
            if halted:
                values = (day.prev_close, None, None, None, 0.0, 0.0)
            else:
                values = (float(day.prices[minute]), float(day.prices[0]), float(day.high[minute]),
                          float(day.low[minute]), float(day.volume[minute]), float(day.amount[minute]))  # fmt: skip
            last, open_, high, low, volume, amount = values
            up, down = _limit_prices(day.prev_close, day.limit)
            for name, value in zip(QUOTES, (symbol, stamp, last, open_, high, low, day.prev_close, volume, amount,
                                            last / day.prev_close - 1.0, up, down, halted)):  # fmt: skip
                rows[name].append(value)
        if not rows["symbol"]:
            return empty_quotes()
        return conform_quotes(pl.DataFrame(rows, schema=QUOTES))

    def _day(self, symbol: str, session: date) -> tuple[_Day, bool] | None:
        """The symbol's day and whether it is halted; None if not listed by the session (or unknown)."""
        key = (symbol, day_number(session))
        with self._lock:
            if key in self._days:
                self._days.move_to_end(key)
                cached = self._days[key]
                return None if cached is None else (cached, cached.prices.size == 0)
        built = self._build(symbol, session)
        with self._lock:
            self._days[key] = built
            while len(self._days) > self._cache_size:
                self._days.popitem(last=False)
        return None if built is None else (built, built.prices.size == 0)

    def _build(self, symbol: str, session: date) -> _Day | None:
        market = self.market
        history, profile = market.history(symbol), market.profile(symbol)
        if history is None or profile is None:
            return None
        target = day_number(session)
        row = int(np.searchsorted(history.days, target))
        if row == 0 and (not len(history.days) or history.days[0] != target):
            return None  # not listed yet
        limit = float(_limits(profile, np.array([history.days[0], target], dtype=np.int64))[1])
        if row >= len(history.days) or history.days[row] != target:
            previous = float(history.close[row - 1])
            return _Day(np.empty(0), np.empty(0), np.empty(0), np.empty(0), np.empty(0), previous, limit)
        prev_close = float(history.ref[row])
        minutes = market.intraday_path(symbol, session, now=_after_close(session))
        prices = market._path(symbol, history, row).prices
        auction = np.floor(float(history.volume[row]) * OPEN_AUCTION_SHARE / 100.0 + 0.5) * 100.0
        volume = np.concatenate([[auction], np.cumsum(minutes["volume"].to_numpy())])
        amount = np.concatenate([[round(auction * prices[0], 2)], np.cumsum(minutes["amount"].to_numpy())])
        if row == 0:
            limit = float("inf")  # the listing day has no limit
        return _Day(prices, np.maximum.accumulate(prices), np.minimum.accumulate(prices), volume, amount,
                    prev_close, limit)  # fmt: skip


def _limit_prices(prev_close: float, limit: float) -> tuple[float | None, float | None]:
    if not np.isfinite(limit):
        return None, None
    up = np.floor(prev_close * (1.0 + limit) * 100.0 + 0.5 + 1e-9) / 100.0
    down = np.floor(prev_close * (1.0 - limit) * 100.0 + 0.5 + 1e-9) / 100.0
    return float(up), float(down)


def _quote_time(session: date, minute: int) -> datetime:
    if minute <= 0:
        return datetime.combine(session, time(9, 30), tzinfo=EXCHANGE_TZ)
    return minute_end_times(session)[minute - 1]


def _after_close(session: date) -> datetime:
    return datetime.combine(session, time(23, 0), tzinfo=EXCHANGE_TZ)
