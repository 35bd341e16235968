"""Cross-check of two sources' bars where they overlap: prices within rounding, volumes in the same unit.

Both frames are canonical unadjusted ``BARS`` (volume in shares), so "the same adjustment and units" is what
the transforms already give; a source whose volume is off by a constant factor (lots against shares) or whose
prices differ by more than its rounding is named in the issue together with the other source. Pure: frames
in, issue rows out (``quality.issues.ISSUES``, check ``source_mismatch``, severity ``error``).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from quantdb_lab.quality.issues import ERROR, emit, empty_issues, fmt, text

PRICES: Final = ("open", "high", "low", "close")
CHECK: Final = "source_mismatch"
VOLUME_TOLERANCE: Final = 0.02  # relative: volumes are integers in shares on both sides, rounding is tiny


def price_tolerance(decimals: int) -> float:
    """Two prices rounded to ``decimals`` that describe the same trade differ by at most one unit there."""
    return 10.0 ** -decimals * 1.01


def compare_sources(ours: pl.DataFrame, theirs: pl.DataFrame, *, ours_name: str, theirs_name: str,
                    decimals: int = 2) -> pl.DataFrame:  # fmt: skip
    """Issue rows for every common session where ``theirs`` disagrees with ``ours`` (empty: they agree, or
    there is no common session)."""
    keep = ["date", *PRICES, "volume"]
    joined = ours.select("symbol", *keep).join(theirs.select(keep), on="date", suffix="_other")
    if joined.is_empty():
        return empty_issues()
    tolerance = price_tolerance(decimals)
    worst = pl.max_horizontal([(pl.col(c) - pl.col(f"{c}_other")).abs() for c in PRICES])
    ratio = pl.col("volume_other") / pl.col("volume")
    volume_off = (pl.col("volume") > 0) & ((ratio - 1.0).abs() > VOLUME_TOLERANCE)
    joined = joined.with_columns(worst.alias("_worst"), ratio.alias("_ratio"))
    prices = joined.filter(pl.col("_worst") > tolerance)
    volumes = joined.filter((pl.col("_worst") <= tolerance) & volume_off)
    return pl.concat([
        emit(prices, CHECK, ERROR, text(f"{theirs_name} and {ours_name} disagree: close {{}} vs {{}}, largest price "
                                        f"gap {{}} (tolerance {tolerance:.4f})",
                                        fmt(pl.col("close_other")), fmt(pl.col("close")), fmt(pl.col("_worst")))),
        emit(volumes, CHECK, ERROR, text(f"{theirs_name} volume is {{}} x {ours_name}'s (units?)",
                                         fmt(pl.col("_ratio"), 3))),
    ]).sort("date")  # fmt: skip
