"""Point-in-time schemas: the security master through time, index membership snapshots, financial statements.

Security events (``SECURITY_EVENTS``, one market-wide list): what happened to a listing on ``date``:

=========  ========================================================================================
event      meaning (``name`` is the name the security carried from ``date``)
=========  ========================================================================================
listed     first session
renamed    a new short name
st         special treatment (ST, 5 % price limit on the main boards)
star_st    delisting risk warning (*ST)
st_removed the warning lifted
delisted   the listing terminated: no session from ``date`` on
=========  ========================================================================================

``former_name`` dates the name before an event too: a stock listed long ago whose listing is not in the data
(the exchanges list only terminated listings with their dates) carried the first change's ``former_name`` on
every earlier day.

Index snapshots (``INDEX_SNAPSHOTS``, one series per index): the constituents as the upstream listed them on
``date`` (the upstream serves only today's list, so history is what the collector captured).

Financial statements (``FINANCIALS``, one series per stock): one row per report period and version. Income and
cash-flow figures are year-to-date, as Chinese reports are (a Q3 report holds nine months); CNY; share counts in
shares. ``announcement_date`` is the first publication, ``update_date`` the upstream's last revision, and
``known_at`` the day this version could first be seen: the announcement for what the first fetch found, the
session a later fetch noticed a changed figure (a restatement is a new version, never an overwrite).
"""

from __future__ import annotations

from typing import Final

import polars as pl

EVENTS: Final = ("listed", "renamed", "st", "star_st", "st_removed", "delisted")
ST_EVENTS: Final = ("st", "star_st")

SECURITY_EVENTS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "date": pl.Date(),
    "event": pl.String(),
    "name": pl.String(),
    "board": pl.String(),
    "industry": pl.String(),  # where the source knows it (the exchanges' delisting lists do not)
    "former_name": pl.String(),  # the name carried up to ``date``, where the source says (SZSE's name changes)
}

ST_BOARD: Final[dict[str, pl.DataType]] = {  # the risk-warning board as captured (today's ST and *ST stocks)
    "date": pl.Date(),
    "symbol": pl.String(),
    "name": pl.String(),
}

INDEX_SNAPSHOTS: Final[dict[str, pl.DataType]] = {
    "date": pl.Date(),
    "index": pl.String(),
    "member": pl.String(),
}

STATEMENT_FIELDS: Final[dict[str, str]] = {  # field -> statement it comes from
    "revenue": "income",  # total operating revenue
    "operating_cost": "income",
    "net_profit": "income",
    "parent_net_profit": "income",  # attributable to the parent's shareholders
    "basic_eps": "income",
    "total_assets": "balance",
    "total_liabilities": "balance",
    "total_equity": "balance",
    "parent_equity": "balance",
    "share_capital": "balance",  # shares outstanding (par 1 CNY)
    "operating_cash_flow": "cashflow",
    "investing_cash_flow": "cashflow",
    "financing_cash_flow": "cashflow",
}

FINANCIALS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "report_period": pl.Date(),
    "announcement_date": pl.Date(),
    "update_date": pl.Date(),
    "known_at": pl.Date(),
    **{name: pl.Float64() for name in STATEMENT_FIELDS},
}

# Earnings releases before and beside the full statements (one market-wide series each; Eastmoney's data centre
# serves one report period of every stock a call). ``known_at`` is the announcement: a release revised upstream
# with a new announcement date is a new row from that day (what was seen before it stays).
RELEASE_KINDS: Final = ("express", "report")  # the unaudited express report before the report / the report's headline

EARNINGS_RELEASES: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "report_period": pl.Date(),
    "known_at": pl.Date(),  # the announcement
    "kind": pl.String(),  # one of RELEASE_KINDS
    "basic_eps": pl.Float64(),
    "revenue": pl.Float64(),  # total operating revenue, year-to-date
    "parent_net_profit": pl.Float64(),  # year-to-date
    "bps": pl.Float64(),
    "roe": pl.Float64(),  # weighted ROE as a fraction (the tables' percent / 100)
    "revenue_growth": pl.Float64(),  # against the same period a year before, a fraction
    "profit_growth": pl.Float64(),
}

FORECAST_INDICATORS: Final = ("parent_net_profit", "deducted_net_profit", "revenue", "basic_eps", "other")
FORECAST_TYPES: Final = ("increase", "slight_increase", "decrease", "slight_decrease", "turnaround", "first_loss",
                         "continued_loss", "continued_profit", "uncertain", "other")  # fmt: skip

EARNINGS_FORECASTS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "report_period": pl.Date(),
    "known_at": pl.Date(),  # the announcement
    "indicator": pl.String(),  # one of FORECAST_INDICATORS
    "value": pl.Float64(),  # the forecast (the midpoint of a range), CNY
    "change": pl.Float64(),  # against the same period a year before, a fraction (the midpoint of a range)
    "forecast_type": pl.String(),  # one of FORECAST_TYPES
    "previous_value": pl.Float64(),  # the same period a year before
}
