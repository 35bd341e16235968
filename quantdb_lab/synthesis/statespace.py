"""The state-space fill: a random walk of log prices around the references' moves, conditioned on each gap's
anchors, including the right anchor's open.

Model, on one window of sessions around the gaps (missing days are NaN)::

    y_t = y_{t-1} + beta . (x_t - x_{t-1}) + r_t,          r_t ~ N(0, s2)       (close to close)
    o_t = y_{t-1} + m + gamma . (xo_t - x_{t-1}) + e_t,   e_t ~ N(0, s2_open)   (the overnight move)

with ``y`` the log close, ``o`` the log open, ``x_k``/``xo_k`` the references' log closes and opens (an index,
a sector, both). The loadings ``beta`` are Huber M-estimates (statsmodels RLM) on the window's daily log
returns, so single-day jumps and limit moves do not drag them; ``s2`` is the variance of the residual returns
of the window itself. ``gamma``, ``m`` and ``s2_open`` are estimated the same way on the overnight moves, with
the references that have an open.

Why the open: a gap's last missing close is the right anchor's open less one overnight move, and an A-share's
overnight move is small (its residual sd is about 0.4 of a whole day's on 172 real series), while the
references explain little of a stock's day (the CSI 300 a median 13% of the variance, so even an exact loading
gains at most about 7% over interpolation). Conditioning on the anchor's close instead spreads that day's whole
move over the gap. Under the model, once the open is known the anchor's close tells nothing more about the
missing days (the walk is Markov), so each gap is a Gaussian random walk from the left anchor, observed at its
last missing day through the open with noise ``s2_open``: the Kalman smoother of this model, in closed form
(``conditional_moments``). Without a usable open (none in the frame, outside ``low..high``, or too few in the
window to estimate ``s2_open``) the walk is pinned at the right anchor's close instead: the Brownian bridge
around the references' moves.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

MIN_OVERNIGHTS = 10  # overnight moves needed in the window to trust the open as an observation
MIN_VARIANCE = 1e-10


@dataclass
class StateSpaceFit:
    mean: np.ndarray  # posterior mean of the log close on every point of the window (NaN where not filled)
    var: np.ndarray  # its posterior variance (0 on observed points)
    sigma: float  # daily sd of the residual move, sqrt(s2)
    beta: tuple[float, ...]  # loadings on the references' log returns (empty without a reference)
    notes: tuple[str, ...] = ()
    _runs: list = field(default_factory=list, repr=False)  # (first, last, covariance) of each filled run

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One path of log closes on the window, drawn from the posterior of each gap (observed points kept)."""
        path = self.mean.copy()
        for first, last, cov in self._runs:
            chol = np.linalg.cholesky(cov + MIN_VARIANCE * np.eye(len(cov)))
            path[first : last + 1] = self.mean[first : last + 1] + chol @ rng.standard_normal(len(cov))
        return path


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


def conditional_moments(s2: float, steps: int, z: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of ``S_1 .. S_steps`` for a random walk ``S`` (``S_0 = 0``, step variance ``s2``)
    given one observation ``z = S_steps + e``, ``e ~ N(0, noise)`` (``noise = 0``: pinned, the bridge)."""
    k = np.arange(1, steps + 1, dtype=float)
    prior = s2 * np.minimum.outer(k, k)
    gain = prior[:, -1] / (prior[-1, -1] + noise)
    return gain * z, prior - np.outer(gain, prior[-1])


def _variance(values: np.ndarray) -> float:
    return float(np.var(values, ddof=1)) if len(values) > 1 else float("nan")


def fit_statespace(
    y: np.ndarray, x: np.ndarray | None = None, *, opens: np.ndarray | None = None, x_opens: np.ndarray | None = None
) -> StateSpaceFit:
    """Fill every run of NaN in ``y`` (log closes on the window) that has an observed close on both sides.

    ``x``: the references' log closes, one column each, finite from each run's left anchor to its right anchor
    (the caller keeps the others out); NaN elsewhere is left out of the estimates. ``opens``: the series' log
    opens (NaN where unknown); ``x_opens``: the references' log opens, NaN where a reference has none."""
    n = len(y)
    x = None if x is None else x.reshape(n, -1)
    dy = np.diff(y)
    if x is None:
        beta, moves = np.zeros(0), np.zeros((n, 0))
    else:
        beta = robust_loadings(dy, np.diff(x, axis=0))
        moves = x
    dx = np.diff(moves, axis=0)
    residual = dy - (dx @ beta if len(beta) else 0.0)
    residual = residual[np.isfinite(residual)]
    s2 = _variance(residual)
    notes: list[str] = []
    if not np.isfinite(s2) or s2 <= MIN_VARIANCE:  # a window too short or too quiet to say: 1% a day
        s2 = 1e-4
        notes.append("too few returns in the window to estimate the volatility: 1% a day assumed")
    overnight = _overnight(y, opens, moves, x_opens)
    mean, var, runs = np.full(n, np.nan), np.zeros(n), []
    missing = ~np.isfinite(y)
    t = 0
    while t < n:
        if not missing[t]:
            t += 1
            continue
        first = t
        while t < n and missing[t]:
            t += 1
        last, a, b = t - 1, first - 1, t
        if a < 0 or b >= n:
            continue  # no anchor on one side: not a gap of this window
        base = y[a] + ((moves[first:b] - moves[a]) @ beta if len(beta) else np.zeros(b - first))
        observed = overnight(b) if overnight is not None else None
        if observed is not None:
            value, noise = observed
            z = value - base[-1]
            steps = b - a - 1
        else:
            z = y[b] - (y[a] + ((moves[b] - moves[a]) @ beta if len(beta) else 0.0))
            noise, steps = 0.0, b - a
        walk, cov = conditional_moments(s2, steps, z, noise)
        size = b - a - 1
        mean[first:b] = base + walk[:size]
        cov = cov[:size, :size]
        var[first:b] = np.diag(cov)
        runs.append((first, last, cov))
    if overnight is None and opens is not None:
        notes.append("the right anchors' opens could not be used: the fill is pinned to their closes")
    return StateSpaceFit(mean=mean, var=np.maximum(var, 0.0), sigma=float(np.sqrt(s2)),
                         beta=tuple(float(b) for b in beta), notes=tuple(notes), _runs=runs)  # fmt: skip


def _overnight(y, opens, x, x_opens):
    """A function ``b -> (value, noise)``: the observation of ``y[b - 1]`` the open of ``b`` gives (the open less
    the expected overnight move), or None where it gives none; None if the window's opens are unusable."""
    if opens is None:
        return None
    n = len(y)
    x_opens = np.full_like(x, np.nan) if x_opens is None else x_opens.reshape(n, -1)
    move = opens[1:] - y[:-1]  # the overnight move of day t (t >= 1), finite where both are known
    ref_move = x_opens[1:] - x[:-1]
    with_open = [k for k in range(x.shape[1]) if np.isfinite(ref_move[:, k]).sum() >= MIN_OVERNIGHTS]
    ok = np.isfinite(move) & np.all(np.isfinite(ref_move[:, with_open]), axis=1)
    if ok.sum() < MIN_OVERNIGHTS:
        return None
    centre = float(np.mean(move[ok]))
    gamma = robust_loadings(move[ok] - centre, ref_move[ok][:, with_open]) if with_open else np.zeros(0)
    fitted = ref_move[ok][:, with_open] @ gamma if with_open else 0.0
    noise = _variance(move[ok] - fitted)
    if not np.isfinite(noise) or noise <= MIN_VARIANCE:
        return None

    def observe(b: int) -> tuple[float, float] | None:
        expected = centre + (ref_move[b - 1, with_open] @ gamma if with_open else 0.0)
        if not np.isfinite(opens[b]) or not np.isfinite(expected):
            return None
        return float(opens[b] - expected), noise

    return observe
