"""``AkshareProvider``: the Provider protocol over akshare, one query -> extract -> transform per call.

Endpoints and units (akshare 1.19.5; the first daily-bar source of every kind is an Eastmoney kline on push2his,
with Sina and Tencent behind it: ``bar_sources`` for A shares, ``kind_sources`` for indices, ETFs and HK):

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

* daily event lists, ``stock_zt_pool_em`` (the limit-up pool of one date, push2ex) and ``stock_lhb_detail_em``
  (the dragon-tiger list of a date range, datacenter-web); see ``providers.akshare.events``.

* corporate actions, ``stock_fhps_detail_em`` (Eastmoney's dividend table: cash, bonus and transfer shares) and
  ``stock_history_dividend_detail(indicator="配股")`` (Sina's rights issues); see ``providers.akshare.actions``.
  Market-wide, for adjustment: ``stock_fhps_em`` (one reporting period of every stock) and ``stock_pg_em`` (every
  rights issue); see ``providers.akshare.market_actions``.

Adjustment factors come from the dividend tables (``factor_source = "actions"``), not from the bars: in the
unadjusted klines Eastmoney reports the change against the previous close, not against the ex-rights reference
price (measured on the shared data: no ex-date of 190 stocks from Feb to Aug 2026 shows one; the live canary in
``tests/network`` records it afresh). The loader builds them from the market-wide tables (cached and shared by
every symbol, so a qfq read of one more symbol is its one kline call). Should the canary find the change against
the reference price, ``AkshareProvider(change_basis="reference")`` takes the factors from the bars and no table
is needed at all.

akshare sends every six-digit code not starting with 6 to Shenzhen (market 0), so Shanghai B shares
(900xxx) cannot be fetched through ``stock_zh_a_hist``; they come back empty.

No caching, throttling or retries here: the loader owns those (it throttles per ``host_family``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import polars as pl

from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.domain.pit import EARNINGS_FORECASTS, EARNINGS_RELEASES, ST_BOARD
from quantdb_lab.domain.quotes import empty_quotes
from quantdb_lab.domain.releases import forecast_periods, release_periods
from quantdb_lab.domain.sources import macro_series
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import EmptyResultError, InvalidRequestError
from quantdb_lab.providers.akshare.actions import merge_actions, transform_fhps_detail_em, transform_sina_rights
from quantdb_lab.providers.akshare.columns import MACRO_FUNCTIONS
from quantdb_lab.providers.akshare.market_actions import transform_fhps_em, transform_pg_em
from quantdb_lab.providers.akshare.events import transform_lhb_detail, transform_zt_pool
from quantdb_lab.providers.akshare.extract import call_akshare, clear_akshare_cache
from quantdb_lab.providers.akshare.minutes import minute_query, transform_minutes
from quantdb_lab.providers.akshare.query import HOST_FAMILIES, build_bars_query, endpoint_for, yyyymmdd
from quantdb_lab.providers.akshare.quotes import quote_batches, transform_bid_ask, transform_spot
from quantdb_lab.providers.akshare.pit import (
    SHEETS,
    eastmoney_code,
    snapshot_frame,
    transform_delisted,
    transform_name_changes,
    transform_st_board,
    transform_statements,
)
from quantdb_lab.providers.akshare.releases import (
    FORECAST_FUNCTION,
    RELEASE_FUNCTIONS,
    transform_forecasts,
    transform_releases,
)
from quantdb_lab.providers.akshare.reference import transform_futures_daily, transform_index_members
from quantdb_lab.providers.akshare.sources import transform_macro, transform_news
from quantdb_lab.providers.akshare.bar_sources import BarSource, bar_sources_for
from quantdb_lab.providers.fetchers import Fetcher, SourceFetcher
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
    factor_source = "actions"  # Eastmoney's kline change is close to close: the reference price is not in it

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, industries: bool = True,
                 change_basis: str = "previous_close") -> None:  # fmt: skip
        if change_basis not in ("previous_close", "reference"):
            raise InvalidRequestError(f"change_basis must be 'previous_close' or 'reference', not {change_basis!r}")
        self.timeout = timeout
        self.industries = industries
        if change_basis == "reference":  # the klines' change is against the ex-rights reference: factors in the bars
            self.factor_source = "bars"

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

    def bar_sources(self, symbol: Symbol) -> tuple[SourceFetcher, ...]:
        """Every source of ``symbol``'s unadjusted daily bars, in order of preference (``bar_sources``): the
        loader fails over between them, each under its own host family's rate limit and breaker."""
        return tuple(SourceFetcher(s.upstream, partial(self.fetch_bars_from, s)) for s in bar_sources_for(symbol))

    def fetch_bars_from(self, source: BarSource, symbol: Symbol, start: date, end: date) -> pl.DataFrame:
        """Unadjusted daily bars of ``symbol`` in ``[start, end]`` from one named source, canonical ``BARS``."""
        build_bars_query(symbol, start, end)  # the same validation as every read
        endpoint = source.endpoint(symbol)
        context = {"symbol": symbol.canonical, "dataset": "daily_bars", "start": start, "end": end}
        raw = self._call(source.upstream.function, source.kwargs(symbol, start, end),
                         accepts_timeout=endpoint.accepts_timeout, context=context)  # fmt: skip
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

    def fetch_minute_bars(self, symbol: Symbol, start: date, end: date, *, period: str = "1") -> pl.DataFrame:
        """``period``-minute bars (``MINUTE_BARS``) in ``[start, end]`` from ``stock_zh_a_hist_min_em``,
        ``index_zh_a_hist_min_em`` or ``fund_etf_hist_min_em`` (``providers.akshare.minutes``)."""
        function, kwargs = minute_query(symbol, start, end, period)
        context = {"symbol": symbol.canonical, "dataset": "minute_bars", "start": start, "end": end}
        raw = self._call(function, kwargs, context=context)
        return transform_minutes(raw, function, symbol, start=start, end=end, context=context)

    def fetchers(self) -> dict[str, Fetcher]:
        """What this provider serves, by capability (``providers.fetchers``), each with its host family."""

        def on(function: str):  # noqa: ANN202 - a fixed host family, whatever the symbol
            return lambda _symbol=None: HOST_FAMILIES[function]

        return {
            "daily_bars": Fetcher(self.fetch_daily_bars, self.host_family),
            "trade_dates": Fetcher(self.fetch_trade_dates, lambda _symbol=None: "exchange"),
            "securities": Fetcher(self.fetch_securities, lambda _symbol=None: "exchange"),
            "index_members": Fetcher(self.fetch_index_members, on("index_stock_cons_csindex")),
            "commodity_daily": Fetcher(self.fetch_commodity_daily, on("futures_main_sina")),
            "corporate_actions": Fetcher(self.fetch_corporate_actions, on("stock_fhps_detail_em")),
            "dividend_period": Fetcher(self.fetch_dividend_period, on("stock_fhps_em")),
            "rights_issues": Fetcher(self.fetch_rights_issues, on("stock_pg_em")),
            "news": Fetcher(self.fetch_news, on("stock_news_em")),
            "macro": Fetcher(self.fetch_macro, on("macro_china_cpi_yearly")),
            "quotes": Fetcher(self.fetch_quotes, lambda _symbol=None: self.quotes_host_family()),
            "limit_up_pool": Fetcher(self.fetch_limit_up_pool, on("stock_zt_pool_em")),
            "dragon_tiger": Fetcher(self.fetch_dragon_tiger, on("stock_lhb_detail_em")),
            "minute_bars": Fetcher(self.fetch_minute_bars, on("stock_zh_a_hist_min_em")),
            "security_events": Fetcher(self.fetch_security_events, on("stock_info_sh_delist")),
            "index_snapshot": Fetcher(self.fetch_index_snapshot, on("index_stock_cons_csindex")),
            "financials": Fetcher(self.fetch_financials, on("stock_balance_sheet_by_report_em")),
            "st_board": Fetcher(self.fetch_st_board, on("stock_zh_a_st_em")),
            "earnings_releases": Fetcher(self.fetch_earnings_releases, on("stock_yjkb_em")),
            "earnings_forecasts": Fetcher(self.fetch_earnings_forecasts, on("stock_yjyg_em")),
        }

    # -- point in time (providers.akshare.pit) ----------------------------------------------------------
    def fetch_security_events(self, symbol: None = None, start: date | None = None,
                              end: date | None = None) -> pl.DataFrame:  # fmt: skip
        """Listings and delistings of every stock the exchanges list as terminated, and SZSE's dated short-name
        changes with their ST designations (three calls)."""
        context = {"dataset": "security_events"}
        sh = self._call("stock_info_sh_delist", {"symbol": "全部"}, context=context)
        sz = self._call("stock_info_sz_delist", {"symbol": "终止上市公司"}, context=context)
        names = self._call("stock_info_sz_change_name", {"symbol": "简称变更"}, context=context)
        events = pl.concat([transform_delisted(sh, sz, context=context), transform_name_changes(names, context=context)])
        return events.sort("date", "symbol", maintain_order=True)

    def fetch_index_snapshot(self, index: Symbol, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """Today's constituents of a CSI index, dated with the session they are captured on (``end``: the latest
        session, which a weekend or holiday puts up to ten days back). An older ``end`` gets nothing: today's list
        is never another day's."""
        today = date.today()
        if end is not None and end < today - timedelta(days=10):
            return snapshot_frame(index, [], end)
        return snapshot_frame(index, self.fetch_index_members(index), end or today)

    def fetch_st_board(self, symbol: None = None, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """Today's ST and *ST stocks (the risk-warning board), dated with the session captured (``end``, as
        ``fetch_index_snapshot``); an older ``end`` gets nothing, without a call."""
        today = date.today()
        if end is not None and end < today - timedelta(days=10):
            return pl.DataFrame(schema=ST_BOARD)
        context = {"dataset": "st_board"}
        return transform_st_board(self._call("stock_zh_a_st_em", {}, context=context), end or today, context=context)

    def fetch_financials(self, symbol: Symbol, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """The balance sheet, income statement and cash flow by report of one stock (three calls)."""
        context = {"symbol": symbol.canonical, "dataset": "financials"}
        code = eastmoney_code(symbol)
        sheets = {name: self._call(function, {"symbol": code}, context=context) for name, function in SHEETS.items()}
        return transform_statements(sheets, symbol, context=context)

    def fetch_earnings_releases(self, symbol: None = None, start: date | None = None,
                                end: date | None = None) -> pl.DataFrame:  # fmt: skip
        """Express and results announcements made in ``[start, end]``: the two tables of every report period
        that can hold one (``domain.releases.release_periods``), two paginated calls a period."""
        first, last = start or date(2010, 1, 1), end or date.today()
        frames = [pl.DataFrame(schema=EARNINGS_RELEASES)]
        for period in release_periods(first, last):
            for kind, function in RELEASE_FUNCTIONS.items():
                context = {"dataset": "earnings_releases", "start": period, "end": period}
                raw = self._call(function, {"date": yyyymmdd(period)}, context=context)
                frames.append(transform_releases(raw, kind, period, context=context))
        return _announced(pl.concat(frames), first, last)

    def fetch_earnings_forecasts(self, symbol: None = None, start: date | None = None,
                                 end: date | None = None) -> pl.DataFrame:  # fmt: skip
        """Forecasts announced in ``[start, end]``: the forecast table of every report period that can hold one
        (``domain.releases.forecast_periods``), one paginated call a period."""
        first, last = start or date(2010, 1, 1), end or date.today()
        frames = [pl.DataFrame(schema=EARNINGS_FORECASTS)]
        for period in forecast_periods(first, last):
            context = {"dataset": "earnings_forecasts", "start": period, "end": period}
            raw = self._call(FORECAST_FUNCTION, {"date": yyyymmdd(period)}, context=context)
            frames.append(transform_forecasts(raw, period, context=context))
        return _announced(pl.concat(frames), first, last)

    def host_family(self, symbol: Symbol) -> str:
        return HOST_FAMILIES[endpoint_for(symbol).function]

    # -- live quotes (quantdb_lab.realtime; the choice of call and its cost: providers.akshare.quotes) -------
    def fetch_quotes(self, symbols: list[Symbol] | None = None) -> pl.DataFrame:
        """A quote snapshot (``domain.quotes.QUOTES``): the whole market (``stock_zh_a_spot_em``, ~58 requests)
        when ``symbols`` is None or long, else ``stock_bid_ask_em`` per symbol (1 request each). The realtime
        layer calls this once per entry of :meth:`quote_batches`, each under the throttle."""
        now = datetime.now(EXCHANGE_TZ)
        if quote_batches(symbols) == [None]:  # the whole market, or a list too long for per-symbol calls
            context = {"dataset": "quotes"}
            frame = transform_spot(self._call("stock_zh_a_spot_em", {}, context=context), now=now, context=context)
            wanted = None if symbols is None else {s.canonical for s in symbols}
            return frame if wanted is None else frame.filter(pl.col("symbol").is_in(wanted))
        frames = []
        for symbol in symbols:
            context = {"dataset": "quotes", "symbol": symbol.canonical}
            raw = self._call("stock_bid_ask_em", {"symbol": symbol.code}, context=context)
            frames.append(transform_bid_ask(raw, symbol, now=now, context=context))
        return pl.concat(frames, how="vertical") if frames else empty_quotes()

    def quote_batches(self, symbols: list[Symbol] | None) -> list[list[Symbol] | None]:
        return quote_batches(symbols)

    def quotes_host_family(self) -> str:
        return HOST_FAMILIES["stock_zh_a_spot_em"]

    # -- reference data (optional datasets, used by quantdb_lab.query through the Lab's reference cache) ------
    def fetch_commodity_daily(self, code: str, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """Main-contract daily bars from Sina's ``futures_main_sina`` (``SC0`` = INE crude oil), COMMODITY_BARS."""
        context = {"symbol": code, "dataset": "commodity_daily", "start": start, "end": end}
        kwargs = {"symbol": code.upper(), "start_date": yyyymmdd(start or date(1990, 1, 1)),
                  "end_date": yyyymmdd(end or date(2222, 1, 1))}  # fmt: skip
        return transform_futures_daily(self._call("futures_main_sina", kwargs, context=context), code, context=context)

    def fetch_index_members(self, index: Symbol) -> list[str]:
        """Today's constituents of a CSI index (``index_stock_cons_csindex``), as canonical symbols."""
        context = {"symbol": index.canonical, "dataset": "index_members"}
        raw = self._call("index_stock_cons_csindex", {"symbol": index.code}, context=context)
        return transform_index_members(raw, context=context)

    def fetch_news(self, symbol: Symbol) -> pl.DataFrame:
        """The latest articles of an Eastmoney news search for the code (``stock_news_em``, 10 a call), NEWS."""
        context = {"symbol": symbol.canonical, "dataset": "news"}
        raw = self._call("stock_news_em", {"symbol": symbol.code}, context=context)
        return transform_news(raw, symbol, context=context)

    def fetch_macro(self, name: str) -> pl.DataFrame:
        """A macro series' whole history from jin10 (``MACRO_FUNCTIONS``), with upstream release dates, MACRO."""
        key = macro_series(name).name
        function = MACRO_FUNCTIONS[key]
        context = {"symbol": key, "dataset": "macro"}
        return transform_macro(self._call(function, {}, context=context), key, function, context=context)

    def fetch_corporate_actions(self, symbol: Symbol) -> pl.DataFrame:
        """Dividends, bonus and transfer shares (Eastmoney) and rights issues (Sina) of ``symbol``, ``ACTIONS``."""
        context = {"symbol": symbol.canonical, "dataset": "corporate_actions"}
        dividends = self._call("stock_fhps_detail_em", {"symbol": symbol.code}, context=context)
        rights = self._call("stock_history_dividend_detail", {"symbol": symbol.code, "indicator": "配股"}, context=context)
        return merge_actions(transform_fhps_detail_em(dividends, symbol, context=context),
                             transform_sina_rights(rights, symbol, context=context))  # fmt: skip

    def fetch_dividend_period(self, period: date) -> pl.DataFrame:
        """Every stock's dividend plan of the reporting period ending ``period`` (``stock_fhps_em``), ``ACTIONS``."""
        context = {"dataset": "dividend_period", "start": period, "end": period}
        return transform_fhps_em(self._call("stock_fhps_em", {"date": yyyymmdd(period)}, context=context), context=context)

    def fetch_rights_issues(self) -> pl.DataFrame:
        """Every rights issue Eastmoney lists (``stock_pg_em``), ``ACTIONS``."""
        context = {"dataset": "rights_issues"}
        return transform_pg_em(self._call("stock_pg_em", {}, context=context), context=context)

    # -- daily event lists (providers.akshare.events) --------------------------------------------------------
    def fetch_limit_up_pool(self, symbol: None, start: date, end: date) -> pl.DataFrame:
        """Eastmoney's limit-up pool of one date (``start == end``; ``stock_zt_pool_em``), ``LIMIT_UP_POOL``,
        labelled with that date (a non-trading date gets the previous session's pool: the loader relabels)."""
        if start != end:
            raise InvalidRequestError(f"limit_up_pool is asked for one date per call, not {start}..{end}",
                                      dataset="limit_up_pool")  # fmt: skip
        context = {"dataset": "limit_up_pool", "start": start, "end": end}
        return transform_zt_pool(self._call("stock_zt_pool_em", {"date": yyyymmdd(start)}, context=context), start,
                                 context=context)  # fmt: skip

    def fetch_dragon_tiger(self, symbol: None, start: date, end: date) -> pl.DataFrame:
        """The dragon-tiger list of ``[start, end]`` (``stock_lhb_detail_em``), ``DRAGON_TIGER``."""
        context = {"dataset": "dragon_tiger", "start": start, "end": end}
        kwargs = {"start_date": yyyymmdd(start), "end_date": yyyymmdd(end)}
        return transform_lhb_detail(self._call("stock_lhb_detail_em", kwargs, context=context), context=context)

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


def _announced(frame: pl.DataFrame, first: date, last: date) -> pl.DataFrame:
    """The rows announced in ``[first, last]``, by announcement."""
    return frame.filter(pl.col("known_at").is_between(first, last)).sort("known_at", "symbol", maintain_order=True)
