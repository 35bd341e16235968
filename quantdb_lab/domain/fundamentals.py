"""Point-in-time fundamentals: which version of each report was known on a day, and what follows from it.

Pure polars over ``domain.pit.FINANCIALS`` frames. ``vintage`` keeps, per report period, the latest version
known on or before a day; ``indicators`` derives the common ratios from one vintage (income figures are
year-to-date); ``panel_as_of`` gives each session the latest figures announced on or before it (qlib's PIT).

Derived fields (``DERIVED``):

=================  ====================================================================================
eps                basic EPS as reported, else parent net profit / share capital (year-to-date, CNY)
bps                parent equity / share capital
roe                parent net profit / parent equity (year-to-date, as the reports state it)
gross_margin       (revenue - operating cost) / revenue
net_margin         net profit / revenue
debt_to_assets     total liabilities / total assets
revenue_growth     revenue / the same period a year before - 1
profit_growth      parent net profit / the same period a year before - 1 (vs. a positive base only)
revenue_ttm        trailing twelve months: this year-to-date + last annual - last year's same period
net_profit_ttm     the same for parent net profit
ocf_ttm            the same for operating cash flow
=================  ====================================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

DERIVED = ("eps", "bps", "roe", "gross_margin", "net_margin", "debt_to_assets", "revenue_growth", "profit_growth",
           "revenue_ttm", "net_profit_ttm", "ocf_ttm")  # fmt: skip
_TTM = {"revenue_ttm": "revenue", "net_profit_ttm": "parent_net_profit", "ocf_ttm": "operating_cash_flow"}


def vintage(frame: pl.DataFrame, day: date | None, *, ordered: bool = False) -> pl.DataFrame:
    """One row per (symbol, report period): its latest version with ``known_at <= day`` (all when None).
    ``ordered``: each symbol's rows already come by ``known_at`` (as the store keeps them), no sort needed."""
    known = frame if day is None else frame.filter(pl.col("known_at") <= day)
    if not ordered:
        known = known.sort("symbol", "known_at", maintain_order=True)
    return known.unique(["symbol", "report_period"], keep="last", maintain_order=True)


def _ratio(a: str | pl.Expr, b: str | pl.Expr) -> pl.Expr:
    num, den = (pl.col(x) if isinstance(x, str) else x for x in (a, b))
    return pl.when(den != 0).then(num / den).otherwise(None)


def indicators(frame: pl.DataFrame, by: Sequence[str] = ("symbol",)) -> pl.DataFrame:
    """``frame`` (one vintage: one row per ``by`` + report period) with the ``DERIVED`` columns added."""
    keys = [*by, "report_period"]
    period = pl.col("report_period")
    year_ago = frame.select(*by, period.dt.offset_by("1y").alias("report_period"),
                            pl.col("revenue").alias("_rev_ly"), pl.col("parent_net_profit").alias("_np_ly"),
                            pl.col("operating_cash_flow").alias("_ocf_ly"))  # fmt: skip
    annual = frame.filter(period.dt.month() == 12).select(
        *by, (period.dt.year() + 1).alias("_year"), *(pl.col(src).alias(f"_{name}_fy") for name, src in _TTM.items()))
    out = (frame.join(year_ago, on=keys, how="left")
           .with_columns(period.dt.year().alias("_year"))
           .join(annual, on=[*by, "_year"], how="left"))  # fmt: skip
    ly = {"revenue_ttm": "_rev_ly", "net_profit_ttm": "_np_ly", "ocf_ttm": "_ocf_ly"}
    ttm = [pl.when(period.dt.month() == 12).then(pl.col(src))
           .otherwise(pl.col(src) + pl.col(f"_{name}_fy") - pl.col(ly[name])).alias(name)
           for name, src in _TTM.items()]  # fmt: skip
    out = out.with_columns(
        pl.coalesce("basic_eps", _ratio("parent_net_profit", "share_capital")).alias("eps"),
        _ratio("parent_equity", "share_capital").alias("bps"),
        _ratio("parent_net_profit", "parent_equity").alias("roe"),
        _ratio(pl.col("revenue") - pl.col("operating_cost"), "revenue").alias("gross_margin"),
        _ratio("net_profit", "revenue").alias("net_margin"),
        _ratio("total_liabilities", "total_assets").alias("debt_to_assets"),
        (_ratio("revenue", "_rev_ly") - 1.0).alias("revenue_growth"),
        pl.when(pl.col("_np_ly") > 0).then(pl.col("parent_net_profit") / pl.col("_np_ly") - 1.0).alias("profit_growth"),
        *ttm,
    )  # fmt: skip
    return out.drop([c for c in out.columns if c.startswith("_")]).sort(keys)


def panel_as_of(statements: pl.DataFrame, sessions: Sequence[date]) -> pl.DataFrame:
    """Each session x symbol of ``statements``: the latest report as known on that session, with its
    indicators (``date``, ``symbol``, statement fields, ``DERIVED``, ``report_period``, ``known_at``).
    Computed once per day a symbol's knowledge changed (its ``known_at`` days), then carried to the sessions."""
    if not len(sessions) or statements.is_empty():
        return statements.head(0).with_columns(pl.lit(None, pl.Date).alias("date"))
    first, last = sessions[0], sessions[-1]
    known = statements.filter(pl.col("known_at") <= last)
    days = known.select("symbol", pl.col("known_at").alias("as_of")).unique()
    before = days.filter(pl.col("as_of") < first).group_by("symbol").agg(pl.col("as_of").max())
    days = pl.concat([days.filter(pl.col("as_of") >= first), before.select(days.columns)])
    if days.is_empty():
        return statements.head(0).with_columns(pl.lit(None, pl.Date).alias("date"))
    oldest = days["as_of"].min() - timedelta(days=800)  # TTM and growth need five quarters back at most
    rows = known.filter(pl.col("report_period") >= oldest)
    state = (days.join(rows, on="symbol").filter(pl.col("known_at") <= pl.col("as_of"))
             .sort("known_at", maintain_order=True)
             .group_by("symbol", "as_of", "report_period", maintain_order=True).last())  # fmt: skip
    derived = indicators(state, by=("symbol", "as_of"))
    latest = derived.sort("report_period").group_by("symbol", "as_of", maintain_order=True).last()
    grid = pl.DataFrame({"date": list(sessions)}, schema={"date": pl.Date}).join(
        latest.select("symbol").unique(), how="cross")
    return (grid.sort("date").join_asof(latest.sort("as_of"), left_on="date", right_on="as_of", by="symbol",
                                        strategy="backward", check_sortedness=False)  # both sorted just above
            .drop("as_of").filter(pl.col("report_period").is_not_null()).sort("date", "symbol"))  # fmt: skip
