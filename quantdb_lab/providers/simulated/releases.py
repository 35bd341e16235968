"""The simulated market's results tables: express reports, results-table headlines and forecasts.

NOT REAL DATA. Derived from the simulated statements (``simulated.pit``) and ``(seed, symbol)``, independent of
the clock (served up to the latest session). Reports later restated get no release (their original figures are
not kept). Per report:

* ``report``: the results table's headline (EPS, revenue, parent net profit, BPS, ROE, growth) on its
  announcement day;
* ``express``: for about 30 % of annual reports announced after February 10, an unaudited express report with
  the same figures 15 to 45 days earlier (never before January 5);
* forecast: for about 40 % of annual reports, a parent-net-profit forecast in January (before the express and
  the report), within 10 % of the outcome, typed against the year before as Eastmoney types them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl

from quantdb_lab.domain.pit import EARNINGS_FORECASTS, EARNINGS_RELEASES
from quantdb_lab.providers.simulated.pit import HORIZON, statements
from quantdb_lab.providers.simulated.universe import symbol_rng

if TYPE_CHECKING:
    from quantdb_lab.providers.simulated.market import SimulatedMarket

EXPRESS_SHARE, FORECAST_SHARE = 0.3, 0.4


def releases(market: SimulatedMarket, symbol: str, latest: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The stock's (``EARNINGS_RELEASES``, ``EARNINGS_FORECASTS``) announced by ``latest``."""
    reports = statements(market, symbol, HORIZON).sort("report_period")
    if reports.is_empty():
        return pl.DataFrame(schema=EARNINGS_RELEASES), pl.DataFrame(schema=EARNINGS_FORECASTS)
    year_ago = reports.select(pl.col("report_period").dt.offset_by("1y"), pl.col("revenue").alias("rev_ly"),
                              pl.col("parent_net_profit").alias("np_ly"))  # fmt: skip
    frame = reports.join(year_ago, on="report_period", how="left").filter(
        pl.col("update_date") == pl.col("announcement_date"))
    rng = symbol_rng(market.seed, symbol, 24)
    out, forecasts = [], []
    for row in frame.iter_rows(named=True):
        figures = _figures(row)
        announced, period = row["announcement_date"], row["report_period"]
        out.append((symbol, period, announced, "report", *figures))
        draw_express, lead, draw_forecast, day, error = rng.random(5)
        if period.month != 12:
            continue
        first = announced
        if draw_express < EXPRESS_SHARE and announced > date(announced.year, 2, 10):
            first = max(announced - timedelta(days=15 + int(lead * 30)), date(announced.year, 1, 5))
            out.append((symbol, period, first, "express", *figures))
        if draw_forecast < FORECAST_SHARE:
            when = min(date(period.year + 1, 1, 1) + timedelta(days=int(day * 30)), first - timedelta(days=1))
            value = row["parent_net_profit"] * (0.9 + 0.2 * error)
            forecasts.append((symbol, period, when, "parent_net_profit", value, *_typed(value, row["np_ly"])))
    made = pl.DataFrame(out, schema=list(EARNINGS_RELEASES), orient="row").cast(EARNINGS_RELEASES)  # type: ignore[arg-type]
    told = pl.DataFrame(forecasts, schema=list(EARNINGS_FORECASTS), orient="row").cast(EARNINGS_FORECASTS)  # type: ignore[arg-type]
    return made.filter(pl.col("known_at") <= latest), told.filter(pl.col("known_at") <= latest)


def _figures(row: dict) -> tuple:
    equity, shares, parent = row["parent_equity"], row["share_capital"], row["parent_net_profit"]
    growth = lambda now, then: now / then - 1.0 if then else None  # noqa: E731
    return (row["basic_eps"], row["revenue"], parent, equity / shares if shares else None,
            parent / equity if equity else None, growth(row["revenue"], row["rev_ly"]),
            growth(parent, row["np_ly"]) if row["np_ly"] and row["np_ly"] > 0 else None)  # fmt: skip


def _typed(value: float, before: float | None) -> tuple:
    """(change, forecast type, previous value) as Eastmoney types a profit forecast."""
    if before is None:
        return None, "uncertain", None
    if before <= 0:
        return None, ("turnaround" if value > 0 else "continued_loss"), before
    change = value / before - 1.0
    if value < 0:
        return change, "first_loss", before
    if change >= 0:
        return change, "increase" if change >= 0.5 else "slight_increase", before
    return change, "decrease" if change <= -0.5 else "slight_decrease", before
