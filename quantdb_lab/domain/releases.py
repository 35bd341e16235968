"""Earnings releases through time: which report periods' tables can hold announcements of a span, and the
latest preliminary figure (forecast, express) of each stock known on a day before its full statement.

Pure. Announcements of a period's results fall from its end to four months after it (the annual report by April
30); forecasts may come a quarter before its end (a full-year forecast with the Q3 report). So a fetch of the
announcements of ``[start, end]`` asks the tables of the quarter ends in ``[start - 125 d, end]``
(``release_periods``), forecasts those of ``[start - 125 d, end + 100 d]`` (``forecast_periods``).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

AFTER = timedelta(days=125)  # the latest announcement after a period's end (annual reports: April 30 + slack)
AHEAD = timedelta(days=100)  # the earliest forecast before a period's end


def quarter_ends(first: date, last: date) -> list[date]:
    """Every quarter end in ``[first, last]``, in order."""
    out = []
    for year in range(first.year, last.year + 1):
        for month, day in ((3, 31), (6, 30), (9, 30), (12, 31)):
            end = date(year, month, day)
            if first <= end <= last:
                out.append(end)
    return out


def release_periods(start: date, end: date) -> list[date]:
    """The report periods whose express / results tables can hold an announcement made in ``[start, end]``."""
    return quarter_ends(start - AFTER, end)


def forecast_periods(start: date, end: date) -> list[date]:
    """The report periods whose forecast tables can hold an announcement made in ``[start, end]``."""
    return quarter_ends(start - AFTER, end + AHEAD)


FIGURES = ("basic_eps", "revenue", "parent_net_profit", "bps", "roe", "revenue_growth", "profit_growth")
_RANK = {"report": 0, "express": 1, "forecast": 2}  # within a period: the results table, the express, a forecast


def forecast_figures(forecasts: pl.DataFrame) -> pl.DataFrame:
    """Forecasts (``EARNINGS_FORECASTS``) as release rows (``kind="forecast"``): one per stock, period and
    announcement, the forecast indicators as figures (``profit_growth`` from a profit forecast's change)."""
    named = forecasts.filter(pl.col("indicator").is_in(["basic_eps", "revenue", "parent_net_profit"]))
    keys = ["symbol", "report_period", "known_at"]
    rows = named.group_by(keys, maintain_order=True).agg(
        *(pl.col("value").filter(pl.col("indicator") == n).last().alias(n)
          for n in ("basic_eps", "revenue", "parent_net_profit")),
        pl.col("change").filter(pl.col("indicator") == "parent_net_profit").last().alias("profit_growth"))
    return rows.with_columns(pl.lit("forecast").alias("kind"), pl.lit(None, pl.Float64).alias("bps"),
                             pl.lit(None, pl.Float64).alias("roe"), pl.lit(None, pl.Float64).alias("revenue_growth"))


def preliminary(statements: pl.DataFrame, releases: pl.DataFrame, forecasts: pl.DataFrame, day: date) -> pl.DataFrame:
    """Per symbol, the latest figures known on ``day`` of a report period later than its latest full statement
    known then (``FINANCIALS``): a results-table row, else an express report, else a forecast (of that
    period, the latest announced by ``day``); ``kind`` says which. Columns: symbol, report_period, known_at,
    kind and ``FIGURES``; one row per symbol that has such a figure."""
    columns = ["symbol", "report_period", "known_at", "kind", *FIGURES]
    candidates = pl.concat([releases.select(columns), forecast_figures(forecasts).select(columns)], how="vertical_relaxed")
    known = candidates.filter(pl.col("known_at") <= day)
    full = statements.filter(pl.col("known_at") <= day).group_by("symbol").agg(
        pl.col("report_period").max().alias("_reported"))
    ahead = known.join(full, on="symbol", how="left").filter(
        pl.col("_reported").is_null() | (pl.col("report_period") > pl.col("_reported")))
    ranked = ahead.with_columns(pl.col("kind").replace_strict(_RANK, default=3).alias("_rank"))
    best = ranked.sort(["symbol", "report_period", "_rank", "known_at"], descending=[False, True, False, True])
    return best.unique("symbol", keep="first", maintain_order=True).select(columns)
