"""Scoring a fill: is the gap fillable, and is the fill usable? Each refusal names a cause a user can act on.

Each component lies in [0, 1] and the score is the weakest one; a fill scoring below ``min_score`` is refused
with the weakest component's cause and a sentence saying what was found:

* ``invariants`` (cause "invalid bars"): 1 when every synthetic bar has low <= open, close <= high, positive
  prices, volume >= 0 (and, for ``draw="mean"``, the close inside its band); else 0. A guard: never seen.
* ``context`` ("too little context"): enough real returns around the gap to estimate a volatility,
  ``min(1, n / min_context)``.
* ``jump`` ("jump across the gap"): 0 when the price moved across the gap, anchor to anchor, by more than the
  daily price limit allows over that many sessions (a corporate action in unadjusted prices, or a bad anchor:
  a real market cannot do it), else 1. A large move within the limits is news the fill cannot place in time,
  but it is market behaviour: the fill stays the best estimate and is accepted (a statistical rule, such as
  the former "3.3 sigma", refused ordinary liquid series: fat tails make such moves a few in a thousand).
* ``band`` ("too volatile"): ``min(1, max_band / w)`` with ``w`` the widest relative band ``(hi - lo) / close``.

The decision is a property of the gap, the same for ``draw="mean"`` and ``draw="sample"``. Gaps longer than
``max_gap`` are refused before any fit (cause "too long"). ``vol_ratio`` (realised vol of the filled stretch,
reference moves taken out, over the context's) is reported as a diagnostic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

#: daily price limit by listing board (``Symbol.board``); ST names have tighter limits, so these never refuse a
#: move an ST name could make. Boards without a limit here (Hong Kong) get no jump rule.
DAILY_LIMITS = {"main": 0.10, "chinext": 0.20, "star": 0.20, "beijing": 0.30, "etf": 0.10, "index": 0.10}
WIDEST_LIMIT = 0.30  # a frame without a symbol: the widest A-share limit
LIMIT_SLACK = 0.01  # rounding of limit prices to the tick, per session
FREE_SESSIONS = 5  # registration-based listings trade without a limit for their first sessions
CAUSES = ("too long", "too little context", "too volatile", "jump across the gap", "invalid bars")


@dataclass(frozen=True, slots=True)
class FillReport:
    """The validation of one gap's fill (also kept for refused fills, which are not returned as rows)."""

    start: date
    end: date
    sessions: int  # sessions filled
    span: int  # sessions between the anchors (the max_gap rule applies to this)
    method: str
    draw: str
    score: float
    accepted: bool
    reason: str  # "<cause>: what was found"; "" when accepted
    cause: str = ""  # one of CAUSES when refused, else ""
    components: dict[str, float] = field(default_factory=dict)
    vol_ratio: float = float("nan")  # realised vol of the filled stretch / context vol
    band_width: float = float("nan")  # widest (close_hi - close_lo) / close
    sigma: float = float("nan")  # context daily vol of residual log returns
    beta: tuple[float, ...] = ()  # loadings on the references, in the order given (NaN: left out of this fill)
    context_returns: int = 0
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


def refusal_reason(cause: str, detail: str) -> str:
    return f"{cause}: {detail}"


def vol_ratio(residuals: np.ndarray, sigma: float) -> float:
    """Realised vol of the stretch's residual log returns (anchor to anchor) over the context vol."""
    if len(residuals) == 0 or not np.isfinite(sigma) or sigma <= 0:
        return float("nan")
    return float(np.sqrt(np.mean(residuals**2)) / sigma)


def jump_component(move: float, returns: int, limit: float | None) -> tuple[float, str]:
    """(component, detail) for the log move ``move`` across ``returns`` sessions under a daily ``limit``."""
    if limit is None:
        return 1.0, ""
    step = limit + LIMIT_SLACK
    if returns * math.log1p(-step) <= move <= returns * math.log1p(step):
        return 1.0, ""
    detail = (f"the price moved {math.expm1(move):+.0%} over {returns} sessions, more than the daily price limit "
              f"(+-{limit:.0%}) allows: a corporate action in unadjusted prices, or a bad anchor")  # fmt: skip
    return 0.0, detail


def score_fill(
    *,
    move: float,
    returns: int,
    limit: float | None,
    band_width: float,
    context_returns: int,
    invariants: bool,
    min_context: int,
    max_band: float,
    level: float,
) -> tuple[float, dict[str, float], str, str]:
    """(score, components, cause of the weakest component, what was found)."""
    jump, jump_detail = jump_component(move, returns, limit)
    components = {
        "invariants": 1.0 if invariants else 0.0,
        "context": min(1.0, context_returns / max(min_context, 1)),
        "jump": jump,
        "band": 1.0 if not band_width > max_band else max_band / band_width,
    }
    weakest = min(components, key=components.__getitem__)
    context_detail = f"only {context_returns} real returns around the gap to estimate its volatility (want {min_context})"
    band_detail = f"the {level:.0%} band would span {band_width:.0%} of the price (at most {max_band:.0%} is useful)"
    found = {
        "invariants": ("invalid bars", "a synthetic bar broke the OHLC invariants"),
        "context": ("too little context", context_detail),
        "jump": ("jump across the gap", jump_detail),
        "band": ("too volatile", band_detail),
    }  # fmt: skip
    cause, detail = found[weakest]
    return float(components[weakest]), components, cause, detail
