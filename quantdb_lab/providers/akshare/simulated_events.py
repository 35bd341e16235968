"""The daily event lists of the simulated akshare upstream: the source's ``limit_up_pool`` and ``dragon_tiger``
frames (``domain.events``) -> what ``stock_zt_pool_em`` and ``stock_lhb_detail_em`` return, in akshare 1.19.5's
columns and units (percent, six-digit codes, ``HHMMSS`` seal times, no date column in the pool). The inverse of
``providers.akshare.events``. What akshare does on no data is kept: ``pd.DataFrame()`` for the pool, the
TypeError on ``None`` for the dragon-tiger list; the ``上榜后N日`` columns are NaN (filled in later upstream)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import polars as pl

from quantdb_lab.domain.dates import parse_date
from quantdb_lab.providers.akshare.events import STOCK_LHB_DETAIL_EM_COLUMNS, STOCK_ZT_POOL_EM_COLUMNS
from quantdb_lab.providers.fetchers import fetchers_of

_LATER = ("上榜后1日", "上榜后2日", "上榜后5日", "上榜后10日")


class EventLists:
    """Mixed into ``SimulatedAkshare``: needs ``self.source`` and ``self._enter``."""

    def stock_zt_pool_em(self, date: str = "20241008") -> pd.DataFrame:  # noqa: A002 - akshare's name
        self._enter("stock_zt_pool_em")
        day = parse_date(date)
        frame = fetchers_of(self.source)["limit_up_pool"].fetch(None, day, day)
        if frame.is_empty():
            return pd.DataFrame()
        frame = _percent(frame, ("pct_change", "turnover")).with_columns(
            pl.col("symbol").str.slice(0, 6),
            *(pl.col(c).dt.strftime("%H%M%S").str.strip_chars_start("0").str.zfill(5) for c in ("first_seal", "last_seal")),
        )  # fmt: skip
        out = pd.DataFrame({"序号": np.arange(1, frame.height + 1)})
        for raw, column in STOCK_ZT_POOL_EM_COLUMNS.items():
            out[raw] = frame[column].to_list()
        return out

    def stock_lhb_detail_em(self, start_date: str = "20230403", end_date: str = "20230417") -> pd.DataFrame:
        self._enter("stock_lhb_detail_em")
        start, end = parse_date(start_date), parse_date(end_date)
        frame = fetchers_of(self.source)["dragon_tiger"].fetch(None, start, end)
        if frame.is_empty():
            raise TypeError("'NoneType' object is not subscriptable")  # akshare on "result": null
        frame = _percent(frame, ("pct_change", "net_buy_ratio", "deal_ratio", "turnover")).with_columns(
            pl.col("symbol").str.slice(0, 6))
        out = pd.DataFrame({"序号": np.arange(1, frame.height + 1)})
        for raw, column in STOCK_LHB_DETAIL_EM_COLUMNS.items():
            values = frame[column].to_list()
            out[raw] = pd.array(values, dtype=object) if isinstance(values[0], date) else values
        for name in _LATER:
            out[name] = np.nan
        return out


def _percent(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    return frame.with_columns(pl.col(c) * 100.0 for c in columns)
