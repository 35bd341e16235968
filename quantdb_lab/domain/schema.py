"""Canonical frame schemas and their units. Every provider returns these; everything downstream relies on them.

Daily bars (``BARS``), one row per security and trading session, unadjusted unless a column says otherwise:

============  =========  =====================================================================
column        dtype      meaning and unit
============  =========  =====================================================================
symbol        String     canonical symbol, e.g. ``600519.SH`` (see ``domain.symbols``)
date          Date       trading session (exchange local date, Asia/Shanghai)
open          Float64    first trade price, CNY (HKD for ``.HK``)
high          Float64    highest trade price, same currency
low           Float64    lowest trade price, same currency
close         Float64    closing price, same currency
volume        Float64    shares traded (akshare's lots of 100 are multiplied out); Float64 so a
                         suspended day's missing value stays null instead of breaking the dtype
amount        Float64    turnover value, CNY
turnover      Float64    shares traded / free float, as a fraction (0.0123 = 1.23 %)
pct_change    Float64    close-to-reference-close change as a fraction, as reported upstream
change        Float64    close minus the reference previous close, same currency, as reported
============  =========  =====================================================================

``change`` matters: on an ex-dividend day the exchange's reference previous close is the ex-rights price, so
``close - change`` recovers it, and the adjustment factor of the day is ``(close - change) / previous close``.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from quantdb_lab.errors import ProviderSchemaError

BARS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "date": pl.Date(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
    "amount": pl.Float64(),
    "turnover": pl.Float64(),
    "pct_change": pl.Float64(),
    "change": pl.Float64(),
}

BAR_COLUMNS: Final[tuple[str, ...]] = tuple(BARS)
PRICE_COLUMNS: Final[tuple[str, ...]] = ("open", "high", "low", "close")

# Security master: what a stock list provider returns.
SECURITIES: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "name": pl.String(),
    "industry": pl.String(),
    "board": pl.String(),
    "list_date": pl.Date(),
}

# Minute bars (``domain.minute``), one row per bar, labelled by the bar's END time (Eastmoney's convention: the
# 09:35 five-minute bar covers 09:31-09:35, and the 09:30 opening-auction bar is folded into the first bar).
# Prices in CNY, volume in shares (lots x 100), amount CNY. ``open_estimated``: the upstream sent ``open == 0.0``
# (an Eastmoney quirk of 1-minute bars) and the open shown is the previous bar's close clipped into the bar's
# range: an estimate, never the traded open.
MINUTE_BARS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "time": pl.Datetime("us", "Asia/Shanghai"),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
    "amount": pl.Float64(),
    "open_estimated": pl.Boolean(),
}

# Futures main-contract daily bars (``fetch_commodity_daily``): prices in the contract's quote currency per unit
# (INE crude oil SC: CNY per barrel), volume and open interest in lots.
COMMODITY_BARS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "date": pl.Date(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
    "open_interest": pl.Float64(),
    "settle": pl.Float64(),
}


def empty_frame(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], *, source: str) -> pl.DataFrame:
    """Select and cast ``frame`` to ``schema`` in order; raise :class:`ProviderSchemaError` on missing columns."""
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise ProviderSchemaError(
            f"{source} returned a frame without required columns {missing}", columns=list(frame.columns)
        )
    return frame.select(pl.col(name).cast(dtype, strict=False) for name, dtype in schema.items())
