"""The state-space fill's estimator against values computed here independently.

The conditional mean and covariance of a Gaussian random walk given a noisy observation of its last step are
computed in each test from the joint covariance (cumulative-sum operator, Schur complement with numpy), never
by the code under test; the end-to-end checks compare fills with the truth of simulated series whose model is
known, and with the truth of real series.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from quantdb_lab.synthesis import fill_gaps
from quantdb_lab.synthesis.statespace import conditional_moments, fit_statespace
from tests.support.sim import weekdays


def gaussian_conditional(s2: float, steps: int, z: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """E and Cov of S_1..S_steps given z = S_steps + e, from the joint covariance of (S, z) by numpy."""
    walk = np.tril(np.ones((steps, steps)))  # S = walk @ r, r ~ N(0, s2 I)
    cov_s = s2 * walk @ walk.T
    pick = np.zeros(steps)
    pick[-1] = 1.0
    cov_sz = cov_s @ pick
    var_z = pick @ cov_s @ pick + noise
    return cov_sz * z / var_z, cov_s - np.outer(cov_sz, cov_sz) / var_z


@pytest.mark.parametrize(("s2", "steps", "z", "noise"), [(4e-4, 1, 0.03, 1e-4), (2.5e-4, 5, -0.07, 6e-5),
                                                         (9e-4, 10, 0.12, 3e-4), (1e-4, 4, 0.02, 0.0)])  # fmt: skip
def test_conditional_moments_equal_the_gaussian_conditional(s2, steps, z, noise):
    mean, cov = conditional_moments(s2, steps, z, noise)
    expected_mean, expected_cov = gaussian_conditional(s2, steps, z, noise)
    assert np.allclose(mean, expected_mean, rtol=1e-12, atol=1e-15)
    assert np.allclose(cov, expected_cov, rtol=1e-10, atol=1e-15)


def test_pinned_end_is_the_brownian_bridge():
    """noise = 0 at step n: mean z k / n and variance s2 k (n - k) / n, written out by hand."""
    mean, cov = conditional_moments(1e-4, 4, 0.08, 0.0)
    assert np.allclose(mean, [0.02, 0.04, 0.06, 0.08])
    assert np.allclose(np.diag(cov)[:3], [1e-4 * 3 / 4, 1e-4 * 4 / 4, 1e-4 * 3 / 4])
    assert abs(cov[-1, -1]) < 1e-18


def simulate(rng, n=200, beta=0.9, s=0.015, s_open=0.005, gamma=0.8):
    """Log closes, log opens and the index's of a stock that follows the model exactly."""
    index_close, index_open = np.empty(n), np.empty(n)
    stock_close, stock_open = np.empty(n), np.empty(n)
    index_close[0] = stock_close[0] = 0.0
    index_open[0] = stock_open[0] = 0.0
    for t in range(1, n):
        index_open[t] = index_close[t - 1] + rng.normal(0, 0.004)
        index_close[t] = index_open[t] + rng.normal(0, 0.011)
        stock_open[t] = stock_close[t - 1] + gamma * (index_open[t] - index_close[t - 1]) + rng.normal(0, s_open)
        intraday = np.sqrt(s**2 - s_open**2)
        stock_close[t] = stock_open[t] + (index_close[t] - index_close[t - 1]) * beta \
            - gamma * (index_open[t] - index_close[t - 1]) + rng.normal(0, intraday)  # fmt: skip
    return stock_close, stock_open, index_close, index_open


def test_a_gap_is_conditioned_on_the_right_anchors_open_as_the_closed_form_says():
    """On one simulated window the fill equals the closed form computed here with the fit's own estimates
    (loading, volatilities) and the independent Gaussian conditional."""
    rng = np.random.default_rng(21)
    y, o, x, xo = simulate(rng)
    held = y.copy()
    held[100:103] = np.nan  # three missing days: left anchor 99, right anchor 103
    fit = fit_statespace(held, x[:, None], opens=np.where(np.isnan(held), np.nan, o), x_opens=xo[:, None])
    (beta,) = fit.beta
    assert beta == pytest.approx(0.9, abs=0.15)
    # the overnight estimates, computed here: mean, loading by least squares, residual variance
    obs = ~np.isnan(held)
    ok = obs[1:] & obs[:-1]
    move, ref_move = (o[1:] - held[:-1])[ok], (xo[1:] - x[:-1])[ok]
    centre = move.mean()
    gamma = np.linalg.lstsq(ref_move[:, None], move - centre, rcond=None)[0][0]
    noise = np.var(move - gamma * ref_move, ddof=1)
    assert gamma == pytest.approx(0.8, abs=0.2)
    base = held[99] + beta * (x[100:103] - x[99])
    z = o[103] - centre - gamma * (xo[103] - x[102]) - base[-1]
    walk, cov = gaussian_conditional(fit.sigma**2, 3, z, noise)
    # Huber and least squares differ a little on Gaussian data: a tolerance of a tenth of the daily sd
    assert np.allclose(fit.mean[100:103], base + walk, atol=0.1 * 0.015)
    assert np.allclose(fit.var[100:103], np.diag(cov), rtol=0.25)
    assert fit.sigma == pytest.approx(0.015, rel=0.2)


def frames(y, o, x, xo, days):
    close, opens = np.exp(y), np.exp(o)
    stock = pl.DataFrame({"symbol": "600000.SH", "date": days, "open": opens, "high": np.maximum(opens, close) * 1.01,
                          "low": np.minimum(opens, close) * 0.99, "close": close, "volume": 1e6})  # fmt: skip
    index = pl.DataFrame({"date": days, "open": 3000 * np.exp(xo), "close": 3000 * np.exp(x)})
    return stock, index


@pytest.mark.parametrize("length", [1, 5])
def test_on_the_true_model_the_fill_beats_interpolation_and_its_band_holds(length):
    """200 simulated gaps: the mean fill's error is near the oracle's (the true parameters, the closed form
    here), far below interpolation's, and the 90% band covers about 90% of the true closes."""
    rng = np.random.default_rng(5 + length)
    days = weekdays(date(2022, 1, 3), 200)
    errors = {"fill": [], "oracle": [], "interp": []}
    covered = []
    for _ in range(200):
        y, o, x, xo = simulate(rng)
        gap = list(range(100, 100 + length))
        stock, index = frames(y, o, x, xo, days)
        out = fill_gaps(stock.filter(~pl.col("date").is_in([days[i] for i in gap])), days, reference=index)
        synth = out.frame.filter(pl.col("is_synthetic"))
        truth = np.exp(y[gap])
        errors["fill"].append(np.abs(synth["close"].to_numpy() / truth - 1))
        covered.append((synth["close_lo"].to_numpy() <= truth) & (truth <= synth["close_hi"].to_numpy()))
        a, b = gap[0] - 1, gap[-1] + 1
        base = y[a] + 0.9 * (x[gap] - x[a])
        z = o[b] - 0.8 * (xo[b] - x[b - 1]) - base[-1]
        walk, _ = gaussian_conditional(0.015**2, length, z, 0.005**2)
        errors["oracle"].append(np.abs(np.exp(base + walk) / truth - 1))
        k = np.arange(1, length + 1) / (length + 1)
        errors["interp"].append(np.abs(np.exp(y[a] + (y[b] - y[a]) * k) / truth - 1))
    mae = {name: np.mean(np.concatenate(e)) for name, e in errors.items()}
    assert mae["fill"] < 1.1 * mae["oracle"]
    assert mae["fill"] < (0.5 if length == 1 else 0.8) * mae["interp"]
    assert 0.86 <= np.mean(np.concatenate(covered)) <= 0.94


def test_without_opens_the_fill_is_the_bridge_around_the_reference():
    """No open column: the walk is pinned at the right anchor's close (noise 0), the bridge around the
    references' moves, computed here by hand."""
    rng = np.random.default_rng(8)
    y, o, x, xo = simulate(rng)
    held = y.copy()
    held[60:64] = np.nan
    fit = fit_statespace(held, x[:, None])
    (beta,) = fit.beta
    k = np.arange(1, 5) / 5
    expected = held[59] + beta * (x[60:64] - x[59]) + k * ((y[64] - y[59]) - beta * (x[64] - x[59]))
    assert np.allclose(fit.mean[60:64], expected, atol=1e-12)
    assert np.allclose(fit.var[60:64], fit.sigma**2 * np.arange(1, 5) * np.arange(4, 0, -1) / 5)


def test_an_open_outside_the_days_range_is_not_used():
    """A corrupt open (above the day's high) must not steer the fill: the same fill as without opens."""
    rng = np.random.default_rng(3)
    y, o, x, xo = simulate(rng)
    days = weekdays(date(2022, 1, 3), 200)
    stock, index = frames(y, o, x, xo, days)
    held = stock.filter(pl.col("date") != days[100])
    bad = held.with_columns(pl.when(pl.col("date") == days[101]).then(pl.col("high") * 1.5).otherwise(pl.col("open"))
                            .alias("open"))  # fmt: skip
    no_open = held.with_columns(pl.lit(None, dtype=pl.Float64).alias("open"))  # opens unknown
    fills = [fill_gaps(f, days, reference=index.drop("open")).frame.filter(pl.col("is_synthetic"))["close"][0]
             for f in (bad, no_open)]  # fmt: skip
    assert fills[0] == pytest.approx(fills[1], rel=1e-9)
