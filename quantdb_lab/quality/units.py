"""Volume units as bars enter the cache: a row whose volume came in another unit is found against its
neighbours and corrected, reversibly (the row as received is returned beside the correction). Pure.

``amount / volume / close`` is the day's average price over the close, steady for a security; a row 100x off its
rolling median (``volume.unit_factor``) has volume in shares where lots were expected (or the reverse): Eastmoney
on 2026-01-27/28, in 49 of the shared files, with turnover 0. Its volume is multiplied back into shares and its
turnover, 0 where shares traded (impossible), becomes null. Judging needs neighbours: a series of fewer than five
traded rows (stored and fetched together) is left as it is.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

from quantdb_lab.quality.params import QualityParams
from quantdb_lab.quality.volume import unit_factor

MIN_ROWS: Final = 5  # a series shorter than this is left as it is: too few neighbours to judge against
MIN_SESSIONS: Final = 3  # minute bars: sessions needed to judge one against the others

CORRECTIONS: Final[dict[str, pl.DataType]] = {
    "date": pl.Date(),
    "volume_received": pl.Float64(),
    "turnover_received": pl.Float64(),
    "volume": pl.Float64(),  # as stored: volume_received x factor
    "factor": pl.Float64(),
}


def correct_volume_units(bars: pl.DataFrame, judged: list[date] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``bars`` (one symbol, sorted by date) with unit switches on the ``judged`` dates (None: every row)
    corrected, and the ``CORRECTIONS`` made (empty when none)."""
    if bars.height < MIN_ROWS:
        return bars, pl.DataFrame(schema=CORRECTIONS)
    factor = unit_factor(bars.select("symbol", "close", "volume", "amount"), QualityParams())
    marked = bars.with_columns(factor.alias("_unit"))
    hit = pl.col("_unit") != 1.0
    if judged is not None:
        hit = hit & pl.col("date").is_in(pl.Series(judged, dtype=pl.Date).implode())
    marked = marked.with_columns(hit.alias("_hit"))
    fixes = marked.filter(pl.col("_hit")).select(
        "date", pl.col("volume").alias("volume_received"), pl.col("turnover").alias("turnover_received"),
        (pl.col("volume") * pl.col("_unit")).alias("volume"), pl.col("_unit").alias("factor"),
    )  # fmt: skip
    if fixes.is_empty():
        return bars, fixes.cast(CORRECTIONS)
    fixed = marked.with_columns(
        pl.when(pl.col("_hit")).then(pl.col("volume") * pl.col("_unit")).otherwise(pl.col("volume")).alias("volume"),
        pl.when(pl.col("_hit") & (pl.col("turnover") == 0)).then(None).otherwise(pl.col("turnover")).alias("turnover"),
    ).drop("_unit", "_hit")
    return fixed, fixes.cast(CORRECTIONS)


def revert(bars: pl.DataFrame, corrections: pl.DataFrame) -> pl.DataFrame:
    """The bars as received: each corrected row's volume and turnover put back."""
    back = bars.join(corrections.select("date", "volume_received", "turnover_received"), on="date", how="left")
    return back.with_columns(
        pl.coalesce("volume_received", "volume").alias("volume"),
        pl.when(pl.col("volume_received").is_not_null()).then(pl.col("turnover_received")).otherwise(pl.col("turnover"))
        .alias("turnover"),
    ).select(bars.columns)


def correct_minute_units(bars: pl.DataFrame, judged: list[date] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Minute bars (``MINUTE_BARS``, unadjusted, one symbol) with each ``judged`` session (None: every one) whose
    volume came in another unit corrected, and the ``CORRECTIONS`` made, one row per session (``volume_received``
    and ``volume``: the session's totals). Minute bars are never adjusted, so ``amount / volume / close`` is near 1
    steady for a security (near 1 for a stock; an index's points are no price): a session whose median ratio over
    its traded bars lies 100x off the median of the sessions' ratios is in another unit. Judging needs neighbours:
    fewer than ``MIN_SESSIONS`` sessions are left as they are."""
    lo, hi = QualityParams().unit_band
    day = pl.col("time").dt.date()
    traded = (pl.col("volume") > 0) & (pl.col("amount") > 0) & (pl.col("close") > 0)
    ratio = pl.when(traded).then(pl.col("amount") / pl.col("volume") / pl.col("close"))
    sessions = bars.group_by(day.alias("date")).agg(ratio.median().alias("_r"), pl.col("volume").sum().alias("_v"))
    if sessions["_r"].drop_nulls().len() < MIN_SESSIONS:
        return bars, pl.DataFrame(schema=CORRECTIONS)
    r = pl.col("_r") / pl.col("_r").median()
    sessions = sessions.with_columns(
        pl.when(r.is_between(lo, hi)).then(0.01).when(r.is_between(1.0 / hi, 1.0 / lo)).then(100.0).otherwise(1.0)
        .alias("factor"))  # fmt: skip
    hit = pl.col("factor") != 1.0
    if judged is not None:
        hit = hit & pl.col("date").is_in(pl.Series(judged, dtype=pl.Date).implode())
    found = sessions.filter(hit).sort("date").select(
        "date", pl.col("_v").alias("volume_received"), pl.lit(None, pl.Float64).alias("turnover_received"),
        (pl.col("_v") * pl.col("factor")).alias("volume"), "factor",
    ).cast(CORRECTIONS)  # fmt: skip
    if found.is_empty():
        return bars, found
    factor = day.replace_strict(found["date"], found["factor"], default=1.0, return_dtype=pl.Float64)
    return bars.with_columns((pl.col("volume") * factor).alias("volume")), found


def revert_minutes(bars: pl.DataFrame, corrections: pl.DataFrame) -> pl.DataFrame:
    """Minute bars as received: each corrected session's volumes divided by its factor again."""
    day = pl.col("time").dt.date()
    factor = day.replace_strict(corrections["date"], corrections["factor"], default=1.0, return_dtype=pl.Float64)
    return bars.with_columns((pl.col("volume") / factor).alias("volume"))
