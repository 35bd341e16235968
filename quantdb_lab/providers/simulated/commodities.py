"""Synthetic futures main contracts (e.g. ``SC0``, INE crude oil) driven by the simulated market's factors.

NOT REAL DATA. A commodity's daily log-return is a loading on one sector factor (crude oil on Energy) plus a
little market and its own noise, so a question like "correlation of oil and the energy sector" has a real,
positive answer on the simulated market. Deterministic in ``(seed, code)``; independent of the clock except
for what is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.domain.schema import COMMODITY_BARS, empty_frame
from quantdb_lab.providers.simulated.factors import Factors
from quantdb_lab.providers.simulated.universe import SECTOR_NAMES, symbol_rng


@dataclass(frozen=True, slots=True)
class Contract:
    """A main-contract series: its sector loading, first session and price level at that session."""

    name: str
    sector: str
    loading: float
    first: date
    base: float


CONTRACTS: Final[dict[str, Contract]] = {
    "SC0": Contract("Sim INE crude oil main", "Energy", 1.4, date(2018, 3, 26), 440.0),
    "AU0": Contract("Sim SHFE gold main", "Materials", 0.3, date(2008, 1, 9), 220.0),
    "CU0": Contract("Sim SHFE copper main", "Materials", 1.1, date(1995, 4, 17), 22000.0),
}


def commodity_frame(factors: Factors, seed: int, code: str, start: date | None, end: date | None,
                    latest: date | None) -> pl.DataFrame:  # fmt: skip
    """Daily bars of ``code`` in ``[start, end]`` up to ``latest`` (the last visible session)."""
    contract = CONTRACTS.get(code.upper())
    if contract is None or latest is None:
        return empty_frame(COMMODITY_BARS)
    lo = factors.index_of(contract.first)
    hi = int(np.searchsorted(factors.days, day_number(latest), side="right"))
    if hi <= lo:
        return empty_frame(COMMODITY_BARS)
    rng = symbol_rng(seed, f"commodity:{code.upper()}", 0)
    n = len(factors.days) - lo  # drawn to the horizon so values never depend on the visible range
    sector = factors.sectors[SECTOR_NAMES.index(contract.sector), lo:]
    noise = 0.012 * rng.standard_normal(n) * factors.vol[lo:]
    returns = contract.loading * sector + 0.5 * factors.market[lo:] + noise
    close = contract.base * np.exp(np.cumsum(returns))
    gap = 0.004 * rng.standard_normal(n)
    opens = np.concatenate([[contract.base], close[:-1]]) * np.exp(gap)
    spread = np.abs(0.008 * rng.standard_normal(n)) + np.abs(returns) / 2
    high = np.maximum(opens, close) * (1 + spread)
    low = np.minimum(opens, close) * (1 - spread)
    volume = np.round(np.exp(rng.normal(np.log(2e5), 0.3, n)))
    frame = pl.DataFrame({
        "symbol": code.upper(), "date": factors.days[lo:].astype("datetime64[D]"),
        "open": np.round(opens, 1), "high": np.round(high, 1), "low": np.round(low, 1), "close": np.round(close, 1),
        "volume": volume, "open_interest": np.round(volume * 0.6), "settle": np.round((high + low + close) / 3, 1),
    }).head(hi - lo)  # fmt: skip
    frame = frame.cast(COMMODITY_BARS)  # type: ignore[arg-type]
    if start is not None:
        frame = frame.filter(pl.col("date") >= start)
    if end is not None:
        frame = frame.filter(pl.col("date") <= end)
    return frame.select(list(COMMODITY_BARS))
