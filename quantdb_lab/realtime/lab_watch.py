"""``lab.watch`` and ``lab.quotes``: the realtime layer wired to a Lab."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

from quantdb_lab.domain.symbols import parse_symbols
from quantdb_lab.errors import QuantdbError
from quantdb_lab.realtime.processors import Pipeline
from quantdb_lab.realtime.quote_service import QuoteService
from quantdb_lab.realtime.watcher import Pace, Watcher, wall_pace

BASELINE_SESSIONS = 20


def quotes(lab: Any, symbols: Any = None, *, max_age: timedelta | None = None) -> pl.DataFrame:
    return QuoteService(lab, max_age=max_age).get(symbols)


def baseline_volumes(lab: Any, symbols: list[str], before: date, *, sessions: int = BASELINE_SESSIONS) -> pl.DataFrame:
    """Mean daily volume over the ``sessions`` sessions before ``before``, from daily bars through the cache."""
    previous = lab.calendar.previous_session(before)
    schema = {"symbol": pl.String(), "baseline_volume": pl.Float64()}
    if previous is None or not symbols:
        return pl.DataFrame(schema=schema)
    first = lab.calendar.sessions(previous - timedelta(days=sessions * 2 + 14), previous)[-sessions:][0]
    try:
        bars = lab.using(lab.mode.with_(on_quality_fail="ignore", gap_policy="keep")).bars(
            symbols, start=first, end=previous, adjust="")
    except QuantdbError:
        return pl.DataFrame(schema=schema)
    return bars.group_by("symbol").agg(pl.col("volume").tail(sessions).mean().alias("baseline_volume")).cast(schema)


def watch(
    lab: Any,
    symbols: Any,
    *,
    interval: float | None = None,
    baseline: pl.DataFrame | None = None,
    spike_ratio: float = 3.0,
    max_age: timedelta | None = None,
    pace: Pace = wall_pace,
    until: Any = None,
    start: bool = True,
) -> Watcher:
    """A started ``Watcher`` over ``symbols`` (None: the whole market). ``interval`` defaults to the quote
    freshness; ``baseline`` (symbol, baseline_volume) defaults to the mean daily volume of the last 20 sessions
    (through the cache) for a watchlist, none for the whole market (no volume spikes then)."""
    service = QuoteService(lab, max_age=max_age)
    wanted = None if symbols is None else [s.canonical for s in parse_symbols(symbols)]
    if baseline is None and wanted is not None:
        baseline = baseline_volumes(lab, wanted, lab.clock.now().date())
    family = lab.provider.quotes_host_family()

    def breaker() -> tuple[str, str, Any] | None:
        for row in lab.throttle.status():
            if row["host_family"] == family:
                return family, row["breaker"], row["open_until"]
        return None

    watcher = Watcher(
        lambda: service.get(wanted, warn=False),  # outside sessions the watcher reports service.closed instead
        interval=interval if interval is not None else service.max_age.total_seconds(),
        pipeline=Pipeline(baseline=baseline, spike_ratio=spike_ratio),
        pace=pace, until=until, breaker=breaker, now=lab.clock.now, market=lambda: service.closed(wanted),
    )  # fmt: skip
    watcher.service = service
    return watcher.start() if start else watcher
