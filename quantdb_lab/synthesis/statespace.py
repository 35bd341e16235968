"""A state-space model of log prices (statsmodels), smoothed across gaps with a reference series.

Model, on one window of sessions around the gaps (missing days are NaN and the Kalman filter skips them)::

    y_t   = mu_t + beta * x_t + eps_t,   eps_t ~ N(0, s2_irregular)
    mu_t  = mu_{t-1} + eta_t,            eta_t ~ N(0, s2_level)

with ``y`` the log close and ``x`` the reference's log close (index or sector). Differencing shows what it
means: the security moves ``beta`` times the reference plus an idiosyncratic random walk, and the irregular
term absorbs the day-to-day noise that reverts. ``beta`` is estimated first, robustly, on the window's own
daily log returns (a Huber M-estimate: single-day jumps, limit moves and ex-dates in an unadjusted series do
not drag it as they drag least squares or a Gaussian likelihood); the variances are then fitted by maximum
likelihood on ``y - beta * x`` on the window itself, so the volatility is that of the surrounding context. The Kalman smoother then conditions each
missing day on both sides of the gap and on the reference's moves on the missing days; the simulation
smoother draws whole paths from the same posterior. Without a reference the model is a local level.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class StateSpaceFit:
    mean: np.ndarray  # smoothed log close on every point of the window
    var: np.ndarray  # posterior variance of the log close (level + irregular where it is missing)
    sigma: float  # implied daily sd of the residual move, sqrt(s2_level + 2 * s2_irregular)
    beta: float  # loading on the reference's log returns (0 without a reference)
    notes: tuple[str, ...] = ()
    _model: Any = field(default=None, repr=False)
    _x: np.ndarray | None = field(default=None, repr=False)  # the reference term beta * x on the window

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One path of log closes on the window, drawn from the smoothed posterior (simulation smoother)."""
        simulator = self._model.simulation_smoother()
        simulator.simulate(rng=rng)
        path = simulator.simulated_state[0] + simulator.simulated_measurement_disturbance[0]
        return path + (self._x if self._x is not None else 0.0)


def robust_beta(dy: np.ndarray, dx: np.ndarray, *, c: float = 1.345, iterations: int = 30) -> float:
    """Huber M-estimate of the slope of ``dy`` on ``dx`` (no intercept) by iteratively reweighted least squares,
    on the pairs where both are finite; residual scale by the MAD. 0.0 when there is too little to go on."""
    ok = np.isfinite(dy) & np.isfinite(dx)
    dy, dx = dy[ok], dx[ok]
    if len(dy) < 3 or float(np.dot(dx, dx)) <= 1e-12:
        return 0.0
    beta = float(np.dot(dx, dy) / np.dot(dx, dx))
    for _ in range(iterations):
        resid = dy - beta * dx
        scale = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        if scale <= 1e-12:
            break
        weights = np.minimum(1.0, c * scale / np.maximum(np.abs(resid), 1e-300))
        new = float(np.sum(weights * dx * dy) / max(float(np.sum(weights * dx * dx)), 1e-12))
        if abs(new - beta) < 1e-8:
            beta = new
            break
        beta = new
    return beta


def _fallback_params(y: np.ndarray, x: np.ndarray | None) -> np.ndarray:
    """Moment estimates used when maximum likelihood fails: no irregular, OLS beta, residual variance."""
    dy = np.diff(y)
    ok = np.isfinite(dy)
    if x is None:
        var = float(np.var(dy[ok], ddof=1)) if ok.sum() > 1 else 1e-4
        return np.array([0.0, max(var, 1e-8)])
    dx = np.diff(x)
    beta = float(np.dot(dx[ok], dy[ok]) / max(np.dot(dx[ok], dx[ok]), 1e-12)) if ok.any() else 0.0
    resid = dy[ok] - beta * dx[ok]
    var = float(np.var(resid, ddof=1)) if len(resid) > 1 else 1e-4
    return np.array([0.0, max(var, 1e-8), beta])


def fit_statespace(y: np.ndarray, x: np.ndarray | None = None, *, level: str = "llevel") -> StateSpaceFit:
    """Fit the model to the window ``y`` (log closes, NaN where missing), optionally with reference ``x``."""
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    xc = None if x is None else x - x[np.isfinite(x)][0]
    beta = 0.0 if xc is None else robust_beta(np.diff(y), np.diff(xc))
    term = None if xc is None else beta * xc
    model = UnobservedComponents(y if term is None else y - term, level=level)
    notes: list[str] = []
    with warnings.catch_warnings():
        # Optimiser chatter on short or quiet windows is expected; the result is checked below instead.
        warnings.simplefilter("ignore")
        try:
            result = model.fit(disp=False)
            params = np.asarray(result.params, dtype=float)
            if not np.all(np.isfinite(params)) or not np.all(np.isfinite(result.smoothed_state)):
                raise FloatingPointError("non-finite maximum likelihood estimates")
        except Exception as exc:  # noqa: BLE001 - any optimiser failure falls back to moment estimates
            notes.append(f"maximum likelihood failed ({type(exc).__name__}); moment estimates used")
            guess = _fallback_params(y if term is None else y - term, None)
            params = guess if "sigma2.irregular" in model.param_names else guess[1:]
            result = model.smooth(params)
    named = dict(zip(model.param_names, params, strict=True))
    s2_irregular, s2_level = float(named.get("sigma2.irregular", 0.0)), float(named["sigma2.level"])
    level = np.asarray(result.smoothed_state[0])
    level_var = np.asarray(result.smoothed_state_cov[0, 0])
    missing = ~np.isfinite(y)
    mean = level + (term if term is not None else 0.0)
    var = level_var + np.where(missing, s2_irregular, 0.0)
    return StateSpaceFit(
        mean=mean,
        var=np.maximum(var, 0.0),
        sigma=float(np.sqrt(max(s2_level + 2.0 * s2_irregular, 0.0))),
        beta=beta,
        notes=tuple(notes),
        _model=model,
        _x=term,
    )
