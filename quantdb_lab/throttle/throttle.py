"""``Throttle``: the one place that decides when the project may call an upstream.

Per host family it combines a rate limit with a concurrency cap (``RateLimit``), a circuit breaker
(``BreakerPolicy``) and retries with jittered exponential back-off (``RetryPolicy``). State is shared by every
thread using the instance and, given a ``state_dir``, by every process using that directory, so several
Jupyter kernels on one machine (one IP, as far as Eastmoney is concerned) stay under one limit together.

Every wait goes through the injected ``Clock`` in slices of at most ``SLICE`` seconds: a ``FixedClock`` makes
tests instant, and Ctrl-C in a notebook interrupts a long wait promptly.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar

from quantdb_lab.domain.clock import EXCHANGE_TZ, Clock, SystemClock
from quantdb_lab.errors import ProviderUnavailableError
from quantdb_lab.throttle.backends import MemoryBackend, SqliteBackend, StateBackend
from quantdb_lab.throttle.policy import (
    DEFAULT_LIMITS,
    FALLBACK,
    BreakerPolicy,
    RateLimit,
    RetryPolicy,
    backoff_delay,
)
from quantdb_lab.throttle.state import (
    FamilyState,
    Granted,
    RATE_WAIT,
    Outcome,
    Refused,
    admit,
    breaker_view,
    classify,
    in_flight,
    settle,
    tokens,
)

P = ParamSpec("P")
T = TypeVar("T")

SLICE: Final = 0.1  # longest single sleep: keeps waits responsive to KeyboardInterrupt
POLL: Final = 0.05  # re-check interval while waiting for a concurrency slot or a half-open probe
MARK_POLL: Final = 0.005  # how often a waiter reads the shared state's change mark (a lock-free read)
# A permit's lease outlives a crashed holder by at most this long. It must exceed the slowest legitimate
# call: a full clist pull is ~58 pages about 1 s apart, plus akshare's own retries.
LEASE_SECONDS: Final = 300.0


def _to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, EXCHANGE_TZ)


class Throttle:
    """Rate limit, circuit breaker and retries per upstream host family.

    ``state_dir=None`` keeps state in memory (threads of this process only). ``limits`` overrides entries of
    ``DEFAULT_LIMITS`` by family; its ``"*"`` entry, if any, replaces the fallback for unnamed families.
    """

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        clock: Clock | None = None,
        limits: Mapping[str, RateLimit] | None = None,
        breaker: BreakerPolicy | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,  # back-off and wait jitter; seed it for reproducible runs
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._limits: dict[str, RateLimit] = {**DEFAULT_LIMITS, **(limits or {})}
        self._breaker = breaker if breaker is not None else BreakerPolicy()
        self._retry = retry if retry is not None else RetryPolicy()
        self._rng = rng if rng is not None else random.Random()
        self._lease_seconds = lease_seconds
        self._backend: StateBackend = MemoryBackend() if state_dir is None else SqliteBackend(Path(state_dir))
        # Notified whenever this process settles a permit, so a caller waiting for a concurrency slot held by
        # another thread (a background warmer) is woken at once instead of at its next poll.
        self._released = threading.Condition()
        self._releases = 0  # settled permits of this process, counted under _released

    # -- public -----------------------------------------------------------------------------------------
    def limit_for(self, host_family: str) -> RateLimit:
        return self._limits.get(host_family, self._limits[FALLBACK])

    def call(self, host_family: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` under the family's rate limit and breaker, retried while its errors say
        ``retryable=True``. Other errors propagate at once; an open breaker raises ``ProviderUnavailableError``
        (``retryable=False``, ``retry_at`` set) without calling ``fn``.
        """
        last: BaseException | None = None
        for attempt in count():
            admitted = False
            try:
                with self.acquire(host_family):
                    admitted = True
                    return fn(*args, **kwargs)
            except Exception as exc:
                if not admitted and last is not None and exc.__cause__ is None:
                    exc.__cause__ = last  # the breaker opened during our retries: show what opened it
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise
                last = exc
            self._backend.transact(host_family, _count_retry)
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def acquire(self, host_family: str, *, timeout: float | None = None) -> Iterator[None]:
        """Hold one permit of ``host_family`` for the body of a ``with`` block (no retries).

        The exception the body raises, if any, feeds the breaker. Raises ``ProviderUnavailableError`` with
        ``retryable=False`` and ``retry_at`` while the breaker is open, and with ``retryable=True`` if no
        permit came within ``timeout`` seconds.
        """
        lease = self._admit(host_family, timeout)
        try:
            yield
        except BaseException as exc:
            self._settle(host_family, lease, classify(exc, self._breaker))
            raise
        self._settle(host_family, lease, Outcome.SUCCESS)

    def status(self) -> list[dict[str, Any]]:
        """One row per family used so far (by any process sharing the state): for dashboards, ``lab.stats()``."""
        now = self._now()
        rows = []
        for family, state in sorted(self._backend.snapshot().items()):
            limit = self.limit_for(family)
            rows.append(
                {
                    "host_family": family,
                    "rate": limit.per_second,
                    "burst": limit.burst,
                    "max_concurrency": limit.max_concurrency,
                    "tokens": round(tokens(state, limit, now), 3),
                    "in_flight": in_flight(state, now),
                    "breaker": breaker_view(state, now),
                    "failures": state.failures,
                    "trips": state.trips,
                    "open_until": _to_datetime(state.open_until) if state.open_until is not None else None,
                    "calls": state.calls,
                    "retries": state.retries,
                    "refusals": state.refusals,
                }
            )
        return rows

    def reset(self, host_family: str | None = None) -> None:
        """Forget buckets, breakers and counters of one family, or of all (for every sharing process)."""
        self._backend.delete(host_family)

    # -- internals --------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _sleep(self, seconds: float) -> None:
        remaining = seconds
        while remaining > 0:
            step = min(remaining, SLICE)
            self._clock.sleep(step)
            remaining -= step

    def _admit(self, family: str, timeout: float | None) -> str:
        limit = self.limit_for(family)
        lease = uuid.uuid4().hex
        deadline = None if timeout is None else self._clock.monotonic() + timeout
        while True:
            # Taken before the check: a release between the check and the wait then ends the wait at once.
            mark = self._release_mark()
            # Read the time inside the transaction: a reading taken before waiting for the lock is stale, and
            # others may have moved the bucket past it meanwhile.
            decision = self._backend.transact(
                family,
                lambda state: admit(
                    state, limit, self._now(), lease=lease, lease_seconds=self._lease_seconds, poll=POLL
                ),
            )
            if isinstance(decision, Granted):
                return decision.lease
            if isinstance(decision, Refused):
                raise ProviderUnavailableError(
                    f"circuit breaker for host family {family!r} is open after {decision.failures} consecutive "
                    f"upstream failures (opening #{decision.trips}); calls fail fast until it lets a probe "
                    "through",
                    retryable=False,
                    retry_at=_to_datetime(decision.retry_at),
                )
            if decision.reason == RATE_WAIT:
                wait = decision.seconds + self._rng.uniform(0.0, limit.jitter / limit.per_second)
            else:  # polling: jittered so pollers in several processes do not fall into lockstep
                wait = self._rng.uniform(0.5, 1.5) * decision.seconds
            if deadline is not None:
                remaining = deadline - self._clock.monotonic()
                if remaining <= 0:
                    raise ProviderUnavailableError(
                        f"no permit for host family {family!r} within {timeout:g} s ({decision.reason})",
                        retryable=True,
                    )
                wait = min(wait, remaining)
            if decision.reason == RATE_WAIT:
                self._sleep(wait)
            else:
                self._await_release(wait, mark)

    def _release_mark(self) -> tuple[int, int | None]:
        """Changes when a permit is released: by this process (counted), or by another (the shared state's mark)."""
        return self._releases, self._backend.change_mark()

    def _await_release(self, seconds: float, since: tuple[int, int | None]) -> None:
        """Wait for a slot until the release mark moves past ``since`` (taken before the admission check): at
        once for a release in this process, within ``MARK_POLL`` for one in another, else ``seconds``."""
        wait_on = getattr(self._clock, "wait_on", None)
        if wait_on is None:
            self._sleep(seconds)
            return
        step = SLICE if since[1] is None else MARK_POLL  # nothing shared: only this process's releases matter
        deadline = self._clock.monotonic() + min(seconds, SLICE)
        while (left := deadline - self._clock.monotonic()) > 0:
            with self._released:  # re-entrant: checked and waited under the lock, no notify slips between
                if self._release_mark() != since:
                    return
                wait_on(self._released, min(left, step))

    def _settle(self, family: str, lease: str, outcome: Outcome) -> None:
        self._backend.transact(
            family, lambda state: settle(state, self._breaker, self._now(), lease=lease, outcome=outcome)
        )
        with self._released:
            self._releases += 1
            self._released.notify_all()

    def _retry_delay(self, exc: BaseException, attempt: int) -> float | None:
        """Seconds before the next attempt, or None to give up and re-raise."""
        if getattr(exc, "retryable", False) is not True or attempt + 1 >= self._retry.max_attempts:
            return None
        delay = backoff_delay(self._retry, attempt, self._rng)
        retry_at = getattr(exc, "retry_at", None)
        if isinstance(retry_at, datetime):
            hint = retry_at.timestamp() - self._now()
            if hint > self._retry.max_delay:  # the upstream asks for longer than we block a caller
                return None
            delay = max(delay, hint)
        return delay


def _count_retry(state: FamilyState) -> None:
    state.retries += 1
