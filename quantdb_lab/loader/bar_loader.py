"""Executes load plans: fetch the missing spans, merge them into the store, derive the adjusted result.

Only unadjusted ``bars`` are fetched and stored; qfq and hfq are derived from them (``loader.adjust``)."""

from __future__ import annotations

import time
from dataclasses import replace
import warnings
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar, day_number, from_day_number
from quantdb_lab.domain.clock import Clock
from quantdb_lab.domain.deadlines import deadline
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.domain.schema import BARS, conform
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import (
    CacheRepairedWarning,
    EmptyResultError,
    PartialDataWarning,
    ProviderSchemaError,
    ProviderUnavailableError,
    StaleDataWarning,
    StoreError,
    SyntheticDataWarning,
)
from quantdb_lab.loader.adjust import SeriesEvents, derive, events_from_bars, slice_dates
from quantdb_lab.loader.crosscheck import CrossChecks
from quantdb_lab.loader.failover import preferring, serve, served_by, with_run
from quantdb_lab.loader.answers import ask_again, continues_a_gap, expected_sessions, judged, neighbours
from quantdb_lab.loader.plan import BarRequest, Fetch, LoadPlan, plan_load
from quantdb_lab.loader.stats import Provenance, Stats
from quantdb_lab.loader.units import UnitCorrections
from quantdb_lab.loader.warm_results import BUDGET_BYTES, WarmResult
from quantdb_lab.providers.base import Provider
from quantdb_lab.providers.fetchers import sources_of
from quantdb_lab.quality.sources import compare_sources
from quantdb_lab.store.base import SeriesBackend
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.memory import MemoryLayer
from quantdb_lab.store.records import day_numbers
from quantdb_lab.store.series_store import SeriesKey, SeriesMeta, SeriesStore, StoredFrame

# Which upstream adjustment fills each stored dataset: unadjusted only, every adjustment is derived from it.
DATASET_ADJUST = {"bars": ""}

_EMPTY = StoredFrame.of(pl.DataFrame(schema=BARS))

#: ``call(host_family, fn, *args, **kwargs)``: runs an upstream call under rate limit, breaker and retries.
UpstreamCall = Callable[..., Any]
#: ``events(symbol, stored_bars, fetch=True)``: the factor events of a series (default: those its own bars
#: carry); with ``fetch=False`` (at ingest) None when they would need an upstream call (a dividend table).
EventSource = Callable[..., SeriesEvents | None]


def _direct_call(host_family: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def series_keys(request: BarRequest) -> tuple[SeriesKey, ...]:
    return (SeriesKey("bars", request.symbol.canonical),)


def events_of(meta: SeriesMeta) -> SeriesEvents:
    """The factor events kept in a series' metadata (derived from its bars or tables when they were stored, the
    same the cross-sectional reads adjust by)."""
    if not meta.events:
        return SeriesEvents.none()
    days, factors, references = zip(*meta.events, strict=True)
    return SeriesEvents(np.array(days, np.int64), np.array(factors, np.float64), np.array(references, np.float64))


def _bar_events(symbol: Symbol, stored: StoredFrame, *, fetch: bool = True) -> SeriesEvents:
    return events_from_bars(stored)


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
        events: EventSource = _bar_events,
    ) -> None:
        self.store = store
        self.provider = provider
        self.calendar = calendar
        self.clock = clock
        self.stats = stats or Stats()
        self.call = call
        self.events = events
        self.units = UnitCorrections(store, provider.name)  # volume units judged at ingest
        # repeated warm reads reuse their result while the catalog is unchanged; only over a plain store whose
        # frames stay in memory (a layered store's remote and a memory-less store's files are read each time)
        plain = isinstance(store, SeriesStore) and store.memory.budget > 0
        self._warm: MemoryLayer[WarmResult] | None = MemoryLayer(BUDGET_BYTES) if plain else None

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
        warm_version = None  # what a kept result of (request, mode) must have been computed at to be reused
        if self._warm is not None:
            warm_version = (self.calendar.state(now), self.store.version())
            kept = self._warm.get((request, mode), warm_version)
            if kept is not None:
                return self._reuse(request, kept, started)
        try:
            plan, metas, executed, rows_fetched, stale_reason = self._load_stored(request, mode, now)
            if stale_reason is not None and not any(m is not None and m.rows for m in metas.values()):
                raise stale_reason  # nothing cached to serve: the upstream's own error, not a later one
            frame = self._assemble(plan, metas)
        except StoreError as exc:
            # A damaged or vanished file: fetch the series' whole stored span again, never only the new part.
            plan, metas, executed, rows_fetched = self._repair(request, mode, now, exc)
            stale_reason = None
            frame = self._assemble(plan, metas)
        stale = stale_reason is not None
        if stale:
            if frame.is_empty():
                raise stale_reason
            warnings.warn(
                f"{request.symbol.canonical}: upstream unavailable ({stale_reason.reason}); "
                f"serving {frame.height} cached rows that may be incomplete",
                StaleDataWarning,
                stacklevel=3,
            )
        notes = list(plan.notes)
        partial, cut = self._partial_note(request, plan, metas)
        if partial:
            notes.append(partial)
        if frame.is_empty():
            raise self._empty_error(request, plan)
        self._warn(request, partial if cut else "")
        bars_meta = metas.get(SeriesKey("bars", request.symbol.canonical))
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
            source=getattr(self.store, "source", ""),
            served_by=self._served_by(metas, plan.start, plan.end),
            notes=(*notes, *self.units.notes(request.symbol.canonical, plan.start, plan.end, bars_meta)),
            seconds=time.perf_counter() - started,
        )
        self.stats.record(provenance, rows_fetched=rows_fetched)
        if (warm_version is not None and not executed and not stale and plan.provisional is None
                and (request.adjust == "" or (bars_meta is not None and bars_meta.events is not None))):  # fmt: skip
            # a copy (shallow: the columns are shared) kept, and one handed out per reuse: a caller changing its
            # frame in place (insert_column, drop_in_place) changes no other result
            self._warm.put((request, mode), warm_version, WarmResult(frame.clone(), provenance, partial if cut else ""))
        return frame, provenance

    def _reuse(self, request: BarRequest, kept: WarmResult, started: float) -> tuple[pl.DataFrame, Provenance]:
        """A kept warm result served again, with the warnings its load raised."""
        self._warn(request, kept.warn_partial, stacklevel=5)
        provenance = replace(kept.provenance, seconds=time.perf_counter() - started)
        self.stats.record(provenance)
        return kept.frame.clone(), provenance

    def _warn(self, request: BarRequest, partial: str, *, stacklevel: int = 4) -> None:
        """The warnings of a load (the default ``stacklevel`` points at the caller of ``load``)."""
        if partial:
            warnings.warn(f"{request.symbol.canonical}: {partial}", PartialDataWarning, stacklevel=stacklevel)
        if self.provider.synthetic:
            warnings.warn(f"{self.provider.name} data is synthetic, not the market's", SyntheticDataWarning,
                          stacklevel=stacklevel)  # fmt: skip

    @staticmethod
    def _served_by(metas: dict[SeriesKey, SeriesMeta | None], start, end):  # noqa: ANN001, ANN205
        return tuple(run for meta in metas.values() if meta is not None for run in served_by(meta.sources, start, end))

    def _load_stored(self, request: BarRequest, mode: ContextMode, now: datetime):  # noqa: ANN202
        """Plan, fetch what is missing (or serve stale where the mode allows), and return what to assemble."""
        metas = self._metas(request)
        plan = plan_load(request, mode, metas, self.calendar, now)
        executed: list[Fetch] = []
        rows_fetched = 0
        stale_reason = None
        if plan.fetches:
            try:
                with deadline(mode.retry_budget.total_seconds(), clock=self.clock, what=request.symbol.canonical):
                    plan, executed, rows_fetched = self._fill(request, mode, now)
                metas = self._metas(request)
            except (ProviderUnavailableError, ProviderSchemaError) as exc:
                if mode.on_provider_error != "serve_stale":
                    raise
                stale_reason = exc
        return plan, metas, executed, rows_fetched, stale_reason

    def _repair(self, request: BarRequest, mode: ContextMode, now: datetime, problem: StoreError):  # noqa: ANN202
        self.stats.count_corrupt()
        warnings.warn(
            f"{request.symbol.canonical}: the cached series did not match what was written ({problem.reason}); "
            "its whole stored span is fetched again",
            CacheRepairedWarning,
            stacklevel=4,
        )
        executed: list[Fetch] = []
        rows = 0
        for key in sorted(series_keys(request)):
            with self.store.lock(key):
                meta = self.store.read_meta(key)
                self.store.drop(key)
                span = meta.coverage if meta is not None else None
                if span:
                    sessions = self.calendar.session_days(from_day_number(span.first), from_day_number(span.last))
                    if len(sessions):
                        whole = Fetch(key, from_day_number(int(sessions[0])), from_day_number(int(sessions[-1])))
                        fetched, calls = self._execute(whole, request, now)
                        rows += fetched
                        executed.extend([whole] * calls)
        plan, more, fetched = self._fill(request, mode, now)
        return plan, self._metas(request), executed + more, rows + fetched

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
                fetched, calls = self._execute(fetch, request, now)
                rows += fetched
                executed.extend([fetch] * calls)
            if executed:
                plan = plan_load(request, mode, self._metas(request), self.calendar, now)
        return plan, executed, rows

    def _call_bars(self, fetch: Fetch, symbol, junctions: CrossChecks | None = None,  # noqa: ANN001
                   expect_rows: bool = False) -> tuple[pl.DataFrame, str]:  # fmt: skip
        """The fetch's rows and the name of the source that served them ("" for a single-source provider)."""
        self.stats.count_call(f"daily_bars:{fetch.key.dataset}")
        sources = sources_of(self.provider, symbol)
        if sources:
            raw, name = serve(sources, self.call, symbol, fetch.start, fetch.end, stats=self.stats,
                              junctions=junctions, expect_rows=expect_rows)  # fmt: skip
        else:
            raw = self.call(self.provider.host_family(symbol), self.provider.fetch_daily_bars, symbol, fetch.start,
                            fetch.end, adjust=DATASET_ADJUST[fetch.key.dataset])  # fmt: skip
            name = ""
        frame = (
            conform(raw, BARS, source=self.provider.name)
            .filter(pl.col("date").is_between(fetch.start, fetch.end))
            .unique("date", keep="last")
            .sort("date")
        )
        return frame, name

    def _execute(self, fetch: Fetch, request: BarRequest, now: datetime) -> tuple[int, int]:
        """One planned fetch (two calls when the answer is empty or stops short of the range); returns
        (rows fetched, calls made). The stored series must be readable: a damaged one raises StoreError, and
        the caller fetches its whole span again (merging into nothing would lose the rest of it)."""
        symbol = request.symbol
        meta = self.store.read_meta(fetch.key) or SeriesMeta()
        old = self.store.read_frame(fetch.key, meta) if meta.rows else None
        state = self.calendar.state(now)
        sessions = self.calendar.session_days(fetch.start, fetch.end)
        expected = expected_sessions(sessions, state)
        sources = sources_of(self.provider, symbol)
        junctions = CrossChecks(sources, meta, old, fetch.start, fetch.end) if sources else None
        fresh, served = self._call_bars(fetch, symbol, junctions, expect_rows=len(expected) > 0)
        calls = 1
        previous, following = neighbours(self.calendar, fetch.start, fetch.end)
        continuing = continues_a_gap(meta, previous)
        runs = [(served, fresh)]
        if ask_again(expected, day_numbers(fresh), meta, continuing=continuing):  # empty or cut short: once more
            with preferring(served or None):  # the same source again, unless it has failed meanwhile
                again, served_again = self._call_bars(fetch, symbol, junctions)
            calls += 1
            if again.height and fresh.height and served_again != served:  # two sources in one answer: check
                issues = compare_sources(fresh, again, ours_name=served, theirs_name=served_again)
                if issues.height:
                    self.stats.record_source_issues(issues)
                    again = again.clear()  # keep the first answer; the rest is asked for on a later read
            if again.height:
                fresh = pl.concat([fresh, again]).unique("date", keep="last").sort("date")
                runs.append((served_again, again))
        merged = fresh if old is None else pl.concat([old, fresh]).unique("date", keep="last").sort("date")
        known = self.units.known(fetch.key.symbol, meta.units)
        merged, units = self.units.on_ingest(merged, fresh["date"].to_list(), known)  # volume units
        updated = judged(meta, start=fetch.start, end=fetch.end, sessions=sessions, served=day_numbers(fresh),
                         state=state, now=now, next_session=following,
                         continuing=continuing)  # fmt: skip
        # kept with the series: market reads adjust from them (None: a dividend table not cached yet is not
        # fetched for an unadjusted read; the single loads derive them when asked for qfq or hfq)
        found = self.events(symbol, StoredFrame.of(merged), fetch=False)
        updated = replace(updated, events=None if found is None else tuple(zip(
            found.days.tolist(), found.factors.tolist(), found.references.tolist())))  # fmt: skip
        recorded = meta.sources
        for name, rows in runs:  # later answers replace earlier ones on the same days, as in the merge above
            if name and rows.height:
                days = day_numbers(rows)
                recorded = with_run(recorded, name, int(days[0]), int(days[-1]))
        updated = replace(updated, sources=recorded, units=units)
        self.store.write(fetch.key, merged, updated)
        self.units.migrated(fetch.key.symbol)
        return fresh.height, calls

    def _partial_note(self, request: BarRequest, plan: LoadPlan,
                      metas: dict[SeriesKey, SeriesMeta | None]) -> tuple[str, bool]:  # fmt: skip
        """Why the result may be short (sessions in range the upstream has not served yet), and whether that
        deserves a warning: sessions after the last stored bar (a cut answer) do; days before the first stored
        bar (most often a listing date) are only noted."""
        asked = Coverage.from_pairs([[day_number(plan.start), day_number(plan.end)]])
        for key in series_keys(request):
            meta = metas.get(key)
            if meta is None or not meta.pending:
                continue
            unserved = asked.subtract(asked.subtract(meta.pending))
            days = sum(len(self.calendar.session_days(from_day_number(a), from_day_number(b)))
                       for a, b in unserved.to_pairs())  # fmt: skip
            if days:
                trailing = meta.last_day is None or (unserved.last or 0) > meta.last_day
                return (f"the upstream has not served {days} session(s) in this range (an empty or short answer); "
                        "they are asked for again on the next read until an answer confirms them", trailing)
        return "", False

    def _assemble(self, plan: LoadPlan, metas: dict[SeriesKey, SeriesMeta | None]) -> pl.DataFrame:
        request = plan.request
        stored = self._stored(SeriesKey("bars", request.symbol.canonical), metas)
        if request.adjust == "":
            return slice_dates(stored, plan.start, plan.end)
        meta = metas.get(SeriesKey("bars", request.symbol.canonical))
        if meta is not None and meta.events is not None:  # derived when the bars were stored: no table to read
            return derive(stored, events_of(meta), plan.start, plan.end, request.adjust, plan.reference)
        events = self.events(request.symbol, stored)
        if meta is not None and events is not None and hasattr(self.store, "remember_events"):
            # derived now (a dividend table fetched for this read): kept, so market reads can adjust this series
            self.store.remember_events(SeriesKey("bars", request.symbol.canonical), meta.generation, tuple(zip(
                events.days.tolist(), events.factors.tolist(), events.references.tolist())))  # fmt: skip
        return derive(stored, events, plan.start, plan.end, request.adjust, plan.reference)

    def _stored(self, key: SeriesKey, metas: dict[SeriesKey, SeriesMeta | None]) -> StoredFrame:
        meta = metas.get(key)
        if meta is None or meta.rows == 0:
            return _EMPTY
        return self.store.read_stored(key, meta)

    def _empty_error(self, request: BarRequest, plan: LoadPlan) -> EmptyResultError:
        key = series_keys(request)[-1]
        meta = self.store.read_meta(key)
        stored = self._stored(key, {key: meta}).frame
        asked = Coverage.from_pairs([[day_number(plan.start), day_number(plan.end)]])
        unconfirmed = meta is not None and bool(asked.subtract(asked.subtract(meta.pending)))
        memory = ("not yet confirmed: asked for again on the next read" if unconfirmed
                  else "confirmed by a second answer and remembered")  # fmt: skip
        if stored.is_empty():
            reason = f"the upstream has no bars for this symbol (unknown, delisted or not yet listed); {memory}"
        else:
            first, last = stored["date"].min(), stored["date"].max()
            reason = f"no bars in this range (suspended, or outside the traded life {first}..{last}); {memory}"
        return EmptyResultError(
            reason, symbol=request.symbol.canonical, dataset=request.adjust or "bars", start=plan.start, end=plan.end
        )
