"""Transforms of the multi-modal sources: ``stock_news_em`` articles and jin10 macro series.

Pure functions over akshare's raw frames, like ``reference``. jin10 gives each figure's publication date,
which is kept as ``release_date``; the period it describes is derived from it (``domain.sources``). Rows
without a value (jin10 lists scheduled releases before they happen) are dropped, so nothing from the future
is ever stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from quantdb_lab.domain.schema import conform, empty_frame
from quantdb_lab.domain.sources import EXCHANGE_TZ_NAME, MACRO, NEWS, period_of_release
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import ProviderSchemaError
from quantdb_lab.providers.akshare.columns import (
    JIN10_MACRO_COLUMNS,
    JIN10_MACRO_IGNORED,
    SHIBOR_COLUMNS,
    SHIBOR_ORDER,
    STOCK_NEWS_EM_COLUMNS,
    STOCK_NEWS_EM_IGNORED,
)
from quantdb_lab.providers.akshare.transform import RawFrame, as_date, check_columns, has_no_columns, to_polars


def transform_news(raw: RawFrame | None, symbol: Symbol, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """``stock_news_em`` -> ``NEWS`` sorted by publication time (empty when there is nothing)."""
    if has_no_columns(raw):
        return empty_frame(NEWS)
    frame = to_polars(raw, source="stock_news_em", context=context)
    check_columns(frame.columns, STOCK_NEWS_EM_COLUMNS, STOCK_NEWS_EM_IGNORED, source="stock_news_em",
                  context=context)  # fmt: skip
    frame = frame.select(pl.col(r).cast(pl.String).alias(c) for r, c in STOCK_NEWS_EM_COLUMNS.items())
    published = (
        pl.col("published_at").str.strip_chars().str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
        .dt.replace_time_zone(EXCHANGE_TZ_NAME)
    )  # fmt: skip
    frame = frame.with_columns(published.alias("published_at"), pl.lit(symbol.canonical).alias("symbol"))
    if frame["published_at"].null_count():
        raise ProviderSchemaError("stock_news_em returned unreadable publication times", columns=frame.columns,
                                  **context)  # fmt: skip
    return conform(frame, NEWS, source="stock_news_em").sort("published_at")


def transform_macro(raw: RawFrame | None, name: str, function: str, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """A jin10 report (``macro_china_*_yearly``) or ``macro_china_shibor_all`` -> ``MACRO`` sorted by release."""
    if has_no_columns(raw):
        return empty_frame(MACRO)
    frame = to_polars(raw, source=function, context=context)
    if function == "macro_china_shibor_all":
        columns = SHIBOR_COLUMNS
        check_columns(frame.columns, columns, known=SHIBOR_ORDER, source=function, context=context)
    else:
        columns = JIN10_MACRO_COLUMNS
        check_columns(frame.columns, columns, JIN10_MACRO_IGNORED, source=function, context=context)
    frame = frame.select(pl.col(r).alias(c) for r, c in columns.items())
    frame = frame.with_columns(as_date(pl.col("release_date"), frame.schema["release_date"]).alias("release_date"),
                               pl.col("value").cast(pl.Float64, strict=False))  # fmt: skip
    if frame["release_date"].null_count():
        raise ProviderSchemaError(f"{function} returned unreadable dates", columns=frame.columns, **context)
    frame = frame.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
    periods = [period_of_release(name, day) for day in frame["release_date"].to_list()]
    frame = frame.with_columns(pl.Series("period", periods, dtype=pl.Date), pl.lit(name).alias("name"),
                               pl.lit(False).alias("release_estimated"))  # fmt: skip
    return conform(frame, MACRO, source=function).sort("release_date").unique("period", keep="last",
                                                                                maintain_order=True)
