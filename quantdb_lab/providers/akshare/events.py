"""Transforms of the daily event lists (``domain.events``): ``stock_zt_pool_em`` and ``stock_lhb_detail_em``.

Pure functions over akshare 1.19.5's frames, like ``reference`` and ``sources``:

* ``stock_zt_pool_em(date="YYYYMMDD")`` (push2ex ``getTopicZTPool``): no date column. Eastmoney answers a date
  that is no session with the previous session's pool, and akshare passes it on without a word, so the rows
  are labelled here with the date asked for (all this layer knows) and the loader puts them on the session they
  belong to (``Dataset.off_session``). Percentages (涨跌幅, 换手率) become fractions; 最新价 arrives already
  divided by 1000; the seal times are ``HHMMSS`` strings. ``"data": null`` (a date the upstream no longer
  keeps) and an empty pool are akshare's ``pd.DataFrame()``: no rows.
* ``stock_lhb_detail_em(start_date, end_date)`` (datacenter-web ``RPT_DAILYBILLBOARD_DETAILSNEW``): 上榜日 is the
  upstream's own trading date; percentages become fractions; the 上榜后N日 columns are dropped (filled in after
  the listing: ``domain.events``). No rows at all is ``"result": null``, on which akshare raises a TypeError on
  ``NoneType`` (``failures``: no data).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

import polars as pl

from quantdb_lab.domain.events import DRAGON_TIGER, LIMIT_UP_POOL
from quantdb_lab.domain.schema import conform, empty_frame
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidSymbolError, ProviderSchemaError
from quantdb_lab.providers.akshare.transform import RawFrame, as_date, check_columns, has_no_columns, to_polars

#: akshare column -> canonical column, for each function (order as akshare returns them).
STOCK_ZT_POOL_EM_COLUMNS: Final = {
    "代码": "symbol", "名称": "name", "涨跌幅": "pct_change", "最新价": "close", "成交额": "amount",
    "流通市值": "float_cap", "总市值": "total_cap", "换手率": "turnover", "封板资金": "seal_fund",
    "首次封板时间": "first_seal", "最后封板时间": "last_seal", "炸板次数": "breaks", "涨停统计": "limit_stat",
    "连板数": "streak", "所属行业": "industry",
}  # fmt: skip
STOCK_LHB_DETAIL_EM_COLUMNS: Final = {
    "代码": "symbol", "名称": "name", "上榜日": "date", "解读": "comment", "收盘价": "close", "涨跌幅": "pct_change",
    "龙虎榜净买额": "net_buy", "龙虎榜买入额": "buy", "龙虎榜卖出额": "sell", "龙虎榜成交额": "deal_amount",
    "市场总成交额": "market_amount", "净买额占总成交比": "net_buy_ratio", "成交额占总成交比": "deal_ratio",
    "换手率": "turnover", "流通市值": "float_cap", "上榜原因": "reason",
}  # fmt: skip
_IGNORED: Final = ("序号", "上榜后1日", "上榜后2日", "上榜后5日", "上榜后10日")
_PERCENT = {"stock_zt_pool_em": ("pct_change", "turnover"),
            "stock_lhb_detail_em": ("pct_change", "net_buy_ratio", "deal_ratio", "turnover")}  # fmt: skip


def transform_zt_pool(raw: RawFrame | None, asked: date, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """``stock_zt_pool_em`` -> ``LIMIT_UP_POOL``, labelled with the date asked for (see the module docstring)."""
    frame = _renamed(raw, "stock_zt_pool_em", STOCK_ZT_POOL_EM_COLUMNS, context)
    if frame is None:
        return empty_frame(LIMIT_UP_POOL)
    seal = [pl.col(c).cast(pl.String).str.zfill(6).str.to_time("%H%M%S", strict=False).alias(c)
            for c in ("first_seal", "last_seal")]  # fmt: skip
    frame = frame.with_columns(*seal, pl.lit(asked, dtype=pl.Date).alias("date"))
    return conform(frame, LIMIT_UP_POOL, source="stock_zt_pool_em").sort("symbol")


def transform_lhb_detail(raw: RawFrame | None, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """``stock_lhb_detail_em`` -> ``DRAGON_TIGER`` sorted by date and symbol (rows without a date refused)."""
    frame = _renamed(raw, "stock_lhb_detail_em", STOCK_LHB_DETAIL_EM_COLUMNS, context)
    if frame is None:
        return empty_frame(DRAGON_TIGER)
    frame = frame.with_columns(as_date(pl.col("date"), frame.schema["date"]).alias("date"))
    if frame["date"].null_count():
        raise ProviderSchemaError("stock_lhb_detail_em returned rows without a readable 上榜日", **context)
    return conform(frame, DRAGON_TIGER, source="stock_lhb_detail_em").sort(["date", "symbol"], maintain_order=True)


def _renamed(raw: RawFrame | None, function: str, columns: Mapping[str, str],
             context: Mapping[str, Any]) -> pl.DataFrame | None:  # fmt: skip
    if has_no_columns(raw) or len(raw) == 0:
        return None
    frame = to_polars(raw, source=function, context=context)
    check_columns(frame.columns, columns, _IGNORED, source=function, context=context)
    frame = frame.select(pl.col(r).alias(c) for r, c in columns.items())
    numbers = [c for c, dtype in (LIMIT_UP_POOL if function == "stock_zt_pool_em" else DRAGON_TIGER).items()
               if dtype in (pl.Float64, pl.Int64) and c in frame.columns]  # fmt: skip
    frame = frame.with_columns(pl.col(c).cast(pl.Float64, strict=False) for c in numbers)
    frame = frame.with_columns(pl.col(c) / 100.0 for c in _PERCENT[function])
    return frame.with_columns(pl.Series("symbol", [_canonical(code, function, context) for code in frame["symbol"]],
                                        dtype=pl.String))  # fmt: skip


def _canonical(code: Any, function: str, context: Mapping[str, Any]) -> str:
    try:
        return parse_symbol(str(code).strip().zfill(6)).canonical
    except InvalidSymbolError as exc:
        raise ProviderSchemaError(f"{function} returned an unreadable code {code!r}", **context) from exc
