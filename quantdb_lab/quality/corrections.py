"""Safe, reversible corrections. Each is listed in the issues with what changed; prices are never invented.

What ``.corrected`` changes (the rest of every row is as received):

* ``symbol``: canonical, leading zeros restored (``prepare.canonical_symbols``).
* duplicate dates: one row kept (``prepare.drop_duplicate_dates``).
* ``volume``: rescaled by 100 where a unit switch was found (``volume.check_unit_switch``).
* ``turnover``: recomputed as volume / the series' free float where it disagreed with volume.
* ``pct_change``: recomputed as ``change / (close - change)`` where it disagreed with the reported change.
* rows of another security: dropped (``params.foreign == "drop"``), leaving a gap; never filled.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from quantdb_lab.domain.schema import BARS
from quantdb_lab.quality.issues import WARNING, emit, fmt, text
from quantdb_lab.quality.params import QualityParams

_PCT_TOL = 6e-4  # pct_change is reported in percent with two decimals


def _pct_from_change() -> pl.Expr:
    ref = pl.col("close") - pl.col("change")
    return pl.when(ref > 0).then(pl.col("change") / ref)


def check_pct_change(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    """Reported ``pct_change`` disagreeing with the reported ``change`` over its own reference close."""
    implied = _pct_from_change()
    # prices are reported to the cent: rounding alone moves the implied percentage by up to 0.01 / ref
    tol = _PCT_TOL + 0.0101 / (pl.col("close") - pl.col("change"))  # close and reference each rounded
    rows = ctx.filter(((pl.col("pct_change") - implied).abs() > tol).fill_null(False))
    detail = text("pct_change {} disagrees with change / reference ({}); corrected",
                       fmt(pl.col("pct_change"), 4), fmt(implied, 4))  # fmt: skip
    return emit(rows, "pct_change_mismatch", WARNING, detail, status="corrected")


def apply_corrections(ctx: pl.DataFrame, issues: pl.DataFrame, foreign: np.ndarray, params: QualityParams) -> pl.DataFrame:
    """The corrected frame (``BARS`` columns) from the working frame ``ctx`` (volume already rescaled)."""
    fixes = issues.filter(pl.col("status") == "corrected").select(
        "symbol", "date",
        (pl.col("check") == "turnover_mismatch").alias("_fix_turnover"),
        (pl.col("check") == "pct_change_mismatch").alias("_fix_pct"),
    ).group_by("symbol", "date").agg(pl.col("_fix_turnover").any(), pl.col("_fix_pct").any())  # fmt: skip
    out = ctx.with_columns(pl.Series("_foreign", foreign)).join(fixes, on=["symbol", "date"], how="left")
    out = out.with_columns(
        pl.when(pl.col("_fix_turnover").fill_null(False) & pl.col("_float_base").is_not_null())
        .then(pl.col("volume") / pl.col("_float_base")).otherwise(pl.col("turnover")).alias("turnover"),
        pl.when(pl.col("_fix_pct").fill_null(False)).then(_pct_from_change().round(6))
        .otherwise(pl.col("pct_change")).alias("pct_change"),
    )  # fmt: skip
    if params.foreign == "drop":
        out = out.filter(~pl.col("_foreign"))
    return out.select(list(BARS)).sort("symbol", "date")
