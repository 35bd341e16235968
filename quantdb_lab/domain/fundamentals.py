"""Point-in-time fundamentals: which version of each report was known on a day, and what follows from it.

Pure polars over ``domain.pit.FINANCIALS`` frames. ``vintage`` keeps, per report period, the latest version
known on or before a day; ``indicators`` derives the common ratios from one vintage (income figures are
year-to-date); ``pit_heads`` values every version from the versions known on its own ``known_at`` (independent of
any day, so computed once per cross-section) and ``panel_as_of`` gives each session the latest of them announced
on or before it (qlib's PIT).

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
from datetime import date

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
    return _derive(out).sort(keys)


def _pit_indicators(rows: pl.DataFrame) -> pl.DataFrame:
    """``indicators`` for every version row, each from the versions known when it was: its year-ago period and
    last annual report are taken as known on its own ``known_at`` (an as-of join, never a later version)."""
    period = pl.col("report_period")
    rows = rows.sort("known_at")
    base = rows.with_columns(period.dt.offset_by("-1y").alias("_ly_period"),
                             pl.date(period.dt.year() - 1, 12, 31).alias("_fy_period"))  # fmt: skip
    ly = rows.select("symbol", pl.col("report_period").alias("_ly_period"), "known_at",
                     pl.col("revenue").alias("_rev_ly"), pl.col("parent_net_profit").alias("_np_ly"),
                     pl.col("operating_cash_flow").alias("_ocf_ly"))  # fmt: skip
    fy = rows.filter(period.dt.month() == 12).select(
        "symbol", pl.col("report_period").alias("_fy_period"), "known_at",
        *(pl.col(src).alias(f"_{name}_fy") for name, src in _TTM.items()))
    joined = (base.join_asof(ly, on="known_at", by=["symbol", "_ly_period"], strategy="backward",
                             check_sortedness=False)
              .join_asof(fy, on="known_at", by=["symbol", "_fy_period"], strategy="backward", check_sortedness=False))  # fmt: skip
    return _derive(joined)


def _derive(out: pl.DataFrame) -> pl.DataFrame:
    """The ``DERIVED`` columns from a frame holding the statement fields and the ``_*_ly``/``_*_fy`` helpers."""
    period = pl.col("report_period")
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
    return out.drop([c for c in out.columns if c.startswith("_")])


def pit_heads(statements: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``statements`` a day can see, valued (statement fields, ``DERIVED``, ``report_period``,
    ``known_at``), sorted by ``known_at`` then ``report_period``: each version row valued from what was known
    on its own ``known_at`` (``_pit_indicators``), kept where it is its symbol's newest period when it became
    known (a restatement of an older period does not replace the newer period). Independent of any day: an
    ``as_of`` cut is a filter on ``known_at``, so it is computed once for a cross-section and reused."""
    valued = _pit_indicators(statements).sort("symbol", "known_at", "report_period")
    heads = valued.filter(pl.col("report_period") >= pl.col("report_period").cum_max().over("symbol"))
    return heads.sort("known_at", "report_period", maintain_order=True)


def panel_as_of(heads: pl.DataFrame, sessions: Sequence[date] = (), *, grid: pl.DataFrame | None = None,
                unmatched: bool = False) -> pl.DataFrame:  # fmt: skip
    """Each session x symbol of ``heads`` (``pit_heads``; or each ``date symbol`` row of ``grid``, sorted by
    date): the newest head announced on or before that day, i.e. the latest report as known then, with its
    indicators. ``unmatched``: keep the grid's rows before any report (their fields null), in the grid's order."""
    if grid is None:
        grid = pl.DataFrame({"date": list(sessions)}, schema={"date": pl.Date}).join(
            heads.select("symbol").unique(), how="cross").sort("date")
    out = grid.join_asof(heads, left_on="date", right_on="known_at", by="symbol", strategy="backward",
                         check_sortedness=False, coalesce=False)  # fmt: skip
    return out if unmatched else out.filter(pl.col("report_period").is_not_null())
