"""The score: the share of a series' expected rows that can be used as they are.

For each security::

    score = max(0, 1 - P / N)
    N = rows + missing sessions                     (suspensions are not expected rows)
    P = sum over dates of the largest penalty among that date's issues
    penalty = weight(severity) x (0.25 if corrected else 1) x (0 if marked a false positive)
    weight: error 1.0, warning 0.5, info 0.0

so a row of another security costs a whole row (a quarter once dropped from ``.corrected``), a missing session
half a row, a suspension or an explained corporate action nothing. The overall score pools every security:
``1 - sum(P) / sum(N)`` (long series weigh more, as they do in a backtest). Examples: 1,200 clean rows and one
wrong price: 0.99917; 130 rows with the two-day volume unit switch (corrected warnings): 0.99808.
"""

from __future__ import annotations

from typing import Final

import polars as pl

WEIGHTS: Final[dict[str, float]] = {"error": 1.0, "warning": 0.5, "info": 0.0}
CORRECTED: Final = 0.25


def penalty_expr() -> pl.Expr:
    weight = pl.col("severity").replace_strict(WEIGHTS, default=1.0, return_dtype=pl.Float64)
    status = pl.col("status")
    factor = pl.when(status == "false_positive").then(0.0).when(status == "corrected").then(CORRECTED).otherwise(1.0)
    return weight * factor


def compute_scores(rows: pl.DataFrame, issues: pl.DataFrame) -> pl.DataFrame:
    """``rows``: symbol, rows (bars received per symbol). Returns symbol, rows, expected, penalty, score."""
    missing = issues.filter(pl.col("check") == "missing_session").group_by("symbol").agg(pl.len().alias("missing"))
    penalty = (
        issues.with_columns(penalty_expr().alias("_p"))
        .group_by("symbol", "date").agg(pl.col("_p").max())
        .group_by("symbol").agg(pl.col("_p").sum().alias("penalty"))
    )
    return (
        rows.join(missing, on="symbol", how="left").join(penalty, on="symbol", how="left")
        .with_columns(pl.col("missing").fill_null(0), pl.col("penalty").fill_null(0.0))
        .with_columns((pl.col("rows") + pl.col("missing")).alias("expected"))
        .with_columns(
            pl.when(pl.col("expected") > 0).then((1.0 - pl.col("penalty") / pl.col("expected")).clip(0.0, 1.0))
            .otherwise(1.0).alias("score")
        )
        .select("symbol", "rows", "expected", "penalty", "score").sort("symbol")
    )  # fmt: skip


def overall(scores: pl.DataFrame) -> float:
    expected = float(scores["expected"].sum()) if scores.height else 0.0
    return max(0.0, 1.0 - float(scores["penalty"].sum()) / expected) if expected else 1.0
