"""Sina's and Tencent's daily bars of indices, ETFs and HK stocks in the simulated akshare upstream.

``stock_zh_index_daily``, ``stock_zh_index_daily_tx``, ``fund_etf_hist_sina`` and ``stock_hk_daily`` answer from
the source's unadjusted bars in akshare 1.19.5's output shapes (``providers.akshare.kind_sources``): the Sina
functions with the whole history on every call (no date arguments), prices to 3 decimals and volume in shares
(int64 for the index and the ETF, float64 like every HK column), ``amount`` for the index only (the ETF and HK
answers of akshare's documentation carry none); Tencent's index within the range asked, prices to 2 decimals,
its volume in whole lots under the name ``amount`` and no turnover value. Each call goes through ``_enter``, so
the host family's bans (``simulated_sources.HostBans``) refuse it like the others. Only ``adjust=""`` is
simulated for HK (the cache asks for nothing else).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl

from quantdb_lab.providers.akshare.kind_sources import SINA_KLINE_ORDER, TENCENT_INDEX_ORDER

_EVERYTHING = ("19700101", "22220101")


def _prices(bars: pl.DataFrame, decimals: int) -> dict[str, np.ndarray]:
    return {c: bars[c].round(decimals).fill_null(np.nan).to_numpy() for c in ("open", "high", "low", "close")}


def _whole(values: pl.Series) -> np.ndarray:
    """int64 as ``pd.to_numeric`` gives for whole numbers; float64 with NaN once one is missing."""
    rounded = values.cast(pl.Float64).round(0)
    if rounded.null_count() or rounded.is_nan().any():
        return rounded.fill_null(np.nan).to_numpy()
    return rounded.cast(pl.Int64).to_numpy()


def _dates(bars: pl.DataFrame) -> object:
    return pd.array(bars["date"].to_list(), dtype=object)


def sina_index_frame(bars: pl.DataFrame) -> pd.DataFrame:
    """Canonical unadjusted bars as ``stock_zh_index_daily`` returns them."""
    data = {"date": _dates(bars), **_prices(bars, 3), "volume": _whole(bars["volume"]),
            "amount": _whole(bars["amount"])}  # fmt: skip
    return pd.DataFrame({c: data[c] for c in SINA_KLINE_ORDER})


def tencent_index_frame(bars: pl.DataFrame) -> pd.DataFrame:
    """Canonical unadjusted bars as ``stock_zh_index_daily_tx`` returns them: the volume in lots as ``amount``."""
    lots = (bars["volume"].cast(pl.Float64) / 100.0).round(0).fill_null(np.nan).to_numpy()
    data = {"date": _dates(bars), **_prices(bars, 2), "amount": lots}
    return pd.DataFrame({c: data[c] for c in TENCENT_INDEX_ORDER})


def sina_etf_frame(bars: pl.DataFrame) -> pd.DataFrame:
    """Canonical unadjusted bars as ``fund_etf_hist_sina`` returns them (no amount column)."""
    data = {"date": _dates(bars), **_prices(bars, 3), "volume": _whole(bars["volume"])}
    return pd.DataFrame({c: data[c] for c in SINA_KLINE_ORDER if c in data})


def sina_hk_frame(bars: pl.DataFrame) -> pd.DataFrame:
    """Canonical unadjusted bars as ``stock_hk_daily(adjust="")`` returns them: every value float64."""
    data = {"date": _dates(bars), **_prices(bars, 3),
            "volume": bars["volume"].cast(pl.Float64).round(0).fill_null(np.nan).to_numpy()}  # fmt: skip
    return pd.DataFrame({c: data[c] for c in SINA_KLINE_ORDER if c in data})


class KindBars:
    """The four functions of ``SimulatedAkshare``, which provides ``_enter`` (counting, latency and the host's
    bans) and ``_plain_bars`` (the source's unadjusted bars of a symbol in any akshare form)."""

    def _enter(self, name: str) -> None: ...  # pragma: no cover - SimulatedAkshare's

    def _plain_bars(self, code: str, start_date: str, end_date: str) -> pl.DataFrame | None: ...  # pragma: no cover

    def stock_zh_index_daily(self, symbol: str = "sh000922") -> pd.DataFrame:
        self._enter("stock_zh_index_daily")
        bars = self._plain_bars(symbol, *_EVERYTHING)
        if bars is None or bars.is_empty():
            raise IndexError("list index out of range")  # akshare: the page has no data string
        return sina_index_frame(bars)

    def stock_zh_index_daily_tx(self, symbol: str = "sz980017", start_date: str = "",
                                end_date: str = "") -> pd.DataFrame:  # fmt: skip
        self._enter("stock_zh_index_daily_tx")
        bars = self._plain_bars(symbol, start_date or _EVERYTHING[0], end_date or _EVERYTHING[1])
        if bars is None:
            raise TypeError("'NoneType' object is not subscriptable")  # akshare: "data" has no such code
        return tencent_index_frame(bars)

    def fund_etf_hist_sina(self, symbol: str = "sh510050") -> pd.DataFrame:
        self._enter("fund_etf_hist_sina")
        bars = self._plain_bars(symbol, *_EVERYTHING)
        if bars is None or bars.is_empty():
            return pd.DataFrame()  # akshare: an empty decoded list
        return sina_etf_frame(bars)

    def stock_hk_daily(self, symbol: str = "00981", adjust: str = "") -> pd.DataFrame:
        self._enter("stock_hk_daily")
        if adjust:
            raise NotImplementedError("the simulated Sina HK source serves unadjusted bars only")
        bars = self._plain_bars(symbol, *_EVERYTHING)
        if bars is None or bars.is_empty():
            raise IndexError("list index out of range")
        return sina_hk_frame(bars)
