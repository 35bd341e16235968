"""``SimulatedAkshare``: akshare's functions, same signatures and output shapes, answered from any Provider.

``patch()`` puts them on the ``akshare`` module, so everything that calls ``akshare.<function>`` (our
``AkshareProvider``, QuantDB, plain research code) is driven by one simulated upstream in benchmarks and
tests. The frames follow the akshare 1.19.5 shapes (Chinese names, column order, dtypes, lots, percent).

Behaviour per function, where it departs from "the source's canonical frame, inverted":

* daily bars from Sina and Tencent (stocks: ``simulated_sources``; indices, ETFs and HK:
  ``simulated_kind_sources``), in their own shapes, each host family refusable (``HostBans``).
* daily bars, as Eastmoney serves them: ``period`` weekly/monthly are resampled from the source's daily bars.
  ``adjust='qfq'``/``'hfq'`` are Eastmoney's affine adjustment of the source's unadjusted bars with the source's
  dividend table (``domain.actions.eastmoney_adjust``: raw minus later cash dividends over the share ratios,
  anchored at the latest bar up to today), or the source's own adjusted bars when it has no table. Unadjusted
  changes are reported against the previous close (``change_basis="previous_close"``, what the shared real
  data shows), or against the ex-rights reference price (``"reference"``). On ``unit_quirk_days`` the volume
  column is in shares instead of lots and the turnover 0 (Eastmoney on 2026-01-27/28).
  Requests are clamped to today (the clock's, if given): a market has no bars in the future.
* dividend tables: ``stock_fhps_detail_em`` and ``stock_history_dividend_detail`` from the source's
  ``fetch_corporate_actions`` (``simulated_actions``); a source without one has no dividends.
* failures look like akshare's: no bars give ``pd.DataFrame()``; for HK and indices, no bars for a symbol
  missing from the source's security master give the ``TypeError`` on ``None`` of an unknown code. The
  source's ``ProviderUnavailableError`` becomes requests' ``ConnectionError(RemoteDisconnected)``, its
  ``ProviderSchemaError`` a "Length mismatch" ``ValueError``.
* the daily event lists ``stock_zt_pool_em`` and ``stock_lhb_detail_em`` from the source's ``limit_up_pool``
  and ``dragon_tiger`` fetchers (``simulated_events``).
* ``stock_individual_info_em``: shares are estimated as volume / turnover of the latest bar (the canonical
  frames carry no share counts); missing values are ``"-"`` as upstream.
* industry boards get synthetic ``BK`` codes numbered in name order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from unittest import mock

import numpy as np
import pandas as pd
import polars as pl

from quantdb_lab.domain.actions import eastmoney_adjust, empty_actions
from quantdb_lab.domain.clock import Clock
from quantdb_lab.domain.dates import parse_date
from quantdb_lab.domain.resample import resample
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import (
    EmptyResultError,
    InvalidRequestError,
    ProviderSchemaError,
    ProviderUnavailableError,
)
from quantdb_lab.providers.akshare.columns import (
    FUND_ETF_HIST_EM,
    STOCK_BOARD_INDUSTRY_CONS_EM_ORDER,
    STOCK_BOARD_INDUSTRY_NAME_EM_ORDER,
    STOCK_HK_HIST,
    STOCK_INDIVIDUAL_INFO_EM_ITEMS,
    STOCK_ZH_A_HIST,
    STOCK_ZH_INDEX_DAILY_EM,
    BarEndpoint,
)
from quantdb_lab.providers.akshare.inverse import to_akshare_bars
from quantdb_lab.providers.akshare.query import HOST_FAMILIES
from quantdb_lab.providers.akshare.simulated_actions import DividendTables
from quantdb_lab.providers.akshare.simulated_kind_sources import KindBars
from quantdb_lab.providers.akshare.simulated_sources import HostBans, SinaTencentBars
from quantdb_lab.providers.akshare.simulated_events import EventLists
from quantdb_lab.providers.akshare.simulated_minutes import MinuteFunctions
from quantdb_lab.providers.base import Provider

FUNCTIONS = (
    "stock_zh_a_hist",
    "fund_etf_hist_em",
    "stock_zh_index_daily_em",
    "stock_hk_hist",
    "tool_trade_date_hist_sina",
    "stock_individual_info_em",
    "stock_info_a_code_name",
    "stock_board_industry_name_em",
    "stock_board_industry_cons_em",
    "stock_fhps_detail_em",
    "stock_history_dividend_detail",
    "stock_fhps_em",
    "stock_pg_em",
    "stock_zh_a_daily",
    "stock_zh_a_hist_tx",
    "stock_zh_index_daily",
    "stock_zh_index_daily_tx",
    "fund_etf_hist_sina",
    "stock_hk_daily",
    "stock_zt_pool_em",
    "stock_lhb_detail_em",
    "stock_zh_a_hist_min_em",
    "index_zh_a_hist_min_em",
    "fund_etf_hist_min_em",
)
EASTMONEY_UNIT_QUIRK: tuple[date, ...] = (date(2026, 1, 27), date(2026, 1, 28))
_SINA_MISSING_SESSION = date(1992, 5, 4)  # akshare appends it: Sina's list lacks this session
_INDEX_PREFIXES = ("sz", "bj", "sh", "csi")  # akshare tests them in this order, with str.find


class _NoData(Exception):
    """The source has nothing for this symbol (upstream: ``"data": null``)."""


class SimulatedAkshare(DividendTables, SinaTencentBars, KindBars, EventLists, MinuteFunctions):
    """Functions named and shaped like akshare's, answered from ``source`` (any Provider).

    ``latency`` seconds are slept per call (through ``clock.sleep`` when a clock is given, so a ``FixedClock``
    advances instead of waiting), or a mapping of host family to seconds (others: 0). ``call_counts`` counts
    calls per function name (thread-safe). ``bans`` (``simulated_sources.HostBans``) refuses per host family.
    """

    def __init__(
        self, source: Provider, *, latency: float | dict[str, float] = 0.0, clock: Clock | None = None,
        change_basis: str = "previous_close", unit_quirk_days: tuple[date, ...] = EASTMONEY_UNIT_QUIRK,
    ) -> None:  # fmt: skip
        if change_basis not in ("previous_close", "reference"):
            raise ValueError(f"change_basis must be 'previous_close' or 'reference', not {change_basis!r}")
        self.source = source
        self.change_basis = change_basis
        self.unit_quirk_days = tuple(unit_quirk_days)
        self.latency = latency
        self.clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._securities: pl.DataFrame | None = None
        self._market_table: tuple[date, pl.DataFrame] | None = None
        self._market_building = threading.Lock()  # callers racing for the first table wait for one build
        self.bans = HostBans(lambda: self.clock.now().timestamp() if self.clock is not None else time.time())

    def __repr__(self) -> str:
        return f"SimulatedAkshare({self.source!r}, latency={self.latency!r})"

    # -- instrumentation --------------------------------------------------------------------------------
    @property
    def call_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def functions(self) -> dict[str, Callable[..., pd.DataFrame]]:
        return {name: getattr(self, name) for name in FUNCTIONS}

    @contextmanager
    def patch(self) -> Iterator[SimulatedAkshare]:
        """Replace the functions on the ``akshare`` module for the duration of the block."""
        import akshare

        with mock.patch.multiple(akshare, **self.functions()):
            yield self

    def _enter(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1
        latency = self.latency.get(HOST_FAMILIES.get(name, ""), 0.0) if isinstance(self.latency, dict) else self.latency
        if latency > 0:
            (self.clock.sleep if self.clock is not None else time.sleep)(latency)
        self.bans.check(name)

    def _plain_bars(self, code: str, start_date: str, end_date: str) -> pl.DataFrame | None:
        """The source's unadjusted bars of a six-digit ``code`` (None: the source has none for it)."""
        try:
            return self._bars(code, parse_date(start_date), parse_date(end_date), "")
        except _NoData:
            return None

    def _today(self) -> date:
        return self.clock.now().date() if self.clock is not None else date.today()

    # -- daily bars -------------------------------------------------------------------------------------
    def stock_zh_a_hist(
        self,
        symbol: str = "000001",
        period: str = "daily",
        start_date: str = "19700101",
        end_date: str = "20500101",
        adjust: str = "",
        timeout: float | None = None,
    ) -> pd.DataFrame:
        self._enter("stock_zh_a_hist")
        return self._kline(STOCK_ZH_A_HIST, symbol, period, start_date, end_date, adjust, on_unknown="empty")

    def fund_etf_hist_em(
        self,
        symbol: str = "159707",
        period: str = "daily",
        start_date: str = "19700101",
        end_date: str = "20500101",
        adjust: str = "",
    ) -> pd.DataFrame:
        self._enter("fund_etf_hist_em")
        return self._kline(FUND_ETF_HIST_EM, symbol, period, start_date, end_date, adjust, on_unknown="empty")

    def stock_hk_hist(
        self,
        symbol: str = "00593",
        period: str = "daily",
        start_date: str = "19700101",
        end_date: str = "22220101",
        adjust: str = "",
    ) -> pd.DataFrame:
        self._enter("stock_hk_hist")
        return self._kline(STOCK_HK_HIST, symbol, period, start_date, end_date, adjust, on_unknown="raise")

    def stock_zh_index_daily_em(
        self, symbol: str = "csi931151", start_date: str = "19900101", end_date: str = "20500101"
    ) -> pd.DataFrame:
        self._enter("stock_zh_index_daily_em")
        prefix = next((p for p in _INDEX_PREFIXES if symbol.find(p) != -1), None)
        if prefix is None:
            return pd.DataFrame()  # akshare: unknown prefix, no request
        return self._kline(STOCK_ZH_INDEX_DAILY_EM, symbol, "daily", start_date, end_date, "", on_unknown="raise")

    def _kline(
        self, endpoint: BarEndpoint, text: str, period: str, start_date: str, end_date: str, adjust: str, *,
        on_unknown: str,
    ) -> pd.DataFrame:  # fmt: skip
        if period not in ("daily", "weekly", "monthly") or adjust not in ("", "qfq", "hfq"):
            raise KeyError(period if adjust in ("", "qfq", "hfq") else adjust)  # akshare: lookup dicts
        try:
            frame = self._bars(text, parse_date(start_date), parse_date(end_date), adjust)
        except _NoData:
            if on_unknown == "raise":
                raise TypeError("'NoneType' object is not subscriptable") from None
            return pd.DataFrame()
        if frame.is_empty():
            if on_unknown == "raise" and not self._listed(text):
                raise TypeError("'NoneType' object is not subscriptable")
            return pd.DataFrame()
        if self.unit_quirk_days:  # shares where lots were expected, turnover 0
            quirk = pl.col("date").is_in(self.unit_quirk_days)
            frame = frame.with_columns(
                pl.when(quirk).then(pl.col("volume") * endpoint.lot_size).otherwise(pl.col("volume")).alias("volume"),
                pl.when(quirk).then(0.0).otherwise(pl.col("turnover")).alias("turnover"),
            )
        return to_akshare_bars(resample(frame, period), endpoint, code=text)  # type: ignore[arg-type]

    def _bars(self, text: str, start: date | None, end: date | None, adjust: str) -> pl.DataFrame:
        try:
            symbol = parse_symbol(text)
        except InvalidRequestError:
            raise _NoData from None
        first = start or date(1970, 1, 1)
        last = min(end or date.max, self._today())
        if first > last:
            return pl.DataFrame()
        fetch_actions = getattr(self.source, "fetch_corporate_actions", None)
        if adjust and fetch_actions is None:
            return self._source_bars(symbol, first, last, adjust)
        if not adjust and self.change_basis == "reference":
            return self._source_bars(symbol, first, last, "")
        # The whole history up to today: qfq is anchored at the latest bar, and a change needs the close before.
        raw = self._source_bars(symbol, date(1970, 1, 1), self._today(), "")
        if raw.is_empty():
            return raw
        if adjust:
            with _as_upstream_failure():
                actions = fetch_actions(symbol)
            out = eastmoney_adjust(raw, actions, adjust)  # type: ignore[arg-type]
        else:
            previous = pl.col("close").shift(1)
            out = raw.with_columns(
                pl.when(previous.is_not_null()).then((pl.col("close") - previous).round(6)).otherwise("change").alias("change"),
                pl.when(previous.is_not_null()).then(pl.col("close") / previous - 1.0).otherwise("pct_change").alias("pct_change"),
            )  # fmt: skip
        return out.filter(pl.col("date").is_between(first, last))

    def _source_bars(self, symbol: Symbol, start: date, end: date, adjust: str) -> pl.DataFrame:
        with _as_upstream_failure():
            try:
                return self.source.fetch_daily_bars(symbol, start, end, adjust=adjust)
            except (EmptyResultError, InvalidRequestError):
                raise _NoData from None

    # -- dividend tables: the functions are in simulated_actions.DividendTables --------------------------
    def _actions(self, code: str) -> pl.DataFrame | None:
        fetch = getattr(self.source, "fetch_corporate_actions", None)
        try:
            symbol = parse_symbol(code)
        except InvalidRequestError:
            return None
        if fetch is None:
            return empty_actions()
        if not self._listed(code):
            return None
        with _as_upstream_failure():
            return fetch(symbol)

    def warm_market_tables(self) -> None:
        """Compute the market-wide dividend tables' source now (every stock's history: a minute for a market of
        10,000), the simulator's own cost, paid before a timed run; Eastmoney answers them from a database, and
        a first call timed here would outlast the provider's timeout."""
        self._market_actions()

    def _market_actions(self) -> pl.DataFrame:
        """The actions of every A share the source lists, as of today (computed once a day)."""
        today = self._today()
        with self._market_building:
            cached = self._market_table
            if cached is not None and cached[0] == today:
                return cached[1]
            tables = [empty_actions()]
            for code in self._a_shares()["code"].to_list():
                found = self._actions(code)
                if found is not None:
                    tables.append(found)
            table = pl.concat(tables)
            self._market_table = (today, table)
        return table

    # -- calendar ---------------------------------------------------------------------------------------
    def tool_trade_date_hist_sina(self) -> pd.DataFrame:
        self._enter("tool_trade_date_hist_sina")
        with _as_upstream_failure():
            days = set(self.source.fetch_trade_dates())
        if days and min(days) < _SINA_MISSING_SESSION:
            days.add(_SINA_MISSING_SESSION)
        return pd.DataFrame({"trade_date": pd.array(sorted(days), dtype=object)})

    # -- security master --------------------------------------------------------------------------------
    def _security_master(self) -> pl.DataFrame:
        with self._lock:
            cached = self._securities
        if cached is None:
            with _as_upstream_failure():
                cached = self.source.fetch_securities()
            with self._lock:
                self._securities = cached
        return cached

    def _listed(self, text: str) -> bool:
        try:
            canonical = parse_symbol(text).canonical
        except InvalidRequestError:
            return False
        return canonical in self._security_master()["symbol"].to_list()

    def _a_shares(self) -> pl.DataFrame:
        """A-share rows with their code, in akshare's order: Shenzhen, Shanghai main, STAR, Beijing."""
        rows = []
        for row in self._security_master().iter_rows(named=True):
            symbol = parse_symbol(row["symbol"])
            if symbol.kind != "stock" or symbol.exchange == "HK":
                continue
            rank = {"SZ": 0, "SH": 2 if symbol.board == "star" else 1, "BJ": 3}[symbol.exchange]
            rows.append({**row, "code": symbol.code, "_rank": rank})
        schema = {**self._security_master().schema, "code": pl.String, "_rank": pl.Int64}
        return pl.DataFrame(rows, schema=schema).sort("_rank", "code")

    def stock_info_a_code_name(self) -> pd.DataFrame:
        self._enter("stock_info_a_code_name")
        shares = self._a_shares()
        return pd.DataFrame({"code": shares["code"].to_list(), "name": shares["name"].fill_null("").to_list()})

    def stock_individual_info_em(self, symbol: str = "603777", timeout: float | None = None) -> pd.DataFrame:
        self._enter("stock_individual_info_em")
        match = self._a_shares().filter(pl.col("code") == symbol)
        if match.is_empty():
            raise ValueError("If using all scalar values, you must pass an index")  # upstream: "data": null
        row = match.row(0, named=True)
        bars = self._latest_bars(symbol)
        last = shares = np.nan
        if not bars.is_empty():
            latest = bars.sort("date").row(-1, named=True)
            last = latest["close"] if latest["close"] is not None else np.nan
            if latest["turnover"] and latest["volume"]:
                shares = float(round(latest["volume"] / latest["turnover"]))
        listed = row["list_date"]
        values = {
            "last": last,
            "code": symbol,
            "name": row["name"] or "-",
            "total_shares": shares,
            "float_shares": shares,
            "market_cap": last * shares,
            "float_market_cap": last * shares,
            "industry": row["industry"] or "-",
            "list_date": int(listed.strftime("%Y%m%d")) if listed else "-",
        }
        items = list(STOCK_INDIVIDUAL_INFO_EM_ITEMS)
        column = pd.Series([values[STOCK_INDIVIDUAL_INFO_EM_ITEMS[i]] for i in items], dtype=object)
        return pd.DataFrame({"item": items, "value": column})

    def _latest_bars(self, code: str) -> pl.DataFrame:
        """Recent bars up to today, looking further back when the last weeks have none (a suspension)."""
        today = self._today()
        for days in (40, 400, 4000):
            try:
                bars = self._bars(code, today - timedelta(days=days), today, "")
            except _NoData:
                return pl.DataFrame()
            if not bars.is_empty():
                return bars
        return pl.DataFrame()

    def _boards(self) -> list[tuple[str, str]]:
        industries = sorted(set(self._a_shares()["industry"].drop_nulls().to_list()))
        return [(name, f"BK{i:04d}") for i, name in enumerate(industries, start=1)]

    def stock_board_industry_name_em(self) -> pd.DataFrame:
        self._enter("stock_board_industry_name_em")
        boards = self._boards()
        n = len(boards)
        nan = [np.nan] * n
        zeros = np.zeros(n, dtype=np.int64)
        columns = [
            np.arange(1, n + 1, dtype=np.int64), [b[0] for b in boards], [b[1] for b in boards],
            nan, nan, nan, zeros, nan, zeros, zeros, ["-"] * n, nan,
        ]  # fmt: skip
        return pd.DataFrame(dict(zip(STOCK_BOARD_INDUSTRY_NAME_EM_ORDER, columns, strict=True)))

    def stock_board_industry_cons_em(self, symbol: str = "小金属") -> pd.DataFrame:
        self._enter("stock_board_industry_cons_em")
        boards = {code: name for name, code in self._boards()}
        if symbol.startswith("BK"):
            if symbol not in boards:
                raise TypeError("'NoneType' object is not subscriptable")
            industry = boards[symbol]
        elif symbol in boards.values():
            industry = symbol
        else:
            raise IndexError("index 0 is out of bounds for axis 0 with size 0")
        members = self._a_shares().filter(pl.col("industry") == industry)
        n = members.height
        nan = [np.nan] * n
        names = members["name"].fill_null("").to_list()
        columns = [
            np.arange(1, n + 1, dtype=np.int64), members["code"].to_list(), names, nan, nan, nan, np.zeros(n, dtype=np.int64), nan, nan, nan, nan, nan, nan, nan, nan, nan,
        ]  # fmt: skip
        return pd.DataFrame(dict(zip(STOCK_BOARD_INDUSTRY_CONS_EM_ORDER, columns, strict=True)))


@contextmanager
def _as_upstream_failure() -> Iterator[None]:
    """Re-raise the source's typed errors as what akshare users see from a failing upstream."""
    from http.client import RemoteDisconnected

    import requests

    try:
        yield
    except ProviderUnavailableError as exc:
        reason = RemoteDisconnected("Remote end closed connection without response")
        raise requests.exceptions.ConnectionError(("Connection aborted.", reason)) from exc
    except ProviderSchemaError as exc:
        raise ValueError("Length mismatch: Expected axis has 13 elements, new values have 12 elements") from exc
