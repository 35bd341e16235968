"""Typed events the realtime pipeline publishes (``quantdb_lab.realtime.bus``).

``PriceUpdate`` is one event per snapshot carrying the rows whose price changed (a polars frame: a whole-market
snapshot changes thousands of rows a minute, and one object per row would cost more than the processing).
The others are rare and carry one symbol each. Every event has ``time``: the snapshot's quote time
(``MarketClosed``: the poll's, when the watcher found no session trading).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl


@dataclass(frozen=True, slots=True)
class Event:
    time: datetime


@dataclass(frozen=True, slots=True)
class PriceUpdate(Event):
    quotes: pl.DataFrame  # the QUOTES rows whose last price changed (all rows of the first snapshot)

    @property
    def symbols(self) -> list[str]:
        return self.quotes["symbol"].to_list()


@dataclass(frozen=True, slots=True)
class VolumeSpike(Event):
    symbol: str
    volume: float  # shares traded so far in the session
    expected: float  # the baseline's volume by this time of day
    ratio: float


@dataclass(frozen=True, slots=True)
class LimitHit(Event):
    symbol: str
    side: str  # "up" | "down"
    price: float


@dataclass(frozen=True, slots=True)
class LimitRelease(Event):
    symbol: str
    side: str
    price: float  # the last price after leaving the limit


@dataclass(frozen=True, slots=True)
class Halt(Event):
    symbol: str


@dataclass(frozen=True, slots=True)
class BreakerOpened(Event):
    host_family: str
    retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class BreakerClosed(Event):
    host_family: str


@dataclass(frozen=True, slots=True)
class MarketClosed(Event):
    """No session is trading: published on a watcher's first poll outside trading hours and when a session
    closes; ``note`` is the one-line state (``realtime.session.closed_note``)."""

    next_open: datetime
    note: str


EVENT_TYPES: tuple[type[Event], ...] = (PriceUpdate, VolumeSpike, LimitHit, LimitRelease, Halt, BreakerOpened,
                                        BreakerClosed, MarketClosed)  # fmt: skip
