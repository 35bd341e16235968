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
