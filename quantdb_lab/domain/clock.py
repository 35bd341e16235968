"""An injectable clock in exchange time (Asia/Shanghai), so planners and limiters are testable with tables."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

EXCHANGE_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in exchange time."""
        ...

    def monotonic(self) -> float:
        """Seconds on a monotonic scale, for intervals."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(EXCHANGE_TZ)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait_on(self, condition: threading.Condition, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when ``condition`` is notified (a permit was released)."""
        with condition:
            condition.wait(seconds)


@dataclass
class FixedClock:
    """A clock that only moves when told to (``advance``/``sleep``): for tests and replays."""

    current: datetime
    _mono: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            self.current = self.current.replace(tzinfo=EXCHANGE_TZ)

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def wait_on(self, condition: threading.Condition, seconds: float) -> None:
        self.advance(seconds)  # nobody else moves a fixed clock: waiting is advancing

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        self._mono += seconds


def to_exchange_time(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=EXCHANGE_TZ)
    return moment.astimezone(EXCHANGE_TZ)
