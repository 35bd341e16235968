"""akshare's three minute-bar functions, shaped like akshare 1.19.5's answers, for ``SimulatedAkshare``.

Answered from the source's ``minute_bars`` fetcher (canonical ``MINUTE_BARS``), turned back into the wire's
shape: 时间 as 'YYYY-MM-DD HH:MM:SS' strings, volume in lots, ``0.0`` where the source's open was an estimate
(Eastmoney sent none), 均价 (最新价 for the index function) for period "1", the kline extras for the others. An
unknown symbol fails as akshare does when Eastmoney answers ``"data": null`` (a TypeError).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import polars as pl

from quantdb_lab.domain.dates import parse_date
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.providers.akshare.columns import MINUTE_1_ORDER, MINUTE_COLUMNS, MINUTE_LOT_SIZE, MINUTE_N_ORDER
from quantdb_lab.providers.fetchers import fetchers_of

_CANONICAL = {c: r for r, c in MINUTE_COLUMNS.items()}


def to_akshare_minutes(frame: pl.DataFrame, period: str, *, last_column: str = "均价") -> pd.DataFrame:
    """The akshare frame that ``providers.akshare.minutes.transform_minutes`` reads back as ``frame``."""
    wire = frame.sort("time").with_columns(
        pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S"),
        pl.when(pl.col("open_estimated")).then(0.0).otherwise(pl.col("open")).alias("open"),
        (pl.col("volume") / MINUTE_LOT_SIZE).round(0).cast(pl.Int64).alias("volume"),
    ).rename(_CANONICAL)
    if period == "1":
        day = pl.col("时间").str.slice(0, 10)
        wire = wire.with_columns((pl.col("成交额").cum_sum().over(day) / (pl.col("成交量").cum_sum().over(day)
                                  * MINUTE_LOT_SIZE)).fill_nan(None).round(3).alias("均价"))  # fmt: skip
        order = [c if c != "均价" else last_column for c in MINUTE_1_ORDER]
        wire = wire.rename({"均价": last_column})
    else:
        previous = pl.col("收盘").shift(1).fill_null(pl.col("开盘"))
        wire = wire.with_columns(((pl.col("收盘") / previous - 1) * 100).round(2).alias("涨跌幅"),
                                 (pl.col("收盘") - previous).round(3).alias("涨跌额"),
                                 ((pl.col("最高") - pl.col("最低")) / previous * 100).round(2).alias("振幅"),
                                 pl.lit(0.0).alias("换手率"))  # fmt: skip
        order = list(MINUTE_N_ORDER)
    return wire.select(order).to_pandas()


class MinuteFunctions:
    """Mixed into ``SimulatedAkshare`` (which provides ``source`` and ``_enter``)."""

    def stock_zh_a_hist_min_em(self, symbol: str = "000001", start_date: str = "1979-09-01 09:32:00",
                               end_date: str = "2222-01-01 09:32:00", period: str = "5",
                               adjust: str = "") -> pd.DataFrame:  # fmt: skip
        self._enter("stock_zh_a_hist_min_em")
        return self._minutes(symbol, start_date, end_date, period, adjust)

    def index_zh_a_hist_min_em(self, symbol: str = "399006", period: str = "1", start_date: str = "1979-09-01 09:32:00",
                               end_date: str = "2222-01-01 09:32:00") -> pd.DataFrame:  # fmt: skip
        self._enter("index_zh_a_hist_min_em")
        return self._minutes(symbol, start_date, end_date, period, "", kind="index", last_column="最新价")

    def fund_etf_hist_min_em(self, symbol: str = "159707", start_date: str = "1979-09-01 09:32:00",
                             end_date: str = "2222-01-01 09:32:00", period: str = "5",
                             adjust: str = "") -> pd.DataFrame:  # fmt: skip
        self._enter("fund_etf_hist_min_em")
        return self._minutes(symbol, start_date, end_date, period, adjust, kind="etf")

    def _minutes(self, code: str, start_date: str, end_date: str, period: str, adjust: str, *, kind: str = "stock",
                 last_column: str = "均价") -> pd.DataFrame:  # fmt: skip
        if period not in ("1", "5", "15", "30", "60") or adjust not in ("", "qfq", "hfq"):
            raise KeyError(period)  # akshare: a lookup dict
        try:
            symbol = parse_symbol(code)
        except InvalidRequestError:
            raise TypeError("'NoneType' object is not subscriptable") from None
        if kind != "stock" and symbol.kind != kind:  # an index code that parses as a stock: the index's market
            symbol = parse_symbol(f"{code}.{'SH' if code.startswith(('000', '5')) else 'SZ'}")
        fetcher = fetchers_of(self.source).get("minute_bars")
        if fetcher is None:
            raise TypeError("'NoneType' object is not subscriptable")
        start, end = _day(start_date, date(1979, 9, 1)), _day(end_date, date(2222, 1, 1))
        frame = fetcher.fetch(symbol, start, min(end, self._today()), period=period)
        if frame.is_empty():
            raise TypeError("'NoneType' object is not subscriptable")  # Eastmoney: "data": null
        return to_akshare_minutes(frame, period, last_column=last_column)


def _day(text: str, default: date) -> date:
    try:
        return parse_date(text[:10])
    except (InvalidRequestError, TypeError, ValueError):
        return default
