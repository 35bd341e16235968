"""Live quotes from akshare: which call serves a set of symbols, and the transforms into ``domain.quotes``.

Choice of call (request counts are HTTP requests to Eastmoney's push2 host, the host family users report bans
on, throttled by the project at 0.5 calls/s with one in flight):

* a watchlist of up to ``WATCHLIST_MAX`` symbols: ``stock_bid_ask_em`` once per symbol, **1 request each**
  (push2 ``stock/get``), which also carries the exchange's own limit prices;
* the whole market, or a larger list: ``stock_zh_a_spot_em``, **one call of ~58 paged requests** (clist,
  ``pz`` capped at 100, ~5,500 rows) that akshare spaces ~1 s apart, so ~1 minute per snapshot; limit prices
  are derived from the previous close and the board (ST names: 5 %).

Past ``WATCHLIST_MAX`` per-symbol calls at the throttle's pace would take longer than the trading mode's
one-minute freshness, and cost about as many requests as one whole-market pull.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import polars as pl

from quantdb_lab.domain.clock import to_exchange_time
from quantdb_lab.domain.quotes import BOARD_LIMITS, QUOTE_TIME, ST_LIMIT, conform_quotes, empty_quotes, limit_price
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import InvalidSymbolError, ProviderSchemaError
from quantdb_lab.providers.akshare.columns import (
    ST_MARKER,
    STOCK_BID_ASK_EM_ITEMS,
    STOCK_ZH_A_SPOT_EM_COLUMNS,
    STOCK_ZH_A_SPOT_EM_IGNORED,
)
from quantdb_lab.providers.akshare.transform import RawFrame, check_columns, has_no_columns, to_polars

WATCHLIST_MAX: Final = 25
SPOT_REQUESTS: Final = 58  # pages of 100 rows for ~5,500 A-shares (an estimate; see the upstream notes)
LOT: Final = 100.0
_NUMERIC = ("last", "pct_change", "volume", "amount", "high", "low", "open", "prev_close", "limit_up", "limit_down")


def quote_batches(symbols: list[Symbol] | None) -> list[list[Symbol] | None]:
    """One entry per upstream call: ``[None]`` for the whole-market call, else one symbol per call."""
    if symbols is None or len(symbols) > WATCHLIST_MAX:
        return [None]
    return [[symbol] for symbol in symbols]


def _board_limit(code: str, name: str | None) -> float | None:
    try:
        board = parse_symbol(code).board
    except InvalidSymbolError:
        return None
    limit = BOARD_LIMITS.get(board)
    if limit is not None and board == "main" and name is not None and ST_MARKER in name.upper():
        return ST_LIMIT
    return limit


def _canonical(code: str) -> str | None:
    try:
        return parse_symbol(code).canonical
    except InvalidSymbolError:
        return None


def _numeric(frame: pl.DataFrame) -> pl.DataFrame:
    present = [c for c in _NUMERIC if c in frame.columns]
    return frame.with_columns(pl.col(c).cast(pl.String).cast(pl.Float64, strict=False) for c in present)


def _finish(frame: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Units (lots -> shares, percent -> fraction), time and ``halted`` (no last price: suspended)."""
    frame = frame.with_columns(
        (pl.col("volume") * LOT).fill_null(0.0),
        pl.col("amount").fill_null(0.0),
        (pl.col("pct_change") / 100.0),
        pl.lit(to_exchange_time(now)).cast(QUOTE_TIME).alias("time"),
        pl.col("last").is_null().alias("halted"),
    ).with_columns(pl.col("last").fill_null(pl.col("prev_close")))
    return conform_quotes(frame.filter(pl.col("symbol").is_not_null()))


def transform_spot(raw: RawFrame | None, *, now: datetime, context: Mapping[str, Any]) -> pl.DataFrame:
    """``stock_zh_a_spot_em`` -> quotes of every row (codes that are not A-shares are dropped)."""
    if has_no_columns(raw):
        return empty_quotes()
    frame = to_polars(raw, source="stock_zh_a_spot_em", context=context)
    check_columns(frame.columns, STOCK_ZH_A_SPOT_EM_COLUMNS, STOCK_ZH_A_SPOT_EM_IGNORED,
                  source="stock_zh_a_spot_em", context=context)  # fmt: skip
    frame = _numeric(frame.select(list(STOCK_ZH_A_SPOT_EM_COLUMNS)).rename(STOCK_ZH_A_SPOT_EM_COLUMNS))
    codes, names = frame["code"].cast(pl.String).to_list(), frame["name"].cast(pl.String).to_list()
    frame = frame.with_columns(
        pl.Series("symbol", [_canonical(c) for c in codes], dtype=pl.String),
        pl.Series("limit", [_board_limit(c, n) for c, n in zip(codes, names, strict=True)], dtype=pl.Float64),
    )
    frame = frame.with_columns(limit_price(pl.col("prev_close"), pl.col("limit"), up=True),
                               limit_price(pl.col("prev_close"), pl.col("limit"), up=False))  # fmt: skip
    return _finish(frame, now)


def transform_bid_ask(raw: RawFrame | None, symbol: Symbol, *, now: datetime, context: Mapping[str, Any]) -> pl.DataFrame:
    """``stock_bid_ask_em`` (long item/value) -> one quote row for ``symbol``; empty when there is no data."""
    if has_no_columns(raw):
        return empty_quotes()
    frame = to_polars(raw, source="stock_bid_ask_em", context=context)
    if not {"item", "value"} <= set(frame.columns):
        raise ProviderSchemaError("stock_bid_ask_em returned no item/value columns", columns=frame.columns, **context)
    values = dict(zip(frame["item"].cast(pl.String).to_list(), frame["value"].cast(pl.String).to_list(), strict=True))
    check_columns(values, STOCK_BID_ASK_EM_ITEMS, known=[k for k in values if k.startswith(("sell_", "buy_"))],
                  ignored=values.keys() - STOCK_BID_ASK_EM_ITEMS.keys(), source="stock_bid_ask_em", context=context)  # fmt: skip
    row = {canonical: [values[item]] for item, canonical in STOCK_BID_ASK_EM_ITEMS.items()}
    frame = _numeric(pl.DataFrame(row, schema={k: pl.String for k in row}))
    return _finish(frame.with_columns(pl.lit(symbol.canonical).alias("symbol")), now)
