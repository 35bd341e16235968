"""Measures computed from bars: pure polars, frames in and frames out.

Definitions (the insights and tests rely on them):

* ``return``: last close / first close - 1 over the bars in the period (forward-adjusted closes by default);
* ``volatility``: sample standard deviation of daily simple returns (close / previous close - 1, within the
  period) times sqrt(252), i.e. annualised;
* ``volume``: mean daily volume in shares; ``turnover``: mean daily turnover as a fraction of the free float;
* ``drawdown``: the maximum drawdown, the largest fall from a running peak of the close inside the period,
  as a positive fraction (0.25 = 25% below the peak at the worst point);
* ``sharpe``: mean daily return / its sample standard deviation times sqrt(252), risk-free rate taken as 0;
* ``beta``: covariance of the daily returns with the benchmark's on common days / the benchmark's variance
  (at least 20 common days);
* volume spike: a day's volume / the median volume of the previous 20 sessions (at least 10 of them);
* price move: a day's return / the standard deviation of the previous 60 sessions' returns (at least 20);
  a percent move: a day's return of at least the threshold in percent.
"""

from __future__ import annotations

import math

import polars as pl

ANNUAL = math.sqrt(252.0)
VOLUME_BASELINE = 20
PRICE_BASELINE = 60

_RET = (pl.col("close") / pl.col("close").shift(1) - 1.0).over("symbol")


MIN_BETA_DAYS = 20
_DRAWDOWN = (1.0 - pl.col("close") / pl.col("close").cum_max()).max()
_SHARPE = pl.col("daily_return").drop_nulls().mean() / pl.col("daily_return").drop_nulls().std(ddof=1) * ANNUAL


def _with_beta(bars: pl.DataFrame, benchmark: pl.DataFrame | None) -> pl.DataFrame:
    """``bars`` (with ``daily_return``) plus ``bench``, the benchmark's return on the same day (null if none)."""
    if benchmark is None:
        return bars.with_columns(pl.lit(None, pl.Float64).alias("bench"))
    return bars.join(benchmark.select("date", pl.col("bench")), on="date", how="left")


def _beta_expr() -> pl.Expr:
    pair = pl.col("daily_return").is_not_null() & pl.col("bench").is_not_null()
    r, b = pl.col("daily_return").filter(pair), pl.col("bench").filter(pair)
    value = pl.cov(r, b) / b.var()
    return pl.when(pair.sum() >= MIN_BETA_DAYS).then(value).otherwise(None)


def _value(metric: str) -> pl.Expr:
    return {
        "return": pl.col("close").last() / pl.col("close").first() - 1.0,
        "volatility": pl.col("daily_return").drop_nulls().std(ddof=1) * ANNUAL,
        "volume": pl.col("volume").mean(),
        "turnover": pl.col("turnover").mean(),
        "price": pl.col("close").last(),
        "drawdown": _DRAWDOWN,
        "sharpe": _SHARPE,
        "beta": _beta_expr(),
    }[metric]


def period_metric(frame: pl.DataFrame, metric: str, benchmark: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per symbol: ``value`` of ``metric`` plus ``bars``, ``first_date``, ``last_date``, ``first_close``,
    ``last_close`` and ``return`` (always, for context). ``benchmark`` (``date``, ``bench``: daily returns) is
    needed for beta."""
    bars = frame.sort("symbol", "date").with_columns(_RET.alias("daily_return"))
    if metric == "beta":
        bars = _with_beta(bars, benchmark)
    value = _value(metric)
    return bars.group_by("symbol", maintain_order=True).agg(
        value.alias("value"),
        pl.len().alias("bars"),
        pl.col("date").first().alias("first_date"),
        pl.col("date").last().alias("last_date"),
        pl.col("close").first().alias("first_close"),
        pl.col("close").last().alias("last_close"),
        (pl.col("close").last() / pl.col("close").first() - 1.0).alias("return"),
    )


def ranked(metrics: pl.DataFrame, *, descending: bool, n: int) -> pl.DataFrame:
    """The best (or worst) ``n`` rows by ``value`` with a 1-based ``rank``; rows without a value are dropped."""
    usable = metrics.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
    ordered = usable.sort(["value", "symbol"], descending=[descending, False])
    return ordered.head(n).with_row_index("rank", offset=1)


def volume_spikes(frame: pl.DataFrame, *, start, end, threshold: float) -> pl.DataFrame:
    """Days in ``[start, end]`` whose volume is at least ``threshold`` times the prior 20-session median."""
    bars = frame.sort("symbol", "date").with_columns(
        pl.col("volume").shift(1).rolling_median(VOLUME_BASELINE, min_samples=10).over("symbol").alias("baseline"),
        _RET.alias("daily_return"),
    )
    return (
        bars.with_columns((pl.col("volume") / pl.col("baseline")).alias("ratio"))
        .filter(pl.col("date").is_between(start, end) & (pl.col("ratio") >= threshold))
        .select("symbol", "date", "volume", "baseline", "ratio", "daily_return", "close")
        .sort(["ratio", "symbol"], descending=[True, False])
    )


def _direction(column: str, direction: str) -> pl.Expr:
    return {"up": pl.col(column) > 0, "down": pl.col(column) < 0}.get(direction, pl.lit(True))


def percent_moves(frame: pl.DataFrame, *, start, end, threshold: float, direction: str = "any") -> pl.DataFrame:
    """Days in ``[start, end]`` whose return is at least ``threshold`` percent (up, down or either way)."""
    bars = frame.sort("symbol", "date").with_columns(_RET.alias("daily_return"))
    return (
        bars.filter(pl.col("date").is_between(start, end) & (pl.col("daily_return").abs() >= threshold / 100.0)
                    & _direction("daily_return", direction))
        .select("symbol", "date", "close", "daily_return", "volume")
        .sort([pl.col("daily_return").abs(), pl.col("symbol")], descending=[True, False])
    )  # fmt: skip


def price_moves(frame: pl.DataFrame, *, start, end, threshold: float, direction: str = "any") -> pl.DataFrame:
    """Days in ``[start, end]`` whose return is at least ``threshold`` prior-60-session standard deviations."""
    bars = frame.sort("symbol", "date").with_columns(_RET.alias("daily_return"))
    bars = bars.with_columns(
        pl.col("daily_return").shift(1).rolling_std(PRICE_BASELINE, min_samples=20).over("symbol").alias("sigma")
    )
    return (
        bars.with_columns((pl.col("daily_return") / pl.col("sigma")).alias("z"))
        .filter(pl.col("date").is_between(start, end) & (pl.col("z").abs() >= threshold) & _direction("z", direction))
        .select("symbol", "date", "close", "daily_return", "sigma", "z", "volume")
        .sort([pl.col("z").abs(), pl.col("symbol")], descending=[True, False])
    )


def daily_returns(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """``date``, ``<name>``: daily simple returns of one series (``date``, ``close``)."""
    series = frame.sort("date").select("date", (pl.col("close") / pl.col("close").shift(1) - 1.0).alias(name))
    return series.drop_nulls()


def equal_weight_returns(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """``date``, ``<name>``, ``members``: the mean daily return over the symbols trading that day."""
    bars = frame.sort("symbol", "date").with_columns(_RET.alias("r")).drop_nulls("r")
    return bars.group_by("date").agg(pl.col("r").mean().alias(name), pl.len().alias("members")).sort("date")


def correlation(left: pl.DataFrame, right: pl.DataFrame, a: str, b: str) -> tuple[pl.DataFrame, float | None, float | None]:
    """Joined daily returns, their Pearson correlation and the beta of ``b`` on ``a`` (None below 20 days)."""
    joined = left.join(right.select("date", b), on="date", how="inner").sort("date")
    if joined.height < 20:
        return joined, None, None
    corr = joined.select(pl.corr(a, b)).item()
    beta = joined.select(pl.cov(a, b) / pl.col(a).var()).item()
    window = min(60, max(20, joined.height // 4))
    rolled = joined.with_columns(pl.rolling_corr(pl.col(a), pl.col(b), window_size=window).alias("rolling_corr"))
    return rolled, corr, beta


def window_metric(frame: pl.DataFrame, metric: str, spans: list[tuple],
                  benchmark: pl.DataFrame | None = None) -> pl.DataFrame:  # fmt: skip
    """``metric`` per symbol over the sessions inside any of ``spans`` ((start, end) inclusive), from daily
    returns computed on the whole frame first: a window's first day counts its return from the previous
    session's close. ``return`` compounds the daily returns inside; ``volatility`` is their annualised sample
    standard deviation; ``volume``/``turnover`` are means over the days inside."""
    bars = frame.sort("symbol", "date").with_columns(_RET.alias("daily_return"))
    mask = pl.lit(False)
    for first, last in spans:
        mask = mask | pl.col("date").is_between(first, last)
    inside = bars.filter(mask)
    if metric == "beta":
        inside = _with_beta(inside, benchmark)
    compounded = (pl.col("daily_return").drop_nulls() + 1.0).product() - 1.0
    value = compounded if metric == "return" else _value(metric)
    return inside.group_by("symbol", maintain_order=True).agg(
        value.alias("value"),
        pl.len().alias("bars"),
        pl.col("date").first().alias("first_date"),
        pl.col("date").last().alias("last_date"),
        compounded.alias("return"),
    )
