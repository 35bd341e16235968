"""Scoring a fill: is it consistent with the context it was estimated from, and is it usable?

Each component lies in [0, 1] and the score is the weakest one, so a refusal can name its reason:

* ``invariants``: 1 when every synthetic bar has low <= open, close <= high, positive prices, volume >= 0 and
  the close inside its band; else 0.
* ``context``: enough real returns around the gap to estimate a volatility, ``min(1, n / min_context)``.
* ``volatility``: the residual log returns of the stretch from the left anchor through the fill to the right
  anchor (reference moves taken out), against the context volatility ``sigma``. For ``draw="mean"`` the
  statistic is the move across the gap, ``z**2 = (sum e)**2 / (n sigma**2)`` ~ chi2(1): a move of many
  sigmas (news, an ex-rights day inside an unadjusted gap, a bad anchor) makes any fill a guess. For
  ``draw="sample"`` it is ``sum e**2 / sigma**2`` ~ chi2(n), two-sided: the path must be neither too rough
  nor too smooth. The component is ``min(1, p / alpha)``, full marks unless the p-value falls below alpha.
* ``band``: ``min(1, max_band / w)`` with ``w`` the widest relative band ``(hi - lo) / close`` of the fill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

ALPHA = 1e-3  # p-value under which the volatility component starts to fall


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
    reason: str  # why it was refused; "" when accepted
    components: dict[str, float] = field(default_factory=dict)
    vol_ratio: float = float("nan")  # realised vol of the filled stretch / context vol
    band_width: float = float("nan")  # widest (close_hi - close_lo) / close
    sigma: float = float("nan")  # context daily vol of residual log returns
    beta: tuple[float, ...] = ()  # loadings on the references, in the order given
    context_returns: int = 0
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


def volatility_component(residuals: np.ndarray, sigma: float, *, draw: str) -> tuple[float, float]:
    """(component, realised vol ratio) for residual log returns of the stretch, anchor to anchor."""
    n = len(residuals)
    if n == 0 or not np.isfinite(sigma) or sigma <= 0:
        return 0.0, float("nan")
    from scipy import stats  # deferred: importing the Lab stays light

    ratio = float(np.sqrt(np.mean(residuals**2)) / sigma)
    if draw == "sample":
        q = float(np.sum(residuals**2) / sigma**2)
        p = 2.0 * min(stats.chi2.sf(q, n), stats.chi2.cdf(q, n))
    else:
        z2 = float(np.sum(residuals) ** 2 / (n * sigma**2))
        p = float(stats.chi2.sf(z2, 1))
    return float(min(1.0, p / ALPHA)), ratio


def score_fill(
    *,
    residuals: np.ndarray,
    sigma: float,
    draw: str,
    band_width: float,
    context_returns: int,
    invariants: bool,
    min_context: int,
    max_band: float,
) -> tuple[float, dict[str, float], float, str]:
    """(score, components, vol ratio, reason of the weakest component)."""
    volatility, ratio = volatility_component(residuals, sigma, draw=draw)
    components = {
        "invariants": 1.0 if invariants else 0.0,
        "context": min(1.0, context_returns / max(min_context, 1)),
        "volatility": volatility,
        "band": 1.0 if not band_width > max_band else max_band / band_width,
    }
    weakest = min(components, key=components.__getitem__)
    reasons = {
        "invariants": "a synthetic bar broke the OHLC invariants",
        "context": f"only {context_returns} real returns of context (want {min_context}) to estimate volatility",
        "volatility": (
            f"the filled stretch is implausible for the context volatility (realised/context vol {ratio:.2f}; "
            "the move across the gap may hold news, an ex-rights day or a bad anchor)"
        ),
        "band": f"the band is too wide to be useful ({band_width:.0%} of the price, limit {max_band:.0%})",
    }
    return float(components[weakest]), components, ratio, reasons[weakest]
