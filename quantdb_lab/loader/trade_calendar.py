"""The Lab's trading calendar: exchange_calendars' XSHG, then the provider's trade dates past its bound.

The bundled calendar knows holidays only up to the last year its release covers (2026-12-31 in
exchange-calendars 4.13; a newer release moves the bound by itself). Past that, the provider's trade dates
(akshare's ``tool_trade_date_hist_sina`` lists every session of the current year once the exchanges have
published it) fill in: fetched the first time a query goes past the bound, stored with the other reference data
(``<cache>/reference/<provider>/trade_dates``), and asked for again at most once an exchange day, only when a
query goes past what is stored. A read inside the bundled bound never costs an upstream call.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import Clock, to_exchange_time
from quantdb_lab.errors import CalendarBoundsWarning, QuantdbError
from quantdb_lab.loader.stats import Stats
from quantdb_lab.providers.base import Provider
from quantdb_lab.providers.fetchers import fetchers_of
from quantdb_lab.store.reference_store import ReferenceStore

TRADE_DATES = "trade_dates"
CAPABILITY = "trade_dates"
FUNCTION = "fetch_trade_dates"  # what the stats count


class ProviderTradeDates:
    """The extender of the Lab's calendar: the provider's trade dates through the reference cache."""

    def __init__(self, root: Path, provider: Provider, *, clock: Clock, call: Callable[..., Any],
                 stats: Stats) -> None:  # fmt: skip
        self.provider = provider
        self.store = ReferenceStore(root, provider.name)
        self.clock = clock
        self.stats = stats
        self._call = call  # the throttle's call(host_family, fn, *args)
        self._failed_on: date | None = None  # the exchange day a fetch failed: not tried again that day
        self._lock = threading.Lock()

    def __call__(self, needed: date) -> list[date] | None:
        """Trade dates reaching ``needed`` if the provider has them; otherwise the most it has (or None)."""
        with self._lock:
            today = to_exchange_time(self.clock.now()).date()
            entry = self.store.read(TRADE_DATES)
            stored = entry.frame["date"].to_list() if entry is not None else None
            if stored and (stored[-1] >= needed or to_exchange_time(entry.fetched_at).date() == today):
                return stored
            fetcher = fetchers_of(self.provider).get(CAPABILITY)
            if fetcher is None or self._failed_on == today:
                return stored
            try:
                listed = self._call(fetcher.host_family(None), fetcher.fetch)
            except QuantdbError as exc:
                self._failed_on = today
                warnings.warn(f"the provider's trade dates could not be fetched ({type(exc).__name__}: {exc}); "
                              "past the bundled calendar's bound the stored ones or weekdays are used today",
                              CalendarBoundsWarning, stacklevel=6)  # fmt: skip
                return stored
            self.stats.count_call(FUNCTION)
            frame = pl.DataFrame({"date": sorted(set(listed))}, schema={"date": pl.Date})
            self.store.write(TRADE_DATES, frame, to_exchange_time(self.clock.now()))
            return frame["date"].to_list()


def lab_calendar(root: Path, provider: Provider, *, clock: Clock, call: Callable[..., Any],
                 stats: Stats) -> TradingCalendar:  # fmt: skip
    """XSHG as bundled, extended past its bound by ``provider``'s trade dates cached under ``root``."""
    return TradingCalendar.xshg().extended_by(ProviderTradeDates(root, provider, clock=clock, call=call, stats=stats))
