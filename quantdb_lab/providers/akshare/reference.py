"""Transforms of the reference datasets questions need: futures main-contract bars and index constituents.

Pure functions over akshare's raw frames, like ``transform``; kept apart so that module stays about bars and
the security master.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from quantdb_lab.domain.schema import COMMODITY_BARS, conform, empty_frame
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidSymbolError, ProviderSchemaError
from quantdb_lab.providers.akshare.columns import (
    FUTURES_MAIN_SINA_COLUMNS,
    INDEX_STOCK_CONS_CSINDEX_COLUMNS,
    INDEX_STOCK_CONS_CSINDEX_ORDER,
)
from quantdb_lab.providers.akshare.transform import RawFrame, as_date, check_columns, has_no_columns, to_polars


def transform_futures_daily(raw: RawFrame | None, code: str, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """``futures_main_sina`` -> ``COMMODITY_BARS`` sorted by date (empty when the upstream has nothing)."""
    if has_no_columns(raw):
        return empty_frame(COMMODITY_BARS)
    frame = to_polars(raw, source="futures_main_sina", context=context)
    check_columns(frame.columns, FUTURES_MAIN_SINA_COLUMNS, source="futures_main_sina", context=context)
    frame = frame.select(pl.col(r).alias(c) for r, c in FUTURES_MAIN_SINA_COLUMNS.items())
    frame = frame.with_columns(
        as_date(pl.col("date"), frame.schema["date"]).alias("date"),
        *(pl.col(c).cast(pl.Float64, strict=False) for c in FUTURES_MAIN_SINA_COLUMNS.values() if c != "date"),
        pl.lit(code.upper()).alias("symbol"),
    )
    if frame["date"].null_count():
        raise ProviderSchemaError("futures_main_sina returned unreadable dates", columns=frame.columns, **context)
    return conform(frame, COMMODITY_BARS, source="futures_main_sina").sort("date")


def transform_index_members(raw: RawFrame | None, *, context: Mapping[str, Any]) -> list[str]:
    """``index_stock_cons_csindex`` -> canonical symbols of the constituents (codes outside known ranges are
    skipped, not guessed)."""
    if has_no_columns(raw):
        return []
    frame = to_polars(raw, source="index_stock_cons_csindex", context=context)
    check_columns(frame.columns, INDEX_STOCK_CONS_CSINDEX_COLUMNS, known=INDEX_STOCK_CONS_CSINDEX_ORDER,
                  source="index_stock_cons_csindex", context=context)  # fmt: skip
    ((code_column, _), *_) = INDEX_STOCK_CONS_CSINDEX_COLUMNS.items()
    out = []
    for code in frame[code_column].cast(pl.String).str.zfill(6).to_list():
        try:
            out.append(parse_symbol(code).canonical)
        except InvalidSymbolError:
            continue
    return sorted(set(out))
