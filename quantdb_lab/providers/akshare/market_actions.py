"""Market-wide corporate-action tables from akshare -> canonical ``domain.actions.ACTIONS`` rows of every symbol.

What a qfq read over Eastmoney's klines needs (their change is close to close, so the factors come from a
dividend table) at a cost shared by the whole market instead of two calls per symbol:

* ``stock_fhps_em(date="YYYYMMDD")``: Eastmoney's data center, report ``RPT_SHAREBONUS_DET`` filtered by
  ``REPORT_DATE`` (one reporting period, every stock; pages of 500 inside the one akshare call). The same wire
  rows as ``stock_fhps_detail_em`` (``providers.akshare.actions``), mapped by position by akshare 1.19.5:
  ``送转股份-送转总比例`` is ``BONUS_IT_RATIO`` (bonus plus transfer, per 10 shares), ``送转股份-送转比例`` the bonus
  part (``BONUS_RATIO``), ``现金分红-现金分红比例`` the pre-tax cash per 10 shares, ``预案公告日`` the plan's notice
  and ``最新公告日期`` the latest notice (the announcement is the earlier of the two). A period without plans
  answers ``"result": null`` (akshare raises a ``NoneType`` TypeError: no data).
* ``stock_pg_em()``: Eastmoney's list of every rights issue (``RPT_IPO_ALLOTMENT``, one request):
  ``配股比例`` as ``"10配3.0"``, ``配股价`` CNY, ``股权登记日`` the register date. The table has no ex-rights date:
  an A-share rights issue goes ex-rights on the session after the register date, so the ex-date is the register
  date plus one day (``domain.actions.events_from_actions`` lands it on the first bar on or after it, and takes
  the register date's close as the previous close); nor an announcement date (visible from the register date).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from quantdb_lab.domain.actions import ACTIONS, empty_actions
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.providers.akshare.actions import NO_DISTRIBUTION, typed_frame

FHPS_EM_COLUMNS = {"code": "代码", "total": "送转股份-送转总比例", "bonus": "送转股份-送转比例", "cash": "现金分红-现金分红比例",
                   "plan": "预案公告日", "record": "股权登记日", "ex": "除权除息日", "progress": "方案进度",
                   "notice": "最新公告日期"}  # fmt: skip
FHPS_EM_ORDER = (
    "代码", "名称", "送转股份-送转总比例", "送转股份-送转比例", "送转股份-转股比例", "现金分红-现金分红比例", "现金分红-股息率",
    "每股收益", "每股净资产", "每股公积金", "每股未分配利润", "净利润同比增长", "总股本", "预案公告日", "股权登记日",
    "除权除息日", "方案进度", "最新公告日期",
)  # fmt: skip
PG_EM_COLUMNS = {"code": "股票代码", "offer": "配股比例", "price": "配股价", "record": "股权登记日"}
PG_EM_ORDER = ("股票代码", "股票简称", "配售代码", "配股数量", "配股比例", "配股价", "最新价", "配股前总股本", "配股后总股本",
               "股权登记日", "缴款起始日期", "缴款截止日期", "上市日")  # fmt: skip


def _canonical(codes: pl.Series) -> pl.Series:
    out: list[str | None] = []
    for code in codes.fill_null(""):
        try:
            out.append(parse_symbol(code.strip().zfill(6)).canonical)
        except InvalidRequestError:
            out.append(None)  # not a code of a listed A share (the tables hold only those)
    return pl.Series("symbol", out, dtype=pl.String)


def transform_fhps_em(raw: Any, *, context: dict[str, Any]) -> pl.DataFrame:
    """Every stock's plan of one reporting period (``stock_fhps_em``) as ``ACTIONS``, per share."""
    table = typed_frame(raw, FHPS_EM_COLUMNS, "stock_fhps_em", context, text=frozenset({"code", "progress"}))
    if table is None or table.is_empty():
        return empty_actions()
    table = table.with_columns(_canonical(table["code"]))
    bonus = pl.col("bonus").fill_null(0.0)
    out = table.with_columns(
        (pl.col("cash").fill_null(0.0) / 10.0).alias("cash"),
        (bonus / 10.0).alias("bonus"),
        ((pl.col("total").fill_null(bonus) - bonus) / 10.0).round(6).alias("transfer"),
    ).filter(
        pl.col("symbol").is_not_null() & (pl.col("progress") != NO_DISTRIBUTION)
        & ((pl.col("cash") > 0) | (pl.col("bonus") + pl.col("transfer") > 0))
    ).select(
        "symbol", pl.min_horizontal("plan", "notice").alias("announcement_date"), pl.col("record").alias("record_date"),
        pl.col("ex").alias("ex_date"), "cash", "bonus", "transfer", pl.lit(0.0).alias("rights_ratio"),
        pl.lit(None, pl.Float64).alias("rights_price"), pl.lit("eastmoney").alias("source"),
    )  # fmt: skip
    return out.cast(ACTIONS).sort("symbol", "ex_date", nulls_last=True)


def transform_pg_em(raw: Any, *, context: dict[str, Any]) -> pl.DataFrame:
    """Every rights issue Eastmoney lists (``stock_pg_em``) as ``ACTIONS`` (see the module docstring)."""
    frame = typed_frame(raw, PG_EM_COLUMNS, "stock_pg_em", context, text=frozenset({"code", "offer"}))
    if frame is None or frame.is_empty():
        return empty_actions()
    table = frame.select(  # 配股比例 reads "10配3.0": rights shares per 10 held
        _canonical(frame["code"]), pl.col("record").alias("record_date"),
        (pl.col("offer").str.replace("10配", "", literal=True).str.strip_chars().cast(pl.Float64, strict=False) / 10.0)
        .alias("rights_ratio"),
        pl.col("price").alias("rights_price"),
    )
    out = table.filter(pl.col("symbol").is_not_null() & (pl.col("rights_ratio") > 0) & pl.col("record_date").is_not_null())
    return out.select(
        "symbol", pl.lit(None, pl.Date).alias("announcement_date"), "record_date",
        (pl.col("record_date") + pl.duration(days=1)).alias("ex_date"), pl.lit(0.0).alias("cash"),
        pl.lit(0.0).alias("bonus"), pl.lit(0.0).alias("transfer"), "rights_ratio", "rights_price",
        pl.lit("eastmoney").alias("source"),
    ).cast(ACTIONS).sort("symbol", "ex_date")  # fmt: skip

