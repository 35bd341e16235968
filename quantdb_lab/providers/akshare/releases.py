"""akshare's results tables in canonical form (Eastmoney's data centre, one report period of every stock a call).

* ``stock_yjkb_em(date)`` 业绩快报 (express, unaudited, before the report): ``股票代码 每股收益 营业收入-营业收入
  营业收入-同比增长 净利润-净利润 净利润-同比增长 每股净资产 净资产收益率 公告日期``.
* ``stock_yjbb_em(date)`` 业绩报表 (the report's headline figures): ``股票代码 每股收益 营业总收入-营业总收入
  营业总收入-同比增长 净利润-净利润 净利润-同比增长 每股净资产 净资产收益率 最新公告日期``.
* ``stock_yjyg_em(date)`` 业绩预告 (forecasts, one row per forecast indicator): ``股票代码 预测指标 预测数值
  业绩变动幅度 预告类型 上年同期值 公告日期``.

``date`` is the report period (``YYYYMMDD``); the frames do not repeat it. Growth, change and ROE are percent
upstream, fractions here; 净利润 is the parent's. akshare names the columns by position, so a field added
upstream shifts them: the live canary (tests/network/test_live_pit.py) checks the figures are plausible.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

import polars as pl

from quantdb_lab.domain.pit import EARNINGS_FORECASTS, EARNINGS_RELEASES
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidSymbolError
from quantdb_lab.providers.akshare.transform import RawFrame, as_date, check_columns, has_no_columns, to_polars

RELEASE_FUNCTIONS: Final = {"express": "stock_yjkb_em", "report": "stock_yjbb_em"}
RELEASE_COLUMNS: Final[dict[str, dict[str, str]]] = {  # kind -> upstream column -> canonical
    "express": {"股票代码": "code", "公告日期": "known_at", "每股收益": "basic_eps", "营业收入-营业收入": "revenue",
                "净利润-净利润": "parent_net_profit", "每股净资产": "bps", "净资产收益率": "roe",
                "营业收入-同比增长": "revenue_growth", "净利润-同比增长": "profit_growth"},
    "report": {"股票代码": "code", "最新公告日期": "known_at", "每股收益": "basic_eps",
               "营业总收入-营业总收入": "revenue", "净利润-净利润": "parent_net_profit", "每股净资产": "bps",
               "净资产收益率": "roe", "营业总收入-同比增长": "revenue_growth", "净利润-同比增长": "profit_growth"},
}  # fmt: skip
PERCENT: Final = ("roe", "revenue_growth", "profit_growth", "change")
FORECAST_FUNCTION: Final = "stock_yjyg_em"
FORECAST_INDICATORS: Final = {  # 预测指标 -> domain.pit.FORECAST_INDICATORS (others "other")
    "归属于上市公司股东的净利润": "parent_net_profit",
    "扣除非经常性损益后的净利润": "deducted_net_profit",
    "营业收入": "revenue",
    "每股收益": "basic_eps",
}
FORECAST_TYPES: Final = {  # 预告类型 -> domain.pit.FORECAST_TYPES (others "other")
    "预增": "increase", "略增": "slight_increase", "预减": "decrease", "略减": "slight_decrease",
    "扭亏": "turnaround", "首亏": "first_loss", "续亏": "continued_loss", "续盈": "continued_profit",
    "不确定": "uncertain",
}  # fmt: skip
FORECAST_COLUMNS: Final = {"股票代码": "code", "公告日期": "known_at", "预测指标": "indicator", "预测数值": "value",
                           "业绩变动幅度": "change", "预告类型": "forecast_type", "上年同期值": "previous_value"}


def transform_releases(raw: RawFrame | None, kind: str, period: date, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """One express or results table of ``period`` -> ``EARNINGS_RELEASES``."""
    frame = _picked(raw, RELEASE_COLUMNS[kind], RELEASE_FUNCTIONS[kind], context)
    if frame is None:
        return pl.DataFrame(schema=EARNINGS_RELEASES)
    return _canonical(frame.with_columns(pl.lit(kind).alias("kind")), period, EARNINGS_RELEASES)


def transform_forecasts(raw: RawFrame | None, period: date, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """One forecast table of ``period`` -> ``EARNINGS_FORECASTS`` (indicators and types named canonically, else
    "other")."""
    frame = _picked(raw, FORECAST_COLUMNS, FORECAST_FUNCTION, context)
    if frame is None:
        return pl.DataFrame(schema=EARNINGS_FORECASTS)
    indicator = pl.col("indicator").cast(pl.String).str.strip_chars()
    kind = pl.col("forecast_type").cast(pl.String).str.strip_chars()
    frame = frame.with_columns(indicator.replace_strict(FORECAST_INDICATORS, default="other").alias("indicator"),
                               kind.replace_strict(FORECAST_TYPES, default="other").alias("forecast_type"))  # fmt: skip
    return _canonical(frame, period, EARNINGS_FORECASTS)


def _picked(raw: RawFrame | None, columns: Mapping[str, str], source: str,
            context: Mapping[str, Any]) -> pl.DataFrame | None:  # fmt: skip
    if has_no_columns(raw):
        return None
    frame = to_polars(raw, source=source, context=context)
    check_columns(frame.columns, columns, known=frame.columns, source=source, context=context)
    frame = frame.select(pl.col(k).alias(v) for k, v in columns.items())
    return frame.with_columns(as_date(pl.col("known_at"), frame.schema["known_at"]))


def _canonical(frame: pl.DataFrame, period: date, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Canonical symbols (rows outside the known code ranges or without a date dropped), the period, fractions."""
    symbols = {}
    for code in frame["code"].cast(pl.String).unique().to_list():
        try:
            symbols[code] = parse_symbol(str(code).zfill(6)).canonical
        except (InvalidSymbolError, TypeError):
            continue
    frame = frame.with_columns(pl.col("code").cast(pl.String).replace_strict(symbols, default=None).alias("symbol"),
                               pl.lit(period).alias("report_period"))  # fmt: skip
    numbers = [n for n, dtype in schema.items() if dtype == pl.Float64()]
    frame = frame.with_columns(pl.col(n).cast(pl.Float64, strict=False) for n in numbers)
    frame = frame.with_columns(pl.col(n) / 100.0 for n in PERCENT if n in schema)
    frame = frame.filter(pl.col("symbol").is_not_null() & pl.col("known_at").is_not_null())
    return frame.select(list(schema)).cast(schema).sort("known_at", "symbol")  # type: ignore[arg-type]
