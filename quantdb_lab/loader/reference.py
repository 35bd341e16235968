"""Reference data through the cache: the security master, index constituents, commodity main contracts, the
multi-modal sources (company news, macro series) and corporate actions (the dividend tables).

What questions (``quantdb_lab.query``) need beside bars. Each dataset is fetched whole (the upstreams serve
them whole), stored by ``ReferenceStore`` and served from disk until a new session's bar has become final
after it was fetched: lists and constituents change at most daily, a futures series gains one bar a day.
Upstream calls go through the Lab's throttle and counters, so ``lab.stats()`` sees them.

Warming (``prefetch.tables``): every foreground read of a table is told to ``on_served`` (the Lab's usage log),
and ``refresh`` reloads a stale table by its stored name in the background, so a table the user reads every
day (the security master behind every sector question) is fresh before the first question of the morning.

Freshness per dataset: lists, constituents, commodity bars, macro series (figures are released at most
once a day) and corporate actions (announced after a close at the earliest) follow the session rule above; news is fresh for ``NEWS_MAX_AGE`` and accumulates: the upstream
serves only the latest articles, so each refresh is merged into what is stored (deduplicated by url).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar, final_after
from quantdb_lab.domain.clock import Clock, to_exchange_time
from quantdb_lab.domain.sources import macro_series
from quantdb_lab.domain.symbols import Symbol, parse_commodity_code, parse_symbol
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.loader.stats import Provenance, Stats
from quantdb_lab.providers.base import Provider
from quantdb_lab.providers.fetchers import Fetcher, fetcher_for
from quantdb_lab.store.reference_store import ReferenceStore

Call = Callable[..., Any]
NEWS_MAX_AGE = timedelta(minutes=30)
FINAL_PERIOD_AGE = timedelta(days=900)  # a reporting period this old has no plan left to implement


def last_final_moment(calendar: TradingCalendar, now: datetime) -> datetime | None:
    """The latest moment at or before ``now`` when a session's bar became final (None before any)."""
    state = calendar.state(now)
    if state.latest is None:
        return None
    session = state.latest if state.latest_final else calendar.previous_session(state.latest)
    return final_after(session) if session is not None else None


class ReferenceData:
    """Cached reference datasets of one provider in one cache directory."""

    def __init__(self, root: Path, provider: Provider, *, calendar: TradingCalendar, clock: Clock, stats: Stats,
                 call: Call) -> None:  # fmt: skip
        self.provider = provider
        self.store = ReferenceStore(root, provider.name)
        self.calendar = calendar
        self.clock = clock
        self.stats = stats
        self._call = call  # the throttle's call(host_family, fn, *args)
        self._guard = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}  # one per dataset: racing readers make one upstream call
        self.on_served: Callable[[Provenance], None] | None = None  # after each foreground read of a table
        self._background = threading.local()  # set while ``refresh`` loads: not a read of the user's

    def securities(self) -> pl.DataFrame:
        """``SECURITIES`` columns (symbol, name, industry, board, list_date) of everything the provider lists."""
        fetch = self._fetcher("securities")
        return self._load("securities", "securities", lambda: fetch.fetch())

    def stored_securities(self) -> pl.DataFrame | None:
        """The security master as last stored, however old, without an upstream call; None if never fetched.
        For uses where industry membership a few days old is as good (it changes rarely) and a refresh is
        costly: with industries, akshare's is about 90 paginated Eastmoney calls."""
        entry = self.store.read("securities")
        return entry.frame if entry is not None else None

    def index_members(self, index: str | Symbol) -> list[str]:
        """Canonical symbols of the index's constituents (raises InvalidRequestError if the provider has none)."""
        symbol = index if isinstance(index, Symbol) else parse_symbol(index)
        fetch = self._fetcher("index_members")
        frame = self._load(f"index_members_{symbol.canonical}", "index_members",
                           lambda: pl.DataFrame({"symbol": fetch.fetch(symbol)}, schema={"symbol": pl.String}))  # fmt: skip
        return frame["symbol"].to_list()

    def commodity_daily(self, code: str, *, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """Main-contract daily bars of ``code`` (``SC0``: INE crude oil) in ``[start, end]``, COMMODITY_BARS."""
        code = parse_commodity_code(code)
        fetch = self._fetcher("commodity_daily")
        frame = self._load(f"commodity_{code}", "commodity_daily", lambda: fetch.fetch(code))
        if start is not None:
            frame = frame.filter(pl.col("date") >= start)
        if end is not None:
            frame = frame.filter(pl.col("date") <= end)
        return frame

    def corporate_actions(self, symbol: str | Symbol) -> pl.DataFrame:
        """The dividend table of ``symbol`` as the provider has it now (``domain.actions.ACTIONS``), every row
        announced so far; ``domain.actions.visible_actions`` cuts it at a point in time."""
        sym = symbol if isinstance(symbol, Symbol) else parse_symbol(symbol)
        fetch = self._fetcher("corporate_actions")
        return self._load(f"actions_{sym.canonical}", "corporate_actions", lambda: fetch.fetch(sym))

    def stored_corporate_actions(self, symbol: str | Symbol) -> pl.DataFrame | None:
        """The dividend table of ``symbol`` as last stored, however old, without an upstream call; None if never."""
        sym = symbol if isinstance(symbol, Symbol) else parse_symbol(symbol)
        entry = self.store.read(f"actions_{sym.canonical}")
        return entry.frame if entry is not None else None

    def dividend_period(self, period: date, *, fetch: bool = True) -> pl.DataFrame | None:
        """Every symbol's dividend plans of the reporting period ending ``period`` (``ACTIONS``), one table shared
        by the whole market. A period that ended more than ``FINAL_PERIOD_AGE`` ago is kept once fetched (its
        plans are implemented by then); a later one follows the session rule. ``fetch=False``: as stored, or
        None (no upstream call)."""
        name = f"dividends_{period:%Y%m%d}"
        if not fetch:
            entry = self.store.read(name)
            return None if entry is None else entry.frame
        fetcher = self._fetcher("dividend_period")
        final = to_exchange_time(self.clock.now()).date() - period > FINAL_PERIOD_AGE
        return self._load(name, "dividend_period", lambda: fetcher.fetch(period), final=final)

    def rights_issues(self, *, fetch: bool = True) -> pl.DataFrame | None:
        """Every rights issue the provider lists (``ACTIONS``), one table shared by the whole market."""
        if not fetch:
            entry = self.store.read("rights_issues")
            return None if entry is None else entry.frame
        fetcher = self._fetcher("rights_issues")
        return self._load("rights_issues", "rights_issues", lambda: fetcher.fetch())

    def news(self, symbol: str | Symbol) -> pl.DataFrame:
        """Articles about ``symbol`` (``domain.sources.NEWS``), all ever fetched, sorted by publication time."""
        sym = symbol if isinstance(symbol, Symbol) else parse_symbol(symbol)
        fetch = self._fetcher("news")
        name = f"news_{sym.canonical}"

        def merged() -> pl.DataFrame:
            fresh, stored = fetch.fetch(sym), self.store.read(name)
            frame = fresh if stored is None else pl.concat([stored.frame, fresh], how="vertical")
            return frame.unique("url", keep="last", maintain_order=True).sort("published_at")

        return self._load(name, "news", merged, max_age=NEWS_MAX_AGE)

    def macro(self, name: str) -> pl.DataFrame:
        """A macro series (``domain.sources.MACRO``: period, release_date, value), sorted by release date."""
        key = macro_series(name).name
        fetch = self._fetcher("macro")
        return self._load(f"macro_{key}", "macro", lambda: fetch.fetch(key))

    # -- warming -----------------------------------------------------------------------------------------
    def is_fresh(self, name: str) -> bool:
        """Whether the stored table ``name`` (one ``refreshable``) would be served without a call now."""
        return self._fresh(self.store.read(name), to_exchange_time(self.clock.now()), max_age=None, final=False)

    def refresh(self, name: str) -> bool:
        """Reload the table stored as ``name`` if it is stale, as a background load (not a read of the user's);
        True if that called the upstream."""
        kind = _required_kind(name)
        before = self.store.read(name)
        if self._fresh(before, to_exchange_time(self.clock.now()), max_age=None, final=False):
            return False
        self._background.on = True
        try:
            _TABLES[kind][1](self, name.removeprefix(kind))
        finally:
            self._background.on = False
        after = self.store.read(name)  # a foreground read may have refreshed it meanwhile: no call of ours then
        return after is not None and (before is None or after.fetched_at != before.fetched_at)

    def host_family(self, name: str) -> str:
        """The host family a refresh of the table ``name`` calls."""
        return self._fetcher(_TABLES[_required_kind(name)][0]).host_family(None)

    # -- machinery ---------------------------------------------------------------------------------------
    def _fetcher(self, capability: str) -> Fetcher:
        return fetcher_for(self.provider, capability, dataset=capability)

    def _load(self, name: str, function: str, fetch: Callable[[], pl.DataFrame], *,
              max_age: timedelta | None = None, final: bool = False) -> pl.DataFrame:  # fmt: skip
        # Portfolio workers and the background warmer miss the same table at once; the first fetches it and
        # the others read what it stored (one call to the upstream, not one per thread).
        with self._guard:
            loading = self._loading.setdefault(name, threading.Lock())
        with loading:
            return self._load_alone(name, function, fetch, max_age=max_age, final=final)

    def _load_alone(self, name: str, function: str, fetch: Callable[[], pl.DataFrame], *,
                    max_age: timedelta | None, final: bool) -> pl.DataFrame:  # fmt: skip
        now = to_exchange_time(self.clock.now())
        entry = self.store.read(name)
        fresh = self._fresh(entry, now, max_age=max_age, final=final)
        if not fresh:
            frame = self._call(self._fetcher(function).host_family(None), fetch)
            self.stats.count_call(function)
            entry = self.store.write(name, frame, now)
        assert entry is not None
        today = now.date()
        origin = Provenance(symbol=name, adjust="", start=today, end=today, rows=entry.frame.height,
                            from_cache=fresh, upstream_calls=0 if fresh else 1, fetched=())  # fmt: skip
        self.stats.record(origin)
        if self.on_served is not None and not getattr(self._background, "on", False):
            self.on_served(origin)
        return entry.frame

    def _fresh(self, entry: Any, now: datetime, *, max_age: timedelta | None, final: bool) -> bool:
        if entry is None:
            return False
        if final:  # never changes once fetched
            return True
        if max_age is not None:  # fresh for a fixed time
            return now - to_exchange_time(entry.fetched_at) < max_age
        # fresh until a session's bar becomes final after the fetch
        boundary = last_final_moment(self.calendar, now)
        return boundary is None or to_exchange_time(entry.fetched_at) >= boundary


# The tables ``refresh`` can reload by their stored name: prefix -> (capability, the read that reloads it). Each
# follows the session rule; per-symbol tables (dividends, news) are left to the reads that need them.
_TABLES: dict[str, tuple[str, Callable[[ReferenceData, str], Any]]] = {
    "securities": ("securities", lambda data, _rest: data.securities()),
    "index_members_": ("index_members", lambda data, index: data.index_members(index)),
    "commodity_": ("commodity_daily", lambda data, code: data.commodity_daily(code)),
    "macro_": ("macro", lambda data, key: data.macro(key)),
}


def refreshable(name: str) -> bool:
    """Whether ``refresh`` can reload the table stored as ``name``."""
    return _kind_of(name) is not None


def _kind_of(name: str) -> str | None:
    for prefix in _TABLES:
        if name == prefix or (prefix.endswith("_") and name.startswith(prefix) and len(name) > len(prefix)):
            return prefix
    return None


def _required_kind(name: str) -> str:
    kind = _kind_of(name)
    if kind is None:
        raise InvalidRequestError(f"{name!r} is not a table that can be refreshed ahead of its reads")
    return kind
