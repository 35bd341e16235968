"""Fetch a portfolio as fast as the upstream allows: cache hits at once, misses concurrently under the throttle.

How one ``PortfolioFetcher.fetch`` runs:

1. Plan every request in the calling thread. A warm plan (nothing to fetch) is loaded there and then: a cache
   hit costs microseconds and never waits behind a slow miss in the pool.
2. Misses go to one thread pool per upstream host family, sized by ``concurrency`` or the family's
   ``RateLimit.max_concurrency``. Each worker calls the loader, whose upstream calls already go through the
   throttle (rate limit, concurrency cap across kernels, breaker, retries with back-off): nothing here
   re-implements those.
3. A portfolio-level retry pass, which the throttle cannot do per call: symbols that failed retryably (retries
   exhausted, or refused by an open breaker) are tried again after a back-off, or once the breaker says it
   will let a probe through, if that is soon enough (``breaker_wait``, by default the mode's
   ``retry_budget``: research waits seconds, not minutes; ``result.retry()`` is there for later). A symbol
   that could not be reached at all is not retried.
4. Ctrl-C stops waiting at once: pending symbols are cancelled, what finished is kept (it is in the cache
   too), and the rest are marked failed so ``retry()`` fetches only them.

Progress events are emitted from the calling thread only (see ``progress.py``).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Final, Protocol

import polars as pl

from quantdb_lab.domain.clock import Clock
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import InvalidRequestError, PortfolioInterrupted
from quantdb_lab.loader.failover import preferring
from quantdb_lab.loader.plan import BarRequest, LoadPlan
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.portfolio.progress import PortfolioProgress, ProgressSink, make_sink
from quantdb_lab.portfolio.spread import SourceSlots
from quantdb_lab.portfolio.result import FAILED, FETCHED, FROM_CACHE, PortfolioResult, SymbolOutcome
from quantdb_lab.throttle import Throttle

#: Threads per host family when neither ``concurrency`` nor the family's RateLimit names a number.
DEFAULT_CONCURRENCY: Final = 8
POLL: Final = 0.1  # seconds between progress ticks while waiting; also bounds the reaction to Ctrl-C
ON_INTERRUPT: Final = ("raise", "return")
PRELOAD_BATCH: Final = 128  # cache hits whose frames are read from disk in one batched read
MAX_ROUNDS: Final = 50  # a backstop only: the growing breaker cool-down ends the retry pass long before

Concurrency = int | Mapping[str, int] | None


class BarSource(Protocol):
    """What the fetcher needs from a loader (``BarLoader`` is one)."""

    def load(self, request: BarRequest, mode: ContextMode) -> tuple[pl.DataFrame, Provenance]: ...

    def plan(self, request: BarRequest, mode: ContextMode) -> LoadPlan: ...

    def preload(self, requests: Sequence[BarRequest]) -> int: ...


@dataclass(frozen=True, slots=True)
class _Done:
    request: BarRequest
    frame: pl.DataFrame | None = None
    provenance: Provenance | None = None
    error: Exception | None = None
    seconds: float = 0.0


def is_retryable(error: BaseException) -> bool:
    """A later attempt may succeed: the error says so, or an open breaker named when it will try again."""
    return getattr(error, "retryable", False) is True or getattr(error, "retry_at", None) is not None


class PortfolioFetcher:
    """Fetches lists of validated requests through ``source`` in ``mode``.

    ``host_family(symbol)`` names the upstream family (the provider's), ``throttle`` supplies each family's
    default concurrency, ``clock`` times the retry pass's waits (a FixedClock makes them instant in tests).
    """

    def __init__(
        self,
        source: BarSource,
        mode: ContextMode,
        *,
        host_family: Callable[[Symbol], str],
        clock: Clock,
        throttle: Throttle | None = None,
        retry_rounds: int = 2,
        retry_delay: float = 2.0,
        breaker_wait: float | None = None,
        sources: Callable[[Symbol], Sequence[Any]] | None = None,
    ) -> None:
        if breaker_wait is None:
            breaker_wait = mode.retry_budget.total_seconds()
        if retry_rounds < 0 or retry_delay < 0 or breaker_wait < 0:
            raise InvalidRequestError("retry_rounds, retry_delay and breaker_wait must not be negative")
        self.source = source
        self.mode = mode
        self.host_family = host_family
        self.clock = clock
        self.throttle = throttle
        self.retry_rounds = retry_rounds
        self.retry_delay = retry_delay
        self.breaker_wait = breaker_wait
        self.sources = sources  # symbol -> its daily-bar sources (providers.fetchers.SourceFetcher), spread over

    def workers_for(self, family: str, concurrency: Concurrency = None) -> int:
        """Threads for ``family``: ``concurrency`` (an int, or a mapping by family), else the throttle's
        ``max_concurrency`` for it, else DEFAULT_CONCURRENCY. The throttle's cap still holds across kernels."""
        value = concurrency.get(family) if isinstance(concurrency, Mapping) else concurrency
        if value is None and self.throttle is not None:
            value = self.throttle.limit_for(family).max_concurrency
        value = DEFAULT_CONCURRENCY if value is None else value
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidRequestError(f"concurrency must be a positive integer, not {value!r} (host family {family!r})")
        return value

    def fetch(
        self,
        requests: Sequence[BarRequest],
        *,
        weights: Mapping[str, float] | None = None,
        progress: bool | Callable[[PortfolioProgress], Any] | None = None,
        concurrency: Concurrency = None,
        on_interrupt: str = "raise",
    ) -> PortfolioResult:
        """Load every request; failures are reported in the result, not raised.

        On KeyboardInterrupt, ``on_interrupt="raise"`` raises ``PortfolioInterrupted`` (a KeyboardInterrupt whose
        ``.result`` is the partial result); ``"return"`` returns the partial result with ``interrupted=True``.
        """
        if on_interrupt not in ON_INTERRUPT:
            raise InvalidRequestError(f"on_interrupt must be one of {ON_INTERRUPT}, not {on_interrupt!r}")
        for family in {self.host_family(r.symbol) for r in requests}:
            self.workers_for(family, concurrency)  # a bad setting fails before anything is fetched
        run = _Run(self, requests, make_sink(progress, len(requests)), concurrency)
        cause: KeyboardInterrupt | None = None
        try:
            run.execute()
        except KeyboardInterrupt as exc:
            cause = exc
            run.interrupt()
        finally:
            run.sink.close()

        def refetch(again: Sequence[BarRequest], *, progress: Any = None, concurrency: Concurrency = None) -> PortfolioResult:
            chosen = concurrency if concurrency is not None else run.concurrency
            return self.fetch(again, progress=progress, concurrency=chosen, on_interrupt=on_interrupt)

        result = run.result(weights, refetch)
        if cause is not None and on_interrupt == "raise":
            raise PortfolioInterrupted(result) from cause
        return result


class _Run:
    """The state of one ``fetch`` call."""

    def __init__(self, fetcher: PortfolioFetcher, requests: Sequence[BarRequest], sink: ProgressSink, concurrency: Concurrency) -> None:
        self.fetcher = fetcher
        self.requests = list(requests)
        self.sink = sink
        self.concurrency = concurrency
        self.by_symbol: dict[str, BarRequest] = {r.symbol.canonical: r for r in self.requests}
        self.pending = dict(self.by_symbol)  # not yet settled (in this round)
        self.outcomes: dict[str, SymbolOutcome] = {}
        self.frames: dict[str, pl.DataFrame] = {}
        self.provenance: dict[str, Provenance] = {}
        self.errors: dict[str, BaseException] = {}
        self.own_failures: Counter[str] = Counter()  # rounds in which a symbol exhausted its attempts
        self.struggled: Counter[str] = Counter()  # rounds in which a symbol failed at least once itself
        self.counts: Counter[str] = Counter({FROM_CACHE: 0, FETCHED: 0, FAILED: 0})
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()
        self.interrupted = False
        self.waiting_note = ""  # the throttle wait last shown in the progress note

    # -- phases ------------------------------------------------------------------------------------------
    def execute(self) -> None:
        source, mode = self.fetcher.source, self.fetcher.mode
        hits: list[BarRequest] = []
        misses: list[BarRequest] = []
        mark = time.perf_counter()
        for request in self.requests:
            try:
                warm = source.plan(request, mode).is_warm
            except Exception as exc:  # noqa: BLE001 - e.g. LookAheadError: reported per symbol, the rest go on
                self.settle(_Done(request, error=exc))
                continue
            (hits if warm else misses).append(request)
        # Hits here, not in the pool: a hit never queues behind misses. Their frames are read from disk in
        # batches (a new kernel's first read), a batch at a time so progress keeps moving.
        for first in range(0, len(hits), PRELOAD_BATCH):
            batch = hits[first : first + PRELOAD_BATCH]
            source.preload(batch)
            for request in batch:
                self.settle(self.load(request))
        self.timings["cache"] = time.perf_counter() - mark
        mark = time.perf_counter()
        self.run_pool(misses)
        self.timings["fetch"] = time.perf_counter() - mark
        mark = time.perf_counter()
        self.timings["waited"] = 0.0
        self.retry_pass()
        self.timings["retry"] = time.perf_counter() - mark

    def retry_pass(self) -> None:
        """Try retryable failures again until none is left, or the pass would wait longer than ``breaker_wait``
        in all.

        A symbol that failed by itself (retries exhausted) gets ``retry_rounds`` more tries. One that was only
        refused by an open breaker (the error names ``retry_at``) was never tried, so it does not use up its
        tries: the wait grows with every re-opening, which bounds the loop.
        """
        for round_no in range(MAX_ROUNDS):
            again = [
                self.by_symbol[s]
                for s, o in self.outcomes.items()
                if o.status == FAILED and o.retryable
                and (o.retry_at is not None or self.own_failures[s] <= self.fetcher.retry_rounds)
            ]
            if not again:
                return
            outcomes = [self.outcomes[r.symbol.canonical] for r in again]
            delay = self.delay_before(outcomes)
            budget = self.fetcher.breaker_wait
            if self.timings["waited"] + delay > budget:  # result.retry() is for later
                self.emit(note=f"{len(again)} failed: a retry in {delay:.0f} s is past the {budget:g} s budget")
                return
            note = f"retry {round_no + 1}: {len(again)} symbols"
            self.emit(note=f"{note} in {delay:.0f} s (budget {budget:g} s)" if delay >= 1 else note)
            self.sleep(delay)
            # Symbols that never failed by themselves first: the first call after a cool-down is the breaker's
            # probe, and one of those is likelier to succeed (and close the breaker) than one that kept failing.
            again.sort(key=lambda r: self.struggled[r.symbol.canonical])
            for request in again:
                self.counts[self.outcomes.pop(request.symbol.canonical).status] -= 1
                self.pending[request.symbol.canonical] = request
            if any(o.retry_at is not None for o in outcomes):
                # After a cool-down, two calls alone first: the probe, which closes the breaker, then a second
                # healthy call, which resets its escalating cool-down. Sent concurrently, a failing symbol could
                # become the probe, or fail before that second call, and reopen the breaker for twice as long.
                for request in again[:2]:
                    self.run_pool([request])
                again = again[2:]
            self.run_pool(again)

    def delay_before(self, outcomes: Sequence[SymbolOutcome]) -> float:
        now = self.fetcher.clock.now()
        hints = [(o.retry_at - now).total_seconds() for o in outcomes if o.retry_at is not None]
        tried = [self.own_failures[o.symbol] for o in outcomes if o.retry_at is None]
        backoff = [self.fetcher.retry_delay * 2 ** (max(tried) - 1)] if tried else []
        return max([0.0, *backoff, *hints])

    def sleep(self, seconds: float) -> None:
        # In slices, through the injected clock: ticks keep a delayed bar alive and Ctrl-C lands promptly.
        started = time.perf_counter()
        remaining = seconds
        while remaining > 0:
            step = min(remaining, POLL)
            self.fetcher.clock.sleep(step)
            remaining -= step
            self.tick()
        self.timings["waited"] += time.perf_counter() - started

    def tick(self) -> None:
        """Keep the display alive while waiting; say what a call waits for (a permit another kernel holds)."""
        throttle = self.fetcher.throttle
        waits = throttle.waiting() if throttle is not None else []
        if waits and waits[0] != self.waiting_note:
            self.waiting_note = waits[0]
            self.emit(note=f"waiting: {waits[0]}")
        elif not waits and self.waiting_note:
            self.waiting_note = ""
            self.emit(note="fetching")
        self.sink.tick()

    def load(self, request: BarRequest) -> _Done:
        started = time.perf_counter()
        try:
            frame, provenance = self.fetcher.source.load(request, self.fetcher.mode)
        except Exception as exc:  # noqa: BLE001 - reported per symbol; BaseException (Ctrl-C) is not caught here
            return _Done(request, error=exc, seconds=time.perf_counter() - started)
        return _Done(request, frame, provenance, seconds=time.perf_counter() - started)

    def load_spread(self, slots: SourceSlots, request: BarRequest) -> _Done:
        """Load ``request`` on whichever source has a free slot, preferring it (``portfolio.spread``)."""
        with slots.take() as name, preferring(name):
            return self.load(request)

    def run_pool(self, requests: Sequence[BarRequest]) -> None:
        if not requests:
            return
        groups: dict[str, list[BarRequest]] = defaultdict(list)
        spread: dict[tuple[tuple[str, str], ...], list[BarRequest]] = defaultdict(list)
        for request in requests:
            listed = tuple(self.fetcher.sources(request.symbol)) if self.fetcher.sources is not None else ()
            if len(listed) > 1:  # keyed by (name, host family): the fetchers themselves differ per symbol
                spread[tuple((s.name, s.host_family) for s in listed)].append(request)
            else:
                groups[self.fetcher.host_family(request.symbol)].append(request)
        pools: list[ThreadPoolExecutor] = []
        try:
            futures: set[Future[_Done]] = set()
            for family, members in groups.items():
                size = min(self.fetcher.workers_for(family, self.concurrency), len(members))
                pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"quantdb-{family}")
                pools.append(pool)
                futures.update(pool.submit(self.load, request) for request in members)
            for listed, members in spread.items():
                # two workers per permitted call of each source: one waits on the upstream while the other
                # stores what it got (the throttle still caps the calls in flight)
                slots = SourceSlots({name: 2 * self.fetcher.workers_for(family, self.concurrency)
                                     for name, family in listed})  # fmt: skip
                pool = ThreadPoolExecutor(max_workers=min(slots.total, len(members)), thread_name_prefix="quantdb-spread")
                pools.append(pool)
                futures.update(pool.submit(self.load_spread, slots, request) for request in members)
            while futures:
                done, futures = wait(futures, timeout=POLL, return_when=FIRST_COMPLETED)
                escaped: BaseException | None = None
                for future in done:
                    if future.exception() is not None:  # a KeyboardInterrupt raised inside a call, in a worker
                        escaped = escaped or future.exception()
                    else:
                        self.settle(future.result())
                if escaped is not None:
                    raise escaped
                self.tick()
        finally:
            # Cancel what has not started; calls in flight finish in the background and land in the cache.
            for pool in pools:
                pool.shutdown(wait=False, cancel_futures=True)

    # -- bookkeeping -------------------------------------------------------------------------------------
    def settle(self, done: _Done) -> None:
        symbol = done.request.symbol.canonical
        self.pending.pop(symbol, None)
        if done.error is None and done.frame is not None and done.provenance is not None:
            origin = done.provenance
            note = "stale: the upstream failed; cached rows served" if origin.stale else None
            outcome = SymbolOutcome(
                symbol,
                FROM_CACHE if origin.from_cache else FETCHED,
                rows=done.frame.height,
                upstream_calls=origin.upstream_calls,
                error=note,
                seconds=done.seconds,
            )
            self.frames[symbol], self.provenance[symbol] = done.frame, origin
            self.errors.pop(symbol, None)
        else:
            error = done.error or RuntimeError("no frame")
            outcome = SymbolOutcome(
                symbol,
                FAILED,
                error=f"{type(error).__name__}: {error}",
                seconds=done.seconds,
                retryable=is_retryable(error),
                retry_at=getattr(error, "retry_at", None),
            )
            self.errors[symbol] = error
            if outcome.retry_at is None:  # it used up the throttle's attempts by itself
                self.own_failures[symbol] += 1
            if outcome.retry_at is None or error.__cause__ is not None:  # it failed at least once itself
                self.struggled[symbol] += 1
        self.record(outcome)
        self.emit(symbol=symbol, status=outcome.status)

    def record(self, outcome: SymbolOutcome) -> None:
        previous = self.outcomes.get(outcome.symbol)
        if previous is not None:
            self.counts[previous.status] -= 1
        self.outcomes[outcome.symbol] = outcome
        self.counts[outcome.status] += 1

    def emit(self, *, symbol: str | None = None, status: str | None = None, note: str = "") -> None:
        counts = self.counts  # kept up to date by record(): recounting per event is quadratic in symbols
        self.sink.update(
            PortfolioProgress(
                total=len(self.requests),
                from_cache=counts[FROM_CACHE],
                fetched=counts[FETCHED],
                failed=counts[FAILED],
                symbol=symbol,
                status=status,
                note=note,
            )
        )

    def interrupt(self) -> None:
        self.interrupted = True
        for symbol in list(self.pending):
            self.record(SymbolOutcome(
                symbol, FAILED, error="KeyboardInterrupt: interrupted before it finished", retryable=True
            ))  # fmt: skip
        self.pending.clear()
        self.emit(note="interrupted")

    def result(self, weights: Mapping[str, float] | None, refetch: Callable[..., PortfolioResult]) -> PortfolioResult:
        self.timings["total"] = time.perf_counter() - self.started
        return PortfolioResult(
            requests=self.requests,
            outcomes=self.outcomes,
            frames=self.frames,
            provenance=self.provenance,
            errors=self.errors,
            timings=self.timings,
            weights=weights,
            interrupted=self.interrupted,
            refetch=refetch,
        )
