"""Ex-rights factors from the exchange's own numbers, and prices adjusted with them. Pure and vectorised.

A *factor event* is one row per (symbol, ex-date): ``factor = previous close / reference``, where ``reference`` is
the exchange's ex-rights reference price (the previous close the day's change is reported against), so
``factor > 1``. Adjusted prices are multiplicative:

* hfq (back-adjusted): ``price_t * prod(factor_e for e <= t)``; equal to the traded price before the first event,
  append-only stable (a new event never changes the past), and its close-to-close returns are the total return.
* qfq (forward-adjusted to a reference session R): ``price_t / prod(factor_e for t < e <= R)``; equal to the
  traded price from the last event on or before R, positive always; point in time: events after R are ignored.

``change`` is scaled the same way, and on an event row it is recomputed against the reference, as is
``pct_change``: the adjusted series then reports the total return of every day, whatever basis the source's own
change had. Volume, amount and turnover are never adjusted.

Events come from bars (:func:`factor_events`: ``close - change``, or a ``preclose`` column, against the previous
traded close) or from corporate actions (``domain.actions``). The bar rules, for real data:

* a break is a difference beyond half a tick of three-decimal prices (``TOLERANCE``) between the previous traded
  close (suspensions skipped, null closes skipped) and the row's reference; each symbol's first row has none;
* a break whose factor is outside ``(1, MAX_FACTOR]`` is not an ex-rights event (a reference above the previous
  close is what no action produces);
* rows of another security written into the series (seen in real files) open and close a pair of breaks: two
  breaks on consecutive rows, or within ``FOREIGN_MAX_RUN`` rows when the second undoes at least half the first
  jump, are not events;
* what this cannot see: a lost row (the next row's reference is the lost day's close) or a wrong print with a
  plausible ratio. ``domain.actions.check_factors`` checks events against the dividend tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final, Literal

import numpy as np
import polars as pl

Adjustment = Literal["hfq", "qfq"]

EVENTS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "date": pl.Date(),
    "factor": pl.Float64(),  # previous close / reference, > 1
    "reference": pl.Float64(),  # the ex-rights reference price of the day (null when unknown)
}
ADJUSTED: Final[tuple[str, ...]] = ("open", "high", "low", "close", "change")
TOLERANCE: Final = 0.0005  # half a tick of three-decimal (fund) prices; two-decimal breaks are at least 0.01
MAX_FACTOR: Final = 10.0
FOREIGN_MAX_RUN: Final = 20


def empty_events() -> pl.DataFrame:
    return pl.DataFrame(schema=EVENTS)


# -- events from bars ---------------------------------------------------------------------------------------
def factor_events(
    bars: pl.DataFrame, *, tolerance: float = TOLERANCE, max_run: int = FOREIGN_MAX_RUN, is_sorted: bool = False
) -> pl.DataFrame:
    """``EVENTS`` of a long frame of unadjusted bars (``symbol, date, close`` and ``change`` or ``preclose``).

    ``is_sorted``: rows are already ordered by symbol, then date (what the store holds), which skips a sort.
    """
    if bars.is_empty():
        return empty_events()
    frame = bars if is_sorted else bars.sort("symbol", "date")
    pre = pl.col("preclose") if "preclose" in frame.columns else pl.col("close") - pl.col("change")
    cols = frame.select(
        pl.col("close").cast(pl.Float64).fill_null(np.nan),
        pre.cast(pl.Float64).fill_null(np.nan).alias("pre"),
        (pl.col("symbol").rle_id() != pl.col("symbol").rle_id().shift(1)).fill_null(True).alias("first"),
    )
    rows, factor, reference = series_events(
        cols["close"].to_numpy(), cols["pre"].to_numpy(), cols["first"].to_numpy(), tolerance=tolerance,
        max_run=max_run,
    )  # fmt: skip
    picked = frame.select("symbol", "date")[rows]
    return picked.with_columns(pl.Series("factor", factor), pl.Series("reference", reference)).cast(EVENTS)


def series_events(
    close: np.ndarray, pre: np.ndarray, first: np.ndarray | None = None, *, tolerance: float = TOLERANCE,
    max_run: int = FOREIGN_MAX_RUN,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(rows, factors, references) of the events in arrays of closes and reported references (NaN = missing).

    ``first`` marks each symbol's first row (None: one symbol). The numpy core of :func:`factor_events`, also
    what a single stored series is read with (microseconds for thousands of rows)."""
    n = len(close)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    index = np.arange(n)
    starts = np.zeros(n, dtype=bool) if first is None else np.asarray(first, dtype=bool).copy()
    starts[0] = True
    group = np.maximum.accumulate(np.where(starts, index, 0))  # first row of each row's symbol
    traded = np.isfinite(close) & (close > 0)
    last = np.maximum.accumulate(np.where(traded, index, -1))  # last traded row up to here
    prev_row = np.empty(n, np.int64)
    prev_row[0], prev_row[1:] = -1, last[:-1]
    has_prev = (prev_row >= group) & ~starts
    prev = np.where(has_prev, close[np.maximum(prev_row, 0)], np.nan)
    with np.errstate(invalid="ignore"):
        brk = has_prev & traded & np.isfinite(pre) & (pre > 0) & (np.abs(prev - pre) > tolerance)
    b = np.flatnonzero(brk)
    if not len(b):
        return b, np.zeros(0), np.zeros(0)
    ratio = prev[b] / pre[b]
    keep = ~_foreign_pairs(b, group[b], np.log(ratio), max_run) & (ratio > 1.0) & (ratio <= MAX_FACTOR)
    return b[keep], ratio[keep], pre[b][keep]


def _foreign_pairs(rows: np.ndarray, group: np.ndarray, jump: np.ndarray, max_run: int) -> np.ndarray:
    """Breaks that open or close a run of another security's rows (see the module docstring): candidate pairs
    of successive breaks found vectorised, then taken left to right (a break closes at most one run)."""
    skip = np.zeros(len(rows), dtype=bool)
    if len(rows) < 2:
        return skip
    gap = np.diff(rows)
    reverts = np.abs(jump[:-1] + jump[1:]) < 0.5 * np.maximum(np.abs(jump[:-1]), np.abs(jump[1:]))
    pair = (group[1:] == group[:-1]) & (gap <= max_run) & ((gap == 1) | reverts)
    last = -1
    for i in np.flatnonzero(pair):  # few: one per run of foreign rows
        if i > last:
            skip[i] = skip[i + 1] = True
            last = i + 1
    return skip


# -- applying events ----------------------------------------------------------------------------------------
def adjust_prices(
    bars: pl.DataFrame | pl.LazyFrame, events: pl.DataFrame, how: Adjustment, *, reference: date | None = None,
    columns: Sequence[str] = ADJUSTED,
) -> pl.DataFrame | pl.LazyFrame:  # fmt: skip
    """``bars`` (a long frame ordered by symbol, then date; lazy or not) with prices adjusted by ``events``.

    One pass of polars expressions: the events' cumulative products per symbol (a small frame) are attached to
    each row by an as-of join on an integer key (symbol run, day), no Python loop per symbol. ``reference`` (qfq
    only): the session R that qfq is anchored at; None anchors at the latest event. Symbols without events are
    returned unchanged; columns not in ``columns`` (volume, amount, turnover) are never touched.
    """
    if how not in ("hfq", "qfq"):
        raise ValueError(f"how must be 'hfq' or 'qfq', not {how!r}")
    lazy = bars.lazy()
    names = lazy.collect_schema().names()
    ev = events.lazy()
    if how == "qfq" and reference is not None:
        ev = ev.filter(pl.col("date") <= reference)
    runs = lazy.select(pl.col("symbol").rle().struct.field("value").alias("symbol")).with_row_index("_sid")
    ev = (
        ev.sort("symbol", "date")
        .with_columns(pl.col("factor").cum_prod().over("symbol").alias("_cum"))
        .with_columns(pl.col("_cum").last().over("symbol").alias("_total"))
        .join(runs, on="symbol", how="inner")
    )
    # One stamp per event, and a sentinel before every symbol's first row carrying its total: each row of a
    # symbol with events then finds a stamp of its own in one backward as-of join, no second join for qfq.
    stamps = pl.concat([
        ev.select(_key(pl.col("_sid")).alias("_key"), pl.col("_sid").alias("_esid"), pl.col("date").alias("_edate"),
                  "_cum", "_total", pl.col("reference").alias("_ref")),
        ev.group_by("_sid").agg(pl.col("_total").first()).select(
            (pl.col("_sid").cast(pl.Int64) * (1 << 24)).alias("_key"), pl.col("_sid").alias("_esid"),
            pl.lit(None, pl.Date).alias("_edate"), pl.lit(1.0).alias("_cum"), "_total",
            pl.lit(None, pl.Float64).alias("_ref")),
    ]).sort("_key")  # fmt: skip
    rows = lazy.with_columns(pl.col("symbol").rle_id().cast(pl.UInt32).alias("_sid")).with_columns(
        _key(pl.col("_sid")).alias("_key")
    )
    joined = rows.join_asof(stamps, on="_key", strategy="backward", check_sortedness=False)
    mine = pl.col("_esid") == pl.col("_sid")
    multiplier = pl.when(mine).then(pl.col("_cum")).otherwise(1.0)
    if how == "qfq":  # divided by the symbol's product up to R (the sentinel carries it to rows before any event)
        multiplier = multiplier / pl.when(mine).then(pl.col("_total")).otherwise(1.0)
    on_event = mine & (pl.col("_edate") == pl.col("date")) & pl.col("_ref").is_not_null()
    fixed = _with_event_change(joined, on_event) if "change" in columns and "change" in names else joined
    out = fixed.with_columns(multiplier.alias("_m")).with_columns(
        (pl.col(c) * pl.col("_m")).alias(c) for c in columns if c in names
    ).select(names)
    return out if isinstance(bars, pl.LazyFrame) else out.collect()


def _key(sid: pl.Expr) -> pl.Expr:
    return sid.cast(pl.Int64) * (1 << 24) + pl.col("date").cast(pl.Int32).cast(pl.Int64) + (1 << 23)


def _with_event_change(frame: pl.LazyFrame, on_event: pl.Expr) -> pl.LazyFrame:
    """On an event row, change and pct_change against the ex-rights reference, whatever the source reported."""
    fixed = [pl.when(on_event).then(pl.col("close") - pl.col("_ref")).otherwise(pl.col("change")).alias("change")]
    if "pct_change" in frame.collect_schema().names():
        pct = pl.when(on_event).then(pl.col("close") / pl.col("_ref") - 1.0).otherwise(pl.col("pct_change"))
        fixed.append(pct.alias("pct_change"))
    return frame.with_columns(fixed)


def multipliers(
    days: np.ndarray, event_days: np.ndarray, event_factors: np.ndarray, how: Adjustment, *,
    reference_day: int | None = None,
) -> np.ndarray:  # fmt: skip
    """Per row of one series (``days``: day numbers, ascending), what its prices are multiplied by."""
    if how == "qfq" and reference_day is not None:
        visible = event_days <= reference_day
        event_days, event_factors = event_days[visible], event_factors[visible]
    if not len(event_days):
        return np.ones(len(days))
    cum = np.concatenate([[1.0], np.cumprod(event_factors)])
    out = cum[np.searchsorted(event_days, days, side="right")]
    return out / cum[-1] if how == "qfq" else out


def total_return_index(events: pl.DataFrame, bars: pl.DataFrame) -> pl.DataFrame:
    """``symbol, date, hfq_close``: the back-adjusted close of ``bars`` (a convenience for checks)."""
    out = adjust_prices(bars.select("symbol", "date", "close"), events, "hfq", columns=("close",))
    return out.rename({"close": "hfq_close"})  # type: ignore[union-attr]
