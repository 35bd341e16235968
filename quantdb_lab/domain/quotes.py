"""The canonical live-quote snapshot: one row per symbol, as of one moment.

Columns (units as in ``domain.schema``): ``symbol`` (canonical), ``time`` (exchange time of the quote),
``last open high low prev_close`` (CNY), ``volume`` (shares traded so far in the session), ``amount`` (CNY),
``pct_change`` (fraction, last / prev_close - 1), ``limit_up limit_down`` (CNY; null where there is no limit),
``halted`` (no trading in the session: suspended).
"""

from __future__ import annotations

from typing import Final

import polars as pl

QUOTE_TIME: Final = pl.Datetime("us", "Asia/Shanghai")
QUOTES: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "time": QUOTE_TIME,
    "last": pl.Float64(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "prev_close": pl.Float64(),
    "volume": pl.Float64(),
    "amount": pl.Float64(),
    "pct_change": pl.Float64(),
    "limit_up": pl.Float64(),
    "limit_down": pl.Float64(),
    "halted": pl.Boolean(),
}

#: Daily price limit per listing board (``Symbol.board``); ST stocks on the main board move 5 %.
BOARD_LIMITS: Final[dict[str, float]] = {"main": 0.10, "chinext": 0.20, "star": 0.20, "beijing": 0.30, "etf": 0.10}
ST_LIMIT: Final = 0.05


def empty_quotes() -> pl.DataFrame:
    return pl.DataFrame(schema=QUOTES)


def conform_quotes(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly the ``QUOTES`` columns, in order and cast (missing limit columns become null)."""
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in QUOTES.items() if name not in frame.columns]
    if missing:
        frame = frame.with_columns(missing)
    return frame.select([pl.col(name).cast(dtype) for name, dtype in QUOTES.items()])


def limit_price(prev_close: pl.Expr, limit: pl.Expr, *, up: bool) -> pl.Expr:
    """The exchange's limit price: prev_close x (1 +/- limit) rounded half up to the fen."""
    raw = prev_close * (1.0 + limit) if up else prev_close * (1.0 - limit)
    return ((raw * 100.0 + 0.5 + 1e-9).floor() / 100.0).alias("limit_up" if up else "limit_down")
