"""A state-space model of log prices (statsmodels), smoothed across gaps with reference series.

Model, on one window of sessions around the gaps (missing days are NaN and the Kalman filter skips them)::

    y_t   = mu_t + sum_k beta_k * x_kt + eps_t,   eps_t ~ N(0, s2_irregular)
    mu_t  = mu_{t-1} + eta_t,                     eta_t ~ N(0, s2_level)

with ``y`` the log close and ``x_k`` the references' log closes (an index, a sector, both). Differencing
shows what it means: the security moves with its loadings on the references plus an idiosyncratic random
walk, and the irregular term absorbs the day-to-day noise that reverts. The loadings are estimated first,
robustly, on the window's own daily log returns (statsmodels' Huber M-estimator: single-day jumps, limit
moves and ex-dates in an unadjusted series do not drag them as they drag least squares or a Gaussian
likelihood); the variances are then fitted by maximum likelihood on ``y - sum_k beta_k x_k`` on the window
itself, so the volatility is that of the surrounding context. The Kalman smoother then conditions each
missing day on both sides of the gap and on the references' moves on the missing days; the simulation
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
    beta: tuple[float, ...]  # loadings on the references' log returns (empty without a reference)
    notes: tuple[str, ...] = ()
    _model: Any = field(default=None, repr=False)
    _x: np.ndarray | None = field(default=None, repr=False)  # the reference term x @ beta on the window

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One path of log closes on the window, drawn from the smoothed posterior (simulation smoother)."""
        simulator = self._model.simulation_smoother()
        simulator.simulate(rng=rng)
        path = simulator.simulated_state[0] + simulator.simulated_measurement_disturbance[0]
        return path + (self._x if self._x is not None else 0.0)


def robust_loadings(dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Huber M-estimates (statsmodels RLM, MAD scale) of the loadings of ``dy`` on the columns of ``dx``, no
    intercept, on the rows where all are finite; zeros when there is too little to go on."""
    dx = dx.reshape(len(dx), -1)
    ok = np.isfinite(dy) & np.all(np.isfinite(dx), axis=1)
    dy, dx = dy[ok], dx[ok]
    zeros = np.zeros(dx.shape[1])
    if len(dy) < 3 * dx.shape[1] + 2 or np.any(np.einsum("ij,ij->j", dx, dx) <= 1e-12):
        return zeros
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a quiet window can have a zero MAD: the fallback below covers it
        try:
            params = np.asarray(sm.RLM(dy, dx, M=sm.robust.norms.HuberT()).fit().params, dtype=float)
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
            return zeros
    return params if np.all(np.isfinite(params)) else zeros


def _fallback_params(y: np.ndarray) -> np.ndarray:
    """Moment estimates used when maximum likelihood fails: no irregular, the variance of the daily moves."""
    dy = np.diff(y)
    ok = np.isfinite(dy)
    var = float(np.var(dy[ok], ddof=1)) if ok.sum() > 1 else 1e-4
    return np.array([0.0, max(var, 1e-8)])


def _filled(x: np.ndarray) -> np.ndarray:
    """Each column's last known value carried forward (and the first one back) over its NaN days."""
    out = x.copy()
    for k in range(out.shape[1]):
        column = out[:, k]
        known = np.flatnonzero(np.isfinite(column))
        if not len(known):
            column[:] = 0.0
            continue
        index = np.maximum.accumulate(np.where(np.isfinite(column), np.arange(len(column)), -1))
        column[:] = np.where(index >= 0, column[np.maximum(index, 0)], column[known[0]])
    return out


def fit_statespace(y: np.ndarray, x: np.ndarray | None = None, *, level: str = "llevel") -> StateSpaceFit:
    """Fit the model to the window ``y`` (log closes, NaN where missing), optionally with references ``x``
    (one column per reference, the same length as ``y``; NaN on days a reference has no close, which the caller
    keeps off the gaps themselves)."""
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    xc = None if x is None else _filled(x.reshape(len(y), -1))
    # loadings from the days each reference has (a NaN return is left out), the level term on its filled level
    beta = np.zeros(0) if xc is None else robust_loadings(np.diff(y), np.diff(x.reshape(len(y), -1), axis=0))
    term = None if xc is None else (xc - xc[0]) @ beta
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
            guess = _fallback_params(y if term is None else y - term)
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
        beta=tuple(float(b) for b in beta),
        notes=tuple(notes),
        _model=model,
        _x=term,
    )
