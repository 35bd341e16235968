"""Reads of any registered dataset through the cache: ``lab.read(dataset, ...)``.

The dataset's registry record says everything this needs (index column, uniqueness, fetch unit, the upstream's
memory, the point-in-time column); ``read_plan.plan_read`` decides what to fetch and ``answers.judged`` what an
answer covers. Rows an answer labels with a date that is no session are refused or, for an upstream that answers
a non-trading date with the previous session's list (``Dataset.off_session``), given that session's date: a row
is stored under the trading date it belongs to, never the day it was fetched. Sessions the upstream forgot
before they were captured, once recorded (``loader.lost_sessions``, by the collector), are said by every read of them.
One series per symbol, or one market-wide series (key ``market``) for per-date lists. Fetches run under the
series' lock (a second kernel waits and reuses the first one's fetch) and under the throttle.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar, day_number
from quantdb_lab.domain.clock import Clock
from quantdb_lab.domain.datasets import Dataset
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.domain.schema import conform
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import EmptyResultError, InvalidRequestError, SyntheticDataWarning
from quantdb_lab.loader.answers import ask_again, continues_a_gap, expected_sessions, judged, neighbours
from quantdb_lab.loader.crosscheck import CrossChecks
from quantdb_lab.loader.dataset_rows import merge_answer, on_sessions, stored_slice
from quantdb_lab.loader.failover import preferring, serve, served_by, with_run
from quantdb_lab.loader.finer_bars import finer_key, with_finer, with_finer_rows
from quantdb_lab.loader.lost_sessions import LostSessions
from quantdb_lab.loader.pit import new_versions
from quantdb_lab.loader.read_plan import Fetch, ReadPlan, effective_range, plan_read
from quantdb_lab.loader.stats import Provenance, Stats
from quantdb_lab.loader.units import UnitCorrections
from quantdb_lab.providers.fetchers import fetcher_for, sources_for
from quantdb_lab.store.records import SeriesKey, SeriesMeta, day_numbers
from quantdb_lab.store.segments import day_of

MARKET = "market"  # the series key of a market-wide dataset


@dataclass(frozen=True, slots=True)
class _Rows:
    """A cross-section (or what was derived from it) kept in the store's memory while the catalog is unchanged."""

    frame: pl.DataFrame

UpstreamCall = Callable[..., Any]


class DatasetLoader:
    def __init__(self, store: Any, provider: Any, calendar: TradingCalendar, clock: Clock, *, stats: Stats,
                 call: UpstreamCall) -> None:  # fmt: skip
        self.store = store
        self.provider = provider
        self.calendar = calendar
        self.clock = clock
        self.stats = stats
        self.call = call
        self.units = UnitCorrections(store, provider.name)  # as bar_loader judges them
        self.lost = LostSessions(store, calendar)

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
            meta = with_finer(meta, self.store.read_meta(finer_key(dataset, key)))
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
        reasons = plan.reasons + self.lost.notes(plan.key, plan.range.start, plan.range.end)
        stored = self.store.read_meta(plan.key)
        if dataset.volume_units:
            reasons += self._unit_notes(dataset, plan, stored)
        runs = served_by(stored.sources, plan.range.start, plan.range.end) if stored is not None else ()
        if frame.is_empty():
            raise EmptyResultError(f"no {dataset.title} in this range" + (
                f" ({'; '.join(reasons)})" if reasons else ""), symbol=plan.key.symbol, dataset=dataset.name,
                start=plan.range.start, end=plan.range.end)  # fmt: skip
        if self.provider.synthetic:
            warnings.warn(f"{self.provider.name} data is synthetic, not the market's", SyntheticDataWarning, stacklevel=3)
        origin = Provenance(symbol=plan.key.symbol, adjust="", start=plan.range.start, end=plan.range.end,
                            rows=frame.height, from_cache=calls == 0, upstream_calls=calls, fetched=(),
                            provisional=plan.provisional, synthetic=self.provider.synthetic, notes=reasons,
                            source=getattr(self.store, "source", ""), served_by=runs,
                            seconds=time.perf_counter() - started)  # fmt: skip
        self.stats.record(origin)
        return frame, origin

    def read_many(self, dataset: Dataset, symbols: list[Symbol], start: date | None, end: date | None,
                  mode: ContextMode, *, derive: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> pl.DataFrame:  # fmt: skip
        """Rows of many series of a per-symbol dataset as one frame: one catalog query plans them all, warm ones
        are sliced from the store (its memory) and cut at ``as_of`` once, the others read one by one as ``read``
        does; symbols with no rows are left out. For cross-sections (300 stocks' statements, the market's).

        ``derive``: a pure function of those rows (a module-level one: it is part of the memory key), applied to
        them and returned instead. A closed range whose every series was warm is remembered, rows or derived
        frame, in the store's bounded memory while nothing stored changes (the catalog's version, as bars'
        cross-sections are): a repeated read costs a version check, and a fetch or a restatement stored by any
        process makes the next read plan and derive again."""
        now = self.clock.now()
        span = effective_range(start, end, mode, self.calendar, now, label=dataset.name)
        closed = span.open_session is None or span.end < span.open_session
        store = self.store
        remember = closed and hasattr(store, "version") and hasattr(store, "memory")
        if remember:
            memo = ("read_many", dataset.name, span.start, span.end, mode.as_of, derive,
                   tuple(s.canonical for s in symbols))  # fmt: skip
            version = hash(store.version())
            remembered = store.memory.get(memo, version)
            if remembered is not None:
                return remembered.frame
        metas = store.read_metas(dataset.name, [s.canonical for s in symbols])
        first, last = day_number(span.start), day_number(span.end)
        frames: list[pl.DataFrame] = []
        all_warm = True
        for symbol in symbols:
            key = self.key(dataset, symbol)
            meta = metas.get(key.symbol)
            # one interval holding the whole closed range is warm: no need to list its sessions
            whole = closed and meta is not None and bool(
                ((meta.coverage.starts <= first) & (meta.coverage.ends >= last)).any())  # fmt: skip
            all_warm &= whole
            plan = ReadPlan(key, span, (), None) if whole else plan_read(dataset, key, span, mode, meta, self.calendar, now)
            try:
                frames.append(self._stored_rows(dataset, plan, mode, meta, cut=False)
                              if plan.is_warm else self.read(dataset, symbol, start, end, mode)[0])  # fmt: skip
            except EmptyResultError:
                continue
        rows = (self._cut(dataset, pl.concat(frames, how="vertical", rechunk=True), mode) if frames
                else pl.DataFrame(schema=dataset.schema))  # one chunk: thousands of slices filter slowly  # fmt: skip
        out = derive(rows) if derive is not None else rows
        if remember and all_warm:
            store.memory.put(memo, version, _Rows(out))
        return out

    def _execute(self, dataset: Dataset, fetch: Fetch, symbol: Symbol | None, now: datetime) -> int:
        fetcher = fetcher_for(self.provider, dataset.capability, dataset=dataset.name)
        meta = self.store.read_meta(fetch.key) or SeriesMeta()
        old = self.store.read_frame(fetch.key, meta) if meta.rows else None
        state = self.calendar.state(now)
        sessions = self.calendar.session_days(fetch.start, fetch.end)
        expected = expected_sessions(sessions, state)

        previous, following = neighbours(self.calendar, fetch.start, fetch.end)
        # a sparse dataset's rows may fall on the non-sessions before the fetch's first session: they belong here
        first_day = day_number(previous) + 1 if dataset.sparse and previous is not None else day_number(fetch.start)

        # a dataset with several sources (daily bars) fails over between them as lab.bars does (loader.failover)
        sources = sources_for(self.provider, dataset.capability, symbol)
        junctions = CrossChecks(sources, meta, old, fetch.start, fetch.end) if sources else None

        def ask(expect_rows: bool = False) -> tuple[pl.DataFrame, str]:
            self.stats.count_call(f"{dataset.name}")
            if sources:
                raw, name = serve(sources, self.call, symbol, fetch.start, fetch.end, stats=self.stats,
                                  junctions=junctions, expect_rows=expect_rows)  # fmt: skip
            else:
                raw, name = self.call(fetcher.host_family(symbol), fetcher.fetch, symbol, fetch.start, fetch.end,
                                      **dataset.params), ""  # fmt: skip
            frame = on_sessions(dataset, conform(raw, dataset.schema, source=self.provider.name), self.calendar)
            if dataset.version_key:  # restatements become new versions (loader.pit)
                frame = new_versions(dataset, frame, old, fetch.start)
            days = day_of(dataset.index_column)
            frame = frame.filter(days.is_between(first_day, day_number(fetch.end)))
            if dataset.index == "timestamp":  # a bar is labelled by its end: one ending after now is still forming
                frame = frame.filter(pl.col(dataset.index_column) <= now)
            return frame, name

        (fresh, source), calls = ask(expect_rows=len(expected) > 0), 1
        continuing = continues_a_gap(meta, previous) or dataset.empty_is_answer
        served = lambda: sessions if dataset.sparse else np.unique(day_numbers(fresh, dataset.index_column))  # noqa: E731
        if ask_again(expected, served(), meta, continuing=continuing):
            with preferring(source or None):  # the same source again, unless it has failed meanwhile
                (again, source_again), calls = ask(), 2
            if again.height >= fresh.height:  # one answer is kept whole: sources are never mixed in it
                fresh, source = again, source_again
        merged = merge_answer(dataset, old, fresh)
        units = meta.units
        if dataset.volume_units and dataset.index == "timestamp":  # minute bars: judged per session
            merged, units = self.units.on_ingest_minutes(merged, fresh["time"].dt.date().to_list(), units)
        elif dataset.volume_units:  # corrected before it is stored, as bar_loader does (loader.units)
            known = self.units.known(fetch.key.symbol, units)
            merged, units = self.units.on_ingest(merged, fresh[dataset.index_column].to_list(), known)
        updated = judged(meta, start=fetch.start, end=fetch.end, sessions=sessions, served=served(), state=state,
                         now=now, next_session=following, continuing=continuing)  # fmt: skip
        if updated.lost:  # the upstream had it after all (its memory was longer than declared)
            updated = replace(updated, lost=updated.lost.subtract(updated.coverage))
        if source and fresh.height:  # which source served which sessions, as lab.bars records it
            days = day_numbers(fresh, dataset.index_column)
            updated = replace(updated, sources=with_run(updated.sources, source, int(days.min()), int(days.max())))
        self.store.write(fetch.key, merged, replace(updated, units=units))
        if dataset.volume_units and dataset.index != "timestamp":
            self.units.migrated(fetch.key.symbol)
        return calls

    def capture(self, dataset: Dataset, symbol: Symbol | None, fetch: Fetch) -> int:
        """One planned fetch (the collector's unit of work) under the series' lock, unless another process
        captured those sessions meanwhile. Returns the upstream calls made (0: nothing was left to fetch)."""
        with self.store.lock(fetch.key):
            meta = self.store.read_meta(fetch.key) or SeriesMeta()
            days = self.calendar.session_days(fetch.start, fetch.end)
            if len(days) and bool(meta.coverage.covered(days).all()):
                return 0
            return self._execute(dataset, fetch, symbol, self.clock.now())

    def _unit_notes(self, dataset: Dataset, plan: ReadPlan, stored: SeriesMeta | None) -> tuple[str, ...]:
        """The volume corrections made at ingest to the rows of this read (``loader.units``)."""
        start, end = plan.range.start, plan.range.end
        if dataset.index != "timestamp":
            return self.units.notes(plan.key.symbol, start, end, stored)
        notes = self.units.minute_notes(start, end, stored)
        if dataset.derived_from is not None:  # sessions served from the finer bars carry its corrections
            notes += self.units.minute_notes(start, end, self.store.read_meta(finer_key(dataset, plan.key)))
        return tuple(dict.fromkeys(notes))

    def _stored_rows(self, dataset: Dataset, plan: ReadPlan, mode: ContextMode,
                     meta: SeriesMeta | None = None, *, cut: bool = True) -> pl.DataFrame:  # fmt: skip
        meta = meta or self.store.read_meta(plan.key)
        span = plan.range
        if dataset.off_session == "keep" and mode.as_of is not None and mode.as_of > span.end:
            span = replace(span, end=mode.as_of)  # rows on the non-sessions up to as_of (a Saturday's delisting)
        frame, days = stored_slice(self.store, dataset, plan.key, meta, span)
        if dataset.derived_from is not None:
            frame = with_finer_rows(self.store, dataset, plan, frame, days)
        return self._cut(dataset, frame, mode) if cut else frame

    @staticmethod
    def _cut(dataset: Dataset, frame: pl.DataFrame, mode: ContextMode) -> pl.DataFrame:
        if mode.as_of is not None and dataset.pit_column and dataset.pit_column in frame.columns:
            frame = frame.filter(pl.col(dataset.pit_column) <= mode.as_of)  # visible only once known
        return frame
