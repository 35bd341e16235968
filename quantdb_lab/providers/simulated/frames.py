"""Turning a generated history into canonical frames: the visible slice, the provisional bar of an open
session, and multiplicative adjustment (hfq back-adjusted, qfq forward-adjusted to the latest visible bar)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.domain.schema import BAR_COLUMNS, BARS, empty_frame
from quantdb_lab.providers.simulated.engine import History
from quantdb_lab.providers.simulated.intraday import DayPath, provisional_values

_FIELDS = ("open", "high", "low", "close", "volume", "amount", "turnover", "pct_change", "change")


@dataclass(frozen=True, slots=True)
class Visibility:
    """What the clock lets one see: bars up to ``latest``; its bar is provisional unless ``settled``."""

    latest: date | None
    settled: bool
    minute: int  # trading minutes elapsed in ``latest`` when it is today


def visible_slice(
    history: History, start: date | None, end: date | None, vis: Visibility
) -> tuple[int, int, int]:
    """(lo, hi, last): rows [lo, hi) of the request, and ``last`` the latest visible row (-1 if none)."""
    if vis.latest is None:
        return 0, 0, -1
    cutoff = day_number(vis.latest if end is None else min(end, vis.latest))
    last = int(np.searchsorted(history.days, day_number(vis.latest), side="right")) - 1
    lo = 0 if start is None else int(np.searchsorted(history.days, day_number(start), side="left"))
    hi = int(np.searchsorted(history.days, cutoff, side="right"))
    return lo, max(hi, lo), last


def columns(history: History, lo: int, hi: int) -> dict[str, np.ndarray]:
    return {name: getattr(history, name)[lo:hi].copy() for name in _FIELDS}


def apply_provisional(
    cols: dict[str, np.ndarray], history: History, row: int, path: DayPath, vis: Visibility
) -> None:
    """Overwrite the last row of ``cols`` (history row ``row``) with what had traded by ``vis.minute``."""
    seen = provisional_values(path, vis.minute, settled=vis.settled)
    scale = history.tick_scale
    volume = max(np.floor(history.volume[row] * seen["share"] / 100.0 + 0.5), 1.0) * 100.0
    ratio = volume / history.volume[row]
    change = np.floor((seen["close"] - history.ref[row]) * scale + 0.5) / scale
    for name in ("open", "high", "low", "close"):
        cols[name][-1] = seen[name]
    cols["volume"][-1] = volume
    cols["amount"][-1] = round(float(history.amount[row]) * ratio, 2)
    cols["turnover"][-1] = float(history.turnover[row]) * ratio
    cols["change"][-1] = change
    cols["pct_change"][-1] = round(change / float(history.ref[row]), 4)


def adjust_columns(cols: dict[str, np.ndarray], multiplier: np.ndarray, scale: int) -> None:
    """Multiply prices (and ``change``) by ``multiplier``, rounded to the tick as the upstream does."""
    for name in ("open", "high", "low", "close", "change"):
        cols[name] = np.floor(cols[name] * multiplier * scale + 0.5) / scale


def to_frame(symbol: str, days: np.ndarray, cols: dict[str, np.ndarray]) -> pl.DataFrame:
    if len(days) == 0:
        return empty_frame(BARS)
    frame = pl.DataFrame(
        {"date": days.astype("datetime64[D]"), **cols}, schema_overrides={name: pl.Float64 for name in cols}
    )
    return frame.with_columns(pl.lit(symbol, dtype=pl.String).alias("symbol")).select(BAR_COLUMNS)
