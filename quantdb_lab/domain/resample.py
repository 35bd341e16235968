"""Weekly and monthly bars from daily bars. Pure; used by the Lab (never fetched separately) and by the
simulated akshare upstream, so both sides of a comparison aggregate the same way.

A weekly bar spans Monday..Sunday and a monthly bar a calendar month, as Eastmoney's ``period="weekly"`` does;
``date`` is the period's last session (what akshare reports), open is the first session's open, close the last
session's close, high/low the extremes, volume, amount and turnover sums. ``change`` and ``pct_change`` are
measured from the reference close before the period's first session (``close - change`` of that day), so the
first period of a range is complete too. Partial periods at the edges of a range stay partial.
"""

from __future__ import annotations

import polars as pl

FREQS = ("daily", "weekly", "monthly")
_TRUNCATE = {"weekly": "1w", "monthly": "1mo"}


def resample(frame: pl.DataFrame, freq: str) -> pl.DataFrame:
    if freq == "daily" or frame.is_empty():
        return frame
    if freq not in _TRUNCATE:
        raise KeyError(freq)
    reference = pl.col("close") - pl.col("change")
    return (
        frame.sort("symbol", "date")
        .with_columns(pl.col("date").dt.truncate(_TRUNCATE[freq]).alias("_period"), reference.alias("_ref"))
        .group_by("symbol", "_period", maintain_order=True)
        .agg(
            pl.col("date").last(),
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
            pl.col("amount").sum(),
            pl.col("turnover").sum(),
            pl.col("_ref").first(),
        )
        .with_columns((pl.col("close") - pl.col("_ref")).alias("change"))
        .with_columns((pl.col("change") / pl.col("_ref")).alias("pct_change"))
        .select(frame.columns)
    )
