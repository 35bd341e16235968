"""Minute bars of the simulated market as Eastmoney serves them, quirks included, read off the intraday paths.

What an answer looks like (the real recordings in ``../shared/data/minute_bars`` are the model):

* only a window of recent sessions: 5 for 1-minute bars (trends2 ``ndays=5``), 31 for 5 to 60 minutes;
* a 09:30 bar for the opening auction (a single price, the day's open), then 09:31-11:30 and 13:01-15:00;
  nothing over lunch;
* on a day with a closing call auction no 14:59 bar: its trades are in the 15:00 bar;
* ``open == 0.0`` on four sessions in five (as in the recorded week), repaired the way every provider repairs it
  (``domain.minute.repair_opens``);
* while the session trades, the completed minutes and one more bar still forming (labelled after now).

The daily bar is exact from the minutes: first open, highest high, lowest low, last close, summed volume.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.domain.minute import empty_minutes, has_closing_auction, repair_opens, resample_minutes
from quantdb_lab.domain.schema import MINUTE_BARS

UPSTREAM_SESSIONS = {1: 5}  # every other length: DEFAULT_SESSIONS
DEFAULT_SESSIONS = 31


def window(market, minutes: int, latest: date | None) -> list[date]:  # noqa: ANN001 - a SimulatedMarket
    """The sessions the simulated upstream still serves ``minutes``-long bars for."""
    if latest is None:
        return []
    keep = UPSTREAM_SESSIONS.get(minutes, DEFAULT_SESSIONS)
    return market.calendar.sessions(latest - timedelta(days=2 * keep + 30), latest)[-keep:]


def session_minutes(market, symbol: str, session: date, now: datetime) -> pl.DataFrame:  # noqa: ANN001
    """One session's 1-minute bars as the upstream sends them (``MINUTE_BARS``, opens possibly 0.0)."""
    path = market.intraday_path(symbol, session, now=now)
    if path.is_empty():
        return empty_minutes()
    first = path.row(0, named=True)
    auction_volume = (first["volume"] // 200) * 100.0  # half the first minute's volume, in lots
    auction = pl.DataFrame({"symbol": [first["symbol"]], "time": [first["time"] - timedelta(minutes=1)],
                            "open": [first["open"]], "high": [first["open"]], "low": [first["open"]],
                            "close": [first["open"]], "volume": [auction_volume],
                            "amount": [round(auction_volume * first["open"], 2)]}, schema=path.schema)  # fmt: skip
    path = path.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.col("volume") - auction_volume).otherwise(pl.col("volume")),
        pl.when(pl.int_range(pl.len()) == 0).then(pl.col("amount") - auction["amount"][0]).otherwise(pl.col("amount")),
    )
    bars = _flagged(pl.concat([auction, path]))
    if has_closing_auction(first["symbol"], session) and bars.height == 241:
        bars = pl.concat([bars.head(239), _merge_last(bars.tail(2))])
    elif bars.height < 241:  # still trading: one more bar, forming, labelled after now
        last = bars.tail(1)
        step = timedelta(minutes=91 if last["time"].dt.time().item() == time(11, 30) else 1)  # over lunch: 13:01
        bars = pl.concat([bars, last.with_columns(pl.col("time") + step, pl.lit(0.0).alias("volume"),
                                                  pl.lit(0.0).alias("amount"))])  # fmt: skip
    if day_number(session) % 5 != 0:
        bars = bars.with_columns(pl.lit(0.0).alias("open"))
    return bars


def _flagged(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.lit(False).alias("open_estimated")).select(list(MINUTE_BARS))


def _merge_last(pair: pl.DataFrame) -> pl.DataFrame:
    """14:59 folded into 15:00 (a closing-auction day's answer has no 14:59 bar)."""
    return pair.select(pl.col("symbol").last(), pl.col("time").last(), pl.col("open").first(), pl.col("high").max(),
                       pl.col("low").min(), pl.col("close").last(), pl.col("volume").sum(), pl.col("amount").sum(),
                       pl.col("open_estimated").first())  # fmt: skip


def minute_bars(market, symbol: str, start: date, end: date, minutes: int, now: datetime) -> pl.DataFrame:  # noqa: ANN001
    """``minutes``-long bars of ``symbol`` in ``[start, end]`` that the upstream still keeps at ``now``, repaired."""
    latest = market.visibility(now).latest
    sessions = [s for s in window(market, minutes, latest) if start <= s <= end]
    frames = [session_minutes(market, symbol, session, now) for session in sessions]
    frames = [frame for frame in frames if frame.height]
    if not frames:
        return empty_minutes()
    return resample_minutes(repair_opens(pl.concat(frames)), minutes)
