"""Settings of the throttle: rate limits per host family, the circuit breaker, retries, and the defaults.

Everything here is data plus two pure helpers (``looks_like_ban``, ``backoff_delay``), so a policy is tested
with tables and changed without touching the machinery that enforces it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from quantdb_lab.errors import InvalidRequestError

#: The key of ``DEFAULT_LIMITS`` used for a host family that has no entry of its own.
FALLBACK: Final = "*"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``per_second`` permits on average, at most ``burst`` at once after a pause, ``max_concurrency`` in flight.

    The unit is one upstream call (one ``fn`` given to ``Throttle.call``), not one HTTP request: akshare pages
    some endpoints itself. ``max_concurrency=None`` means only the rate applies. A caller that must wait for
    the rate waits up to ``jitter`` of one interval longer, at random: waiters in several processes would
    otherwise wake in the same order every time (one kernel starves), and even spacing looks machine-made.
    """

    per_second: float
    burst: int = 1
    max_concurrency: int | None = None
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.per_second) and self.per_second > 0):
            raise InvalidRequestError(f"RateLimit.per_second must be positive and finite, not {self.per_second!r}")
        if self.burst < 1:
            raise InvalidRequestError(f"RateLimit.burst must be at least 1, not {self.burst!r}")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise InvalidRequestError(
                f"RateLimit.max_concurrency must be None or at least 1, not {self.max_concurrency!r}"
            )
        if not 0.0 <= self.jitter <= 1.0:
            raise InvalidRequestError(f"RateLimit.jitter must lie in [0, 1], not {self.jitter!r}")


# Why these numbers (../shared/docs/akshare-upstream.md, section 4 and recommendation 6.4): Eastmoney bans the
# IP, not the request, with RemoteDisconnected, for hours (one report: >20 h on push2/push2his after ~45k
# requests/hour, i.e. ~12 per second, while datacenter-web stayed reachable). Suspected triggers are
# concurrency and many pages per call, so every network family defaults to one call in flight.
DEFAULT_LIMITS: Final[Mapping[str, RateLimit]] = MappingProxyType(
    {
        # kline history (stock_zh_a_hist, fund_etf_hist_em, index kline), one request per call: 2/s is
        # 7,200/hour, a sixth of the rate behind the reported ban; 1,000 symbols take ~8 minutes once, then
        # the cache serves them.
        "eastmoney_push2his": RateLimit(per_second=2.0, burst=2, max_concurrency=1),
        # clist (spot list, boards, code maps) and stock/get: a spot call is itself ~58 pages that akshare
        # spaces ~1 s apart, and users report bans after "a few calls" / "two a day" (#6167, #6650). One call
        # in flight keeps clist at akshare's own page pace; 0.5/s spaces the single-request stock/get calls.
        "eastmoney_push2": RateLimit(per_second=0.5, burst=1, max_concurrency=1),
        # datacenter-web stayed reachable through push2 bans; still no faster than kline.
        "eastmoney_datacenter": RateLimit(per_second=1.0, burst=2, max_concurrency=1),
        # push2ex (the limit-up pools): one request per date, a few dates a day; as fragile as push2.
        "eastmoney_push2ex": RateLimit(per_second=0.5, burst=1, max_concurrency=1),
        # news search: blocked by TLS fingerprint and broken often; rarely needed in bulk.
        "eastmoney_search": RateLimit(per_second=0.5, burst=1, max_concurrency=1),
        # Sina rate-limits (#5762, #3378) and sends the full history on every call.
        "sina": RateLimit(per_second=1.0, burst=1, max_concurrency=1),
        "tencent": RateLimit(per_second=1.0, burst=1, max_concurrency=1),
        # jin10 macro: one call pages backwards through the whole series.
        "jin10": RateLimit(per_second=0.5, burst=1, max_concurrency=1),
        # SSE / SZSE / BSE security lists: a few requests per call, needed about once a day.
        "exchange": RateLimit(per_second=0.5, burst=1, max_concurrency=1),
        # No network (SimulatedProvider, ReplayProvider): effectively unthrottled.
        "local": RateLimit(per_second=100_000.0, burst=100_000),
        # Anything unnamed is treated as a fragile public endpoint.
        FALLBACK: RateLimit(per_second=1.0, burst=1, max_concurrency=1),
    }
)

_BAN_MARKERS: Final = ("RemoteDisconnected", "Remote end closed connection without response")


def looks_like_ban(exc: BaseException) -> bool:
    """True when ``exc`` or anything it was raised from is a ban: Eastmoney's signature (RemoteDisconnected),
    or an error the provider already judged one (``kind == "ban"``: HTTP 403/429/456, a captcha page).

    Walks ``__cause__``/``__context__`` because providers translate the transport error once, with ``from``.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "kind", None) == "ban":
            return True
        text = f"{type(current).__name__}: {current}"
        if any(marker in text for marker in _BAN_MARKERS):
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerPolicy:
    """Open after ``failure_threshold`` consecutive upstream failures (or one ban signature), for a cool-down
    that starts at ``cooldown`` seconds and grows by ``cooldown_factor`` per consecutive trip, up to
    ``max_cooldown``.
    """

    # More than RetryPolicy.max_attempts: one request exhausting its retries must not open the breaker alone.
    failure_threshold: int = 5
    cooldown: float = 60.0
    cooldown_factor: float = 2.0
    # Bans last hours (>20 h reported); a probe every 4 h at worst costs one request and notices the lift.
    max_cooldown: float = 4 * 3600.0
    is_ban: Callable[[BaseException], bool] | None = looks_like_ban

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise InvalidRequestError("BreakerPolicy.failure_threshold must be at least 1")
        if not (0 < self.cooldown <= self.max_cooldown) or self.cooldown_factor < 1:
            raise InvalidRequestError("BreakerPolicy needs 0 < cooldown <= max_cooldown and cooldown_factor >= 1")

    def cooldown_for(self, trips: int) -> float:
        """Seconds the breaker stays open after its ``trips``-th consecutive opening (1-based)."""
        exponent = min(max(trips - 1, 0), 64)  # past 64 doublings every sane cap is reached; avoids overflow
        return min(self.max_cooldown, self.cooldown * self.cooldown_factor**exponent)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Up to ``max_attempts`` tries (the first included) for errors whose ``retryable`` is True."""

    max_attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InvalidRequestError("RetryPolicy.max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise InvalidRequestError("RetryPolicy delays must not be negative")


def backoff_delay(policy: RetryPolicy, retry: int, rng: random.Random) -> float:
    """Seconds to wait before retry number ``retry`` (0-based): full jitter, uniform in
    ``[0, min(max_delay, base_delay * 2**retry)]``, so callers that failed together do not retry together.
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** min(retry, 64))
    return rng.uniform(0.0, ceiling)
