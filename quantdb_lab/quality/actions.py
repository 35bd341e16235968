"""Bars against the dividend table: every ex-date's reference price, as the table implies it, against the one
the source reports (``close - change``), and the jumps the table explains.

On each row where an implemented action goes ex (its first bar on or after the ex-date), the table's reference
price ``R = (P - cash + rights_price * rights_ratio) / (1 + bonus + transfer + rights_ratio)`` (P the previous
close, rounded to the cent as the exchange does) is compared with the source's:

* the source reports R within a tick: ``corporate_action`` (info), confirmed by the table (continuity's own
  finding of the same break is then not repeated);
* the source reports the previous close (its change is close to close, Eastmoney's klines): ``corporate_action``
  (info) naming R; the row's reference becomes R, so price limits and returns are measured from it and a
  10-for-10 bonus is no -50 % move;
* anything else: ``factor_mismatch`` (warning): the bars' factor and the table's disagree beyond rounding.

Every other row expects no action (``_step`` 1.0): a break there that looks like an ex-date is a change
mismatch (``quality.continuity``).
"""

from __future__ import annotations

import polars as pl

from quantdb_lab.domain.actions import events_from_actions
from quantdb_lab.quality.issues import INFO, WARNING, emit, empty_issues, fmt, text

_TICK = 0.0101  # a cent and float slack


def apply_actions(ctx: pl.DataFrame, actions: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``ctx`` with ``_step`` (expected reference / previous close per row) and ``_ref`` taken from the table on
    ex-dates the source reports close to close; and the issues of the comparison."""
    if actions is None:
        return ctx.with_columns(pl.lit(None, pl.Float64).alias("_step")), empty_issues()
    events = events_from_actions(actions.with_columns(pl.col("symbol").cast(pl.String)), ctx.select("symbol", "date", "close"))
    marked = ctx.join(
        events.select("symbol", "date", pl.col("reference").alias("_table_ref"), pl.col("factor").alias("_table_f")),
        on=["symbol", "date"], how="left", maintain_order="left",
    )  # fmt: skip
    on_ex = pl.col("_table_ref").is_not_null()
    reported = pl.col("close") - pl.col("change")
    agrees = on_ex & ((reported - pl.col("_table_ref")).abs() <= _TICK)
    close_to_close = on_ex & ~agrees & ((reported - pl.col("_prev")).abs() <= _TICK)
    mismatch = on_ex & ~agrees & ~close_to_close & pl.col("change").is_not_null()
    flagged = marked.with_columns(agrees.alias("_agrees"), close_to_close.alias("_c2c"), mismatch.alias("_mism"))
    issues = [
        emit(flagged.filter(pl.col("_agrees")), "corporate_action", INFO, text(
            "ex-rights: reference close {} vs previous close {} (factor {}), as the dividend table implies",
            fmt(reported, 3), fmt(pl.col("_prev"), 3), fmt(pl.col("_table_f"), 4))),
        emit(flagged.filter(pl.col("_c2c")), "corporate_action", INFO, text(
            "ex-date in the dividend table: reference close {} (factor {}); the source's change is against the "
            "previous close {}", fmt(pl.col("_table_ref"), 3), fmt(pl.col("_table_f"), 4), fmt(pl.col("_prev"), 3))),
        emit(flagged.filter(pl.col("_mism")), "factor_mismatch", WARNING, text(
            "reference close {} reported, the dividend table implies {} (factors {} and {})",
            fmt(reported, 3), fmt(pl.col("_table_ref"), 3), fmt(pl.col("_prev") / reported, 4), fmt(pl.col("_table_f"), 4))),
    ]  # fmt: skip
    out = flagged.with_columns(
        pl.when(pl.col("_c2c")).then(pl.col("_table_ref")).otherwise(pl.col("_ref")).alias("_ref"),
        pl.when(on_ex).then(1.0 / pl.col("_table_f")).otherwise(1.0).alias("_step"),
    ).drop("_table_ref", "_table_f", "_agrees", "_c2c", "_mism")
    return out, pl.concat(issues)
