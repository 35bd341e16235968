"""Completeness against the trading calendar: missing sessions told apart from suspensions, and bars on days
that were not sessions.

A session between a security's first and last row without a bar is either a suspension or data the source
lost. The exchange's reference price after a suspension is the last close before it, so the first bar after
the gap reports ``close - change`` equal to the close before the gap; after lost rows it reports the close of
a session we do not have. Hence: *suspension* (info) when a ``suspensions`` table covers the session, or when
the reference matches the pre-gap close, or is below it after a gap of 5+ sessions (an ex-date on the day
trading resumes), or (when ``change`` is unknown) the gap is 3+ sessions long; otherwise
*missing_session* (warning). A 1-session loss on a day the close did not move cannot be told from a 1-day
suspension this way and is reported as a suspension.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from quantdb_lab.quality.issues import ERROR, INFO, WARNING, emit, empty_issues, fmt, text
from quantdb_lab.quality.params import QualityParams


def sessions_frame(sessions: np.ndarray | list[date] | pl.Series) -> pl.DataFrame:
    if isinstance(sessions, np.ndarray) and sessions.dtype.kind in "iu":
        values = pl.Series("date", sessions.astype("datetime64[D]"))
    else:
        values = pl.Series("date", sessions)
    return pl.DataFrame({"date": values.cast(pl.Date)}).unique().sort("date")


def check_sessions(
    ctx: pl.DataFrame,
    params: QualityParams,
    sessions: pl.DataFrame,
    suspensions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    if ctx.is_empty() or sessions.is_empty():
        return empty_issues()
    issues = [empty_issues()]
    off = ctx.join(sessions, on="date", how="anti").filter(
        pl.col("date").is_between(sessions["date"].min(), sessions["date"].max())
    )
    issues.append(emit(off, "not_a_session", ERROR, pl.lit("bar dated on a day the exchange was closed")))
    bounds = ctx.group_by("symbol").agg(pl.col("date").min().alias("lo"), pl.col("date").max().alias("hi"))
    expected = (
        bounds.join(sessions.filter(pl.col("date").is_between(bounds["lo"].min(), bounds["hi"].max())), how="cross")
        .filter(pl.col("date").is_between(pl.col("lo"), pl.col("hi")))
        .select("symbol", "date")
    )
    missing = expected.join(ctx.select("symbol", "date"), on=["symbol", "date"], how="anti").sort("symbol", "date")
    if missing.is_empty():
        return pl.concat(issues)
    present = ctx.select(
        "symbol", "date", pl.col("date").alias("_after"), pl.col("close").alias("_before_close"),
        (pl.col("close") - pl.col("change")).alias("_after_ref"),
    ).sort("symbol", "date")  # fmt: skip
    gaps = missing.join_asof(
        present.select("symbol", "date", "_after", "_after_ref"), on="date", by="symbol", strategy="forward", check_sortedness=False
    ).join_asof(present.select("symbol", "date", "_before_close"), on="date", by="symbol", strategy="backward", check_sortedness=False)
    gaps = gaps.with_columns(pl.len().over("symbol", "_after").alias("_gap"))
    before = pl.col("_before_close")
    matches = (pl.col("_after_ref") - before).abs() <= 0.0051 + 0.0005 * before.abs()  # equal to the cent
    # an ex-date may fall on the day trading resumes: a long gap ending below the pre-gap close is a suspension
    ex_rights = (pl.col("_gap") >= 5) & (pl.col("_after_ref") < before)
    suspended = pl.when(pl.col("_after_ref").is_null()).then(pl.col("_gap") >= 3).otherwise(matches | ex_rights)
    if suspensions is not None and not suspensions.is_empty():
        spans = suspensions.select(pl.col("symbol").cast(pl.String), pl.col("start").cast(pl.Date),
                                   pl.col("end").cast(pl.Date))  # fmt: skip
        covered = gaps.join(spans, on="symbol", how="inner").filter(
            pl.col("date").is_between(pl.col("start"), pl.col("end"))
        ).select("symbol", "date").unique().with_columns(pl.lit(True).alias("_listed"))
        gaps = gaps.join(covered, on=["symbol", "date"], how="left")
        suspended = pl.col("_listed").fill_null(False) | suspended
    gaps = gaps.with_columns(suspended.fill_null(False).alias("_suspended"))
    issues.append(emit(
        gaps.filter(pl.col("_suspended")), "suspension", INFO,
        text("no bar: suspended ({}-session gap; trading resumed {} from the pre-gap close {})",
                  "_gap", "_after", fmt(before, 3)),
    ))  # fmt: skip
    issues.append(emit(
        gaps.filter(~pl.col("_suspended")), "missing_session", WARNING,
        text("no bar for this session ({}-session gap); the bar of {} reports a previous close of {}, not {}",
                  "_gap", "_after", fmt(pl.col("_after_ref"), 3), fmt(before, 3)),
    ))  # fmt: skip
    return pl.concat(issues)
