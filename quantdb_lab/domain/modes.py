"""Context modes are data: each is a frozen set of settings, and nothing branches on its name.

A new mode is one new constant. ``detect_mode`` infers one from what can be observed and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from quantdb_lab.errors import InvalidRequestError

Adjust = Literal["", "qfq", "hfq"]
OnProviderError = Literal["raise", "serve_stale"]
GapPolicy = Literal["keep", "flag", "synthesize"]
GAP_POLICIES = ("keep", "flag", "synthesize")
OnQualityFail = Literal["ignore", "warn", "raise"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextMode:
    name: str  # display only
    cache_duration: timedelta  # freshness of volatile data: the open session's bar, spot quotes, lists
    prefetch_related: bool  # warm sector and index peers of what is being studied
    quality_threshold: float  # a quality report passes at or above this score
    price_adjust: Adjust  # adjustment used when a call does not name one
    on_provider_error: OnProviderError  # what to do when the upstream fails and the cache has older data
    as_of: date | None = None  # point-in-time cutoff: reading past it raises LookAheadError
    # Missing sessions in ``bars``: "keep" as they are, "flag" as null rows with ``is_gap``, or "synthesize"
    # fills (see ``quantdb_lab.synthesis``) under these two limits. Synthetic rows are never stored.
    gap_policy: GapPolicy = "keep"
    synthesis_threshold: float = 0.9  # a fill scoring below this is refused
    max_gap_sessions: int = 10  # longer gaps are refused
    # below quality_threshold, bars() warns (QualityWarning) or raises QualityGateError; "ignore" skips the checks
    on_quality_fail: OnQualityFail = "ignore"
    # Total time one load may spend on the upstream: permit waits, the calls, retries and their back-off
    # together (a deadline, see domain.deadlines). A portfolio does not wait for a breaker past it either:
    # what is left is for result.retry(). Interactive research: seconds; a cron warmer may give more.
    retry_budget: timedelta = timedelta(seconds=20)

    def __post_init__(self) -> None:
        if self.price_adjust not in ("", "qfq", "hfq"):
            raise InvalidRequestError(f"price_adjust must be '', 'qfq' or 'hfq', not {self.price_adjust!r}")
        if self.on_provider_error not in ("raise", "serve_stale"):
            raise InvalidRequestError("on_provider_error must be 'raise' or 'serve_stale'")
        if self.on_quality_fail not in ("ignore", "warn", "raise"):
            raise InvalidRequestError("on_quality_fail must be 'ignore', 'warn' or 'raise'")
        if not 0.0 <= self.quality_threshold <= 1.0:
            raise InvalidRequestError("quality_threshold must lie in [0, 1]")
        if self.gap_policy not in GAP_POLICIES:
            raise InvalidRequestError(f"gap_policy must be one of {GAP_POLICIES}, not {self.gap_policy!r}")
        if not isinstance(self.retry_budget, timedelta) or self.retry_budget <= timedelta(0):
            raise InvalidRequestError(f"retry_budget must be a positive timedelta, not {self.retry_budget!r}")
        if not 0.0 <= self.synthesis_threshold <= 1.0 or self.max_gap_sessions < 1:
            raise InvalidRequestError("synthesis_threshold must lie in [0, 1] and max_gap_sessions be >= 1")

    def with_(self, **changes: object) -> ContextMode:
        """A copy with some settings changed, e.g. ``BACKTESTING.with_(as_of=date(2024, 6, 28))``."""
        return replace(self, **changes)  # type: ignore[arg-type]


RESEARCH = ContextMode(
    name="research",
    cache_duration=timedelta(hours=1),
    prefetch_related=True,
    quality_threshold=0.99,
    price_adjust="qfq",
    on_provider_error="serve_stale",
    on_quality_fail="warn",
    retry_budget=timedelta(seconds=20),
)
TRADING = ContextMode(
    name="trading",
    cache_duration=timedelta(minutes=1),
    prefetch_related=False,
    quality_threshold=0.999,
    price_adjust="",
    on_provider_error="raise",
    on_quality_fail="raise",
    retry_budget=timedelta(seconds=5),
)
BACKTESTING = ContextMode(
    name="backtesting",
    cache_duration=timedelta(hours=24),
    prefetch_related=True,
    quality_threshold=0.95,
    price_adjust="hfq",
    on_provider_error="serve_stale",
    on_quality_fail="raise",
    retry_budget=timedelta(minutes=2),
)

MODES: dict[str, ContextMode] = {m.name: m for m in (RESEARCH, TRADING, BACKTESTING)}


def resolve_mode(mode: str | ContextMode) -> ContextMode:
    if isinstance(mode, ContextMode):
        return mode
    try:
        return MODES[mode]
    except (KeyError, TypeError):
        raise InvalidRequestError(f"unknown mode {mode!r}; choose one of {sorted(MODES)} or pass a ContextMode") from None


@dataclass(frozen=True, slots=True)
class ModeDecision:
    mode: ContextMode
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.mode.name}: " + "; ".join(self.reasons)


def detect_mode(
    *,
    market_open: bool,
    span_days: int | None = None,
    symbol_count: int = 1,
    realtime: bool = False,
    as_of: date | None = None,
    now: datetime | None = None,
) -> ModeDecision:
    """Infer a mode from observable context, with the reasons. Pure: the same inputs give the same answer.

    Rules, first match wins: a point-in-time cutoff or a long multi-symbol history means a backtest; live
    quotes while the market is open mean trading; anything else is research.
    """
    if as_of is not None:
        return ModeDecision(BACKTESTING.with_(as_of=as_of), (f"a point-in-time cutoff as_of={as_of} was given",))
    if span_days is not None and span_days >= 3 * 365 and symbol_count >= 20:
        return ModeDecision(
            BACKTESTING,
            (f"{symbol_count} symbols over {span_days} days looks like a backtest universe",),
        )
    if realtime and market_open:
        return ModeDecision(TRADING, ("live quotes are in use while the market is open",))
    reasons = ["no live use" if not realtime else "live use but the market is closed"]
    if span_days is not None:
        reasons.append(f"a {span_days}-day span over {symbol_count} symbol(s)")
    return ModeDecision(RESEARCH, tuple(reasons))
