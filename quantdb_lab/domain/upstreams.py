"""Upstream sources as data: what one source of a dataset serves, in which units, under which host family.

A dataset may be served by several upstreams (daily bars: Eastmoney, Sina, Tencent). Each is described once by
an :class:`Upstream`; a provider lists them per symbol, in order of preference, and the loader tries them in that
order (``loader.failover``): each call runs under the source's own host family, so each source has its own rate
limit and circuit breaker in the throttle.

``adjustments`` is what the source can serve itself; the cache stores unadjusted bars only (qfq and hfq are
derived from factor events), so every source here is asked for ``""``. ``volume_unit`` is the unit of the
volume column as akshare hands it out (the transform turns it into shares); ``requests_per_call`` is how many HTTP
requests one call makes (the throttle's unit is the call). ``history_start`` None: from listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

VOLUME_UNITS: Final = ("shares", "lots", "lots for sz000xxx, else shares")


@dataclass(frozen=True, slots=True, kw_only=True)
class Upstream:
    name: str  # short source name used in provenance and quality issues: "eastmoney", "sina", "tencent"
    host_family: str  # the throttle's unit of rate limiting and circuit breaking
    function: str  # the akshare function called
    adjustments: tuple[str, ...]  # adjustments the upstream serves itself ("" unadjusted, "qfq", "hfq")
    adjustment_method: str  # how its own qfq/hfq are built (never used for stored bars)
    volume_unit: str  # one of VOLUME_UNITS, as akshare returns it
    price_decimals: int  # prices are rounded to this many decimals upstream (the cross-check's tolerance)
    history_start: date | None  # first session served (None: from listing)
    date_filter: str  # "server" (only the range travels) or "local" (the whole history on every call)
    requests_per_call: str  # HTTP requests behind one call, for the docs and the throttle's settings
    kinds: tuple[str, ...] = ("stock",)  # symbol kinds served: "stock" (A shares), "index", "etf", "hk"

    def __post_init__(self) -> None:
        if self.volume_unit not in VOLUME_UNITS:
            raise ValueError(f"{self.name}: volume_unit must be one of {VOLUME_UNITS}")
        if self.date_filter not in ("server", "local"):
            raise ValueError(f"{self.name}: date_filter must be 'server' or 'local'")
