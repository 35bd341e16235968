"""The bus's isolation (a failing and a slow handler), clean shutdown, and breaker events from the throttle
under an injected clock."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import polars as pl
import pytest

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.errors import InvalidRequestError, ProviderUnavailableError
from quantdb_lab.realtime import (
    BreakerClosed,
    BreakerOpened,
    Event,
    EventBus,
    Halt,
    LimitHit,
    PriceUpdate,
    Watcher,
)
from quantdb_lab.throttle import BreakerPolicy, RateLimit, RetryPolicy, Throttle

T0 = datetime(2024, 3, 5, 10, 0, tzinfo=EXCHANGE_TZ)


def _halt(i: int) -> Halt:
    return Halt(T0, f"{i:06d}.SZ")


def test_a_failing_and_a_slow_handler_never_block_the_others_or_the_publisher():
    bus = EventBus(handler_timeout=0.02)
    release = threading.Event()
    fast: list[Event] = []

    def failing(event):
        raise RuntimeError("boom")

    def slow(event):
        release.wait(5)
        if event.symbol == "000000.SZ":
            time.sleep(0.03)  # longer than handler_timeout: reported as slow

    bus.subscribe(Event, failing)
    bus.subscribe(Halt, slow)
    bus.subscribe(Halt, fast.append)
    started = time.perf_counter()
    for i in range(50):
        bus.publish(_halt(i))
    assert time.perf_counter() - started < 0.05  # publishing never waits for a handler
    deadline = time.monotonic() + 2
    while len(fast) < 50 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert [e.symbol for e in fast] == [f"{i:06d}.SZ" for i in range(50)]
    status = {s["handler"]: s for s in bus.status()}
    assert status["failing"]["failed"] >= 1 and status["failing"]["last_error"] == "RuntimeError: boom"
    assert status["slow"]["delivered"] == 0
    release.set()
    assert bus.close(timeout=2) == []
    status = {s["handler"]: s for s in bus.status()}
    assert status["failing"]["failed"] == 50 and status["slow"]["delivered"] == 50 and status["slow"]["slow"] >= 1
    assert not any(s["alive"] for s in status.values())


def test_only_matching_event_types_are_delivered_and_a_full_queue_drops_the_oldest():
    bus = EventBus(maxsize=3)
    gate = threading.Event()
    hits: list[Event] = []
    bus.subscribe(LimitHit, hits.append)
    sub = bus.subscribe(Halt, lambda e: gate.wait(5))
    for i in range(10):
        bus.publish(_halt(i))
    assert hits == [] and sub.dropped >= 6
    gate.set()
    bus.close(timeout=2)
    with pytest.raises(InvalidRequestError):
        bus.subscribe(Halt, print)
    with pytest.raises(InvalidRequestError):
        EventBus().subscribe(dict, print)


def test_close_reports_a_stuck_handler_instead_of_hanging():
    bus = EventBus()
    never = threading.Event()
    bus.subscribe(Halt, lambda e: never.wait(10))
    bus.publish(_halt(1))
    started = time.perf_counter()
    assert bus.close(timeout=0.2) == ["<lambda>"]
    assert time.perf_counter() - started < 1.0
    never.set()


def _snapshot(price: float) -> pl.DataFrame:
    return pl.DataFrame({"symbol": ["000001.SZ"], "time": [T0], "last": [price], "volume": [1.0],
                         "limit_up": [11.0], "limit_down": [9.0], "halted": [False]})


def test_watcher_stop_is_clean_and_a_failing_handler_does_not_stop_polling():
    prices = iter([10.0, 11.0, 10.5] + [10.5] * 10_000)
    watcher = Watcher(lambda: _snapshot(next(prices)), interval=0.01)
    hits: list[Event] = []
    watcher.subscribe(Event, lambda e: 1 / 0)
    watcher.subscribe(LimitHit, hits.append)
    watcher.start()
    deadline = time.monotonic() + 2
    while watcher.polls < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert watcher.stop(timeout=2) == []
    assert not watcher.running and watcher.status()["state"] == "stopped"
    assert [(e.symbol, e.side) for e in hits] == [("000001.SZ", "up")]
    assert watcher.status()["events"] == {"PriceUpdate": 3, "LimitHit": 1, "LimitRelease": 1}
    with pytest.raises(InvalidRequestError):
        watcher.start()


def test_breaker_open_and_close_are_published_with_an_injected_clock():
    clock = FixedClock(T0)
    throttle = Throttle(clock=clock, limits={"quotes": RateLimit(per_second=10.0, burst=1, max_concurrency=1)},
                        breaker=BreakerPolicy(failure_threshold=2, cooldown=60.0, is_ban=None),
                        retry=RetryPolicy(max_attempts=1))
    up = {"ok": False}

    def upstream() -> pl.DataFrame:
        if not up["ok"]:
            raise ProviderUnavailableError("down", retryable=True)
        return _snapshot(10.0)

    def breaker():
        rows = {r["host_family"]: r for r in throttle.status()}
        row = rows.get("quotes")
        return None if row is None else ("quotes", row["breaker"], row["open_until"])

    watcher = Watcher(lambda: throttle.call("quotes", upstream), interval=1.0, breaker=breaker, now=clock.now)
    seen = [type(e).__name__ for _ in range(3) for e in watcher.poll_once()]
    assert seen == ["BreakerOpened"] and watcher.errors == 3
    calls_while_open = throttle.status()[0]["calls"]
    watcher.poll_once()  # still open: refused without calling upstream
    assert throttle.status()[0]["calls"] == calls_while_open
    clock.advance(61)
    up["ok"] = True
    assert [type(e) for e in watcher.poll_once()] == [PriceUpdate, BreakerClosed]
    assert watcher.status()["breaker"] == "closed"
    assert isinstance(BreakerOpened(T0, "quotes", None), Event)
