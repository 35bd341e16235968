"""SimulatedProvider: the Provider protocol served from a SimulatedMarket, with latency, call counts and
fault injection. Its data is synthetic (``synthetic = True``); see ``market.py`` for what it models.

Where it stands in for Eastmoney it behaves like it: qfq and hfq are Eastmoney's affine adjustment of the raw
prices with the dividend table (``domain.actions.eastmoney_adjust``), not the exact multiplicative truth the
market keeps (``SimulatedMarket.bars(adjust=...)``, ``.hfq``, ``.actions``); unadjusted changes are reported
against the ex-rights reference price; ``unit_quirk_days`` serve volume in shares where lots were expected
(100x too large once multiplied out) with turnover 0, as Eastmoney did on 2026-01-27/28."""

from __future__ import annotations

import threading
import time
from datetime import date

import polars as pl

from quantdb_lab.domain.actions import eastmoney_adjust
from quantdb_lab.domain.calendar import FIRST_SESSION
from quantdb_lab.domain.clock import Clock, to_exchange_time
from quantdb_lab.domain.pit import INDEX_SNAPSHOTS, ST_BOARD
from quantdb_lab.domain.schema import SECURITIES, conform
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import InvalidDateRangeError, InvalidRequestError
from quantdb_lab.providers.base import ADJUSTMENTS
from quantdb_lab.providers.fetchers import Fetcher
from quantdb_lab.providers.simulated.commodities import commodity_frame
from quantdb_lab.providers.simulated.events import dragon_tiger, limit_up_pool
from quantdb_lab.providers.simulated.faults import Faults
from quantdb_lab.providers.simulated.market import SimulatedMarket
from quantdb_lab.providers.simulated.minutes import minute_bars
from quantdb_lab.providers.simulated.quotes import QuoteBook
from quantdb_lab.providers.simulated.sources import macro_frame, news_frame

_METHODS = ("fetch_daily_bars", "fetch_trade_dates", "fetch_securities", "fetch_index_members",
            "fetch_commodity_daily", "fetch_quotes", "fetch_news", "fetch_macro", "fetch_corporate_actions",
            "fetch_limit_up_pool", "fetch_dragon_tiger", "fetch_minute_bars", "fetch_security_events",
            "fetch_index_snapshot", "fetch_financials", "fetch_earnings_releases", "fetch_earnings_forecasts",
            "fetch_st_board")


class SimulatedProvider:
    """A deterministic synthetic upstream. ``clock`` decides what is visible and absorbs ``latency`` sleeps
    (a FixedClock advances instead of sleeping); without one, the market's clock is used and time.sleep."""

    name = "simulated"
    synthetic = True

    def __init__(
        self,
        market: SimulatedMarket | None = None,
        *,
        seed: int = 7,
        latency: float = 0.0,
        faults: Faults | None = None,
        clock: Clock | None = None,
        unit_quirk_days: tuple[date, ...] = (),
    ) -> None:
        self.market = market if market is not None else SimulatedMarket(seed=seed, clock=clock)
        self.unit_quirk_days = tuple(unit_quirk_days)
        self.latency = latency
        self.faults = faults if faults is not None else Faults(seed=seed)
        self.clock = clock
        self._lock = threading.Lock()
        self._quotes = QuoteBook(self.market)
        self.calls: dict[str, int] = {}
        self.reset_counts()

    def __repr__(self) -> str:
        return f"SimulatedProvider({self.market!r}, latency={self.latency})"

    @property
    def source(self) -> str:
        """The store namespace: one per simulated market (seed and size decide every bar)."""
        quirk = "".join(f"-u{d:%Y%m%d}" for d in self.unit_quirk_days)  # other volumes: other data
        return f"simulated-{self.market.seed}-{self.market.n_stocks}{quirk}"

    # -- bookkeeping --------------------------------------------------------------------------------
    def reset_counts(self) -> None:
        with self._lock:
            self.calls = {method: 0 for method in _METHODS} | {"total": 0}

    def _enter(self, method: str, *, dataset: str, symbol: str | None = None) -> None:
        with self._lock:
            self.calls[method] += 1
            self.calls["total"] += 1
        if self.latency > 0:
            (self.clock.sleep if self.clock is not None else time.sleep)(self.latency)
        self.faults.check(method, dataset=dataset, symbol=symbol)

    def _now(self):  # noqa: ANN202
        return to_exchange_time((self.clock or self.market.clock).now())

    # -- the Provider protocol ----------------------------------------------------------------------
    def fetch_daily_bars(self, symbol: Symbol, start: date, end: date, *, adjust: str = "") -> pl.DataFrame:
        """Bars of ``symbol`` in ``[start, end]`` visible at the clock's now, ``BARS`` schema, sorted.

        "" raw; "qfq" and "hfq" adjusted the way Eastmoney adjusts (affine, with the dividend table announced by
        now, rounded to the tick). Empty frame when there are no bars.
        """
        sym = symbol if isinstance(symbol, Symbol) else parse_symbol(symbol)
        if adjust not in ADJUSTMENTS:
            raise InvalidRequestError(f"adjust must be one of {ADJUSTMENTS}, not {adjust!r}", symbol=str(sym))
        if start is not None and end is not None and start > end:
            raise InvalidDateRangeError("end is before start", symbol=str(sym), start=start, end=end)
        self._enter("fetch_daily_bars", dataset="daily_bars", symbol=sym.canonical)
        now = self._now()
        if adjust == "":
            bars = self.market.bars(sym, start, end, now=now)
        else:  # the whole visible history, adjusted, then the range (qfq depends on every later action)
            bars = eastmoney_adjust(self.market.bars(sym, now=now), self.market.corporate_actions(sym, now=now), adjust)  # type: ignore[arg-type]
            bars = bars.filter(pl.col("date").is_between(start or FIRST_SESSION, end or date.max))
        if self.unit_quirk_days and not bars.is_empty():
            quirk = pl.col("date").is_in(self.unit_quirk_days)
            bars = bars.with_columns(
                pl.when(quirk).then(pl.col("volume") * 100.0).otherwise(pl.col("volume")).alias("volume"),
                pl.when(quirk).then(0.0).otherwise(pl.col("turnover")).alias("turnover"),
            )
        return bars

    def fetch_corporate_actions(self, symbol: Symbol) -> pl.DataFrame:
        """The dividend table announced by now (``domain.actions.ACTIONS``; ``SimulatedMarket.corporate_actions``)."""
        sym = symbol if isinstance(symbol, Symbol) else parse_symbol(symbol)
        self._enter("fetch_corporate_actions", dataset="corporate_actions", symbol=sym.canonical)
        return self.market.corporate_actions(sym, now=self._now())

    def fetch_trade_dates(self) -> list[date]:
        """Sessions from 1990-12-19 to the end of the clock's current year (as upstream lists do)."""
        self._enter("fetch_trade_dates", dataset="trade_dates")
        year_end = date(self._now().year, 12, 31)
        return self.market.calendar.sessions(FIRST_SESSION, min(year_end, self.market.calendar.bound))

    def fetch_securities(self) -> pl.DataFrame:
        """Security master of instruments listed by now, exactly the ``SECURITIES`` schema (ST names carry an
        "ST " prefix; ``SimulatedMarket.securities`` also has an ``is_st`` column)."""
        self._enter("fetch_securities", dataset="securities")
        return conform(self.market.securities(now=self._now()), SECURITIES, source=self.name)

    def fetch_index_members(self, index: Symbol) -> list[str]:
        """Canonical symbols of the index's constituents listed by now (``SimulatedMarket.index_members``)."""
        self._enter("fetch_index_members", dataset="index_members", symbol=index.canonical)
        return self.market.index_members(index, now=self._now())

    def fetch_security_events(self, symbol: None = None, start: date | None = None,
                              end: date | None = None) -> pl.DataFrame:  # fmt: skip
        """Listings, renames, ST/*ST and delistings up to now (``domain.pit.SECURITY_EVENTS``); the whole history
        in one call, as the exchanges' delisting lists are served."""
        self._enter("fetch_security_events", dataset="security_events")
        return self.market.security_events(now=self._now())

    def fetch_index_snapshot(self, index: Symbol, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """Today's constituents of ``index`` dated with the latest session (``domain.pit.INDEX_SNAPSHOTS``): like
        the upstream, only the current list is served, whatever the range."""
        self._enter("fetch_index_snapshot", dataset="index_snapshots", symbol=index.canonical)
        now = self._now()
        latest = self.market.visibility(now).latest
        if end is not None and latest is not None and end < latest:  # a past day: today's list is not its list
            return pl.DataFrame(schema=INDEX_SNAPSHOTS)
        members = self.market.index_members(index, now=now)
        return pl.DataFrame({"date": [latest] * len(members), "index": [index.canonical] * len(members),
                             "member": members}, schema=INDEX_SNAPSHOTS)  # fmt: skip

    def fetch_st_board(self, symbol: None = None, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """Today's ST and *ST stocks dated with the latest session (``domain.pit.ST_BOARD``): like the upstream's
        risk-warning board, only the current list, whatever the range."""
        self._enter("fetch_st_board", dataset="st_board")
        latest = self.market.visibility(self._now()).latest
        if latest is None or (end is not None and end < latest):  # a past day: today's board is not its board
            return pl.DataFrame(schema=ST_BOARD)
        return self.market.st_board(latest)

    def fetch_financials(self, symbol: Symbol, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """Every report announced by now, as served now (restated figures replace the originals upstream;
        ``domain.pit.FINANCIALS``, ``known_at`` = the announcement)."""
        self._enter("fetch_financials", dataset="financials", symbol=symbol.canonical)
        return self.market.statements(symbol, now=self._now())

    def fetch_earnings_releases(self, symbol: None = None, start: date | None = None,
                                end: date | None = None) -> pl.DataFrame:  # fmt: skip
        """Express and results announcements made in ``[start, end]`` by now (``domain.pit.EARNINGS_RELEASES``;
        the upstream's tables: one call per report period, here one)."""
        self._enter("fetch_earnings_releases", dataset="earnings_releases")
        return _between(self.market.earnings_releases(now=self._now())[0], start, end)

    def fetch_earnings_forecasts(self, symbol: None = None, start: date | None = None,
                                 end: date | None = None) -> pl.DataFrame:  # fmt: skip
        """Forecasts announced in ``[start, end]`` by now (``domain.pit.EARNINGS_FORECASTS``)."""
        self._enter("fetch_earnings_forecasts", dataset="earnings_forecasts")
        return _between(self.market.earnings_releases(now=self._now())[1], start, end)

    def fetch_commodity_daily(self, code: str, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """Synthetic main-contract daily bars (``SC0`` crude oil, ``AU0``, ``CU0``), ``COMMODITY_BARS`` schema;
        empty for an unknown code (see ``simulated.commodities``)."""
        self._enter("fetch_commodity_daily", dataset="commodity_daily", symbol=code)
        market = self.market
        return commodity_frame(market.factors, market.seed, code, start, end, market.visibility(self._now()).latest)

    def fetch_quotes(self, symbols: list[Symbol] | None = None) -> pl.DataFrame:
        """Live snapshot at the clock's minute (``domain.quotes.QUOTES``), read off the intraday paths; every
        stock when ``symbols`` is None; suspended symbols are ``halted``. One call, whatever the size."""
        self._enter("fetch_quotes", dataset="quotes")
        wanted = None if symbols is None else [s.canonical for s in symbols]
        return self._quotes.snapshot(wanted, now=self._now())

    def quote_batches(self, symbols: list[Symbol] | None) -> list[list[Symbol] | None]:
        """How ``fetch_quotes`` calls split a request: one call for any set here."""
        return [symbols]

    def quotes_host_family(self) -> str:
        return "local"

    def fetch_news(self, symbol: Symbol) -> pl.DataFrame:
        """Synthetic headlines about ``symbol`` published by now, ``NEWS`` schema (``simulated.sources``)."""
        sym = symbol if isinstance(symbol, Symbol) else parse_symbol(symbol)
        self._enter("fetch_news", dataset="news", symbol=sym.canonical)
        return news_frame(self.market.seed, sym, self._now()).drop("label")

    def fetch_limit_up_pool(self, symbol: None, start: date, end: date) -> pl.DataFrame:
        """The limit-up pool of one date (``start == end``), ``LIMIT_UP_POOL``; a non-trading date is answered with
        the previous session's pool labelled with that date, as Eastmoney does (``simulated.events``)."""
        _one_date(start, end, "limit_up_pool")
        self._enter("fetch_limit_up_pool", dataset="limit_up_pool")
        return limit_up_pool(self.market, start, self._now())

    def fetch_dragon_tiger(self, symbol: None, start: date, end: date) -> pl.DataFrame:
        """The dragon-tiger list of the sessions in ``[start, end]``, ``DRAGON_TIGER`` (``simulated.events``)."""
        if start > end:
            raise InvalidDateRangeError("end is before start", dataset="dragon_tiger", start=start, end=end)
        self._enter("fetch_dragon_tiger", dataset="dragon_tiger")
        return dragon_tiger(self.market, start, end, self._now())

    def fetch_macro(self, name: str) -> pl.DataFrame:
        """A synthetic macro series (cpi, ppi, pmi, m2, shibor) released by now, ``MACRO`` schema."""
        self._enter("fetch_macro", dataset="macro", symbol=name)
        return macro_frame(self.market.seed, name, self._now(), self.market.calendar)

    def fetch_minute_bars(self, symbol: Symbol, start: date, end: date, *, period: str = "1") -> pl.DataFrame:
        """Minute bars (``domain.schema.MINUTE_BARS``) of ``period`` minutes in ``[start, end]`` as Eastmoney serves
        them at the clock's now: only its recent window, quirks included (``simulated.minutes``)."""
        sym = symbol if isinstance(symbol, Symbol) else parse_symbol(symbol)
        if period not in ("1", "5", "15", "30", "60"):
            raise InvalidRequestError(f"period must be one of '1', '5', '15', '30', '60', not {period!r}", symbol=str(sym))
        self._enter("fetch_minute_bars", dataset="minute_bars", symbol=sym.canonical)
        return minute_bars(self.market, sym.canonical, start, end, int(period), self._now())

    def fetchers(self) -> dict[str, Fetcher]:
        """What this provider serves, by capability (``providers.fetchers``); all on the unthrottled "local"."""
        local = self.host_family
        return {name: Fetcher(fetch, local) for name, fetch in (
            ("daily_bars", self.fetch_daily_bars), ("trade_dates", self.fetch_trade_dates),
            ("securities", self.fetch_securities), ("index_members", self.fetch_index_members),
            ("commodity_daily", self.fetch_commodity_daily), ("corporate_actions", self.fetch_corporate_actions),
            ("news", self.fetch_news), ("macro", self.fetch_macro), ("quotes", self.fetch_quotes),
            ("limit_up_pool", self.fetch_limit_up_pool), ("dragon_tiger", self.fetch_dragon_tiger),
            ("minute_bars", self.fetch_minute_bars),
            ("security_events", self.fetch_security_events), ("index_snapshot", self.fetch_index_snapshot),
            ("financials", self.fetch_financials), ("st_board", self.fetch_st_board), ("earnings_releases", self.fetch_earnings_releases),
            ("earnings_forecasts", self.fetch_earnings_forecasts))}  # fmt: skip

    def host_family(self, symbol: Symbol | None = None) -> str:
        # No network behind it, so the throttle's "local" family (unthrottled) applies unless a caller names
        # limits for it; fault injection, not rate limits, is how tests make this upstream misbehave.
        return "local"


def _one_date(start: date, end: date, dataset: str) -> None:
    if start != end:
        raise InvalidRequestError(f"{dataset} is asked for one date per call, not {start}..{end}", dataset=dataset)


def _between(frame: pl.DataFrame, start: date | None, end: date | None) -> pl.DataFrame:
    """The announcements of ``[start, end]`` (either open)."""
    if start is not None:
        frame = frame.filter(pl.col("known_at") >= start)
    return frame if end is None else frame.filter(pl.col("known_at") <= end)
