"""Where a series' ex-rights factor events come from: its own unadjusted bars, or the dividend table.

A provider says which with ``factor_source`` (an attribute, or a method of the symbol): ``"bars"`` (the
default) when the change it reports on an ex-date is against the exchange's reference price, so the bars carry
the factor (``previous close / reference``: baostock's ``preclose``, the simulated market); ``"actions"`` when
its change is close to close (Eastmoney's klines), so the factors are built from its dividend table
(``fetch_corporate_actions``, cached by ``ReferenceData`` until the next close) and the stored closes. A source
that has neither refuses qfq and hfq instead of serving prices adjusted by nothing.
"""

from __future__ import annotations

import threading
import weakref

import polars as pl

from quantdb_lab.domain.actions import events_from_actions
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.loader.adjust import SeriesEvents, events_from_bars
from quantdb_lab.loader.reference import ReferenceData
from quantdb_lab.providers.base import Provider
from quantdb_lab.providers.fetchers import fetchers_of
from quantdb_lab.store.series_store import StoredFrame


def factor_source(provider: Provider, symbol: Symbol) -> str:
    named = getattr(provider, "factor_source", "bars")
    return named(symbol) if callable(named) else named


def can_adjust(provider: Provider, symbol: Symbol) -> bool:
    """Whether qfq and hfq of ``symbol`` can be derived: its bars carry the factors, or a table is served."""
    return factor_source(provider, symbol) == "bars" or "corporate_actions" in fetchers_of(provider)


class FactorEvents:
    """The loader's ``EventSource``: ``events(symbol, stored_bars) -> SeriesEvents``."""

    def __init__(self, provider: Provider, reference: ReferenceData | None) -> None:
        self.provider = provider
        self.reference = reference
        self._lock = threading.Lock()
        self._memo: dict[tuple[int, int], tuple[weakref.ref, weakref.ref, SeriesEvents]] = {}

    def __call__(self, symbol: Symbol, stored: StoredFrame, *, fetch: bool = True) -> SeriesEvents | None:
        """The events of ``stored``; ``fetch=False``: None rather than an upstream call for the table."""
        source = factor_source(self.provider, symbol)
        if source == "bars":
            return events_from_bars(stored)
        if not fetch:
            cached = None if self.reference is None else self.reference.stored_corporate_actions(symbol)
            return None if cached is None else self._from_table(stored, cached)
        if self.reference is None or "corporate_actions" not in fetchers_of(self.provider):
            raise InvalidRequestError(
                f"no adjustment factors for {symbol.canonical}: {self.provider.name}'s bars do not carry the "
                "ex-rights reference price and it serves no dividend table; read adjust='' instead",
                symbol=symbol.canonical, dataset="corporate_actions",
            )  # fmt: skip
        return self._from_table(stored, self.reference.corporate_actions(symbol))

    def _from_table(self, stored: StoredFrame, actions: pl.DataFrame) -> SeriesEvents:
        key = (id(stored.frame), id(actions))
        with self._lock:
            hit = self._memo.get(key)
        if hit is not None and hit[0]() is stored.frame and hit[1]() is actions:
            return hit[2]
        events = events_from_actions(actions, stored.frame)
        found = SeriesEvents(
            events["date"].to_physical().to_numpy().astype("int64"), events["factor"].to_numpy(),
            events["reference"].to_numpy(),
        )  # fmt: skip
        with self._lock:
            if len(self._memo) > 4096:  # entries of frames gone are dropped now and then
                self._memo = {k: v for k, v in self._memo.items() if v[0]() is not None and v[1]() is not None}
            self._memo[key] = (weakref.ref(stored.frame), weakref.ref(actions), found)
        return found
