"""Retries with back-off for object-store calls, and a breaker so a store that stays down fails fast.

Throttling (503 SlowDown), 500s, timeouts and dropped connections are transient: retried with exponential
back-off and full jitter (what AWS recommends against SlowDown). Anything else (403, a missing bucket, a
precondition that failed) is an answer, raised at once. After ``attempts`` transient failures the breaker opens
for ``cooldown`` seconds: every call then fails at once with StoreUnavailableError, so a reader falls back to its
local cache without waiting out the retries again on every series.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from quantdb_lab.errors import StoreUnavailableError

T = TypeVar("T")

_TRANSIENT_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
     "RequestTimeTooSkewed", "500", "502", "503", "504"}  # fmt: skip
)
# deltalake (Rust object_store) raises OSError whose text carries the cause; these words mark a transient one.
_TRANSIENT_WORDS = ("timed out", "timeout", "connection", "slowdown", "503", "500", "502", "504", "reset",
                    "broken pipe", "error sending request", "incomplete")  # fmt: skip


def is_transient(exc: BaseException) -> bool:
    """Whether trying again may help."""
    try:
        from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError
    except ImportError:  # pragma: no cover - boto3 is part of the ``team`` extra
        ClientError = BotoConnectionError = HTTPClientError = ()  # type: ignore[assignment,misc]
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        return error.get("Code") in _TRANSIENT_CODES or status in _TRANSIENT_CODES
    if isinstance(exc, (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError)):
        return True
    try:
        from urllib3.exceptions import HTTPError as Urllib3Error  # a body cut off mid-read
    except ImportError:  # pragma: no cover
        Urllib3Error = ()  # type: ignore[assignment,misc]
    if isinstance(exc, Urllib3Error):
        return True
    if isinstance(exc, OSError):
        text = str(exc).lower()
        return any(word in text for word in _TRANSIENT_WORDS)
    return False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    base: float = 0.05  # seconds before the second attempt; doubles each time
    cap: float = 2.0
    cooldown: float = 30.0  # seconds the breaker stays open after a call exhausted its attempts


class Retrier:
    """Runs calls under the policy; one per store, shared by its threads."""

    def __init__(self, policy: RetryPolicy | None = None, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._open_until = 0.0
        self.retries = 0  # transient failures that were retried, for stats and tests

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0

    def call(self, what: str, fn: Callable[[], T]) -> T:
        if self.is_open:
            raise StoreUnavailableError(f"the shared store is marked down (recent failures); not trying {what}")
        delay = self.policy.base
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return fn()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if attempt == self.policy.attempts:
                    with self._lock:
                        self._open_until = time.monotonic() + self.policy.cooldown
                    raise StoreUnavailableError(
                        f"the shared store failed {attempt} times on {what}: {type(exc).__name__}: {exc}"
                    ) from exc
                with self._lock:
                    self.retries += 1
                self._sleep(random.uniform(0, delay))
                delay = min(delay * 2, self.policy.cap)
        raise AssertionError("unreachable")  # pragma: no cover
