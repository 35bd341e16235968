"""Deadlines, not timeouts: one total time budget for everything a call waits on, carried through the layers.

A per-read socket timeout bounds nothing: a server trickling a byte a second never trips it, and each retry,
permit wait and lease wait starts a fresh one. Instead the code that knows the budget (the loader, from the
context mode's ``retry_budget``) opens a scope::

    with deadline(mode.retry_budget, clock=clock, what="600519.SH daily bars"):
        ...  # every wait below reads remaining() and gives up when it reaches 0

and whatever waits below it (the throttle's retries and permit waits, an akshare call, a team-store lease)
bounds itself by ``remaining()``. Scopes nest to the tighter of the two, never extend an outer one (also
when they read different clocks: an inner scope keeps its outer one and answers for the tighter). The scope
lives in a ``contextvars.ContextVar``: each thread (and each pool worker) starts without one, so a scope is
opened where the work runs, as the loader does per load.

Times are read from the scope's injected ``Clock`` (``monotonic``), so a ``FixedClock`` makes budgets exact in
tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from quantdb_lab.domain.clock import Clock


@dataclass(frozen=True, slots=True)
class Deadline:
    """An absolute end on ``clock``'s monotonic scale, with what it is the budget of (for messages)."""

    clock: Clock
    expires: float
    budget: float  # the whole budget, in seconds, as it was opened
    what: str = ""
    outer: Deadline | None = None  # the scope this one was opened in (on another clock, or looser)

    def _own(self) -> float:
        return max(0.0, self.expires - self.clock.monotonic())

    def binding(self) -> Deadline:
        """The scope of this chain that ends first (the one a message should name)."""
        outer = self.outer.binding() if self.outer is not None else None
        return outer if outer is not None and outer._own() < self._own() else self

    def remaining(self) -> float:
        return self.binding()._own()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def describe(self) -> str:
        scope = self.binding()
        return f"the {scope.budget:g} s budget" + (f" of {scope.what}" if scope.what else "")


_current: ContextVar[Deadline | None] = ContextVar("quantdb_lab_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The innermost deadline open in this context, or None."""
    return _current.get()


def remaining(default: float) -> float:
    """Seconds left under the open deadline, at most ``default`` (``default`` when none is open)."""
    scope = _current.get()
    return default if scope is None else min(default, scope.remaining())


@contextmanager
def deadline(seconds: float | None, *, clock: Clock, what: str = "") -> Iterator[Deadline | None]:
    """Open a budget of ``seconds`` (None or infinite: no new bound) for the body; nested scopes keep the
    tighter end."""
    outer = _current.get()
    if seconds is None or not math.isfinite(seconds):
        yield outer
        return
    scope = Deadline(clock, clock.monotonic() + max(0.0, seconds), float(seconds), what, outer)
    if outer is not None and outer.clock is clock and outer.expires <= scope.expires:
        scope = outer
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
