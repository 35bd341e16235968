"""Checks of minute bars (``MINUTE_BARS``), one issue per symbol and session, and their agreement with the daily
series (issue 19: daily bars derived from minutes equal the daily bars, OHLC exact, volume within the auction).

* ``minute_ohlc`` (error): bars whose open or close lies outside [low, high];
* ``minute_off_grid`` (error): bars stamped outside the session's minutes (over lunch, before 09:30, after 15:00)
  or off the bar length's grid;
* ``minute_missing`` (warning): a session with fewer bars than a whole session has; the minutes a closing call
  auction may leave out (14:58, 14:59) and the 09:30 auction bar are not counted; a circuit-breaker session
  (``domain.minute.EARLY_CLOSES``) is counted to its early close and reported as ``minute_early_close`` (info);
* ``minute_estimated_open`` (info): how many opens the upstream did not send (Eastmoney's ``open == 0.0``);
* ``minute_daily_ohlc`` (error) and ``minute_daily_volume`` (warning): the session's bar from the minutes
  against the daily bar; volume may differ by at most the auction bars' volume (a daily series may count the
  auctions differently) plus one lot per bar (rounding to lots).
"""

from __future__ import annotations

import polars as pl

from quantdb_lab.domain.minute import (
    CLOSE_AUCTION_MINUTES,
    EARLY_CLOSES,
    SESSION_MINUTES,
    daily_from_minutes,
    expected_bars,
    trading_minute,
)
from quantdb_lab.quality.issues import ERROR, INFO, WARNING, emit, empty_issues, text
from quantdb_lab.quality.report import QualityReport
from quantdb_lab.quality.score import compute_scores

_EPS = 1e-9
_LOT = 100.0


def _sessions(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("time").dt.date().alias("date"), trading_minute().alias("_minute"))


def check_minute_bars(frame: pl.DataFrame, minutes: int = 1) -> pl.DataFrame:
    """Issues of ``minutes``-long bars (see the module docstring)."""
    if frame.is_empty():
        return empty_issues()
    bars = _sessions(frame)
    found = []
    broken = (pl.col("low") > pl.min_horizontal("open", "close") + _EPS) | (pl.max_horizontal("open", "close") > pl.col("high") + _EPS)
    found.append(_per_session(bars.filter(broken), "minute_ohlc", ERROR, "{} bars with open or close outside [low, high]"))
    clock = pl.col("time").dt.hour().cast(pl.Int32) * 60 + pl.col("time").dt.minute().cast(pl.Int32)
    lunch = (clock > 11 * 60 + 30) & (clock <= 13 * 60)
    off = lunch | (pl.col("_minute") < 0) | (pl.col("_minute") > SESSION_MINUTES) | (
        (pl.col("_minute") % minutes != 0) & (pl.col("_minute") != 0))
    found.append(_per_session(bars.filter(off), "minute_off_grid", ERROR, "{} bars stamped outside the session's grid"))
    optional = pl.col("_minute").is_in([0]) | (clock.is_in(list(CLOSE_AUCTION_MINUTES)) & (minutes == 1))
    counted = bars.filter(~off & ~optional).group_by("symbol", "date").agg(pl.len().alias("bars"))
    early = pl.col("date").is_in(list(EARLY_CLOSES))
    expected = pl.col("date").map_elements(lambda day: expected_bars(minutes, day), return_dtype=pl.Int64)
    if minutes == 1:
        expected = expected - pl.when(early).then(0).otherwise(len(CLOSE_AUCTION_MINUTES))
    counted = counted.with_columns(expected.alias("expected"))
    short = counted.filter((pl.col("bars") < pl.col("expected")) & ~early)
    found.append(emit(short, "minute_missing", WARNING, text("{} of {} bars", pl.col("bars").cast(pl.String),
                                                              pl.col("expected").cast(pl.String))))  # fmt: skip
    found.append(emit(counted.filter(early), "minute_early_close", INFO,
                      text("market-wide circuit breaker: {} bars", pl.col("bars").cast(pl.String))))  # fmt: skip
    found.append(_per_session(bars.filter(pl.col("open_estimated")), "minute_estimated_open", INFO,
                              "{} opens not sent by the upstream (open == 0.0): estimated from the previous close"))
    return pl.concat(found).sort("symbol", "date", "check")


def minute_report(frame: pl.DataFrame, minutes: int, threshold: float) -> QualityReport:
    """``check_minute_bars`` as a report the mode's gate can judge (``quality.gate.enforce``). Minute issues are
    one per symbol and session, so the score counts sessions: the share of a series' sessions usable as they
    are (one session with a broken bar among four scores 0.75; a short session, a warning, costs half)."""
    issues = check_minute_bars(frame, minutes)
    sessions = frame.group_by("symbol").agg(pl.col("time").dt.date().n_unique().alias("rows"))
    return QualityReport(issues, frame, compute_scores(sessions, issues), threshold)


def check_daily_agreement(minutes: pl.DataFrame, daily: pl.DataFrame) -> pl.DataFrame:
    """The daily bar derived from ``minutes`` against ``daily`` (``BARS``), for the sessions both hold."""
    if minutes.is_empty() or daily.is_empty():
        return empty_issues()
    derived = daily_from_minutes(minutes).join(daily.select("symbol", "date", "open", "high", "low", "close", "volume"),
                                               on=["symbol", "date"], suffix="_daily")  # fmt: skip
    differs = pl.any_horizontal((pl.col(c) - pl.col(f"{c}_daily")).abs() > _EPS for c in ("open", "high", "low", "close"))
    detail = text("from minutes o/h/l/c {}/{}/{}/{}, daily {}/{}/{}/{}", *[pl.col(c).cast(pl.String) for c in (
        "open", "high", "low", "close", "open_daily", "high_daily", "low_daily", "close_daily")])  # fmt: skip
    prices = emit(derived.filter(differs), "minute_daily_ohlc", ERROR, detail)
    allowed = pl.col("auction_volume") + _LOT * pl.col("bars")
    volume = derived.filter((pl.col("volume") - pl.col("volume_daily")).abs() > allowed)
    volumes = emit(volume, "minute_daily_volume", WARNING, text("from minutes {}, daily {} (auction bars {})",
                   *[pl.col(c).cast(pl.String) for c in ("volume", "volume_daily", "auction_volume")]))  # fmt: skip
    return pl.concat([prices, volumes]).sort("symbol", "date", "check")


def _per_session(rows: pl.DataFrame, check: str, severity: str, template: str) -> pl.DataFrame:
    counted = rows.group_by("symbol", "date").agg(pl.len().alias("n"))
    return emit(counted, check, severity, text(template, pl.col("n").cast(pl.String)))
