"""When the project may call an upstream: rate limits, circuit breakers and retries per host family.

::

    throttle = Throttle(cache_dir / "throttle")                 # shared by every kernel using cache_dir
    frame = throttle.call("eastmoney_push2his", provider.fetch_daily_bars, symbol, start, end)
    with throttle.acquire("sina"):                              # one permit, no retries
        ...
    throttle.status()                                           # per family: tokens, breaker, counters
"""

from quantdb_lab.throttle.policy import (
    DEFAULT_LIMITS,
    FALLBACK,
    BreakerPolicy,
    RateLimit,
    RetryPolicy,
    backoff_delay,
    looks_like_ban,
)
from quantdb_lab.throttle.throttle import Throttle

__all__ = [
    "DEFAULT_LIMITS",
    "FALLBACK",
    "BreakerPolicy",
    "RateLimit",
    "RetryPolicy",
    "Throttle",
    "backoff_delay",
    "looks_like_ban",
]
