"""Transform: akshare's raw frames (pandas, or polars read from recorded CSVs) into canonical polars frames.

Pure functions, no I/O: shared by ``AkshareProvider`` (live) and ``ReplayProvider`` (recorded files), so both
read upstream data the same way. Each renames through the endpoint's mapping in ``columns``, converts units
(lots -> shares, percent -> fraction), casts, checks columns (missing -> ``ProviderSchemaError``, unknown ->
``SchemaDriftWarning``) and validates with ``domain.schema.conform``.
"""

from __future__ import annotations

import contextlib
import math
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import polars as pl

from quantdb_lab.domain.schema import BARS, SECURITIES, conform, empty_frame
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import InvalidSymbolError, ProviderSchemaError, SchemaDriftWarning
from quantdb_lab.providers.akshare.columns import (
    STOCK_BOARD_INDUSTRY_CONS_EM_COLUMNS,
    STOCK_BOARD_INDUSTRY_CONS_EM_ORDER,
    STOCK_BOARD_INDUSTRY_NAME_EM_COLUMNS,
    STOCK_BOARD_INDUSTRY_NAME_EM_ORDER,
    STOCK_INFO_A_CODE_NAME_COLUMNS,
    TOOL_TRADE_DATE_HIST_SINA_COLUMNS,
    BarEndpoint,
)

RawFrame = Any  # a pandas.DataFrame from akshare, or a polars.DataFrame read from a recorded file


def has_no_columns(raw: RawFrame | None) -> bool:
    """akshare's way of saying "no data": ``pd.DataFrame()`` (or ``None`` after a translated error)."""
    return raw is None or len(raw.columns) == 0


def to_polars(raw: RawFrame, *, source: str, context: Mapping[str, Any]) -> pl.DataFrame:
    """A polars copy of ``raw`` with string column names; never mutates ``raw`` (akshare caches by reference)."""
    if isinstance(raw, pl.DataFrame):
        return raw
    frame = raw.rename(columns=str)
    with contextlib.suppress(Exception):  # mixed-type object columns: fall back to one column at a time
        return pl.from_pandas(frame, include_index=False)
    columns = []
    for name in frame.columns:
        try:
            columns.append(pl.from_pandas(frame[name]).alias(name))
        except Exception:  # noqa: BLE001
            values = [None if _is_missing(v) else str(v) for v in frame[name].tolist()]
            columns.append(pl.Series(name, values, dtype=pl.String))
    try:
        return pl.DataFrame(columns)
    except Exception as exc:  # e.g. duplicated column names
        raise ProviderSchemaError(
            f"cannot read the frame {source} returned: {exc}", columns=list(frame.columns), **context
        ) from exc


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def check_columns(
    received: Iterable[str],
    required: Iterable[str],
    ignored: Iterable[str] = (),
    *,
    known: Iterable[str] = (),
    source: str,
    context: Mapping[str, Any],
) -> None:
    """Raise on missing required columns; warn once about columns nobody told us about."""
    received = list(received)
    missing = [c for c in required if c not in received]
    if missing:
        raise ProviderSchemaError(
            f"{source} returned a frame without required columns {missing}", columns=received, **context
        )
    expected = set(required) | set(ignored) | set(known)
    extra = [c for c in received if c not in expected]
    if extra:
        warnings.warn(
            f"{source} returned new columns {extra}; they were dropped",
            SchemaDriftWarning,
            stacklevel=3,
        )


def as_date(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Dates arrive as date objects, 'YYYY-MM-DD[ HH:MM:SS]' strings, datetimes or YYYYMMDD integers."""
    if dtype == pl.Date:
        return column
    if isinstance(dtype, pl.Datetime):
        return column.dt.date()
    if dtype.is_integer():
        return column.cast(pl.String).str.to_date("%Y%m%d", strict=False)
    text = column.cast(pl.String).str.strip_chars()
    return (
        pl.when(text.str.len_chars() == 8)
        .then(text.str.to_date("%Y%m%d", strict=False))
        .otherwise(text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
    )


def empty_bars() -> pl.DataFrame:
    return empty_frame(BARS)


def transform_bars(
    raw: RawFrame | None,
    endpoint: BarEndpoint,
    symbol: Symbol,
    *,
    start: date | None = None,
    end: date | None = None,
) -> pl.DataFrame:
    """Canonical ``BARS`` for ``symbol`` from one endpoint's raw frame, restricted to ``[start, end]``.

    A frame without columns means "no data" and gives an empty ``BARS`` frame. Canonical columns the endpoint
    does not report (an index's turnover) are null.
    """
    source = endpoint.function
    context = {"symbol": symbol.canonical, "dataset": "daily_bars", "start": start, "end": end}
    if has_no_columns(raw):
        return empty_bars()
    frame = to_polars(raw, source=source, context=context)
    required = [c for c in endpoint.columns if c not in endpoint.optional]
    check_columns(frame.columns, required, endpoint.ignored, known=endpoint.optional, source=source, context=context)
    frame = frame.select(pl.col(r).alias(c) for r, c in endpoint.columns.items() if r in frame.columns)
    numeric = [c for c in BARS if c not in ("symbol", "date")]
    frame = frame.with_columns(
        pl.col(c).cast(pl.Float64, strict=False) for c in numeric if c in frame.columns
    ).with_columns(
        as_date(pl.col("date"), frame.schema["date"]).alias("date"),
        (pl.col("volume") * endpoint.lot_size).alias("volume"),
        *[(pl.col(c) / 100.0).alias(c) for c in endpoint.percent],
        *[pl.lit(None, pl.Float64).alias(c) for c in numeric if c not in frame.columns],
        pl.lit(symbol.canonical, pl.String).alias("symbol"),
    )
    if frame["date"].null_count():
        bad = frame.height - frame["date"].drop_nulls().len()
        raise ProviderSchemaError(
            f"{bad} rows from {source} have unreadable dates", columns=list(endpoint.columns), **context
        )
    if start is not None:
        frame = frame.filter(pl.col("date") >= start)
    if end is not None:
        frame = frame.filter(pl.col("date") <= end)
    return _conform(frame, BARS, source=source, context=context).sort("date")


def _conform(
    frame: pl.DataFrame, schema: dict[str, pl.DataType], *, source: str, context: Mapping[str, Any]
) -> pl.DataFrame:
    try:
        return conform(frame, schema, source=source)
    except ProviderSchemaError as exc:  # add which symbol and range we were serving
        raise ProviderSchemaError(exc.reason, columns=exc.columns, **context) from exc


# -- calendar and security master -----------------------------------------------------------------------


def transform_trade_dates(raw: RawFrame, *, context: Mapping[str, Any]) -> list[date]:
    """``tool_trade_date_hist_sina`` -> ascending unique sessions."""
    frame = to_polars(raw, source="tool_trade_date_hist_sina", context=context)
    ((name, _),) = TOOL_TRADE_DATE_HIST_SINA_COLUMNS.items()
    check_columns(frame.columns, [name], source="tool_trade_date_hist_sina", context=context)
    dates = frame.select(as_date(pl.col(name), frame.schema[name]).alias("date"))["date"]
    return sorted(set(dates.drop_nulls().to_list()))


def transform_code_names(raw: RawFrame, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """``stock_info_a_code_name`` -> ``code`` (six digits, leading zeros restored), ``name``."""
    frame = to_polars(raw, source="stock_info_a_code_name", context=context)
    check_columns(frame.columns, STOCK_INFO_A_CODE_NAME_COLUMNS, source="stock_info_a_code_name", context=context)
    return frame.select(
        pl.col(r).cast(pl.String).str.strip_chars().alias(c) for r, c in STOCK_INFO_A_CODE_NAME_COLUMNS.items()
    ).with_columns(pl.col("code").str.zfill(6))


def transform_industry_boards(raw: RawFrame, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """``stock_board_industry_name_em`` -> ``industry`` (board name), ``board_code`` (``BK....``)."""
    frame = to_polars(raw, source="stock_board_industry_name_em", context=context)
    check_columns(
        frame.columns,
        STOCK_BOARD_INDUSTRY_NAME_EM_COLUMNS,
        known=STOCK_BOARD_INDUSTRY_NAME_EM_ORDER,
        source="stock_board_industry_name_em",
        context=context,
    )
    return frame.select(
        pl.col(r).cast(pl.String).alias(c) for r, c in STOCK_BOARD_INDUSTRY_NAME_EM_COLUMNS.items()
    )


def transform_board_members(raw: RawFrame | None, *, context: Mapping[str, Any]) -> list[str]:
    """``stock_board_industry_cons_em`` -> member codes (an unknown board has none)."""
    if has_no_columns(raw):
        return []
    frame = to_polars(raw, source="stock_board_industry_cons_em", context=context)
    check_columns(
        frame.columns,
        STOCK_BOARD_INDUSTRY_CONS_EM_COLUMNS,
        known=STOCK_BOARD_INDUSTRY_CONS_EM_ORDER,
        source="stock_board_industry_cons_em",
        context=context,
    )
    ((code, _), *_) = STOCK_BOARD_INDUSTRY_CONS_EM_COLUMNS.items()
    return frame[code].cast(pl.String).str.zfill(6).to_list()


def clean_name(name: str | None) -> str | None:
    """Exchange short names are padded with blanks and full-width letters; normalise them (NFKC, no blanks)."""
    if name is None:
        return None
    return "".join(unicodedata.normalize("NFKC", name).split()) or None


def build_securities(
    code_names: pl.DataFrame,
    *,
    industry_by_code: Mapping[str, str] | None = None,
    list_date_by_code: Mapping[str, date] | None = None,
) -> pl.DataFrame:
    """The ``SECURITIES`` frame from ``code``/``name`` rows; codes that are no known security are skipped."""
    industry_by_code = industry_by_code or {}
    list_date_by_code = list_date_by_code or {}
    rows: dict[str, dict[str, Any]] = {}
    for code, name in code_names.select("code", "name").iter_rows():
        try:
            symbol = parse_symbol(code)
        except InvalidSymbolError:
            continue  # e.g. a B-share or a code outside every known range: not ours to guess
        rows.setdefault(symbol.canonical, {
            "symbol": symbol.canonical,
            "name": clean_name(name),
            "industry": industry_by_code.get(code),
            "board": symbol.board,
            "list_date": list_date_by_code.get(code),
        })  # fmt: skip
    frame = pl.DataFrame(list(rows.values()), schema=SECURITIES) if rows else empty_frame(SECURITIES)
    return conform(frame, SECURITIES, source="securities").sort("symbol")
