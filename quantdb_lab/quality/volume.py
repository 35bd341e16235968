"""Volume, amount and turnover: unit switches, turnover that disagrees with volume, spikes, stale bars and
rows without trades.

* Unit switch: ``amount / volume`` is the day's average price. Its ratio to the close is steady for a security
  (1 for unadjusted bars, the adjustment factor for adjusted ones), so a ratio 100x off its rolling median
  means volume came in another unit (shares where lots were expected: Eastmoney on 2026-01-27/28).
* Turnover mismatch: ``volume / turnover`` is the free float, steady except at share-structure events. A row
  with volume and zero turnover, or a float more than 3x or under a third of its rolling median (a 10-for-10 bonus doubles it), has a
  turnover that does not belong to its volume.
"""

from __future__ import annotations

import math

import polars as pl

from quantdb_lab.quality.issues import INFO, WARNING, emit, fmt, text
from quantdb_lab.quality.outliers import mad_normaliser
from quantdb_lab.quality.params import QualityParams

_TRADED = (pl.col("volume") > 0) & pl.col("volume").is_not_null()
_LOCAL = 41  # sessions in the local volume baseline (as outliers.check_volume_outliers)
_RESUME_DAYS = 14  # calendar days between bars beyond the longest exchange holiday (Spring Festival ~11)


def unit_factor(ctx: pl.DataFrame, params: QualityParams) -> pl.Series:
    """Per row, what volume must be multiplied by: 0.01 or 100 where a unit switch is found, else 1.0."""
    avg = pl.when(_TRADED & (pl.col("amount") > 0) & (pl.col("close") > 0)).then(
        pl.col("amount") / pl.col("volume") / pl.col("close")
    )
    lo, hi = params.unit_band
    frame = ctx.select(avg.alias("r")).with_columns(ctx.get_column("symbol")).with_columns(
        (pl.col("r") / pl.col("r").rolling_median(21, center=True, min_samples=5).over("symbol")).alias("q")
    )
    q = pl.col("q")
    return frame.select(
        pl.when(q.is_between(lo, hi)).then(0.01).when(q.is_between(1.0 / hi, 1.0 / lo)).then(100.0)
        .otherwise(1.0).alias("_unit")
    )["_unit"]  # fmt: skip


def check_unit_switch(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    """Rows whose volume is in the wrong unit (``ctx`` has ``_unit`` from ``unit_factor``); corrected."""
    rows = ctx.filter(pl.col("_unit") != 1.0)
    detail = text(
        "volume off by {}x against amount / price; corrected {} -> {} shares",
        fmt(1.0 / pl.col("_unit"), 2), fmt(pl.col("volume"), 0), fmt(pl.col("volume") * pl.col("_unit"), 0),
    )
    return emit(rows, "volume_unit", WARNING, detail, status="corrected")


def float_baseline(ctx: pl.DataFrame) -> pl.DataFrame:
    """Add ``_float`` (volume / turnover) and its rolling median ``_float_base`` per symbol."""
    turnover = pl.col("turnover")
    # turnover comes in percent with two decimals (a step of 0.0001 as a fraction): from 0.0002 on, the
    # rounding error is at most 25 %, and the median absorbs it. A higher floor leaves the largest caps
    # (ICBC trades ~0.05 % a day) without a float of their own, so rows of another security set the baseline.
    return ctx.with_columns(
        pl.when((turnover >= 0.0002) & _TRADED).then(pl.col("volume") / turnover).alias("_float")
    ).with_columns(pl.col("_float").rolling_median(41, center=True, min_samples=5).over("symbol").alias("_float_base"))


def check_turnover(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    """Turnover zero (or missing) while shares traded, or implying a free float off by more than 3x.
    Corrected from the series' own float where it can be estimated (``.corrected``)."""
    ratio = pl.col("volume") / pl.col("turnover") / pl.col("_float_base")
    zero = _TRADED & ((pl.col("turnover") == 0) | pl.col("turnover").is_null()) & pl.col("_float_base").is_not_null()
    # turnover is reported in percent to two decimals: allow for that rounding on tiny turnovers
    off = _TRADED & (pl.col("turnover") > 0) & (ratio.log().abs() > math.log(3.0) + 1e-4 / pl.col("turnover"))
    rows = ctx.filter(zero | off)
    detail = text(
        "turnover {} does not match volume {} (float {}x the series'); corrected to {}",
        fmt(pl.col("turnover"), 5), fmt(pl.col("volume"), 0), fmt(ratio, 2),
        fmt(pl.col("volume") / pl.col("_float_base"), 5),
    )  # fmt: skip
    return emit(rows, "turnover_mismatch", WARNING, detail, status="corrected")


def check_volume_spike(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    """A day far above its local volume level (info), not explained by a listing day or a resumption.

    Baseline: the centred rolling median of log volume over ``_LOCAL`` traded sessions (as ``volume_outlier``),
    so a busy stretch before the day does not hide a spike and a lasting change of level is not one. A spike
    is at least ``spike_ratio`` times that level *and* ``spike_z`` robust sigmas above it, the sigma being the
    local MAD of the residuals (``statsmodels``' definition): a volume that swings widely every day needs a
    bigger jump. The first bar of a listing in the frame and the first bar after a row without trades or after
    more than ``_RESUME_DAYS`` calendar days (a suspension ends) are not judged: volume there is high by nature.
    """
    logv = pl.when(_TRADED).then(pl.col("volume").log())
    local = pl.col("_lv").rolling_median(_LOCAL, center=True, min_samples=_LOCAL // 2).over("symbol")
    resid = pl.col("_lv") - pl.col("_vloc")
    spread = resid.abs().rolling_median(_LOCAL, center=True, min_samples=_LOCAL // 2).over("symbol") / mad_normaliser()
    listed_here = pl.col("_list_date").is_null() | (pl.col("_list_date") >= pl.col("date").first().over("symbol"))
    gap = (pl.col("date") - pl.col("date").shift(1).over("symbol")).dt.total_days()
    resumed = (~_TRADED).shift(1).over("symbol").fill_null(False) | (gap > _RESUME_DAYS).fill_null(False)
    listing = (pl.col("_i") == 0) & listed_here
    marked = ctx.with_columns(logv.alias("_lv")).with_columns(local.alias("_vloc")).with_columns(
        resid.alias("_vres"), spread.alias("_vsd")
    )
    scale = params.scale("volume_spike")
    z = pl.when(pl.col("_vsd") > 0).then(pl.col("_vres") / pl.col("_vsd")).otherwise(float("inf"))
    spike = (
        _TRADED & ~listing & ~resumed
        & (pl.col("_vres") >= (params.spike_ratio * scale).log())
        & (z >= params.spike_z * scale)
    )  # fmt: skip
    rows = marked.with_columns(z.alias("_vz")).filter(spike.fill_null(False))
    detail = text("volume {}x its local median ({} robust sigmas above it)", fmt(pl.col("_vres").exp(), 1),
                  fmt(pl.col("_vz"), 1))  # fmt: skip
    return emit(rows, "volume_spike", INFO, detail)


def check_stale(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    """A traded bar repeating the previous one exactly (prices, volume and amount): the source served stale data."""
    fields = ("open", "high", "low", "close", "volume", "amount")
    same = pl.all_horizontal((pl.col(c) == pl.col(c).shift(1).over("symbol")).fill_null(False) for c in fields)
    # repeats so far = rows since the last row that was not a repeat (each symbol's first row never is one)
    marked = ctx.with_columns((same & _TRADED).alias("_same")).with_columns(
        (pl.int_range(pl.len()) - pl.when(~pl.col("_same")).then(pl.int_range(pl.len())).forward_fill())
        .alias("_repeat")
    )
    rows = marked.filter(pl.col("_same") & (pl.col("_repeat") >= params.stale_run * params.scale("stale_bar")))
    return emit(rows, "stale_bar", WARNING, text("bar repeats the previous one exactly ({} in a row)", "_repeat"))


def check_no_trades(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    """Rows with zero or missing volume: a suspension written as a bar (info)."""
    rows = ctx.filter(~_TRADED)
    return emit(rows, "suspended_row", INFO, text("no trades (volume {}); a suspension row", fmt(pl.col("volume"), 0)))

