"""Where a series' ex-rights factor events come from: its own unadjusted bars, or the dividend table.

A provider says which with ``factor_source`` (an attribute, or a method of the symbol): ``"bars"`` (the
default) when the change it reports on an ex-date is against the exchange's reference price, so the bars carry
the factor (``previous close / reference``: baostock's ``preclose``, the simulated market); ``"actions"`` when
its change is close to close (Eastmoney's klines), so the factors are built from dividend tables and the stored
closes: the market-wide ones where the provider serves them (``dividend_period``: one table per reporting
period of every symbol, and ``rights_issues``; cached by ``ReferenceData`` and shared, so a qfq read of one more
symbol costs its bars alone), else, or for a span longer than ``MARKET_PERIODS_MAX`` periods not yet stored (an
hfq read from the listing), the symbol's own (``fetch_corporate_actions``, cached until the next close). A
source that has neither refuses qfq and hfq instead of serving prices adjusted by nothing.
"""

from __future__ import annotations

import threading
import weakref
from datetime import date

import polars as pl

from quantdb_lab.domain.actions import events_from_actions, report_periods
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import InvalidRequestError, QuantdbError
from quantdb_lab.loader.adjust import SeriesEvents, events_from_bars
from quantdb_lab.loader.reference import ReferenceData
from quantdb_lab.providers.base import Provider
from quantdb_lab.providers.fetchers import fetchers_of
from quantdb_lab.store.series_store import StoredFrame


#: the capabilities that serve every symbol's actions at once: one table per reporting period, and rights issues
MARKET_WIDE = frozenset({"dividend_period", "rights_issues"})
MARKET_PERIODS_MAX = 16  # periods not yet stored, beyond which the symbol's own table is cheaper (2 calls)


def factor_source(provider: Provider, symbol: Symbol) -> str:
    named = getattr(provider, "factor_source", "bars")
    return named(symbol) if callable(named) else named


def can_adjust(provider: Provider, symbol: Symbol) -> bool:
    """Whether qfq and hfq of ``symbol`` can be derived: its bars carry the factors, or a table is served."""
    served = fetchers_of(provider)
    return factor_source(provider, symbol) == "bars" or "corporate_actions" in served or MARKET_WIDE <= set(served)


def prefetch_market_tables(provider: Provider, reference: ReferenceData, symbols: list[Symbol], start: date,
                           end: date) -> int:  # fmt: skip
    """Before a cold adjusted read of many ``symbols`` over ``[start, end]``: fetch the market-wide tables of
    the range's reporting periods (one call each) that are not stored yet, so that every symbol's factors come
    from them. Read one symbol at a time, a span of more than ``MARKET_PERIODS_MAX`` missing periods prefers the
    symbol's own table (two calls): cheaper for one symbol, 2 x N calls for a portfolio. Returns the tables
    fetched; a table the upstream refuses is left to the per-symbol path."""
    served = set(fetchers_of(provider))
    wanted = [s for s in symbols if factor_source(provider, s) == "actions"]
    if not MARKET_WIDE <= served or len(wanted) <= MARKET_PERIODS_MAX:
        return 0
    missing = [p for p in report_periods(start, end) if reference.dividend_period(p, fetch=False) is None]
    if len(missing) >= 2 * len(wanted):
        return 0  # a long span for few symbols: their own tables cost less
    fetched = 0
    try:
        for period in missing:
            reference.dividend_period(period)
            fetched += 1
        reference.rights_issues()
    except QuantdbError:
        pass  # e.g. the datacenter host refusing: the symbols' factors fall back to their own tables
    return fetched


class FactorEvents:
    """The loader's ``EventSource``: ``events(symbol, stored_bars) -> SeriesEvents``."""

    def __init__(self, provider: Provider, reference: ReferenceData | None) -> None:
        self.provider = provider
        self.reference = reference
        self._lock = threading.Lock()
        self._memo: dict[tuple, tuple[weakref.ref, tuple[weakref.ref, ...], SeriesEvents]] = {}

    def __call__(self, symbol: Symbol, stored: StoredFrame, *, fetch: bool = True) -> SeriesEvents | None:
        """The events of ``stored``; ``fetch=False``: None rather than an upstream call for a table."""
        source = factor_source(self.provider, symbol)
        if source == "bars":
            return events_from_bars(stored)
        served = fetchers_of(self.provider)
        if self.reference is None or not ({"corporate_actions", "dividend_period"} & set(served)):
            if not fetch:
                return None
            raise InvalidRequestError(
                f"no adjustment factors for {symbol.canonical}: {self.provider.name}'s bars do not carry the "
                "ex-rights reference price and it serves no dividend table; read adjust='' instead",
                symbol=symbol.canonical, dataset="corporate_actions",
            )  # fmt: skip
        own = "corporate_actions" in served
        tables = self._market_tables(stored, fetch=fetch, force=not own) if MARKET_WIDE <= set(served) else None
        if tables is not None:
            return self._from_tables(symbol, stored, tables)
        if not fetch or not own:
            cached = self.reference.stored_corporate_actions(symbol)
            return None if cached is None else self._from_tables(symbol, stored, (cached,))
        return self._from_tables(symbol, stored, (self.reference.corporate_actions(symbol),))

    def _market_tables(self, stored: StoredFrame, *, fetch: bool, force: bool) -> tuple[pl.DataFrame, ...] | None:
        """The market-wide tables covering the stored span (``MARKET_WIDE``: each reporting period's plans and the
        rights issues), shared by every symbol; None when a long span would cost more calls than the symbol's own
        table (an hfq read from the listing; ``force``: there is none) or, ``fetch=False``, when one is not stored."""
        assert self.reference is not None
        if stored.frame.is_empty():
            return None
        dates = stored.frame.get_column("date")
        periods = report_periods(dates[0], dates[-1])
        have = [self.reference.dividend_period(p, fetch=False) for p in periods]
        missing = sum(t is None for t in have)
        if missing and (not fetch or (missing > MARKET_PERIODS_MAX and not force)):
            return None
        if fetch:
            have = [self.reference.dividend_period(p) for p in periods]
        rights = self.reference.rights_issues(fetch=fetch)
        if rights is None:
            return None
        return (*[t for t in have if t is not None], rights)

    def _from_tables(self, symbol: Symbol, stored: StoredFrame, tables: tuple[pl.DataFrame, ...]) -> SeriesEvents:
        key = (id(stored.frame), symbol.canonical, *map(id, tables))
        with self._lock:
            hit = self._memo.get(key)
        if hit is not None and hit[0]() is stored.frame and all(r() is t for r, t in zip(hit[1], tables, strict=True)):
            return hit[2]
        mine = [t.filter(pl.col("symbol") == symbol.canonical) for t in tables] if len(tables) > 1 else list(tables)
        events = events_from_actions(pl.concat(mine, how="vertical_relaxed"), stored.frame)
        found = SeriesEvents(
            events["date"].to_physical().to_numpy().astype("int64"), events["factor"].to_numpy(),
            events["reference"].to_numpy(),
        )  # fmt: skip
        with self._lock:
            if len(self._memo) > 4096:  # entries of frames gone are dropped now and then
                self._memo = {k: v for k, v in self._memo.items() if v[0]() is not None and all(r() is not None for r in v[1])}
            self._memo[key] = (weakref.ref(stored.frame), tuple(weakref.ref(t) for t in tables), found)
        return found
