"""Quality of any registered dataset's stored rows (``domain.datasets``): the checks every dataset shares, and
those a dataset's columns make possible. Pure: frames and day numbers in, ``ISSUES`` rows out.

* ``lost_session`` (warning): a session the upstream forgot before the cache captured it (``SeriesMeta.lost``):
  a gap that can never be filled, said once per session;
* ``off_session`` (error): a row dated on a day that is no trading session;
* ``duplicate_row`` (warning): the same row twice (an event list keeps several rows per session, never twins);
* ``net_buy_mismatch`` (warning): where ``buy``, ``sell`` and ``net_buy`` are columns (the dragon-tiger
  list), ``net_buy`` differs from ``buy - sell`` by more than a yuan per 10,000;
* ``not_at_limit`` (warning): where ``seal_fund`` is a column (the limit-up pool), a row whose change is below the
  smallest daily limit of the stocks the pool lists (5 %, half the main board's 10 %, allowing for rounding).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import from_day_number
from quantdb_lab.domain.datasets import Dataset
from quantdb_lab.quality.issues import ISSUES, emit, empty_issues

SMALLEST_LIMIT = 0.045  # below the 5 % of the narrowest limit a pooled stock can have, with rounding


def check_dataset(frame: pl.DataFrame, record: Dataset, *, symbol: str, sessions: np.ndarray,
                  lost: np.ndarray) -> pl.DataFrame:  # fmt: skip
    """Issues of ``frame`` (rows of ``record`` for the series ``symbol``); ``sessions``: the trading sessions
    of the range (day numbers), ``lost``: the sessions recorded as lost."""
    column = record.index_column
    found = [_lost(lost, symbol)]
    if frame.height:
        days = pl.col(column).cast(pl.Date) if frame.schema[column] == pl.Date else pl.col(column).dt.date()
        work = frame.with_columns(days.alias("_day"))
        if "symbol" not in work.columns:
            work = work.with_columns(pl.lit(symbol).alias("symbol"))
        on = work.filter(~pl.col("_day").cast(pl.Int64).is_in(sessions.tolist()))
        found.append(emit(on.select("symbol", pl.col("_day").alias("date")), "off_session", "error",
                          pl.lit("dated on a day that is no trading session")))  # fmt: skip
        twins = work.filter(frame.is_duplicated())
        found.append(emit(twins.select("symbol", pl.col("_day").alias("date")).unique(), "duplicate_row", "warning",
                          pl.lit("the same row is stored twice")))  # fmt: skip
        if {"buy", "sell", "net_buy"} <= set(frame.columns):
            off = work.filter((pl.col("net_buy") - (pl.col("buy") - pl.col("sell"))).abs()
                              > 1e-4 * pl.max_horizontal(pl.col("buy").abs(), pl.col("sell").abs(), pl.lit(1.0)))  # fmt: skip
            found.append(emit(off.select("symbol", pl.col("_day").alias("date"), "net_buy", "buy", "sell"),
                              "net_buy_mismatch", "warning",
                              pl.format("net buy {} is not buy {} - sell {}", "net_buy", "buy", "sell")))  # fmt: skip
        if {"seal_fund", "pct_change"} <= set(frame.columns):
            low = work.filter(pl.col("pct_change") < SMALLEST_LIMIT)
            found.append(emit(low.select("symbol", pl.col("_day").alias("date"), "pct_change"), "not_at_limit",
                              "warning", pl.format("change {} is below any daily limit", "pct_change")))  # fmt: skip
    return pl.concat([f for f in found if f.height], how="vertical") if any(f.height for f in found) else empty_issues()


def _lost(lost: np.ndarray, symbol: str) -> pl.DataFrame:
    if not len(lost):
        return empty_issues()
    rows = pl.DataFrame({"symbol": [symbol] * len(lost), "date": [from_day_number(int(d)) for d in lost]},
                        schema={"symbol": ISSUES["symbol"], "date": ISSUES["date"]})  # fmt: skip
    return emit(rows, "lost_session", "warning", pl.lit("the upstream forgot this session before it was captured"))
