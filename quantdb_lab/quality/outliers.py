"""Statistical outliers against each security's own robust baseline (statsmodels' MAD scale).

Scale and centre are the median and ``statsmodels.robust.scale.mad`` of the series within each calendar year
(volatility and volume levels drift over decades; a year is long enough for a stable MAD and short enough to
follow the drift). Years with fewer than 20 usable rows are not judged.

* ``return_outlier``: a one-day spike: the log return against the reference close is at least ``return_z``
  robust sigmas and the next day gives back at least half of it. Genuine big moves rarely revert the next day;
  bad prints always do. (Moves that stay are judged by ``price_limit`` and ``continuity``.)
* ``volume_outlier``: log volume at least ``volume_z`` robust sigmas (the MAD of the year's residuals) from
  its local level (centred rolling median of 41 sessions), either way (truncated provisional volumes and
  fat-finger volumes alike).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl

from quantdb_lab.quality.issues import INFO, emit, fmt, text
from quantdb_lab.quality.params import QualityParams

_MIN_ROWS = 20
_LOCAL = 41  # sessions in the local volume baseline


@cache
def mad_normaliser() -> float:
    """The constant ``statsmodels.robust.scale.mad`` divides by (the normal's 3/4 quantile, ~0.6745).

    statsmodels is imported here, once and only when a report is built: it is heavy and only quality needs it.
    """
    from statsmodels.robust.scale import mad

    return 1.0 / float(mad(np.array([-1.0, 1.0]), center=0.0))


def robust_z(ctx: pl.DataFrame, value: pl.Expr) -> np.ndarray:
    """(value - median) / MAD per (symbol, year) of ``ctx``'s rows (sorted by symbol, date); nan if unjudged.

    The MAD is statsmodels' (``median(|x - median|) / 0.6745``), computed for all groups at once in polars."""
    frame = ctx.select(  # evaluate ``value`` once (it may hold rolling windows), then work per group
        pl.when(value.is_finite()).then(value).cast(pl.Float64).alias("v"),
        (pl.col("symbol").rank("dense").cast(pl.Int64) * 10_000 + pl.col("date").dt.year()).alias("g"),
    )
    v = pl.col("v")
    frame = frame.with_columns(v.median().over("g").alias("c"), v.count().over("g").alias("k"))
    frame = frame.with_columns(((v - pl.col("c")).abs().median().over("g") / mad_normaliser()).alias("s"))
    ok = (pl.col("k") >= _MIN_ROWS) & (pl.col("s") > 0)
    z = frame.select(pl.when(ok).then((v - pl.col("c")) / pl.col("s")).alias("z"))
    return z.get_column("z").fill_null(np.nan).to_numpy()


def check_return_outliers(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    # the smaller of the plain return and the one at the traded level: right for multiplicative and for
    # additive (Eastmoney qfq, meaningless near zero) adjustment alike (see prepare.traded_offset)
    ref, close = pl.col("_ref") + pl.col("_offset"), pl.col("close") + pl.col("_offset")
    traded = pl.when((ref > 0) & (close > 0)).then((close / ref).log())
    plain = pl.when((pl.col("_ref") > 0) & (pl.col("close") > 0)).then((pl.col("close") / pl.col("_ref")).log())
    ret = pl.when(plain.is_null() | (traded.abs() < plain.abs())).then(traded).otherwise(plain)
    z = robust_z(ctx, ret)
    marked = ctx.with_columns(ret.alias("_ret"), pl.Series("_z", z, nan_to_null=True)).with_columns(
        pl.col("_ret").shift(-1).over("symbol").alias("_next")
    )
    spike = (pl.col("_z").abs() >= params.return_z * params.scale("return_outlier")) & (
        -pl.col("_next") * pl.col("_ret").sign() >= 0.5 * pl.col("_ret").abs()
    )
    rows = marked.filter(spike.fill_null(False))
    detail = text("return {}% is {} robust sigmas and reverts next day ({}%)",
                       fmt(pl.col("_ret") * 100, 2), fmt(pl.col("_z"), 1), fmt(pl.col("_next") * 100, 2))
    return emit(rows, "return_outlier", INFO, detail)


def check_volume_outliers(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    # against the local level (rolling median of 41 sessions) rather than the year's: volume drifts within a
    # year, and that drift inflates a year-wide MAD until a volume cut to 1/60 hides inside it
    logv = pl.when(pl.col("volume") > 0).then(pl.col("volume").log())
    local = logv.rolling_median(_LOCAL, center=True, min_samples=_LOCAL // 2).over("symbol")
    z = robust_z(ctx, logv - local)
    marked = ctx.with_columns(pl.Series("_z", z, nan_to_null=True))
    rows = marked.filter((pl.col("_z").abs() >= params.volume_z * params.scale("volume_outlier")).fill_null(False))
    return emit(rows, "volume_outlier", INFO, text("log volume {} robust sigmas from its local median",
                                                        fmt(pl.col("_z"), 1)))
