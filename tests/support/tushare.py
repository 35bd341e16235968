"""Tushare's five-year return with its own cent rounding taken out, the independent answer our qfq is held to
(tests/integration/test_real_adjustment.py, benchmarks/bench_adjust.py).

Tushare publishes qfq to the cent: at 1.86 CNY one cent is 0.5 %, so a return read off its first and last
prices is uncertain by about 0.4 pp, four times the 0.1 pp target. But its qfq is the raw price times one scale
between two ex-dates, so the scale in force on the first day is pinned by the run of rows from that day on that
one scale fits (the intersection of every row's half-cent interval, until it would be empty or an ex-date comes),
and the scale on the last day likewise. Their ratio times the raw return bounds Tushare's unrounded return.
Ex-dates are read off the exchange's own numbers (a previous close other than the day's reference price,
``close - change``), not off the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

HALF_CENT = 0.005


@dataclass(frozen=True)
class PinnedReturn:
    first: date  # the first and last days both series trade
    last: date
    low: float  # Tushare's cumulative return (1 + R) from ``first`` to ``last`` lies in [low, high]
    high: float
    rows: tuple[int, int]  # rows pinning the scale at each end

    @property
    def middle(self) -> float:
        return (self.low + self.high) / 2


def _run(close: np.ndarray, published: np.ndarray, ex_date: np.ndarray) -> tuple[float, float, int]:
    """The interval of the one scale fitting ``published`` from the first row on, and how many rows it holds."""
    low = np.maximum.accumulate((published - HALF_CENT) / close)
    high = np.minimum.accumulate((published + HALF_CENT) / close)
    stop = (low > high) | (np.cumsum(ex_date) > 0)
    n = int(np.argmax(stop)) if stop.any() else len(close)
    return float(low[n - 1]), float(high[n - 1]), n


def pinned_return(raw: pl.DataFrame, tushare: pl.DataFrame) -> PinnedReturn:
    """``raw``: the exchange's unadjusted bars (``date, close, change, volume``); ``tushare``: its qfq (``date,
    close``). Suspended days (no volume, or missing from Tushare) are left out."""
    traded = raw.filter(pl.col("volume") > 0).select(
        "date", "close", (pl.col("close").shift(1) - (pl.col("close") - pl.col("change"))).abs().alias("jump"))
    both = traded.join(tushare.select("date", pl.col("close").alias("ts")), on="date").filter(pl.col("ts") > 0)
    close, published = both["close"].to_numpy(), both["ts"].to_numpy()
    ex_date = np.nan_to_num(both["jump"].to_numpy(), nan=0.0) > HALF_CENT  # previous close != reference price
    ex_date[0] = False
    low_0, high_0, run_0 = _run(close, published, ex_date)
    # backwards: the rows of the last day's segment are those after its last ex-date (inclusive)
    after = np.concatenate([ex_date[1:], [False]])[::-1]
    low_n, high_n, run_n = _run(close[::-1], published[::-1], after)
    raw_return = close[-1] / close[0]
    return PinnedReturn(both["date"][0], both["date"][-1], raw_return * low_n / high_0, raw_return * high_n / low_0,
                        (run_0, run_n))  # fmt: skip
