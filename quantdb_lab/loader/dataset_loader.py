"""Reads of any registered dataset through the cache: ``lab.read(dataset, ...)``.

The dataset's registry record says everything this needs (index column, uniqueness, fetch unit, the upstream's
memory, the point-in-time column); ``read_plan.plan_read`` decides what to fetch and ``answers.judged`` what an
answer covers. One series per symbol, or one market-wide series (key ``market``) for per-date lists. Fetches run
under the series' lock (a second kernel waits and reuses the first one's fetch) and under the throttle.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar, day_number
from quantdb_lab.domain.clock import Clock
from quantdb_lab.domain.datasets import Dataset
from quantdb_lab.domain.datasets import dataset as dataset_record
from quantdb_lab.domain.minute import resample_minutes
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.domain.schema import conform
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import EmptyResultError, InvalidRequestError, SyntheticDataWarning
from quantdb_lab.loader.answers import ask_again, continues_a_gap, expected_sessions, judged, neighbours
from quantdb_lab.loader.read_plan import Fetch, Range, ReadPlan, effective_range, plan_read
from quantdb_lab.loader.stats import Provenance, Stats
from quantdb_lab.providers.fetchers import fetcher_for
from quantdb_lab.store.records import SeriesKey, SeriesMeta, day_numbers

MARKET = "market"  # the series key of a market-wide dataset

UpstreamCall = Callable[..., Any]


def _day_expr(column: str) -> pl.Expr:
    values = pl.col(column)
    return values.cast(pl.Date).cast(pl.Int64) if column == "date" else values.dt.date().cast(pl.Int64)


class DatasetLoader:
    def __init__(self, store: Any, provider: Any, calendar: TradingCalendar, clock: Clock, *, stats: Stats,
                 call: UpstreamCall) -> None:  # fmt: skip
        self.store = store
        self.provider = provider
        self.calendar = calendar
        self.clock = clock
        self.stats = stats
        self.call = call

    def key(self, dataset: Dataset, symbol: Symbol | None) -> SeriesKey:
        if dataset.per_symbol and symbol is None:
            raise InvalidRequestError(f"{dataset.name} is kept per symbol: name one", dataset=dataset.name)
        if not dataset.per_symbol and symbol is not None:
            raise InvalidRequestError(f"{dataset.name} is a market-wide list: no symbol", dataset=dataset.name)
        return SeriesKey(dataset.name, symbol.canonical if symbol is not None else MARKET)

    def plan(self, dataset: Dataset, symbol: Symbol | None, start: date | None, end: date | None,
             mode: ContextMode, now: datetime | None = None) -> ReadPlan:  # fmt: skip
        now = now or self.clock.now()
        key = self.key(dataset, symbol)
        span = effective_range(start, end, mode, self.calendar, now, label=key.symbol)
        meta = self.store.read_meta(key)
        if dataset.derived_from is not None:
            meta = with_finer(meta, self.store.read_meta(_finer_key(dataset, key)))
        return plan_read(dataset, key, span, mode, meta, self.calendar, now)

    def read(self, dataset: Dataset, symbol: Symbol | None, start: date | None, end: date | None,
             mode: ContextMode) -> tuple[pl.DataFrame, Provenance]:  # fmt: skip
        started = time.perf_counter()
        now = self.clock.now()
        plan = self.plan(dataset, symbol, start, end, mode, now)
        calls = 0
        if plan.fetches:
            with self.store.lock(plan.key):
                plan = self.plan(dataset, symbol, start, end, mode, now)  # another kernel may have filled it
                for fetch in plan.fetches:
                    calls += self._execute(dataset, fetch, symbol, now)
                plan = self.plan(dataset, symbol, start, end, mode, now)
        frame = self._stored_rows(dataset, plan, mode)
        if frame.is_empty():
            raise EmptyResultError(f"no {dataset.title} in this range" + (
                f" ({'; '.join(plan.reasons)})" if plan.reasons else ""), symbol=plan.key.symbol, dataset=dataset.name,
                start=plan.range.start, end=plan.range.end)  # fmt: skip
        if self.provider.synthetic:
            warnings.warn(f"{self.provider.name} data is synthetic, not the market's", SyntheticDataWarning, stacklevel=3)
        origin = Provenance(symbol=plan.key.symbol, adjust="", start=plan.range.start, end=plan.range.end,
                            rows=frame.height, from_cache=calls == 0, upstream_calls=calls, fetched=(),
                            provisional=plan.provisional, synthetic=self.provider.synthetic, notes=plan.reasons,
                            source=getattr(self.store, "source", ""),
                            seconds=time.perf_counter() - started)  # fmt: skip
        self.stats.record(origin)
        return frame, origin

    def _execute(self, dataset: Dataset, fetch: Fetch, symbol: Symbol | None, now: datetime) -> int:
        fetcher = fetcher_for(self.provider, dataset.capability, dataset=dataset.name)
        meta = self.store.read_meta(fetch.key) or SeriesMeta()
        old = self.store.read_frame(fetch.key, meta) if meta.rows else None
        state = self.calendar.state(now)
        sessions = self.calendar.session_days(fetch.start, fetch.end)
        expected = expected_sessions(sessions, state)

        def ask() -> pl.DataFrame:
            self.stats.count_call(f"{dataset.name}")
            raw = self.call(fetcher.host_family(symbol), fetcher.fetch, symbol, fetch.start, fetch.end, **dataset.params)
            frame = conform(raw, dataset.schema, source=self.provider.name)
            days = _day_expr(dataset.index_column)
            frame = frame.filter(days.is_between(day_number(fetch.start), day_number(fetch.end)))
            if dataset.index == "timestamp":  # a bar is labelled by its end: one ending after now is still forming
                frame = frame.filter(pl.col(dataset.index_column) <= now)
            return frame

        fresh, calls = ask(), 1
        previous, following = neighbours(self.calendar, fetch.start, fetch.end)
        continuing = continues_a_gap(meta, previous)
        if ask_again(expected, np.unique(day_numbers(fresh, dataset.index_column)), meta, continuing=continuing):
            again, calls = ask(), 2
            if again.height >= fresh.height:
                fresh = again
        merged = _merge(dataset, old, fresh)
        updated = judged(meta, start=fetch.start, end=fetch.end, sessions=sessions,
                         served=np.unique(day_numbers(fresh, dataset.index_column)), state=state, now=now,
                         next_session=following, continuing=continuing)  # fmt: skip
        self.store.write(fetch.key, merged, updated)
        return calls

    def _slice(self, dataset: Dataset, key: SeriesKey, meta: SeriesMeta | None, span: Range) -> tuple[pl.DataFrame, np.ndarray]:
        """The stored rows of ``key`` in ``span`` and their day numbers."""
        if meta is None or not meta.rows:
            return pl.DataFrame(schema=dataset.schema), np.empty(0, np.int64)
        stored = self.store.read_stored(key, meta)
        lo = int(np.searchsorted(stored.days, day_number(span.start), side="left"))
        hi = int(np.searchsorted(stored.days, day_number(span.end), side="right"))
        return stored.frame.slice(lo, hi - lo), stored.days[lo:hi]

    def _stored_rows(self, dataset: Dataset, plan: ReadPlan, mode: ContextMode) -> pl.DataFrame:
        frame, days = self._slice(dataset, plan.key, self.store.read_meta(plan.key), plan.range)
        if dataset.derived_from is not None:
            frame = self._with_finer(dataset, plan, frame, days)
        if mode.as_of is not None and dataset.pit_column and dataset.pit_column in frame.columns:
            frame = frame.filter(pl.col(dataset.pit_column) <= mode.as_of)  # visible only once known
        return frame


    def _with_finer(self, dataset: Dataset, plan: ReadPlan, own: pl.DataFrame, own_days: np.ndarray) -> pl.DataFrame:
        """``own`` with every session the finer dataset holds final (or fresher) replaced by its re-aggregated bars."""
        finer = dataset_record(dataset.derived_from)
        key = _finer_key(dataset, plan.key)
        meta = self.store.read_meta(key)
        fine, fine_days = self._slice(finer, key, meta, plan.range)
        if fine.is_empty():
            return own
        usable = meta.coverage.covered(fine_days)
        own_meta = self.store.read_meta(plan.key)
        if meta.provisional_day is not None and (own_meta is None or own_meta.provisional_at is None
                                                 or (meta.provisional_at or 0) >= own_meta.provisional_at):  # fmt: skip
            usable |= fine_days == meta.provisional_day
        if not usable.any():
            return own
        fine = fine.filter(pl.Series(usable))
        served = np.unique(fine_days[usable])
        kept = own.filter(pl.Series(~np.isin(own_days, served))) if own.height else own
        derived = resample_minutes(fine, dataset.bar_minutes)
        return pl.concat([kept, derived], how="vertical_relaxed").sort(dataset.index_column)


def _finer_key(dataset: Dataset, key: SeriesKey) -> SeriesKey:
    return SeriesKey(dataset.derived_from, key.symbol)


def with_finer(meta: SeriesMeta | None, finer: SeriesMeta | None) -> SeriesMeta | None:
    """A derived series' metadata for planning: covered wherever it or its finer series is; the open session
    fresh if either fetched it lately."""
    if finer is None:
        return meta
    meta = meta or SeriesMeta()
    coverage = meta.coverage
    for first, last in finer.coverage.to_pairs():
        coverage = coverage.add(first, last)
    if finer.provisional_at is not None and (meta.provisional_at is None or finer.provisional_at > meta.provisional_at):
        meta = replace(meta, provisional_day=finer.provisional_day, provisional_at=finer.provisional_at)
    return replace(meta, coverage=coverage)


def _merge(dataset: Dataset, old: pl.DataFrame | None, fresh: pl.DataFrame) -> pl.DataFrame:
    """The stored rows with every session the answer holds replaced by the answer's rows (a session's rows come
    from one answer); sessions the answer lacks keep what was stored: nothing captured earlier is ever lost."""
    column = dataset.index_column
    if old is None or old.is_empty():
        merged = fresh
    else:
        answered = fresh.select(_day_expr(column).unique()).to_series()
        kept = old.filter(~_day_expr(column).is_in(answered.to_list()))
        merged = pl.concat([kept, fresh], how="vertical_relaxed")
    if dataset.unique_index:
        merged = merged.unique(column, keep="last", maintain_order=True)
    return merged.sort(column, maintain_order=True)
