"""The simulated market's sessions and its common return factors (one market factor, one per sector).

Sessions are XSHG's up to 2026-12-31 (``XSHG_UNTIL``, whatever exchange-calendars release is installed), then
weekdays less the simulated market's own holidays (``HOLIDAYS``: 2027's) up to a fixed ``HORIZON``: the history
is generated once up to that horizon whatever the clock says, so data never depends on when it was asked for.
The holidays do not move the generated history: the grid keeps as many sessions as weekdays alone would give
(the last ones run a few days past ``HORIZON``), so every series' n-th session has the same bar as before they
were added, and history before the first holiday is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np

from quantdb_lab.domain.calendar import FIRST_SESSION, TradingCalendar, day_number

from quantdb_lab.providers.simulated.universe import SECTORS

HORIZON: Final = date(2035, 12, 31)
PRICE_LIMITS_FROM: Final = date(1996, 12, 16)  # daily limits did not exist before this day
CHINEXT_20PCT_FROM: Final = date(2020, 8, 24)  # ChiNext limit went from 10% to 20%


XSHG_UNTIL: Final = date(2026, 12, 31)  # the last day of exchange-calendars 4.13's XSHG holidays
# Weekday closures of the simulated market past XSHG_UNTIL, on the statutory pattern the exchanges follow (New
# Year, Spring Festival from its eve, Qingming, Labour Day, Dragon Boat, Mid-Autumn, National Day): what its
# upstream's trade dates report. Later years are weekdays.
HOLIDAYS: Final = frozenset(date.fromisoformat(day) for day in (
    "2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12",
    "2027-04-05", "2027-05-03", "2027-05-04", "2027-05-05", "2027-06-09", "2027-09-15",
    "2027-10-01", "2027-10-04", "2027-10-05", "2027-10-06", "2027-10-07",
))  # fmt: skip


def simulated_calendar() -> TradingCalendar:
    """XSHG sessions to XSHG_UNTIL, then weekdays less HOLIDAYS (what the simulated upstream reports)."""
    xshg = TradingCalendar.xshg()
    base = TradingCalendar.from_dates(xshg.sessions(FIRST_SESSION, min(xshg.bound, XSHG_UNTIL)),
                                      source=xshg.source)  # fmt: skip
    extra, day, owed = [], XSHG_UNTIL + timedelta(days=1), 0
    while day <= HORIZON or owed:
        if day.weekday() < 5 and day in HOLIDAYS:
            owed += 1  # one more weekday past HORIZON keeps the grid's length
        elif day.weekday() < 5:
            extra.append(day)
            owed -= day > HORIZON
        day += timedelta(days=1)
    return base.extend(extra)


# Rough shape of the SSE Composite (base 100): booms of 1992, 2007, 2015 and long flat stretches.
_SHAPE: Final[dict[date, float]] = {
    date(1990, 12, 19): 100.0, date(1993, 2, 15): 1500.0, date(1996, 1, 19): 540.0, date(2001, 6, 14): 2240.0,
    date(2005, 6, 6): 1000.0, date(2007, 10, 16): 6100.0, date(2008, 11, 4): 1700.0, date(2015, 6, 12): 5100.0,
    date(2019, 1, 4): 2450.0, date(2024, 1, 1): 2950.0, HORIZON: 4000.0,
}


def _ewma(values: np.ndarray, halflife: float) -> np.ndarray:
    """Causal exponentially weighted mean (weights renormalised over the short early window)."""
    kernel = 0.5 ** (np.arange(int(halflife * 8)) / halflife)
    weights = np.cumsum(kernel)[np.minimum(np.arange(len(values)), len(kernel) - 1)]
    return np.convolve(values, kernel)[: len(values)] / weights


def _smooth(noise: np.ndarray, halflife: float) -> np.ndarray:
    """An exponentially weighted moving average of white noise, rescaled to unit variance."""
    decay = 0.5 ** (1.0 / halflife)
    kernel = decay ** np.arange(int(halflife * 8))
    out = np.convolve(noise, kernel)[: len(noise)]
    return out / np.sqrt((kernel**2).sum())


@dataclass(frozen=True, slots=True)
class Factors:
    """Per-session common log-returns; ``vol`` scales idiosyncratic noise in turbulent regimes."""

    days: np.ndarray  # session day numbers, ascending
    market: np.ndarray
    sectors: np.ndarray  # shape (len(SECTORS), n)
    vol: np.ndarray  # relative volatility regime, mean about 1

    def index_of(self, day: date) -> int:
        """Position of the first session on or after ``day``."""
        return int(np.searchsorted(self.days, day_number(day), side="left"))


def make_factors(seed: int, calendar: TradingCalendar) -> Factors:
    days = calendar.session_days(FIRST_SESSION, calendar.bound)  # through HORIZON and the days owed past it
    n = len(days)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, 0x4D4B54])
    # Volatility clusters (GARCH-like in look, cheap to draw) and was wilder before price limits existed.
    regime = np.exp(0.35 * _smooth(rng.standard_normal(n), 40.0))
    early = days < day_number(PRICE_LIMITS_FROM)
    regime = regime * np.where(early, 2.2, 1.0)
    market = 0.00005 + 0.011 * regime * rng.standard_t(4, n) / np.sqrt(2.0)
    # A pure random walk wanders far in 45 years (SSE at 40,000 or 400); pull the slow part of its level onto
    # a rough shape of the real SSE Composite, keeping every move shorter than about a year random.
    level = np.cumsum(market)
    target = np.interp(days, [day_number(d) for d in _SHAPE], np.log([v / 100.0 for v in _SHAPE.values()]))
    gap = _ewma(level - target, 250.0)
    market = market - np.diff(gap, prepend=0.0)
    sector_noise = rng.standard_t(4, (len(SECTORS), n)) / np.sqrt(2.0)
    sector_drift = 0.0004 * np.stack([_smooth(rng.standard_normal(n), 250.0) for _ in SECTORS])
    sectors = sector_drift + 0.007 * regime * sector_noise
    return Factors(days=days, market=market, sectors=sectors, vol=regime / regime.mean())
