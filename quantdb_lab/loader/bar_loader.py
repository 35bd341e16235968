"""Executes load plans: fetch the missing spans, merge them into the store, derive the adjusted result."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime
from typing import Any

import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar, day_number
from quantdb_lab.domain.clock import Clock
from quantdb_lab.domain.deadlines import deadline
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.domain.schema import BARS, conform
from quantdb_lab.errors import (
    EmptyResultError,
    ProviderUnavailableError,
    StaleDataWarning,
    StoreError,
    SyntheticDataWarning,
)
from quantdb_lab.loader.adjust import derive_qfq, qfq_scale, slice_dates
from quantdb_lab.loader.plan import BarRequest, Fetch, LoadPlan, plan_load
from quantdb_lab.loader.stats import Provenance, Stats
from quantdb_lab.providers.base import Provider
from quantdb_lab.store.base import SeriesBackend
from quantdb_lab.store.series_store import SeriesKey, SeriesMeta, StoredFrame

# Which upstream adjustment fills each stored dataset.
DATASET_ADJUST = {"bars": "", "hfq": "hfq"}

_EMPTY = StoredFrame.of(pl.DataFrame(schema=BARS))

#: ``call(host_family, fn, *args, **kwargs)``: runs an upstream call under rate limit, breaker and retries.
UpstreamCall = Callable[..., Any]


def _direct_call(host_family: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def series_keys(request: BarRequest) -> tuple[SeriesKey, ...]:
    symbol = request.symbol.canonical
    return {
        "": (SeriesKey("bars", symbol),),
        "hfq": (SeriesKey("hfq", symbol),),
        "qfq": (SeriesKey("hfq", symbol), SeriesKey("bars", symbol)),
    }.get(request.adjust, (SeriesKey("bars", symbol),))


class BarLoader:
    def __init__(
        self,
        store: SeriesBackend,
        provider: Provider,
        calendar: TradingCalendar,
        clock: Clock,
        *,
        stats: Stats | None = None,
        call: UpstreamCall = _direct_call,
    ) -> None:
        self.store = store
        self.provider = provider
        self.calendar = calendar
        self.clock = clock
        self.stats = stats or Stats()
        self.call = call

    # -- planning ----------------------------------------------------------------------------------------
    def _metas(self, request: BarRequest) -> dict[SeriesKey, SeriesMeta | None]:
        return {key: self.store.read_meta(key) for key in series_keys(request)}

    def preload(self, requests: Iterable[BarRequest]) -> int:
        """Read the stored frames of many requests in one batch (a new kernel's first read of a portfolio);
        the loads that follow are served from memory. Returns how many series are in memory."""
        return self.store.preload([key for request in requests for key in series_keys(request)])

    def plan(self, request: BarRequest, mode: ContextMode, now: datetime | None = None) -> LoadPlan:
        return plan_load(request, mode, self._metas(request), self.calendar, now or self.clock.now())

    # -- loading -----------------------------------------------------------------------------------------
    def load(self, request: BarRequest, mode: ContextMode) -> tuple[pl.DataFrame, Provenance]:
        started = time.perf_counter()
        now = self.clock.now()
        metas = self._metas(request)
        plan = plan_load(request, mode, metas, self.calendar, now)
        executed: list[Fetch] = []
        rows_fetched = 0
        stale = False
        if plan.fetches:
            try:
                with deadline(mode.retry_budget.total_seconds(), clock=self.clock, what=request.symbol.canonical):
                    plan, executed, rows_fetched = self._fill(request, mode, now)
                metas = self._metas(request)
            except ProviderUnavailableError as exc:
                if mode.on_provider_error != "serve_stale":
                    raise
                stale = True
                stale_reason = exc
        try:
            frame = self._assemble(plan, metas)
        except StoreError:
            # A corrupt or vanished file: forget the series and fetch it again (once).
            self.stats.count_corrupt()
            for key in series_keys(request):
                with self.store.lock(key):
                    self.store.drop(key)
            plan, more, fetched_again = self._fill(request, mode, now)
            executed += more
            rows_fetched += fetched_again
            frame = self._assemble(plan, self._metas(request))
        if stale:
            if frame.is_empty():
                raise stale_reason
            warnings.warn(
                f"{request.symbol.canonical}: upstream unavailable ({stale_reason.reason}); "
                f"serving {frame.height} cached rows that may be incomplete",
                StaleDataWarning,
                stacklevel=3,
            )
        if frame.is_empty():
            raise self._empty_error(request, plan)
        if self.provider.synthetic:
            warnings.warn(f"{self.provider.name} data is synthetic, not the market's", SyntheticDataWarning, stacklevel=3)
        provenance = Provenance(
            symbol=request.symbol.canonical,
            adjust=request.adjust,
            start=plan.start,
            end=plan.end,
            rows=frame.height,
            from_cache=not executed,
            upstream_calls=len(executed),
            fetched=tuple((f.key.dataset, f.start, f.end) for f in executed),
            stale=stale,
            provisional=plan.provisional,
            synthetic=self.provider.synthetic,
            notes=plan.notes,
            seconds=time.perf_counter() - started,
        )
        self.stats.record(provenance, rows_fetched=rows_fetched)
        return frame, provenance

    def _fill(self, request: BarRequest, mode: ContextMode, now: datetime) -> tuple[LoadPlan, list[Fetch], int]:
        """Take the series' locks, re-plan (another kernel may have filled them meanwhile) and fetch the rest."""
        keys = sorted(series_keys(request))
        executed: list[Fetch] = []
        rows = 0
        with ExitStack() as stack:
            for key in keys:
                stack.enter_context(self.store.lock(key))
            plan = plan_load(request, mode, self._metas(request), self.calendar, now)
            for fetch in plan.fetches:
                rows += self._execute(fetch, request, now)
                executed.append(fetch)
            if executed:
                plan = plan_load(request, mode, self._metas(request), self.calendar, now)
        return plan, executed, rows

    def _execute(self, fetch: Fetch, request: BarRequest, now: datetime) -> int:
        symbol = request.symbol
        adjust = DATASET_ADJUST[fetch.key.dataset]
        self.stats.count_call(f"daily_bars:{fetch.key.dataset}")
        raw = self.call(
            self.provider.host_family(symbol),
            self.provider.fetch_daily_bars,
            symbol,
            fetch.start,
            fetch.end,
            adjust=adjust,
        )
        fresh = (
            conform(raw, BARS, source=self.provider.name)
            .filter(pl.col("date").is_between(fetch.start, fetch.end))
            .unique("date", keep="last")
            .sort("date")
        )
        meta = self.store.read_meta(fetch.key) or SeriesMeta()
        try:
            old = self.store.read_frame(fetch.key, meta) if meta.rows else None
        except StoreError:
            old, meta = None, SeriesMeta()
        merged = fresh if old is None else pl.concat([old, fresh]).unique("date", keep="last").sort("date")
        state = self.calendar.state(now)
        last = day_number(fetch.end)
        provisional_day = provisional_at = None
        if state.latest is not None and not state.latest_final and fetch.end >= state.latest:
            # The open session's bar is stored and served but not covered: it is fetched again once stale.
            last = day_number(state.latest) - 1
            provisional_day, provisional_at = day_number(state.latest), now.timestamp()
        elif meta.provisional_day is not None and meta.provisional_day <= day_number(fetch.end):
            provisional_day = provisional_at = None
        else:
            provisional_day, provisional_at = meta.provisional_day, meta.provisional_at
        updated = replace(
            meta,
            coverage=meta.coverage.add(day_number(fetch.start), last),
            provisional_day=provisional_day,
            provisional_at=provisional_at,
            fetched_at=now.timestamp(),
        )
        self.store.write(fetch.key, merged, updated)
        return fresh.height

    def _assemble(self, plan: LoadPlan, metas: dict[SeriesKey, SeriesMeta | None]) -> pl.DataFrame:
        request = plan.request
        symbol = request.symbol.canonical
        if request.adjust == "":
            return slice_dates(self._stored(SeriesKey("bars", symbol), metas), plan.start, plan.end)
        hfq = self._stored(SeriesKey("hfq", symbol), metas)
        rows = slice_dates(hfq, plan.start, plan.end)
        if request.adjust == "hfq" or rows.is_empty():
            return rows
        scale = qfq_scale(self._stored(SeriesKey("bars", symbol), metas), hfq, plan.reference)
        if scale is None:
            raise EmptyResultError(
                "no day with both unadjusted and hfq bars to anchor qfq", symbol=symbol, end=plan.reference
            )
        return derive_qfq(rows, scale)

    def _stored(self, key: SeriesKey, metas: dict[SeriesKey, SeriesMeta | None]) -> StoredFrame:
        meta = metas.get(key)
        if meta is None or meta.rows == 0:
            return _EMPTY
        return self.store.read_stored(key, meta)

    def _empty_error(self, request: BarRequest, plan: LoadPlan) -> EmptyResultError:
        key = series_keys(request)[-1]
        stored = self._stored(key, {key: self.store.read_meta(key)}).frame
        if stored.is_empty():
            reason = "the upstream has no bars for this symbol (unknown, delisted or not yet listed); remembered"
        else:
            first, last = stored["date"].min(), stored["date"].max()
            reason = f"no bars in this range (suspended, or outside the traded life {first}..{last})"
        return EmptyResultError(
            reason, symbol=request.symbol.canonical, dataset=request.adjust or "bars", start=plan.start, end=plan.end
        )
