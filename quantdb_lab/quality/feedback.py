"""Feedback, pure: decisions on issues (a false positive, or confirmed) and what later reports do with them.

A decision names ``symbol``, ``check`` and ``date`` (``None``: every date of that symbol and check) and a
``verdict``. Later reports mark matching issues ``false_positive`` (no penalty) or ``confirmed``.

Adapting thresholds: for a check with a tunable threshold (``params.TUNABLE``), once a security has at least
two more false positives of it than confirmations, that check's threshold for that security widens by
``1.5 ** (false positives - confirmations - 1)`` (1.5x, 2.25x, ... at most 4x). Each confirmation narrows
it back a step. Other securities keep the default.
Decisions are stored as plain JSON by ``quantdb_lab.store.feedback``; this module never touches the disk.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

import polars as pl

from quantdb_lab.quality.params import TUNABLE

VERDICTS: Final = ("false_positive", "confirmed")
DECISIONS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(), "date": pl.Date(), "check": pl.String(), "verdict": pl.String(), "note": pl.String(),
}  # fmt: skip
STEP: Final = 1.5
CAP: Final = 4.0


def decisions_frame(records: list[dict] | pl.DataFrame | None) -> pl.DataFrame:
    """Decisions as a frame (later records win for the same symbol, check and date)."""
    if records is None:
        return pl.DataFrame(schema=DECISIONS)
    frame = records if isinstance(records, pl.DataFrame) else pl.DataFrame(records, infer_schema_length=None)
    if frame.is_empty():
        return pl.DataFrame(schema=DECISIONS)
    for name, dtype in DECISIONS.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    if frame.schema["date"] == pl.String:  # ISO text, as stored in JSON
        frame = frame.with_columns(pl.col("date").str.to_date("%Y-%m-%d", strict=False))
    frame = frame.select(pl.col(n).cast(t, strict=False) for n, t in DECISIONS.items())
    return frame.filter(pl.col("verdict").is_in(VERDICTS)).unique(["symbol", "check", "date"], keep="last",
                                                                   maintain_order=True)  # fmt: skip


def apply_decisions(issues: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """``issues`` with ``status`` set from matching decisions (a dated decision beats an undated one)."""
    if decisions.is_empty() or issues.is_empty():
        return issues
    dated = decisions.filter(pl.col("date").is_not_null()).select("symbol", "check", "date", pl.col("verdict").alias("_v1"))
    undated = decisions.filter(pl.col("date").is_null()).select("symbol", "check", pl.col("verdict").alias("_v2"))
    out = issues.join(dated, on=["symbol", "check", "date"], how="left").join(undated, on=["symbol", "check"], how="left")
    return out.with_columns(pl.coalesce("_v1", "_v2", "status").alias("status")).drop("_v1", "_v2")


def adapt_thresholds(decisions: pl.DataFrame) -> dict[tuple[str, str], float]:
    """(symbol, check) -> threshold multiplier (see the module docstring)."""
    counts: Counter[tuple[str, str, str]] = Counter(
        (row["symbol"], row["check"], row["verdict"]) for row in decisions.iter_rows(named=True)
    )
    out: dict[tuple[str, str], float] = {}
    for symbol, check in {(s, c) for s, c, _ in counts}:
        if check not in TUNABLE:
            continue
        fp, ok = counts[(symbol, check, "false_positive")], counts[(symbol, check, "confirmed")]
        if fp - ok >= 2:
            out[(symbol, check)] = min(CAP, STEP ** (fp - ok - 1))
    return out
