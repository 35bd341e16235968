"""The shape of an issue row, severities and the helper every check uses to emit rows.

An issue is one finding about one row (or one missing session) of one security::

    symbol  date  check  severity  detail  status

``status`` is ``open`` when found, ``corrected`` when ``.corrected`` repaired it, and after feedback
``false_positive`` or ``confirmed``. Severities carry the weights of the score (see ``quality.score``).
"""

from __future__ import annotations

from typing import Final

import polars as pl

ERROR: Final = "error"  # the row is wrong: prices or identity cannot be trusted
WARNING: Final = "warning"  # a field or the series' completeness is wrong, prices likely fine
INFO: Final = "info"  # notable but not a defect (suspension, corporate action, statistical outlier)

# Every check a report can emit: the names feedback may refer to (and nothing else may be emitted).
CHECKS: Final = frozenset({
    "nonpositive_price", "ohlc_invariant", "price_limit", "pct_change_mismatch", "turnover_mismatch",
    "stale_bar", "suspended_row", "volume_spike", "return_outlier", "volume_outlier", "volume_unit",
    "not_a_session", "missing_session", "suspension", "corporate_action", "factor_mismatch", "change_mismatch",
    "symbol_code", "duplicate_date", "foreign_row",
    # datasets other than daily bars (quality.datasets)
    "off_session", "duplicate_row", "net_buy_mismatch", "not_at_limit", "lost_session",
    # minute bars (quality.minutes)
    "minute_ohlc", "minute_off_grid", "minute_missing", "minute_early_close", "minute_estimated_open",
    "minute_daily_ohlc", "minute_daily_volume",
})  # fmt: skip

ISSUES: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "date": pl.Date(),
    "check": pl.String(),
    "severity": pl.String(),
    "detail": pl.String(),
    "status": pl.String(),
}


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUES)


def emit(rows: pl.DataFrame, check: str, severity: str, detail: pl.Expr, *, status: str = "open") -> pl.DataFrame:
    """Issue rows for each row of ``rows`` (which has ``symbol`` and ``date``); ``detail`` is evaluated on it."""
    if check not in CHECKS:
        raise ValueError(f"{check!r} is not in quality.issues.CHECKS: add it there")
    if rows.is_empty():
        return empty_issues()
    return rows.select(
        pl.col("symbol"),
        pl.col("date"),
        pl.lit(check, pl.String).alias("check"),
        pl.lit(severity, pl.String).alias("severity"),
        detail.cast(pl.String).alias("detail"),
        pl.lit(status, pl.String).alias("status"),
    )


def fmt(expr: pl.Expr, digits: int = 4) -> pl.Expr:
    """A float as short text for details (rounded, nulls shown as 'null')."""
    return expr.round(digits).cast(pl.String).fill_null("null")


def text(template: str, *values: str | pl.Expr) -> pl.Expr:
    """``template`` with each ``{}`` replaced by a value (a column name or an expression), as one string.

    Built with ``concat_str`` rather than ``pl.format``, which panics on some filtered frames in polars 2.1.
    """
    pieces = template.split("{}")
    if len(pieces) != len(values) + 1:
        raise ValueError(f"template needs {len(pieces) - 1} values, got {len(values)}")
    parts: list[pl.Expr] = []
    for piece, value in zip(pieces, [*values, None], strict=True):
        if piece:
            parts.append(pl.lit(piece, pl.String))
        if value is not None:
            expr = pl.col(value) if isinstance(value, str) else value
            parts.append(expr.cast(pl.String).fill_null("null"))
    return pl.concat_str(parts)

