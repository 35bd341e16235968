"""``AkshareProvider``: the Provider protocol over akshare, one query -> extract -> transform per call.

Endpoints and units (akshare 1.19.5; every daily-bar endpoint is an Eastmoney kline on push2his):

* A-share bars, ``stock_zh_a_hist``: the server filters by date; volume in lots (x100 -> shares); prices and
  amount CNY; adjust '', 'qfq', 'hfq'; takes ``timeout=``.
* ETF bars, ``fund_etf_hist_em``: the server filters by date; volume in lots of 100 units; CNY.
* index bars, ``stock_zh_index_daily_em``: the server filters by date; OHLC, volume and amount only (turnover,
  pct_change and change are null); volume taken as lots (x100), which is not confirmed against a live
  response; no adjustment (every ``adjust`` gets the same series).
* HK bars, ``stock_hk_hist``: downloads the full history on every call, filtered locally; volume already in
  shares; prices and amount in HKD, not CNY.
* trade dates, ``tool_trade_date_hist_sina`` (Sina): runs to the end of the current year.
* securities, ``stock_info_a_code_name`` (the exchanges' lists) for code and name; industry from Eastmoney's
  industry boards (``stock_board_industry_name_em``, then one paginated ``stock_board_industry_cons_em``
  call per board); board from ``Symbol.board``; ``list_date`` null (these lists do not carry it).

akshare sends every six-digit code not starting with 6 to Shenzhen (market 0), so Shanghai B shares
(900xxx) cannot be fetched through ``stock_zh_a_hist``; they come back empty.

No caching, throttling or retries here: the loader owns those (it throttles per ``host_family``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import EmptyResultError
from quantdb_lab.providers.akshare.extract import call_akshare, clear_akshare_cache
from quantdb_lab.providers.akshare.query import HOST_FAMILIES, build_bars_query, endpoint_for
from quantdb_lab.providers.akshare.transform import (
    build_securities,
    has_no_columns,
    transform_bars,
    transform_board_members,
    transform_code_names,
    transform_industry_boards,
    transform_trade_dates,
)

DEFAULT_TIMEOUT = 30.0


class AkshareProvider:
    """Live market data through akshare (network). ``timeout`` bounds every single akshare call, in seconds.

    ``industries=False`` skips the industry lookup in :meth:`fetch_securities`, which costs one paginated
    Eastmoney call per industry board (about 90) and is the call pattern that gets IPs banned.
    """

    name = "akshare"
    synthetic = False

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, industries: bool = True) -> None:
        self.timeout = timeout
        self.industries = industries

    def __repr__(self) -> str:
        return f"AkshareProvider(timeout={self.timeout:g}, industries={self.industries})"

    # -- Provider protocol ----------------------------------------------------------------------------
    def fetch_daily_bars(self, symbol: Symbol, start: date, end: date, *, adjust: str = "") -> pl.DataFrame:
        query = build_bars_query(symbol, start, end, adjust=adjust)
        endpoint = query.endpoint
        context = {"symbol": symbol.canonical, "dataset": "daily_bars", "start": start, "end": end}
        raw = self._call(
            endpoint.function, query.kwargs, accepts_timeout=endpoint.accepts_timeout, context=context
        )
        return transform_bars(raw, endpoint, symbol, start=start, end=end)

    def fetch_trade_dates(self) -> list[date]:
        context = {"dataset": "trade_dates"}
        raw = self._call("tool_trade_date_hist_sina", {}, context=context)
        if has_no_columns(raw):
            raise EmptyResultError("the upstream trade calendar came back empty", **context)
        return transform_trade_dates(raw, context=context)

    def fetch_securities(self) -> pl.DataFrame:
        context = {"dataset": "securities"}
        clear_akshare_cache("stock_info_a_code_name")
        raw = self._call("stock_info_a_code_name", {}, context=context)
        if has_no_columns(raw):
            raise EmptyResultError("the upstream security list came back empty", **context)
        code_names = transform_code_names(raw, context=context)
        industry_by_code = self._industry_by_code() if self.industries else None
        return build_securities(code_names, industry_by_code=industry_by_code)

    def host_family(self, symbol: Symbol) -> str:
        return HOST_FAMILIES[endpoint_for(symbol).function]

    # -- helpers --------------------------------------------------------------------------------------
    def _industry_by_code(self) -> dict[str, str]:
        context = {"dataset": "securities"}
        raw = self._call("stock_board_industry_name_em", {}, context=context)
        if has_no_columns(raw):
            return {}
        boards = transform_industry_boards(raw, context=context)
        industry_by_code: dict[str, str] = {}
        for industry, board_code in boards.iter_rows():
            members_context = {"dataset": "securities", "symbol": board_code}
            # Pass the BK code, not the name: a name makes akshare fetch the whole board list again.
            members = self._call("stock_board_industry_cons_em", {"symbol": board_code}, context=members_context)
            for code in transform_board_members(members, context=members_context):
                industry_by_code.setdefault(code, industry)
        return industry_by_code

    def _call(
        self, function: str, kwargs: dict[str, Any], *, accepts_timeout: bool = False, context: dict[str, Any]
    ) -> Any | None:
        return call_akshare(
            function, kwargs, timeout=self.timeout, accepts_timeout=accepts_timeout, context=context
        )
