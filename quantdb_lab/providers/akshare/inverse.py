"""The inverse of ``transform``: canonical bars -> the pandas frames akshare hands out, for the simulated upstream.

It uses the same ``BarEndpoint`` descriptions as the transform (names, order, lot size, percent columns, date
form), so a round trip through both is the identity; the simulated-upstream contract test checks that.
Values are not rounded to Eastmoney's 2 decimals (a lossless round trip matters more here); volume is
rounded to whole lots, so a source volume that is not a multiple of the lot size does not survive exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl

from quantdb_lab.domain.schema import PRICE_COLUMNS
from quantdb_lab.providers.akshare.columns import AMPLITUDE_COLUMN, CODE_COLUMN, BarEndpoint



def _float(frame: pl.DataFrame, column: str) -> np.ndarray:
    return frame[column].cast(pl.Float64).fill_null(np.nan).to_numpy()


def _volume(values: pl.Series, lot_size: int) -> np.ndarray:
    """Whole lots as int64, as akshare's ``pd.to_numeric`` gives; float64 with NaN once one is missing."""
    lots = (values.cast(pl.Float64) / lot_size).round(0)
    if lots.null_count() or lots.is_nan().any():
        return lots.fill_null(np.nan).to_numpy()
    return lots.cast(pl.Int64).to_numpy()


def to_akshare_bars(frame: pl.DataFrame, endpoint: BarEndpoint, *, code: str | None = None) -> pd.DataFrame:
    """Canonical ``BARS`` rows as ``endpoint``'s akshare function returns them (names, order, units, dtypes)."""
    frame = frame.sort("date")
    previous_close = frame["close"] - frame["change"]
    data: dict[str, object] = {}
    for raw in endpoint.order:
        canonical = endpoint.columns.get(raw)
        if canonical == "date":
            days = frame["date"].to_list()
            data[raw] = (
                [d.isoformat() for d in days] if endpoint.date_form == "str" else pd.array(days, dtype=object)
            )
        elif canonical == "volume":
            data[raw] = _volume(frame["volume"], endpoint.lot_size)
        elif canonical in endpoint.percent:
            data[raw] = _float(frame, canonical) * 100.0
        elif canonical is not None:
            data[raw] = _float(frame, canonical)
        elif raw == AMPLITUDE_COLUMN:
            spread = frame["high"] - frame["low"]
            data[raw] = (spread / previous_close * 100.0).cast(pl.Float64).fill_null(np.nan).to_numpy()
        elif raw == CODE_COLUMN:
            data[raw] = [code or ""] * frame.height
        else:  # pragma: no cover - a column in ``order`` that nobody knows how to fill
            raise KeyError(raw)
    return pd.DataFrame(data, columns=list(endpoint.order))


def forward_adjust(raw: pl.DataFrame, hfq: pl.DataFrame) -> pl.DataFrame:
    """qfq bars from unadjusted and hfq bars: prices x (factor / latest factor), factor = hfq close / close.

    This is the multiplicative (ratio) qfq. Eastmoney's own qfq subtracts cash dividends instead (additive),
    so its early-year prices are lower and can go negative; the two agree on the latest bar and on returns
    away from ex-dates only approximately. ``change`` scales with the same factor, so ``pct_change`` is kept.
    """
    if raw.is_empty():
        return raw
    factor = (pl.col("_hfq") / pl.col("close")).fill_nan(None).forward_fill().backward_fill()
    joined = raw.join(
        hfq.select("date", pl.col("close").alias("_hfq")), on="date", how="left", maintain_order="left"
    ).with_columns(factor.alias("_factor"))
    known = joined["_factor"].drop_nulls()
    anchor = known[-1] if known.len() else 1.0
    scale = pl.col("_factor").fill_null(anchor) / anchor
    return joined.with_columns((pl.col(c) * scale).alias(c) for c in (*PRICE_COLUMNS, "change")).select(
        raw.columns
    )
