"""``check_quality``: run every check on a frame of bars and build a :class:`QualityReport`. Pure.

Order matters only where a check reads a corrected field: identity (symbol spelling, duplicate dates) and the
volume unit are repaired first, so that volume checks see shares and per-symbol checks see one series each.
Every other check reads the same working frame and is independent of the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import total_ordering

import numpy as np
import polars as pl

from quantdb_lab.quality import actions as table
from quantdb_lab.quality import bars, continuity, corrections, limits, outliers, prepare, sessions, volume
from quantdb_lab.quality.feedback import adapt_thresholds, apply_decisions, decisions_frame
from quantdb_lab.quality.issues import ISSUES, empty_issues
from quantdb_lab.quality.params import QualityParams
from quantdb_lab.quality.score import compute_scores, overall

Check = Callable[[pl.DataFrame, QualityParams], pl.DataFrame]

# Checks that read only the working frame, in the order their issues are listed.
ROW_CHECKS: tuple[Check, ...] = (
    bars.check_positive_prices,
    bars.check_ohlc,
    limits.check_price_limits,
    corrections.check_pct_change,
    volume.check_turnover,
    volume.check_stale,
    volume.check_no_trades,
    volume.check_volume_spike,
    outliers.check_return_outliers,
    outliers.check_volume_outliers,
)


@total_ordering
@dataclass(frozen=True, slots=True)
class QualityScore:
    """Overall score (compares and converts like a float) and the score of each symbol."""

    overall: float
    by_symbol: Mapping[str, float]

    def __float__(self) -> float:
        return self.overall

    def __getitem__(self, symbol: str) -> float:
        return self.by_symbol[symbol]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, QualityScore):
            return self.overall == other.overall and dict(self.by_symbol) == dict(other.by_symbol)
        return isinstance(other, (int, float)) and self.overall == other

    def __lt__(self, other: float) -> bool:
        return self.overall < float(other)

    def __hash__(self) -> int:
        return hash(self.overall)

    def __repr__(self) -> str:
        return f"QualityScore({self.overall:.5f}, {len(self.by_symbol)} symbols)"


@dataclass(frozen=True, slots=True)
class QualityReport:
    """What ``check_quality`` found: ``issues``, ``corrected`` bars, ``scores`` per symbol and the threshold."""

    issues: pl.DataFrame  # symbol, date, check, severity, detail, status
    corrected: pl.DataFrame  # BARS after safe corrections (see quality.corrections)
    scores: pl.DataFrame  # symbol, rows, expected, penalty, score
    threshold: float
    params: QualityParams = field(default_factory=QualityParams, repr=False)

    @property
    def score(self) -> QualityScore:
        return QualityScore(overall(self.scores), dict(zip(self.scores["symbol"], self.scores["score"], strict=True)))

    @property
    def passed(self) -> bool:
        return self.score.overall >= self.threshold

    @property
    def failing(self) -> list[str]:
        """Symbols scoring below the threshold."""
        return self.scores.filter(pl.col("score") < self.threshold)["symbol"].to_list()

    def summary(self) -> pl.DataFrame:
        """Issue counts by check, severity and status."""
        return self.issues.group_by("check", "severity", "status").len().sort("check", "status")

    def for_symbol(self, symbol: str) -> pl.DataFrame:
        return self.issues.filter(pl.col("symbol") == symbol)

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (f"QualityReport(score={self.score.overall:.5f} {verdict} at {self.threshold}, "
                f"{self.scores.height} symbols, {self.issues.height} issues)")  # fmt: skip


def check_quality(
    frame: pl.DataFrame,
    *,
    sessions_list: np.ndarray | list[date] | pl.Series | None = None,
    securities: pl.DataFrame | None = None,
    suspensions: pl.DataFrame | None = None,
    adjustment: pl.DataFrame | None = None,
    actions: pl.DataFrame | None = None,
    decisions: list[dict] | pl.DataFrame | None = None,
    threshold: float = 0.99,
    params: QualityParams | None = None,
) -> QualityReport:
    """Check ``frame`` (``BARS`` columns; ``symbol`` may be any spelling, e.g. ``338``) and report.

    ``sessions_list``: trading sessions (dates or day numbers) for the completeness check (skipped if None).
    ``securities``: ``symbol, list_date, is_st[, st_since]`` for limits. ``suspensions``: ``symbol, start,
    end``. ``adjustment``: ``symbol, date, factor`` (cumulative hfq factor) to confirm corporate actions.
    ``actions``: dividend tables (``domain.actions.ACTIONS``) to check each ex-date's reference price against
    (``quality.actions``) and to explain the jumps of sources that report changes close to close.
    ``decisions``: feedback (see ``quality.feedback``) applied to issues and thresholds.
    """
    params = params or QualityParams()
    chosen = decisions_frame(decisions)
    params = params.with_multipliers(adapt_thresholds(chosen))
    work, symbol_issues = prepare.canonical_symbols(prepare.conform_input(frame))
    work, dup_issues = prepare.drop_duplicate_dates(work)
    ctx = prepare.add_context(work, securities)
    ctx = ctx.with_columns(volume.unit_factor(ctx, params))
    found = [symbol_issues, dup_issues, volume.check_unit_switch(ctx, params)]
    ctx = volume.float_baseline(ctx.with_columns(pl.col("volume") * pl.col("_unit")))
    ctx, action_issues = table.apply_actions(ctx, actions)
    found.append(action_issues)
    found.extend(check(ctx, params) for check in ROW_CHECKS)
    if sessions_list is not None:
        found.append(sessions.check_sessions(ctx, params, sessions.sessions_frame(sessions_list), suspensions))
    ctx = continuity.with_breaks(ctx, params, adjustment)
    after = _rows_after_culprits(found, ctx)
    explained = ctx.select("symbol", "date").join(
        after.with_columns(pl.lit(True).alias("_x")), on=["symbol", "date"], how="left", maintain_order="left"
    )["_x"].fill_null(False).to_numpy()
    foreign = continuity.foreign_mask(ctx, params, explained)
    breaks = continuity.classify_breaks(ctx, foreign, params)
    if params.foreign == "drop":
        breaks = breaks.with_columns(
            pl.when(pl.col("check") == "foreign_row").then(pl.lit("corrected")).otherwise("status").alias("status")
        )
    found.append(_explained_by_gaps(breaks, found, ctx))
    # one finding per (row, check): a break continuity explains as an ex-date may be the table's already
    issues = pl.concat([empty_issues(), *(f.select(list(ISSUES)) for f in found)])
    issues = issues.filter(
        pl.col("date").is_null() | pl.struct("symbol", "date", "check").is_first_distinct()
    )
    corrected = corrections.apply_corrections(ctx, issues, foreign, params)
    issues = apply_decisions(issues, chosen).sort("symbol", "date", "check", nulls_last=True)
    rows = ctx.group_by("symbol").agg(pl.len().alias("rows"))
    return QualityReport(issues, corrected, compute_scores(rows, issues), threshold, params)


def _rows_after_culprits(found: list[pl.DataFrame], ctx: pl.DataFrame) -> pl.DataFrame:
    """``symbol, date`` of the first bar after missing sessions or after a bar beyond the price limit."""
    culprits = [f.filter(pl.col("check").is_in(["missing_session", "price_limit"])) for f in found if f.height]
    gaps = pl.concat([empty_issues(), *culprits]).select("symbol", "date").unique().sort("symbol", "date")
    if gaps.is_empty():
        return gaps.select("symbol", "date")
    nxt = ctx.select("symbol", "date", pl.col("date").alias("_next"))  # ctx is sorted by symbol, date
    return gaps.with_columns(pl.col("date") + pl.duration(days=1)).join_asof(
        nxt, on="date", by="symbol", strategy="forward", check_sortedness=False,
    ).select("symbol", pl.col("_next").alias("date")).drop_nulls().unique()


def _explained_by_gaps(breaks: pl.DataFrame, found: list[pl.DataFrame], ctx: pl.DataFrame) -> pl.DataFrame:
    """Drop breaks (change mismatch or apparent corporate action) on the first bar after missing sessions or
    after a bar beyond the price limit: the previous close it disagrees with is a lost row's or a wrong print,
    already reported on that row."""
    after = _rows_after_culprits(found, ctx)
    if after.is_empty():
        return breaks
    explained = pl.concat([
        after.with_columns(pl.lit(name).alias("check")) for name in ("change_mismatch", "corporate_action")
    ])  # fmt: skip
    return breaks.join(explained, on=["symbol", "date", "check"], how="anti")
