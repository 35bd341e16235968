"""Checks of one bar on its own: OHLC invariants and positive prices."""

from __future__ import annotations

import polars as pl

from quantdb_lab.quality.issues import ERROR, emit, text
from quantdb_lab.quality.params import QualityParams

_EPS = 1e-9


def check_ohlc(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    """``low <= min(open, close)``, ``max(open, close) <= high`` (rows with a non-positive price are left to
    ``check_positive_prices``: additive qfq makes whole early years negative and one issue per row is enough)."""
    positive = pl.min_horizontal("open", "high", "low", "close") > 0
    broken = (
        (pl.col("low") > pl.min_horizontal("open", "close") + _EPS)
        | (pl.max_horizontal("open", "close") > pl.col("high") + _EPS)
        | (pl.col("low") > pl.col("high") + _EPS)
    )
    rows = ctx.filter(positive & broken)
    detail = text("open={} high={} low={} close={}", "open", "high", "low", "close")
    return emit(rows, "ohlc_invariant", ERROR, detail)


def check_positive_prices(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    """Every price above zero. Eastmoney's additive qfq goes to zero or below in early years of long histories:
    those rows cannot be used for returns at all (derive qfq from unadjusted bars instead, as the loader does)."""
    rows = ctx.filter(
        (pl.min_horizontal("open", "high", "low", "close") <= 0) | pl.any_horizontal(
            pl.col(c).is_null() for c in ("open", "high", "low", "close")
        )
    )
    detail = text("non-positive or missing price: open={} high={} low={} close={}", "open", "high", "low", "close")
    return emit(rows, "nonpositive_price", ERROR, detail)
