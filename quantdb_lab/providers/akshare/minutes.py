"""Minute bars from akshare's ``*_hist_min_em`` functions: the call for a symbol, and its answer as ``MINUTE_BARS``.

Each call returns whatever Eastmoney still keeps (5 sessions of 1-minute bars, about 31 of coarser ones) and
akshare filters it locally by the datetimes given; so one call per symbol serves a whole window. Volume comes
in lots (x 100 here); prices and amount in CNY. ``open == 0.0`` (frequent in 1-minute answers) is repaired and
flagged by ``domain.minute.repair_opens``. A bar still forming (labelled after now) is dropped by the loader.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl

from quantdb_lab.domain.minute import empty_minutes, repair_opens
from quantdb_lab.domain.schema import MINUTE_BARS, conform
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import InvalidRequestError, InvalidSymbolError, ProviderSchemaError
from quantdb_lab.providers.akshare.columns import MINUTE_COLUMNS, MINUTE_FUNCTIONS, MINUTE_IGNORED, MINUTE_LOT_SIZE
from quantdb_lab.providers.akshare.transform import RawFrame, check_columns, has_no_columns, to_polars

PERIODS = ("1", "5", "15", "30", "60")


def minute_query(symbol: Symbol, start: date, end: date, period: str) -> tuple[str, dict[str, str]]:
    """The akshare function and its arguments for ``symbol``'s ``period``-minute bars in ``[start, end]``."""
    if period not in PERIODS:
        raise InvalidRequestError(f"period must be one of {PERIODS}, not {period!r}", symbol=symbol.canonical)
    if symbol.exchange == "HK" or symbol.kind not in MINUTE_FUNCTIONS:
        raise InvalidSymbolError(f"akshare serves no minute bars for a {symbol.kind}", symbol=symbol.canonical)
    function, takes_adjust = MINUTE_FUNCTIONS[symbol.kind]
    kwargs = {"symbol": symbol.code, "start_date": f"{start.isoformat()} 09:00:00",
              "end_date": f"{end.isoformat()} 15:30:00", "period": period}  # fmt: skip
    return function, kwargs | ({"adjust": ""} if takes_adjust else {})


def _times(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        parsed = column
    else:
        text = column.cast(pl.String)
        parsed = pl.coalesce(text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
                             text.str.to_datetime("%Y-%m-%d %H:%M", strict=False))  # fmt: skip
    return parsed.dt.replace_time_zone(None).dt.replace_time_zone("Asia/Shanghai").dt.cast_time_unit("us")


def transform_minutes(raw: RawFrame | None, function: str, symbol: Symbol, *, start: date, end: date,
                      context: Mapping[str, Any]) -> pl.DataFrame:  # fmt: skip
    """``MINUTE_BARS`` of ``symbol`` in ``[start, end]`` from one ``*_hist_min_em`` answer."""
    if has_no_columns(raw):
        return empty_minutes()
    frame = to_polars(raw, source=function, context=context)
    check_columns(frame.columns, MINUTE_COLUMNS, MINUTE_IGNORED, source=function, context=context)
    schema = frame.schema
    frame = frame.select(pl.col(r).alias(c) for r, c in MINUTE_COLUMNS.items()).with_columns(
        _times(pl.col("time"), schema["时间"]).alias("time"),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in ("open", "high", "low", "close", "amount")],
        (pl.col("volume").cast(pl.Float64, strict=False) * MINUTE_LOT_SIZE).alias("volume"),
        pl.lit(symbol.canonical, pl.String).alias("symbol"),
    )
    if frame["time"].null_count():
        raise ProviderSchemaError(f"{frame['time'].null_count()} rows from {function} have unreadable times",
                                  columns=list(MINUTE_COLUMNS), **context)  # fmt: skip
    frame = frame.filter(pl.col("time").dt.date().is_between(start, end)).sort("time")
    frame = repair_opens(frame.with_columns(pl.lit(False).alias("open_estimated")))
    try:
        return conform(frame, MINUTE_BARS, source=function)
    except ProviderSchemaError as exc:
        raise ProviderSchemaError(exc.reason, columns=exc.columns, **context) from exc
