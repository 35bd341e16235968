"""The shared state of one host family and the pure transitions on it.

Backends run ``admit`` and ``settle`` inside one transaction each, so every process and thread sees a single
bucket and a single breaker per family. Times are wall-clock epoch seconds (from ``Clock.now()``), because a
monotonic reading means nothing in another process.

The rate limit is a token bucket written as GCRA (the generic cell rate algorithm): one float, the
theoretical arrival time ``tat`` of the next permit, instead of a token count plus a refill time. Permits are
spaced ``1/rate`` apart and up to ``burst`` may be taken at once after a pause, exactly as with a bucket of
``burst`` tokens, but there is no refill arithmetic whose rounding could drift over a long run.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Final

from quantdb_lab.errors import ProviderError, ProviderUnavailableError
from quantdb_lab.throttle.policy import BreakerPolicy, RateLimit

STATE_VERSION: Final = 1
# Float noise in epoch arithmetic (and a FixedClock's microsecond steps) must not turn a due permit into a
# second, near-zero wait; 10 microseconds early is immaterial to any upstream.
EPSILON: Final = 1e-5

CLOSED: Final = "closed"
OPEN: Final = "open"
HALF_OPEN: Final = "half_open"
RATE_WAIT: Final = "rate limit"  # the Wait reason whose length is exact (the others are polls)


class Outcome(enum.Enum):
    SUCCESS = "success"  # fn returned, or the upstream answered with something we could not use
    FAILURE = "failure"  # the upstream could not be reached or refused
    BAN = "ban"  # a failure with the ban signature: open the breaker at once
    NEUTRAL = "neutral"  # says nothing about the upstream (a bug, KeyboardInterrupt): just release the permit


def classify(exc: BaseException | None, policy: BreakerPolicy) -> Outcome:
    if exc is None:
        return Outcome.SUCCESS
    if policy.is_ban is not None and policy.is_ban(exc):
        return Outcome.BAN
    # No connection could be made at all: not retried, but it says the host (or the network) is down.
    if isinstance(exc, ProviderUnavailableError) and exc.kind == "unreachable":
        return Outcome.FAILURE
    # A permanent refusal of one request (retryable=False, e.g. a delisted code) says nothing about the host:
    # counting it would let a few bad symbols in a portfolio open the breaker for everyone.
    if isinstance(exc, ProviderUnavailableError) and not exc.retryable:
        return Outcome.NEUTRAL
    # OSError covers raw transport errors (requests' exceptions derive from it) when acquire() wraps them.
    if isinstance(exc, (ProviderUnavailableError, OSError)):
        return Outcome.FAILURE
    if isinstance(exc, ProviderError):  # schema drift, empty result: the upstream did answer
        return Outcome.SUCCESS
    return Outcome.NEUTRAL


@dataclass(slots=True)
class FamilyState:
    tat: float = 0.0  # theoretical arrival time of the next permit (GCRA)
    breaker: str = CLOSED
    failures: int = 0  # consecutive upstream failures
    trips: int = 0  # consecutive openings without a healthy closed period: sets the cool-down
    open_until: float | None = None
    probe: str | None = None  # lease of the one call let through while half-open
    leases: dict[str, float] = field(default_factory=dict)  # permits in flight -> expiry
    holders: dict[str, str] = field(default_factory=dict)  # permits in flight -> holder (domain.holders)
    calls: int = 0
    retries: int = 0
    refusals: int = 0

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, **asdict(self)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> FamilyState:
        """The stored state, or a fresh one if there is none or it was written by another version."""
        if not text:
            return cls()
        try:
            data: Any = json.loads(text)
        except ValueError:
            return cls()
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return cls()
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if not all(_CHECKS[k](v) for k, v in values.items()):
            return cls()  # damaged or foreign: the state is ephemeral, a fresh one loses a few seconds of pacing
        return cls(**values)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _mapping(value: Any, check: Callable[[Any], bool]) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and check(v) for k, v in value.items())


_CHECKS: Final[dict[str, Callable[[Any], bool]]] = {
    "version": lambda v: True,
    "tat": _number,
    "breaker": lambda v: v in (CLOSED, OPEN, HALF_OPEN),
    "failures": _count,
    "trips": _count,
    "open_until": lambda v: v is None or _number(v),
    "probe": lambda v: v is None or isinstance(v, str),
    "leases": lambda v: _mapping(v, _number),
    "holders": lambda v: _mapping(v, lambda h: isinstance(h, str)),
    "calls": _count,
    "retries": _count,
    "refusals": _count,
}


@dataclass(frozen=True, slots=True)
class Granted:
    lease: str
    probe: bool


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float
    reason: str
    holder: str | None = None  # who holds the slot waited for (the oldest live permit), when it is a slot
    until: float | None = None  # when that permit's lease runs out at the latest


@dataclass(frozen=True, slots=True)
class Refused:
    retry_at: float
    failures: int
    trips: int


Decision = Granted | Wait | Refused


#: ``is_gone(holder) -> bool``: True when the process that took a permit no longer exists (domain.holders).
IsGone = Callable[[str], bool]


def _drop(state: FamilyState, keep: Callable[[str, float], bool]) -> None:
    state.leases = {lease: until for lease, until in state.leases.items() if keep(lease, until)}
    state.holders = {lease: who for lease, who in state.holders.items() if lease in state.leases}
    if state.probe is not None and state.probe not in state.leases:
        state.probe = None


def _drop_expired(state: FamilyState, now: float) -> None:
    # A lease outlives its holder only if the process died mid-call; expiry frees the slot.
    _drop(state, lambda lease, until: until > now)


def _drop_dead(state: FamilyState, is_gone: IsGone | None) -> None:
    """Free at once the permits of holders known dead (a kernel killed mid-call), without waiting for expiry."""
    if is_gone is not None and state.leases:
        _drop(state, lambda lease, until: not (lease in state.holders and is_gone(state.holders[lease])))


def _slot_wait(state: FamilyState, poll: float, reason: str) -> Wait:
    oldest = min(state.leases, key=state.leases.__getitem__, default=None)
    if oldest is None:
        return Wait(poll, reason)
    return Wait(poll, reason, state.holders.get(oldest), state.leases[oldest])


def admit(
    state: FamilyState, limit: RateLimit, now: float, *, lease: str, lease_seconds: float, poll: float,
    holder: str | None = None, is_gone: IsGone | None = None,
) -> Decision:  # fmt: skip
    """Decide whether the call holding ``lease`` (taken by ``holder``) may go now; mutates ``state`` (the caller
    commits it). While a slot is wanted, permits whose holder ``is_gone`` are freed first."""
    _drop_expired(state, now)
    if state.breaker == OPEN:
        if state.open_until is not None and now < state.open_until:
            state.refusals += 1
            return Refused(state.open_until, state.failures, state.trips)
        state.breaker, state.probe = HALF_OPEN, None
    if state.breaker == HALF_OPEN and state.probe is not None:
        _drop_dead(state, is_gone)
        if state.probe is not None:
            return _slot_wait(state, poll, "a half-open probe is in flight")
    if limit.max_concurrency is not None and len(state.leases) >= limit.max_concurrency:
        _drop_dead(state, is_gone)
        if len(state.leases) >= limit.max_concurrency:
            return _slot_wait(state, poll, "max_concurrency calls in flight")

    interval = 1.0 / limit.per_second
    tolerance = (limit.burst - 1) * interval
    # Clamp: a wall clock stepped back, or a peer with a slower limit, must not stall us beyond one interval.
    tat = min(max(state.tat, now), now + tolerance + interval)
    state.tat = tat
    if tat - now > tolerance + EPSILON:
        return Wait(tat - now - tolerance, RATE_WAIT)
    state.tat = tat + interval
    state.calls += 1
    state.leases[lease] = now + lease_seconds
    if holder is not None:
        state.holders[lease] = holder
    probe = state.breaker == HALF_OPEN
    if probe:
        state.probe = lease
    return Granted(lease, probe)


def settle(state: FamilyState, policy: BreakerPolicy, now: float, *, lease: str, outcome: Outcome) -> float | None:
    """Release ``lease`` and move the breaker according to how the call went; returns when an open breaker
    lets the next call through (None while it is closed)."""
    _settle(state, policy, now, lease=lease, outcome=outcome)
    return state.open_until if state.breaker == OPEN else None


def _settle(state: FamilyState, policy: BreakerPolicy, now: float, *, lease: str, outcome: Outcome) -> None:
    state.leases.pop(lease, None)
    state.holders.pop(lease, None)
    was_probe = state.probe == lease
    if was_probe:
        state.probe = None
    if outcome is Outcome.NEUTRAL:
        return
    if outcome is Outcome.SUCCESS:
        if state.breaker == CLOSED:
            # A second healthy call after a probe forgives past trips; a flaky ban that lets only the probe
            # through keeps doubling the cool-down instead.
            state.failures, state.trips = 0, 0
        elif state.breaker == HALF_OPEN and was_probe:
            state.breaker, state.failures, state.open_until = CLOSED, 0, None
        return  # a late success from before the breaker opened proves nothing
    if state.breaker == CLOSED:
        state.failures += 1
        if outcome is Outcome.BAN or state.failures >= policy.failure_threshold:
            _trip(state, policy, now)
    elif state.breaker == HALF_OPEN and was_probe:
        state.failures += 1
        _trip(state, policy, now)


def _trip(state: FamilyState, policy: BreakerPolicy, now: float) -> None:
    state.trips += 1
    state.breaker, state.probe = OPEN, None
    state.open_until = now + policy.cooldown_for(state.trips)


def tokens(state: FamilyState, limit: RateLimit, now: float) -> float:
    """Permits that could be taken right now (the bucket level), for dashboards."""
    interval = 1.0 / limit.per_second
    backlog = max(0.0, state.tat - now)
    return max(0.0, min(float(limit.burst), limit.burst - backlog / interval))


def breaker_view(state: FamilyState, now: float) -> str:
    """The breaker as the next caller will find it (an expired open breaker is ready to probe)."""
    if state.breaker == OPEN and state.open_until is not None and now >= state.open_until:
        return HALF_OPEN
    return state.breaker


def in_flight(state: FamilyState, now: float) -> int:
    return sum(1 for until in state.leases.values() if until > now)
