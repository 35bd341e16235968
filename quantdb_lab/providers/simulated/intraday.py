"""Minute-level paths inside one session, consistent with the day's final bar, and the provisional bar of an
open session read off that path.

A path has 241 points: the opening auction price at 09:30 and the close of each of the 240 trading minutes
(09:31-11:30, 13:01-15:00). It starts at the day's open, ends at its close and touches its high and low, so a
provisional bar never leaves the final bar's range. Volume follows a U-shaped profile; the closing auction's
share is only counted once the day is settled (SESSION_FINAL), as Eastmoney does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.providers.simulated.universe import symbol_rng

MINUTES = 240
OPEN_AUCTION_SHARE = 0.02
CLOSE_AUCTION_SHARE = 0.03
_MORNING = (time(9, 30), time(11, 30))
_AFTERNOON = (time(13, 0), time(15, 0))


def elapsed_minutes(moment: time) -> int:
    """Whole trading minutes elapsed since 09:30 (0 at the open, 120 over lunch, 240 from 15:00)."""
    minutes = moment.hour * 60 + moment.minute
    if moment < _MORNING[1]:
        return max(minutes - (9 * 60 + 30), 0)
    if moment < _AFTERNOON[0]:
        return 120
    return min(120 + minutes - 13 * 60, MINUTES)


def minute_end_times(session: date) -> list[datetime]:
    """The end time of each of the 240 minute bars, exchange time."""
    morning = datetime.combine(session, _MORNING[0], tzinfo=EXCHANGE_TZ)
    afternoon = datetime.combine(session, _AFTERNOON[0], tzinfo=EXCHANGE_TZ)
    return [morning + timedelta(minutes=k) for k in range(1, 121)] + [
        afternoon + timedelta(minutes=k) for k in range(1, 121)
    ]


@dataclass(frozen=True, slots=True)
class DayPath:
    prices: np.ndarray  # 241 points, see the module docstring
    cum_share: np.ndarray  # 241 cumulative volume shares, closing auction excluded
    minute_share: np.ndarray  # 240 per-minute shares, closing auction included in the last; sums to 1


def make_path(
    seed: int, symbol: str, session: date, bar: tuple[float, float, float, float], scale: int
) -> DayPath:
    open_, high, low, close = bar
    rng = symbol_rng(seed, symbol, 16 + day_number(session))
    if high == low:
        prices = np.full(MINUTES + 1, close)
    else:
        k_high, k_low = rng.choice(np.arange(1, MINUTES), size=2, replace=False)
        knots = sorted([(0, open_), (int(k_high), high), (int(k_low), low), (MINUTES, close)])
        prices = np.empty(MINUTES + 1)
        for (a, pa), (b, pb) in zip(knots, knots[1:], strict=False):
            steps = b - a
            walk = np.cumsum(np.concatenate([[0.0], rng.standard_normal(steps)]))
            bridge = walk - np.linspace(0.0, 1.0, steps + 1) * walk[-1]
            prices[a : b + 1] = np.linspace(pa, pb, steps + 1) + bridge * (high - low) * 0.08
        prices = np.clip(np.floor(prices * scale + 0.5) / scale, low, high)
        for k, value in knots:  # exact knots survive rounding and clipping
            prices[k] = value
    minutes = np.arange(1, MINUTES + 1)
    weight = (1.0 + 2.0 * np.exp(-minutes / 20.0) + 1.5 * np.exp(-(MINUTES - minutes) / 15.0)) * np.exp(
        0.3 * rng.standard_normal(MINUTES)
    )
    weight *= (1.0 - OPEN_AUCTION_SHARE - CLOSE_AUCTION_SHARE) / weight.sum()
    cum_share = OPEN_AUCTION_SHARE + np.concatenate([[0.0], np.cumsum(weight)])
    minute_share = weight.copy()
    minute_share[0] += OPEN_AUCTION_SHARE
    minute_share[-1] += CLOSE_AUCTION_SHARE
    return DayPath(prices=prices, cum_share=cum_share, minute_share=minute_share)


def provisional_values(path: DayPath, minute: int, *, settled: bool) -> dict[str, float]:
    """Open, high, low, close and the traded share of the day's volume as seen ``minute`` minutes in."""
    if settled:
        seen, share = path.prices, 1.0
    else:
        seen, share = path.prices[: minute + 1], float(path.cum_share[minute])
    return {
        "open": float(path.prices[0]),
        "high": float(seen.max()),
        "low": float(seen.min()),
        "close": float(seen[-1]),
        "share": share,
    }
