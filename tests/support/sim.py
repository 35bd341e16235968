"""A Lab over the simulated market with a fixed clock, for integration tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider

MARKET = SimulatedMarket(seed=7)  # deterministic and read-only: shared by every test


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EXCHANGE_TZ)


def make_lab(tmp_path, now: str = "2025-06-06 16:00", *, mode: str = "research", latency: float = 0.0):
    clock = FixedClock(at(now))
    provider = SimulatedProvider(MARKET, latency=latency, faults=Faults(), clock=clock)
    lab = Lab(tmp_path / "cache", provider=provider, mode=mode, clock=clock)
    return lab, provider, clock


def calls(provider: SimulatedProvider) -> int:
    return provider.calls["fetch_daily_bars"]


def d(text: str) -> date:
    return date.fromisoformat(text)


def weekdays(start: date, count: int) -> list[date]:
    """``count`` weekdays from ``start`` on (holidays included: a plain business-day axis)."""
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days
