"""Weekly and monthly bars derived from cached daily bars (never fetched separately). Pure.

A weekly bar spans Monday..Sunday and a monthly bar a calendar month, as Eastmoney's ``period="weekly"`` does;
``date`` is the bar's last trading session (what akshare reports), open is the first session's open, close the
last session's close, high/low the extremes, volume and amount sums. ``turnover`` sums too (a fraction of the
float traded over the period); ``pct_change`` and ``change`` are recomputed from the previous period's close.
"""

from __future__ import annotations

import polars as pl

FREQS = ("daily", "weekly", "monthly")
_EVERY = {"weekly": "1w", "monthly": "1mo"}


def resample(frame: pl.DataFrame, freq: str) -> pl.DataFrame:
    if freq == "daily" or frame.is_empty():
        return frame
    every = _EVERY[freq]
    columns = frame.columns
    out = (
        frame.sort("symbol", "date")
        .group_by_dynamic("date", every=every, group_by="symbol", label="left", start_by="window")
        .agg(
            pl.col("date").last().alias("last_session"),
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
            pl.col("amount").sum(),
            pl.col("turnover").sum(),
        )
        .drop("date")
        .rename({"last_session": "date"})
        .with_columns(prev=pl.col("close").shift(1).over("symbol"))
        .with_columns(
            change=pl.col("close") - pl.col("prev"),
            pct_change=pl.col("close") / pl.col("prev") - 1.0,
        )
        .drop("prev")
    )
    return out.select(columns)
