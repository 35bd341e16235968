"""The dividend tables of the simulated akshare upstream: canonical ``ACTIONS`` -> the pandas frames that
``stock_fhps_detail_em`` (Eastmoney: cash, bonus and transfer shares) and ``stock_history_dividend_detail``
(Sina: dividends, or rights issues with ``indicator="配股"``) return, and the market-wide ``stock_fhps_em`` (one
reporting period of every stock) and ``stock_pg_em`` (every rights issue), in akshare 1.19.5's columns and units
(amounts per 10 shares). A plan's reporting period is the year before its announcement (the simulated market
has annual plans only). The inverse of ``providers.akshare.actions``; financial columns the source does not
have (earnings, net assets, shares) are NaN."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from quantdb_lab.providers.akshare.actions import (
    DONE,
    FHPS_DETAIL_EM_ORDER,
    PROPOSED,
    SINA_DIVIDENDS_ORDER,
    SINA_RIGHTS_ORDER,
)
from quantdb_lab.providers.akshare.market_actions import FHPS_EM_ORDER, PG_EM_ORDER


def parse_yyyymmdd(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _dates(values: pl.Series) -> list[date | None]:
    return values.to_list()


def _per_ten(values: pl.Series) -> np.ndarray:
    return (values.fill_null(0.0) * 10.0).round(6).to_numpy()


def fhps_detail_em_frame(actions: pl.DataFrame) -> pd.DataFrame:
    """Eastmoney's table: one row per plan with cash or shares, sorted by reporting period (as akshare sorts)."""
    rows = actions.filter((pl.col("cash") > 0) | (pl.col("bonus") + pl.col("transfer") > 0)).sort(
        "announcement_date", "ex_date", nulls_last=True
    )
    n = rows.height
    ex = rows["ex_date"]
    announced = rows["announcement_date"]
    period = [date(d.year - 1, 12, 31) if d is not None else None for d in _dates(announced)]
    bonus, transfer, cash = _per_ten(rows["bonus"]), _per_ten(rows["transfer"]), _per_ten(rows["cash"])
    total = bonus + transfer
    profile = [
        "10" + (f"送{b:g}股" if b else "") + (f"转{t:g}股" if t else "") + (f"派{c:g}元(含税)" if c else "")
        for b, t, c in zip(bonus, transfer, cash, strict=True)
    ]
    nan = np.full(n, np.nan)
    data = {
        "报告期": period, "业绩披露日期": _dates(announced),
        "送转股份-送转总比例": np.where(total > 0, total, np.nan), "送转股份-送股比例": np.where(bonus > 0, bonus, np.nan),
        "送转股份-转股比例": np.where(transfer > 0, transfer, np.nan), "现金分红-现金分红比例": np.where(cash > 0, cash, np.nan),
        "现金分红-现金分红比例描述": profile, "现金分红-股息率": nan, "每股收益": nan, "每股净资产": nan, "每股公积金": nan,
        "每股未分配利润": nan, "净利润同比增长": nan, "总股本": nan, "预案公告日": _dates(announced),
        "股权登记日": _dates(rows["record_date"]), "除权除息日": _dates(ex),
        "方案进度": [DONE if d is not None else PROPOSED for d in _dates(ex)], "最新公告日期": _dates(announced),
    }  # fmt: skip
    frame = pd.DataFrame({name: data[name] for name in FHPS_DETAIL_EM_ORDER})
    for name in ("报告期", "业绩披露日期", "预案公告日", "股权登记日", "除权除息日", "最新公告日期"):
        frame[name] = pd.array(frame[name].tolist(), dtype=object)
    return frame


def fhps_em_frame(actions: pl.DataFrame, period: date) -> pd.DataFrame:
    """``stock_fhps_em(date=period)``: the plans of every symbol in ``actions`` whose period is ``period``."""
    rows = actions.filter(pl.col("announcement_date").dt.year() == period.year + 1) if (period.month, period.day) == (12, 31) else actions.clear()
    detail = fhps_detail_em_frame(rows)
    if detail.empty:
        raise TypeError("'NoneType' object is not subscriptable")  # upstream: "result": null
    paying = rows.filter((pl.col("cash") > 0) | (pl.col("bonus") + pl.col("transfer") > 0)).sort(
        "announcement_date", "ex_date", nulls_last=True
    )
    data = {name: detail[name] for name in detail.columns if name in FHPS_EM_ORDER}
    data["代码"] = [s.split(".")[0] for s in paying["symbol"].to_list()]
    data["名称"] = data["代码"]
    data["送转股份-送转比例"] = detail["送转股份-送股比例"]
    frame = pd.DataFrame({name: data[name] for name in FHPS_EM_ORDER})
    return frame.sort_values("最新公告日期", ignore_index=True)


def pg_em_frame(actions: pl.DataFrame) -> pd.DataFrame:
    """``stock_pg_em()``: every rights issue in ``actions`` (the register date the session before the ex-date)."""
    rows = actions.filter(pl.col("rights_ratio") > 0).sort("record_date", descending=True)
    n = rows.height
    nan = np.full(n, np.nan)
    codes = [s.split(".")[0] for s in rows["symbol"].to_list()]
    data = {
        "股票代码": codes, "股票简称": codes, "配售代码": codes, "配股数量": nan,
        "配股比例": ["10配" + str(v) for v in _per_ten(rows["rights_ratio"])], "配股价": rows["rights_price"].to_numpy(),
        "最新价": nan, "配股前总股本": nan, "配股后总股本": nan, "股权登记日": _dates(rows["record_date"]),
        "缴款起始日期": _dates(rows["ex_date"]), "缴款截止日期": _dates(rows["ex_date"]), "上市日": _dates(rows["ex_date"]),
    }  # fmt: skip
    return pd.DataFrame({name: data[name] for name in PG_EM_ORDER})


def sina_dividends_frame(actions: pl.DataFrame) -> pd.DataFrame:
    rows = actions.filter((pl.col("cash") > 0) | (pl.col("bonus") + pl.col("transfer") > 0)).sort("announcement_date", descending=True)
    if rows.is_empty():
        return pd.DataFrame()
    data = {
        "公告日期": _dates(rows["announcement_date"]), "送股": _per_ten(rows["bonus"]), "转增": _per_ten(rows["transfer"]),
        "派息": _per_ten(rows["cash"]), "进度": ["实施" if d is not None else "预案" for d in _dates(rows["ex_date"])],
        "除权除息日": _dates(rows["ex_date"]), "股权登记日": _dates(rows["record_date"]),
        "红股上市日": [e if b + t > 0 else None for e, b, t in zip(_dates(rows["ex_date"]), rows["bonus"], rows["transfer"], strict=True)],
    }  # fmt: skip
    return pd.DataFrame({name: data[name] for name in SINA_DIVIDENDS_ORDER})


def sina_rights_frame(actions: pl.DataFrame) -> pd.DataFrame:
    rows = actions.filter(pl.col("rights_ratio") > 0).sort("announcement_date", descending=True)
    if rows.is_empty():
        return pd.DataFrame()  # akshare: the page says there is no data
    n = rows.height
    ex = _dates(rows["ex_date"])
    data = {
        "公告日期": _dates(rows["announcement_date"]), "配股方案": _per_ten(rows["rights_ratio"]),
        "配股价格": rows["rights_price"].to_numpy(), "基准股本": np.full(n, np.nan), "除权日": ex,
        "股权登记日": _dates(rows["record_date"]), "缴款起始日": ex, "缴款终止日": ex, "配股上市日": ex,
        "募集资金合计": np.full(n, np.nan),
    }  # fmt: skip
    return pd.DataFrame({name: data[name] for name in SINA_RIGHTS_ORDER})


class DividendTables:
    """``stock_fhps_detail_em`` and ``stock_history_dividend_detail`` of ``SimulatedAkshare``, which provides
    ``_enter`` (call counting) and ``_actions`` (the source's table; None for a code the source does not list)."""

    def _enter(self, name: str) -> None: ...  # pragma: no cover - SimulatedAkshare's

    def _actions(self, code: str) -> pl.DataFrame | None: ...  # pragma: no cover - SimulatedAkshare's

    def _market_actions(self) -> pl.DataFrame: ...  # pragma: no cover - SimulatedAkshare's: every listed stock's

    def stock_fhps_em(self, date: str = "20231231") -> pd.DataFrame:
        self._enter("stock_fhps_em")
        return fhps_em_frame(self._market_actions(), parse_yyyymmdd(date))

    def stock_pg_em(self) -> pd.DataFrame:
        self._enter("stock_pg_em")
        return pg_em_frame(self._market_actions())

    def stock_fhps_detail_em(self, symbol: str = "300073") -> pd.DataFrame:
        self._enter("stock_fhps_detail_em")
        actions = self._actions(symbol)
        paying = None if actions is None else actions.filter((pl.col("cash") > 0) | (pl.col("bonus") + pl.col("transfer") > 0))
        if paying is None or paying.is_empty():
            raise TypeError("'NoneType' object is not subscriptable")  # upstream: "result": null
        return fhps_detail_em_frame(paying)

    def stock_history_dividend_detail(self, symbol: str = "000002", indicator: str = "分红", date: str = "") -> Any:
        self._enter("stock_history_dividend_detail")
        actions = self._actions(symbol)
        if actions is None:
            raise IndexError("list index out of range")  # Sina's page of an unknown code has fewer tables
        return sina_dividends_frame(actions) if indicator == "分红" else sina_rights_frame(actions)
