"""The Brownian bridge on log prices: the baseline fill, using nothing but the series itself.

Between anchors ``x0`` (step 0) and ``x1`` (step ``n``) a random walk with daily variance ``sigma**2``,
conditioned on both ends, has at step ``k``::

    mean = x0 + (x1 - x0) * k / n          (log-linear interpolation)
    var  = sigma**2 * k * (n - k) / n

and can be drawn one step at a time: given ``x_{k-1}``, step ``k`` is normal with mean
``x_{k-1} + (x1 - x_{k-1}) / (n - k + 1)`` and variance ``sigma**2 * (n - k) / (n - k + 1)``.
"""

from __future__ import annotations

import numpy as np

from quantdb_lab.errors import InvalidRequestError


def _check(steps: int, sigma: float) -> None:
    if steps < 2:
        raise InvalidRequestError("a bridge needs at least one interior step (steps >= 2)")
    if not np.isfinite(sigma) or sigma < 0:
        raise InvalidRequestError(f"sigma must be finite and non-negative, not {sigma}")


def bridge_moments(x0: float, x1: float, steps: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the interior points ``k = 1 .. steps - 1``."""
    _check(steps, sigma)
    k = np.arange(1, steps, dtype=float)
    mean = x0 + (x1 - x0) * k / steps
    var = sigma**2 * k * (steps - k) / steps
    return mean, var


def bridge_sample(x0: float, x1: float, steps: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """One path of the interior points, drawn step by step (``steps - 1`` normal variates from ``rng``)."""
    _check(steps, sigma)
    shocks = rng.standard_normal(steps - 1)
    path = np.empty(steps - 1)
    x = x0
    for i, k in enumerate(range(1, steps)):
        remaining = steps - k + 1
        x = x + (x1 - x) / remaining + sigma * np.sqrt((remaining - 1) / remaining) * shocks[i]
        path[i] = x
    return path


def context_sigma(log_close: np.ndarray) -> tuple[float, int]:
    """Daily volatility of log returns between consecutive observed points (NaN marks a missing day).

    Returns across a missing day are left out rather than scaled: they would mix two days into one.
    """
    returns = np.diff(log_close)
    returns = returns[np.isfinite(returns)]
    if len(returns) < 2:
        return float("nan"), len(returns)
    return float(np.std(returns, ddof=1)), len(returns)
