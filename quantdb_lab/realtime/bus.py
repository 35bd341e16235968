"""An in-process event bus: ``subscribe(event_type, handler)``, ``publish(event)``, ``close()``.

Each subscription has its own bounded queue and worker thread, so a slow handler delays only itself and a
failing one is counted (``status()``) and goes on receiving events; ``publish`` never blocks (when a
subscriber's queue is full its oldest event is dropped and counted). A handler running longer than
``handler_timeout`` is reported as ``slow``; a thread cannot be killed, so ``close`` waits at most ``timeout``
for each worker and reports the ones still busy (daemon threads, abandoned).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.realtime.events import Event

Handler = Callable[[Any], Any]
_STOP = object()


@dataclass(eq=False)
class Subscription:
    event_type: type[Event]
    handler: Handler
    maxsize: int
    handler_timeout: float
    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    slow: int = 0
    last_error: str | None = None
    _queue: queue.Queue = field(init=False, repr=False)
    _thread: threading.Thread = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._queue = queue.Queue(maxsize=self.maxsize)
        name = getattr(self.handler, "__name__", "handler")
        self._thread = threading.Thread(target=self._run, name=f"qdb-bus-{name}", daemon=True)
        self._thread.start()

    def offer(self, event: Any) -> None:
        while True:
            try:
                self._queue.put_nowait(event)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is _STOP:
                return
            started = time.perf_counter()
            try:
                self.handler(event)
                self.delivered += 1
            except Exception as exc:  # noqa: BLE001 - a handler's failure is its own, never the bus's
                self.failed += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
            if time.perf_counter() - started > self.handler_timeout:
                self.slow += 1

    def close(self, timeout: float) -> bool:
        """Stop after the queued events; True when the worker finished within ``timeout``."""
        self.offer(_STOP)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def status(self) -> dict[str, Any]:
        return {"event_type": self.event_type.__name__, "handler": getattr(self.handler, "__name__", repr(self.handler)),
                "delivered": self.delivered, "failed": self.failed, "dropped": self.dropped, "slow": self.slow,
                "pending": self.pending, "last_error": self.last_error, "alive": self._thread.is_alive()}  # fmt: skip


class EventBus:
    """Typed publish/subscribe; ``subscribe(Event, h)`` receives every event."""

    def __init__(self, *, maxsize: int = 1000, handler_timeout: float = 1.0) -> None:
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        self._closed = False
        self.maxsize = maxsize
        self.handler_timeout = handler_timeout
        self.published = 0

    def subscribe(self, event_type: type[Event], handler: Handler) -> Subscription:
        if not (isinstance(event_type, type) and issubclass(event_type, Event)):
            raise InvalidRequestError(f"event_type must be an Event class, not {event_type!r}")
        if not callable(handler):
            raise InvalidRequestError(f"handler must be callable, not {handler!r}")
        with self._lock:
            if self._closed:
                raise InvalidRequestError("the event bus is closed")
            sub = Subscription(event_type, handler, self.maxsize, self.handler_timeout)
            self._subscriptions.append(sub)
        return sub

    def unsubscribe(self, subscription: Subscription, *, timeout: float = 1.0) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
        subscription.close(timeout)

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every matching subscriber's queue; never blocks, never raises for a handler."""
        with self._lock:
            targets = [s for s in self._subscriptions if isinstance(event, s.event_type)]
            self.published += 1
        for sub in targets:
            sub.offer(event)

    def close(self, *, timeout: float = 2.0) -> list[str]:
        """Deliver what is queued and stop every worker; returns the handlers still busy after ``timeout``."""
        with self._lock:
            self._closed = True
            subs = list(self._subscriptions)
        deadline = time.monotonic() + timeout
        stuck = [s.status()["handler"] for s in subs if not s.close(max(deadline - time.monotonic(), 0.0))]
        return stuck

    @property
    def closed(self) -> bool:
        return self._closed

    def status(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.status() for s in self._subscriptions]
