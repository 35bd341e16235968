"""Minute bars of the A-share session: the grid, Eastmoney's quirks, and bars derived from 1-minute bars. Pure.

The session (Asia/Shanghai): an opening call auction (09:15-09:25, printed as a 09:30 bar by Eastmoney's
1-minute answer), continuous trading 09:30-11:30 and 13:00-14:57, and a closing call auction 14:57-15:00
(Shenzhen since 2006, Shanghai since 2018-08-20). Bars are labelled by their end time, so a full session has
the 240 one-minute bars 09:31-11:30 and 13:01-15:00 (241 with Eastmoney's 09:30 auction bar). The lunch break
has no bars; a bar labelled ``n`` minutes covers the ``n`` trading minutes before its label, never across lunch.

Quirks (all measured on ``../shared/data/minute_bars``):

* **open == 0.0**: Eastmoney's 1-minute answer often carries no open (964 of 1,205 rows of 600519 in one week).
  :func:`repair_opens` puts the previous bar's close there, clipped into the bar's range, and marks it
  ``open_estimated``; a bar whose high equals its low (an auction print) has its open exactly.
* **the closing auction**: no continuous trading from 14:57; Eastmoney prints 14:58 and 14:59 as flat
  zero-volume bars, other vendors leave 14:59 out (SSE Composite from 2018-08-20). Either way the 15:00 bar is
  the auction; aggregation does not need the missing bar, and completeness does not count it.
* **market-wide halts**: the circuit breaker stopped trading early on 2016-01-04 (13:34) and 2016-01-07
  (09:59); those sessions are short, not damaged (:data:`EARLY_CLOSES`).
"""

from __future__ import annotations

from datetime import date, time
from typing import Final

import polars as pl

from quantdb_lab.domain.schema import MINUTE_BARS

#: Bar lengths served, in minutes; each divides the 120-minute half session, so no bar spans lunch.
BAR_MINUTES: Final = (1, 5, 15, 30, 60)
SESSION_MINUTES: Final = 240
MORNING_OPEN: Final = 9 * 60 + 30  # 09:30, minutes after midnight
MORNING_CLOSE: Final = 11 * 60 + 30
AFTERNOON_OPEN: Final = 13 * 60
CLOSE_AUCTION_MINUTES: Final = (14 * 60 + 58, 14 * 60 + 59)  # no continuous trade: flat, or missing
SSE_CLOSING_AUCTION_FROM: Final = date(2018, 8, 20)
#: Sessions stopped early by the market-wide circuit breaker: the last bar's label.
EARLY_CLOSES: Final[dict[date, time]] = {date(2016, 1, 4): time(13, 35), date(2016, 1, 7): time(10, 0)}


def empty_minutes() -> pl.DataFrame:
    return pl.DataFrame(schema=MINUTE_BARS)


def _clock_minutes(column: str = "time") -> pl.Expr:
    moment = pl.col(column)
    return moment.dt.hour().cast(pl.Int32) * 60 + moment.dt.minute().cast(pl.Int32)


def trading_minute(column: str = "time") -> pl.Expr:
    """The trading minute a bar ends on: 0 for the 09:30 auction bar, 1..120 for 09:31-11:30, 121..240 for
    13:01-15:00 (a bar stamped 13:00 counts as the morning's last)."""
    clock = _clock_minutes(column)
    return pl.when(clock <= AFTERNOON_OPEN).then(clock - MORNING_OPEN).otherwise(clock - AFTERNOON_OPEN + 120)


def bar_label(minutes: int, column: str = "time") -> pl.Expr:
    """The end time of the ``minutes``-long bar that contains each 1-minute bar (the 09:30 auction bar joins the
    first bar of the session)."""
    if minutes not in BAR_MINUTES:
        raise ValueError(f"bars are {BAR_MINUTES} minutes long, not {minutes}")
    slot = ((trading_minute(column).clip(lower_bound=1) + minutes - 1) // minutes) * minutes
    clock = pl.when(slot <= 120).then(slot + MORNING_OPEN).otherwise(slot - 120 + AFTERNOON_OPEN)
    return pl.col(column).dt.truncate("1d") + pl.duration(minutes=clock)


def repair_opens(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill Eastmoney's ``open == 0.0`` (or missing) opens: the previous bar's close of the same session clipped
    into the bar's [low, high] (the bar's close when it is the session's first), flagged ``open_estimated``
    unless the bar's range pins it (high == low). ``frame`` is one symbol's or many symbols' bars."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(False).alias("open_estimated"))
    day = pl.col("time").dt.date()
    missing = pl.col("open").is_null() | (pl.col("open") == 0.0)
    previous = pl.col("close").shift(1).over(["symbol", day], order_by="time")
    guess = pl.coalesce(previous, pl.col("close")).clip(pl.col("low"), pl.col("high"))
    return frame.with_columns(
        pl.when(missing).then(guess).otherwise(pl.col("open")).alias("open"),
        (missing & (pl.col("high") != pl.col("low"))).alias("open_estimated"),
    )


def resample_minutes(frame: pl.DataFrame, minutes: int) -> pl.DataFrame:
    """``minutes``-long bars from 1-minute bars (``MINUTE_BARS``), labelled by end time, sorted by symbol and
    time: open of the first bar, high and low over the bars, close of the last, volume and amount summed."""
    if minutes == 1 or frame.is_empty():
        return frame
    return (
        frame.sort("symbol", "time")
        .with_columns(bar_label(minutes).alias("_label"))
        .group_by("symbol", "_label", maintain_order=True)
        .agg(pl.col("open").first(), pl.col("high").max(), pl.col("low").min(), pl.col("close").last(),
             pl.col("volume").sum(), pl.col("amount").sum(), pl.col("open_estimated").first())  # fmt: skip
        .rename({"_label": "time"})
        .select(list(MINUTE_BARS))
    )


def daily_from_minutes(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per symbol and session from minute bars of any length: ``symbol date open high low close volume
    amount`` plus ``bars`` (how many went in) and ``auction_volume`` (the 09:30 and 15:00 bars' volume, the part a
    daily series may count differently)."""
    auction = trading_minute().is_in([0, SESSION_MINUTES])
    return (
        frame.sort("symbol", "time")
        .group_by("symbol", pl.col("time").dt.date().alias("date"), maintain_order=True)
        .agg(pl.col("open").first(), pl.col("high").max(), pl.col("low").min(), pl.col("close").last(),
             pl.col("volume").sum(), pl.col("amount").sum(), pl.len().alias("bars"),
             pl.col("volume").filter(auction).sum().alias("auction_volume"))  # fmt: skip
    )


def has_closing_auction(symbol: str, session: date) -> bool:
    """Whether the session closed with a call auction (Shenzhen and Beijing always here; Shanghai from
    2018-08-20)."""
    return not symbol.endswith(".SH") or session >= SSE_CLOSING_AUCTION_FROM


def expected_bars(minutes: int, session: date) -> int:
    """How many ``minutes``-long bars a whole session has (fewer on an early close), not counting the 09:30
    auction bar; the bars a closing auction may leave out are still counted here."""
    close = EARLY_CLOSES.get(session)
    if close is None:
        return SESSION_MINUTES // minutes
    clock = close.hour * 60 + close.minute
    elapsed = clock - MORNING_OPEN if clock <= MORNING_CLOSE else 120 + clock - AFTERNOON_OPEN
    return -(-elapsed // minutes)
