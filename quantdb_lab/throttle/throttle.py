"""``Throttle``: the one place that decides when the project may call an upstream.

Per host family it combines a rate limit with a concurrency cap (``RateLimit``), a circuit breaker
(``BreakerPolicy``) and retries with jittered exponential back-off (``RetryPolicy``). State is shared by every
thread using the instance and, given a ``state_dir``, by every process using that directory, so several
Jupyter kernels on one machine (one IP, as far as Eastmoney is concerned) stay under one limit together.

Every wait goes through the injected ``Clock`` in slices of at most ``SLICE`` seconds: a ``FixedClock`` makes
tests instant, and Ctrl-C in a notebook interrupts a long wait promptly.

Waits are bounded twice over. A permit records its holder (host, pid and start time, ``domain.holders``): a
permit whose process is gone (a kernel killed mid-call) is freed at once, not after its ``LEASE_SECONDS``.
And an open ``domain.deadlines`` scope (the loader opens one per load from the mode's ``retry_budget``) bounds
the whole of ``call``: permit waits, retries and back-off together. A wait on a slot another live process
holds says so once, after ``WAIT_NOTICE`` seconds, with a ``WaitWarning`` naming the holder and the bound.
"""

from __future__ import annotations

import random
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar

from quantdb_lab.domain.clock import EXCHANGE_TZ, Clock, SystemClock
from quantdb_lab.domain.deadlines import current_deadline
from quantdb_lab.domain.holders import Holder, current_holder, is_dead
from quantdb_lab.errors import ProviderUnavailableError, WaitWarning
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
    Wait,
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
WAIT_NOTICE: Final = 2.0  # seconds of waiting on a slot another process holds before a WaitWarning says so


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
        self._waits: dict[int, str] = {}  # thread -> what it waits for (a slot), for progress displays

    # -- public -----------------------------------------------------------------------------------------
    def limit_for(self, host_family: str) -> RateLimit:
        return self._limits.get(host_family, self._limits[FALLBACK])

    def call(self, host_family: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` under the family's rate limit and breaker, retried while its errors say
        ``retryable=True`` and the open deadline (``domain.deadlines``) leaves time for the back-off. Other
        errors propagate at once; an open breaker raises ``ProviderUnavailableError`` (``retryable=False``,
        ``retry_at`` set) without calling ``fn``; an error that opened the breaker is not retried, and carries
        the breaker's ``retry_at``.
        """
        last: BaseException | None = None
        scope = current_deadline()
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
                if scope is not None and delay >= scope.remaining():
                    exc.add_note(f"not retried: {scope.describe()} has {scope.remaining():.1f} s left")
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
            open_until = self._settle(host_family, lease, classify(exc, self._breaker))
            if open_until is not None and isinstance(exc, ProviderUnavailableError) and exc.retry_at is None:
                exc.retry_at = _to_datetime(open_until)  # it opened the breaker: retryable then, not now
                exc.args = (exc._message(),)
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
        holder = str(current_holder())
        scope = current_deadline()
        started = self._clock.monotonic()
        bounds = [(started + timeout, f"{timeout:g} s")] if timeout is not None else []
        if scope is not None:
            bounds.append((started + scope.remaining(), scope.describe()))
        deadline, bound = min(bounds, default=(None, ""))
        noticed = False
        try:
            while True:
                # Taken before the check: a release between the check and the wait then ends the wait at once.
                mark = self._release_mark()
                # Read the time inside the transaction: a reading taken before waiting for the lock is stale, and
                # others may have moved the bucket past it meanwhile.
                decision = self._backend.transact(
                    family,
                    lambda state: admit(
                        state, limit, self._now(), lease=lease, lease_seconds=self._lease_seconds, poll=POLL,
                        holder=holder, is_gone=_is_gone,
                    ),  # fmt: skip
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
                waited = self._clock.monotonic() - started
                if decision.reason == RATE_WAIT:
                    wait = decision.seconds + self._rng.uniform(0.0, limit.jitter / limit.per_second)
                else:  # polling: jittered so pollers in several processes do not fall into lockstep
                    wait = self._rng.uniform(0.5, 1.5) * decision.seconds
                    self._waits[threading.get_ident()] = _wait_text(family, decision)
                    if not noticed and waited >= WAIT_NOTICE and decision.holder != holder:
                        noticed = True
                        left = None if deadline is None else deadline - self._clock.monotonic()
                        warnings.warn(_notice(family, decision, waited, left, bound), WaitWarning, stacklevel=4)
                if deadline is not None:
                    remaining = deadline - self._clock.monotonic()
                    if remaining <= 0:
                        raise ProviderUnavailableError(
                            f"no permit for host family {family!r} within {bound}: {_wait_text(family, decision)}",
                            retryable=True,
                        )
                    wait = min(wait, remaining)
                if decision.reason == RATE_WAIT:
                    self._sleep(wait)
                else:
                    self._await_release(wait, mark)
        finally:
            self._waits.pop(threading.get_ident(), None)

    def waiting(self) -> list[str]:
        """What this process's callers are waiting for now, one line each (for progress bars)."""
        return list(self._waits.values())

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

    def _settle(self, family: str, lease: str, outcome: Outcome) -> float | None:
        open_until = self._backend.transact(
            family, lambda state: settle(state, self._breaker, self._now(), lease=lease, outcome=outcome)
        )
        with self._released:
            self._releases += 1
            self._released.notify_all()
        return open_until if outcome in (Outcome.FAILURE, Outcome.BAN) else None

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


def _is_gone(holder: str) -> bool:
    return is_dead(Holder.parse(holder))


def _wait_text(family: str, decision: Wait) -> str:
    holder = Holder.parse(decision.holder)
    text = decision.reason
    if holder is not None:
        text += f", held by {holder.describe()}"
    if decision.until is not None:
        text += f" (its lease ends by {_to_datetime(decision.until):%H:%M:%S})"
    return text


def _notice(family: str, decision: Wait, waited: float, left: float | None, bound: str) -> str:
    limit = "until the holder finishes or its lease ends" if left is None else f"at most {left:.0f} s more ({bound})"
    return f"waiting {waited:.0f} s for a permit to host family {family!r}: {_wait_text(family, decision)}; {limit}"
