"""The daily valuation panel from raw closes and point-in-time fundamentals. Pure polars.

Per session and stock (``VALUATION``): ``close`` (unadjusted, CNY); ``total_shares``, the share capital of the
latest report announced by that session; ``float_shares`` = volume / turnover of the session (the exchange's
free float, carried over sessions without trading); ``total_mv`` and ``float_mv`` = close x shares (CNY);
``pe_ttm`` = total_mv / trailing-twelve-month parent net profit, ``ps_ttm`` = total_mv / TTM revenue,
``pb`` = total_mv / parent equity; each null where its denominator is not positive (a loss has no P/E).
"""

from __future__ import annotations

import polars as pl

from quantdb_lab.domain.fundamentals import panel_as_of, pit_heads
from quantdb_lab.domain.pit import STATEMENT_FIELDS

VALUATION: dict[str, pl.DataType] = {
    "date": pl.Date(), "symbol": pl.String(), "close": pl.Float64(), "total_shares": pl.Float64(),
    "float_shares": pl.Float64(), "total_mv": pl.Float64(), "float_mv": pl.Float64(), "pe_ttm": pl.Float64(),
    "pb": pl.Float64(), "ps_ttm": pl.Float64(), "report_period": pl.Date(),
}  # fmt: skip
NEEDED = ("share_capital", "net_profit_ttm", "revenue_ttm", "parent_equity")


def _per(value: pl.Expr, base: str) -> pl.Expr:
    return pl.when(pl.col(base) > 0).then(value / pl.col(base)).otherwise(None)


def valuation_heads(statements: pl.DataFrame) -> pl.DataFrame:
    """The statement rows a valuation panel needs, valued once (``fundamentals.pit_heads``), independent of the
    sessions asked about: what a cross-section of statements is reduced to (and remembered as) for ``valuation_panel``."""
    return pit_heads(statements.select("symbol", "report_period", "known_at", *STATEMENT_FIELDS)).select(
        "symbol", "report_period", "known_at", *NEEDED)


def valuation_panel(bars: pl.DataFrame, heads: pl.DataFrame) -> pl.DataFrame:
    """``bars`` (raw BARS rows, sorted by date) and ``heads`` (``valuation_heads`` of the same stocks'
    ``FINANCIALS`` rows) -> ``VALUATION`` in the bars' order, each session valued with the latest report
    announced by it."""
    traded = (pl.col("volume") > 0) & (pl.col("turnover") > 0)
    grid = bars.select("date", "symbol", "close", pl.when(traded).then(pl.col("volume") / pl.col("turnover"))
                       .alias("float_shares")).with_columns(pl.col("float_shares").forward_fill().over("symbol"))  # fmt: skip
    frame = panel_as_of(heads, grid=grid, unmatched=True)
    total_mv = pl.col("close") * pl.col("share_capital")
    out = frame.with_columns(
        pl.col("share_capital").alias("total_shares"), total_mv.alias("total_mv"),
        (pl.col("close") * pl.col("float_shares")).alias("float_mv"),
        _per(total_mv, "net_profit_ttm").alias("pe_ttm"), _per(total_mv, "parent_equity").alias("pb"),
        _per(total_mv, "revenue_ttm").alias("ps_ttm"),
    )  # fmt: skip
    return out.select(list(VALUATION))


COMPARED = ("total_mv", "pe_ttm", "pb", "ps_ttm")  # the fields an upstream valuation series also serves


def compare_valuation(ours: pl.DataFrame, theirs: pl.DataFrame, *, tolerance: float = 0.02) -> pl.DataFrame:
    """Our panel against an upstream valuation series (both with ``date``, ``symbol`` and some of ``COMPARED``)
    on the sessions both have: per symbol and field, the sessions compared, the median and worst relative
    difference, the share within ``tolerance``, and the session of the worst. A field one side leaves null on a
    session (a loss has no P/E) is not compared there."""
    fields = [f for f in COMPARED if f in ours.columns and f in theirs.columns]
    joined = ours.select("date", "symbol", *fields).join(
        theirs.select("date", "symbol", *fields), on=["date", "symbol"], suffix="_upstream")
    parts = []
    for field in fields:
        rel = ((pl.col(field) - pl.col(f"{field}_upstream")) / pl.col(f"{field}_upstream")).abs()
        both = joined.filter(pl.col(field).is_not_null() & pl.col(f"{field}_upstream").is_not_null()
                             & (pl.col(f"{field}_upstream") != 0)).with_columns(rel.alias("rel"))  # fmt: skip
        parts.append(both.group_by("symbol").agg(
            pl.lit(field).alias("field"), pl.len().alias("sessions"), pl.col("rel").median().alias("median_rel"),
            pl.col("rel").max().alias("worst_rel"), (pl.col("rel") <= tolerance).mean().alias("within"),
            pl.col("date").sort_by("rel").last().alias("worst_date")))  # fmt: skip
    schema = {"symbol": pl.String(), "field": pl.String(), "sessions": pl.UInt32(), "median_rel": pl.Float64(),
              "worst_rel": pl.Float64(), "within": pl.Float64(), "worst_date": pl.Date()}  # fmt: skip
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).select(list(schema)).cast(schema).sort("symbol", "field")  # type: ignore[arg-type]
