"""``Watcher``: polls quotes on a thread, runs the pipeline and publishes events on its bus.

``start()``, ``stop()`` and ``status()`` are explicit. A poll that fails (upstream down, breaker open) is
recorded in ``status()['last_error']`` and the next one is tried after ``interval``; the throttle's breaker
for the quotes' host family is watched and its transitions published as ``BreakerOpened``/``BreakerClosed``.
``stop()`` ends the poller (interrupting its wait), then delivers what is queued and stops the bus' workers.
A replay gives its own ``pace`` (advance an injected clock, then wait ``interval / speed``) and ``until``.
``market()`` (optional) says whether a session trades: outside one, ``status()['market']`` is its one-line
note and a ``MarketClosed`` event is published on the first such poll (and again after each session).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import polars as pl

from quantdb_lab.errors import InvalidRequestError, QuantdbError
from quantdb_lab.realtime.bus import EventBus, Handler, Subscription
from quantdb_lab.realtime.events import BreakerClosed, BreakerOpened, Event, MarketClosed
from quantdb_lab.realtime.processors import Pipeline

Pace = Callable[[float, threading.Event], None]  # (interval, stop) -> returns when the next poll is due
Market = Callable[[], tuple[str, datetime] | None]  # None while a session trades, else (note, next open)


def wall_pace(interval: float, stop: threading.Event) -> None:
    stop.wait(interval)


class Watcher:
    """Poll ``fetch()`` every ``interval`` seconds; events go to ``bus`` (see ``subscribe``)."""

    def __init__(
        self,
        fetch: Callable[[], pl.DataFrame],
        *,
        interval: float,
        pipeline: Pipeline | None = None,
        bus: EventBus | None = None,
        pace: Pace = wall_pace,
        until: Callable[[], bool] | None = None,
        breaker: Callable[[], tuple[str, str, datetime | None] | None] | None = None,
        now: Callable[[], datetime] | None = None,
        market: Market | None = None,
    ) -> None:
        if interval <= 0:
            raise InvalidRequestError(f"interval must be positive, not {interval!r}")
        self.interval = float(interval)
        self.pipeline = pipeline if pipeline is not None else Pipeline()
        self.bus = bus if bus is not None else EventBus()
        self._fetch, self._pace, self._until, self._breaker, self._now = fetch, pace, until, breaker, now
        self._market = market
        self.market_note: str | None = None  # the one-line closed state at the last poll (None: trading)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = "idle"
        self._breaker_state = "closed"
        self.polls = 0
        self.errors = 0
        self.last_error: str | None = None
        self.latest: pl.DataFrame | None = None
        self.counts: dict[str, int] = {}
        self.process_seconds = 0.0  # the latest pipeline.process duration
        self.service: Any = None  # the QuoteService behind ``fetch`` when there is one (upstream call counts)

    # -- public -----------------------------------------------------------------------------------------
    def subscribe(self, event_type: type[Event], handler: Handler) -> Subscription:
        return self.bus.subscribe(event_type, handler)

    def start(self) -> Watcher:
        if self._thread is not None:
            raise InvalidRequestError(f"this watcher is already {self._state}; make a new one to watch again")
        self._state = "running"
        self._thread = threading.Thread(target=self._run, name="qdb-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self, *, timeout: float = 5.0) -> list[str]:
        """Stop polling and the bus; returns handlers still busy after ``timeout`` (abandoned daemon threads)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._state == "running":
            self._state = "stopped"
        return self.bus.close(timeout=timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the poller to end by itself (a replay reaching its end); True if it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict[str, Any]:
        latest = self.latest
        return {
            "state": self._state,
            "polls": self.polls,
            "errors": self.errors,
            "last_error": self.last_error,
            "interval": self.interval,
            "as_of": None if latest is None or latest.is_empty() else latest["time"].max(),
            "symbols": 0 if latest is None else latest.height,
            "events": dict(self.counts),
            "breaker": self._breaker_state,
            "market": self._market_status(),
            "process_ms": round(self.process_seconds * 1e3, 3),
            "handlers": self.bus.status(),
        }

    # -- the poller -------------------------------------------------------------------------------------
    def poll_once(self) -> list[Event]:
        """One poll: fetch, process, publish (used by the thread, and by tests directly)."""
        events: list[Event] = self._market_events()
        try:
            snapshot = self._fetch()
        except QuantdbError as exc:
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
        else:
            started = time.perf_counter()
            events.extend(self.pipeline.process(snapshot))
            self.process_seconds = time.perf_counter() - started
            self.latest = snapshot
        events.extend(self._breaker_events())
        for event in events:
            name = type(event).__name__
            self.counts[name] = self.counts.get(name, 0) + 1
            self.bus.publish(event)
        self.polls += 1
        return events

    def _market_status(self) -> str | None:
        if self._market is None:
            return None
        if self.polls == 0:  # not polled yet: ask now, so a view made before the first poll shows the state
            state = self._market()
            return "open" if state is None else state[0]
        return "open" if self.market_note is None else self.market_note

    def _market_events(self) -> list[Event]:
        if self._market is None:
            return []
        state = self._market()
        was_closed, self.market_note = self.market_note is not None, None if state is None else state[0]
        if state is None or was_closed:
            return []
        stamp = self._now() if self._now is not None else datetime.now().astimezone()
        return [MarketClosed(stamp, state[1], state[0])]

    def _breaker_events(self) -> list[Event]:
        if self._breaker is None:
            return []
        seen = self._breaker()
        if seen is None:
            return []
        family, state, retry_at = seen
        stamp = self._now() if self._now is not None else datetime.now().astimezone()
        was_open, is_open = self._breaker_state != "closed", state != "closed"
        self._breaker_state = state
        if is_open and not was_open:
            return [BreakerOpened(stamp, family, retry_at)]
        if was_open and not is_open:
            return [BreakerClosed(stamp, family)]
        return []

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self._until is not None and self._until():
                    self._state = "finished"
                    return
                self.poll_once()
                self._pace(self.interval, self._stop)
        except Exception as exc:
            self._state = "failed"
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise
        if self._state == "running":
            self._state = "stopped"
