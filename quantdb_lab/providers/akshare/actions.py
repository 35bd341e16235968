"""Corporate actions from akshare's dividend tables -> canonical ``domain.actions.ACTIONS`` rows.

Sources (akshare 1.19.5; see ``tests/fixtures/akshare/actions`` for the wire formats they parse):

* ``stock_fhps_detail_em(symbol)``: Eastmoney's data center, report ``RPT_SHAREBONUS_DET``, one row per plan
  (reporting period), newest first on the wire, sorted by period by akshare. Amounts are per 10 shares:
  ``现金分红-现金分红比例`` is the pre-tax cash (``PRETAX_BONUS_RMB``), ``送转股份-送转总比例`` the bonus plus transfer
  shares (``BONUS_IT_RATIO``: already the total, never add ``IT_RATIO`` to it), ``送转股份-送股比例`` the bonus
  part (often null when there is none). akshare maps the 30 wire fields by position; its labels
  ``业绩披露日期`` and ``预案公告日`` may be swapped (positions 9 and 25 hold ``PLAN_NOTICE_DATE`` and
  ``PUBLISH_DATE`` in the server's order), so the announcement is the earliest of the two and ``最新公告日期``.
  Plans that distribute nothing (``不分配``) are dropped; proposed plans keep a null ex-date.
* ``stock_history_dividend_detail(symbol, indicator="配股")``: Sina's rights issues (not in Eastmoney's table):
  ``配股方案`` rights shares per 10 shares, ``配股价格`` CNY, ``除权日`` the ex-rights date. Two HTTP requests in
  akshare (the page is fetched once per indicator), one with ``indicator="分红"`` (Sina's dividends, per 10
  shares as well: ``送股``, ``转增``, ``派息``), which :func:`transform_sina_dividends` reads when Eastmoney's
  table is not to be had.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import polars as pl

from quantdb_lab.domain.actions import ACTIONS, empty_actions
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import ProviderSchemaError

EM_PERIOD = "报告期"
EM_COLUMNS = {
    "total": "送转股份-送转总比例",
    "bonus": "送转股份-送股比例",
    "transfer": "送转股份-转股比例",
    "cash": "现金分红-现金分红比例",
    "plan": "预案公告日",
    "published": "业绩披露日期",
    "record": "股权登记日",
    "ex": "除权除息日",
    "progress": "方案进度",
    "notice": "最新公告日期",
}
SINA_RIGHTS = {"announced": "公告日期", "ratio": "配股方案", "price": "配股价格", "ex": "除权日", "record": "股权登记日"}
SINA_DIVIDENDS = {"announced": "公告日期", "bonus": "送股", "transfer": "转增", "cash": "派息", "ex": "除权除息日",
                  "record": "股权登记日", "progress": "进度"}  # fmt: skip
NO_DISTRIBUTION = "不分配"  # a plan that distributes nothing
# akshare's output orders (the simulated upstream builds these frames)
FHPS_DETAIL_EM_ORDER = (
    "报告期", "业绩披露日期", "送转股份-送转总比例", "送转股份-送股比例", "送转股份-转股比例", "现金分红-现金分红比例",
    "现金分红-现金分红比例描述", "现金分红-股息率", "每股收益", "每股净资产", "每股公积金", "每股未分配利润", "净利润同比增长",
    "总股本", "预案公告日", "股权登记日", "除权除息日", "方案进度", "最新公告日期",
)  # fmt: skip
SINA_DIVIDENDS_ORDER = ("公告日期", "送股", "转增", "派息", "进度", "除权除息日", "股权登记日", "红股上市日")
SINA_RIGHTS_ORDER = ("公告日期", "配股方案", "配股价格", "基准股本", "除权日", "股权登记日", "缴款起始日", "缴款终止日",
                     "配股上市日", "募集资金合计")  # fmt: skip
DONE, PROPOSED = "实施分配", "董事会预案"


def typed_frame(raw: Any, wanted: dict[str, str], function: str, context: dict[str, Any], *,
                text: frozenset[str] = frozenset({"progress"})) -> pl.DataFrame | None:  # fmt: skip
    """The ``wanted`` columns of the raw pandas frame as polars, named by their keys (dates as Date, the ``text``
    keys as String, amounts as Float64); None for "no data"."""
    if raw is None or (isinstance(raw, pd.DataFrame) and raw.columns.empty):
        return None
    missing = [c for c in wanted.values() if c not in raw.columns]
    if missing:
        raise ProviderSchemaError(f"akshare.{function} returned no columns {missing}", columns=list(map(str, raw.columns)), **context)
    out = {}
    for key, column in wanted.items():
        values = raw[column]
        if key in ("plan", "published", "record", "ex", "notice", "announced"):
            out[key] = pl.Series(key, pd.to_datetime(values, errors="coerce")).cast(pl.Date)
        elif key in text:
            out[key] = pl.Series(key, values.astype("string").fillna("").tolist(), dtype=pl.String)
        else:
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=float("nan"))
            out[key] = pl.Series(key, numbers, dtype=pl.Float64, nan_to_null=True)
    return pl.DataFrame(out)


def transform_fhps_detail_em(raw: Any, symbol: Symbol, *, context: dict[str, Any]) -> pl.DataFrame:
    """Eastmoney's dividend plans of ``symbol`` as ``ACTIONS`` (cash, bonus and transfer per share)."""
    frame = typed_frame(raw, EM_COLUMNS, "stock_fhps_detail_em", context)
    if frame is None or frame.is_empty():
        return empty_actions()
    per_share = frame.with_columns(
        (pl.col("cash").fill_null(0.0) / 10.0).alias("cash"),
        (pl.col("bonus").fill_null(0.0) / 10.0).alias("bonus"),
        # the total is bonus + transfer already; transfer is what the total leaves after the bonus
        ((pl.col("total").fill_null(pl.col("bonus").fill_null(0.0) + pl.col("transfer").fill_null(0.0))
          - pl.col("bonus").fill_null(0.0)) / 10.0).alias("transfer"),
    )  # fmt: skip
    out = per_share.filter(
        (pl.col("progress") != NO_DISTRIBUTION) & ((pl.col("cash") > 0) | (pl.col("bonus") + pl.col("transfer") > 0))
    ).select(
        pl.lit(symbol.canonical).alias("symbol"),
        pl.min_horizontal("plan", "published", "notice").alias("announcement_date"),
        pl.col("record").alias("record_date"),
        pl.col("ex").alias("ex_date"),
        "cash", "bonus", pl.col("transfer").round(6),
        pl.lit(0.0).alias("rights_ratio"), pl.lit(None, pl.Float64).alias("rights_price"),
        pl.lit("eastmoney").alias("source"),
    )  # fmt: skip
    return out.cast(ACTIONS).sort("ex_date", "announcement_date", nulls_last=True)


def transform_sina_rights(raw: Any, symbol: Symbol, *, context: dict[str, Any]) -> pl.DataFrame:
    """Sina's rights issues of ``symbol`` as ``ACTIONS`` (``rights_ratio`` per share and ``rights_price``)."""
    frame = typed_frame(raw, SINA_RIGHTS, "stock_history_dividend_detail", context)
    if frame is None or frame.is_empty():
        return empty_actions()
    out = frame.filter(pl.col("ratio") > 0).select(
        pl.lit(symbol.canonical).alias("symbol"),
        pl.col("announced").alias("announcement_date"),
        pl.col("record").alias("record_date"),
        pl.col("ex").alias("ex_date"),
        pl.lit(0.0).alias("cash"), pl.lit(0.0).alias("bonus"), pl.lit(0.0).alias("transfer"),
        (pl.col("ratio") / 10.0).alias("rights_ratio"), pl.col("price").alias("rights_price"),
        pl.lit("sina").alias("source"),
    )  # fmt: skip
    return out.cast(ACTIONS).sort("ex_date", nulls_last=True)


def transform_sina_dividends(raw: Any, symbol: Symbol, *, context: dict[str, Any]) -> pl.DataFrame:
    """Sina's dividends of ``symbol`` as ``ACTIONS`` (per-10-share amounts divided out)."""
    frame = typed_frame(raw, SINA_DIVIDENDS, "stock_history_dividend_detail", context)
    if frame is None or frame.is_empty():
        return empty_actions()
    per_share = frame.with_columns((pl.col(c).fill_null(0.0) / 10.0).alias(c) for c in ("cash", "bonus", "transfer"))
    out = per_share.filter((pl.col("cash") > 0) | (pl.col("bonus") + pl.col("transfer") > 0)).select(
        pl.lit(symbol.canonical).alias("symbol"),
        pl.col("announced").alias("announcement_date"),
        pl.col("record").alias("record_date"),
        pl.col("ex").alias("ex_date"),
        "cash", "bonus", "transfer",
        pl.lit(0.0).alias("rights_ratio"), pl.lit(None, pl.Float64).alias("rights_price"),
        pl.lit("sina").alias("source"),
    )  # fmt: skip
    return out.cast(ACTIONS).sort("ex_date", nulls_last=True)


def merge_actions(*frames: pl.DataFrame) -> pl.DataFrame:
    """One table from several sources (dividends from one, rights issues from another), sorted by ex-date."""
    return pl.concat([empty_actions(), *frames]).sort("ex_date", "announcement_date", nulls_last=True)
