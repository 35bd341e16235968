"""What the quality gate judges on a read, and what it remembers (``store.gate_verdicts``), for daily and minute
bars alike: the series the read fetched, and the warm ones it once refused whose refused rows the read serves
again (the rows are stored before the gate judges them; without the record a warm read would serve them without
a word). A refusal is cleared by a pass over its whole span."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from quantdb_lab.loader.stats import Provenance
from quantdb_lab.quality.report import QualityReport
from quantdb_lab.store.gate_verdicts import GateVerdicts

Span = tuple[date, date]


def to_judge(frame: pl.DataFrame, origins: Sequence[Provenance], verdicts: GateVerdicts, day: pl.Expr) -> set[str]:
    """The symbols of ``frame`` the gate judges: those fetched by this read and the warm ones refused before in
    its range (``day``: the frame's session date)."""
    fetched = {p.symbol for p in origins if not p.from_cache}
    warm = verdicts.ever_refused({p.symbol for p in origins} - fetched)
    if not warm or frame.is_empty():
        return fetched  # the common warm read: nothing refused before, no pass over the frame
    first, last = frame.select(day.min().alias("a"), day.max().alias("b")).row(0)
    return fetched | verdicts.refused(warm, first, last)


def remember(verdicts: GateVerdicts, judged: pl.DataFrame, report: QualityReport, mode: str, day: pl.Expr) -> None:
    """Record the series ``report`` failed (with the span of their open issues) and clear those it passed."""
    spans = {s: (a, b) for s, a, b in judged.group_by("symbol").agg(day.min().alias("a"), day.max().alias("b")).iter_rows()}
    refused = {} if report.passed else {s: spans[s] for s in report.failing if s in spans}
    if refused:
        failing = report.issues.filter((pl.col("status") == "open") & pl.col("symbol").is_in(list(refused)))
        for s, first, last in failing.group_by("symbol").agg(pl.col("date").min(), pl.col("date").max().alias("b")).iter_rows():
            if first is not None:
                refused[s] = (first, last)
    verdicts.update(refused, {s: span for s, span in spans.items() if s not in refused}, mode)


def minutes_to_judge(frame: pl.DataFrame, origins: Sequence[Provenance], symbols: set[str]) -> pl.DataFrame:
    """The minute bars of ``symbols`` less the open session's provisional bars (short by nature)."""
    chosen = {p.symbol: p.provisional for p in origins if p.symbol in symbols}
    if not chosen:
        return frame.clear()
    open_day = pl.col("symbol").replace_strict(chosen, default=None, return_dtype=pl.Date)
    day = pl.col("time").dt.date()
    return frame.filter(pl.col("symbol").is_in(list(chosen)) & (open_day.is_null() | (day != open_day)))
