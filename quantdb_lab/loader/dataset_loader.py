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
from quantdb_lab.loader.pit import new_versions
from quantdb_lab.loader.read_plan import Fetch, ReadPlan, effective_range, plan_read
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
        return plan_read(dataset, key, span, mode, self.store.read_meta(key), self.calendar, now)

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

    def read_many(self, dataset: Dataset, symbols: list[Symbol], start: date | None, end: date | None,
                  mode: ContextMode) -> pl.DataFrame:  # fmt: skip
        """Rows of many series of a per-symbol dataset as one frame: one catalog query plans them all, warm ones
        are sliced from the store (its memory) and cut at ``as_of`` once, the others read one by one as ``read``
        does; symbols with no rows are left out. For cross-sections (300 stocks' statements)."""
        now = self.clock.now()
        span = effective_range(start, end, mode, self.calendar, now, label=dataset.name)
        metas = self.store.read_metas(dataset.name, [s.canonical for s in symbols])
        closed = span.open_session is None or span.end < span.open_session
        first, last = day_number(span.start), day_number(span.end)
        frames: list[pl.DataFrame] = []
        for symbol in symbols:
            key = self.key(dataset, symbol)
            meta = metas.get(key.symbol)
            # one interval holding the whole closed range is warm: no need to list its sessions
            whole = closed and meta is not None and bool(
                ((meta.coverage.starts <= first) & (meta.coverage.ends >= last)).any())  # fmt: skip
            plan = ReadPlan(key, span, (), None) if whole else plan_read(dataset, key, span, mode, meta, self.calendar, now)
            try:
                frames.append(self._stored_rows(dataset, plan, mode, meta, cut=False)
                              if plan.is_warm else self.read(dataset, symbol, start, end, mode)[0])  # fmt: skip
            except EmptyResultError:
                continue
        if not frames:
            return pl.DataFrame(schema=dataset.schema)
        return self._cut(dataset, pl.concat(frames, how="vertical"), mode)

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

        def ask() -> pl.DataFrame:
            self.stats.count_call(f"{dataset.name}")
            raw = self.call(fetcher.host_family(symbol), fetcher.fetch, symbol, fetch.start, fetch.end, **dataset.params)
            frame = conform(raw, dataset.schema, source=self.provider.name)
            if dataset.version_key:  # restatements become new versions (loader.pit)
                frame = new_versions(dataset, frame, old, fetch.start)
            days = _day_expr(dataset.index_column)
            return frame.filter(days.is_between(first_day, day_number(fetch.end)))

        fresh, calls = ask(), 1
        continuing = continues_a_gap(meta, previous)
        served = lambda: sessions if dataset.sparse else np.unique(day_numbers(fresh, dataset.index_column))  # noqa: E731
        if ask_again(expected, served(), meta, continuing=continuing):
            again, calls = ask(), 2
            if again.height >= fresh.height:
                fresh = again
        merged = _merge(dataset, old, fresh)
        updated = judged(meta, start=fetch.start, end=fetch.end, sessions=sessions, served=served(), state=state,
                         now=now, next_session=following, continuing=continuing)  # fmt: skip
        self.store.write(fetch.key, merged, updated)
        return calls

    def _stored_rows(self, dataset: Dataset, plan: ReadPlan, mode: ContextMode,
                     meta: SeriesMeta | None = None, *, cut: bool = True) -> pl.DataFrame:  # fmt: skip
        meta = meta or self.store.read_meta(plan.key)
        if meta is None or not meta.rows:
            return pl.DataFrame(schema=dataset.schema)
        stored = self.store.read_stored(plan.key, meta)
        lo = int(np.searchsorted(stored.days, day_number(plan.range.start), side="left"))
        hi = int(np.searchsorted(stored.days, day_number(plan.range.end), side="right"))
        frame = stored.frame.slice(lo, hi - lo)
        return self._cut(dataset, frame, mode) if cut else frame

    @staticmethod
    def _cut(dataset: Dataset, frame: pl.DataFrame, mode: ContextMode) -> pl.DataFrame:
        if mode.as_of is not None and dataset.pit_column and dataset.pit_column in frame.columns:
            frame = frame.filter(pl.col(dataset.pit_column) <= mode.as_of)  # visible only once known
        return frame


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
