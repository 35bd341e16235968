"""qfq and hfq of a cross-section: the store's (date, symbol)-ordered frame adjusted in one polars pass.

The same arithmetic as ``loader.adjust.derive`` for one series (``domain.adjustment``: hfq multiplies by the
product of the factors of events on or before the day, qfq divides that by the product up to the reference
session R; on an event row, change and pct_change are against the ex-rights reference), but for a frame in the
cross-sectional order: the events' cumulative products are attached to each row by an as-of join by symbol on
the date, which needs the rows sorted by date, what segments give for free. The events come from the series'
catalog metadata (kept when the bars are written), so nothing but the rows is read.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from quantdb_lab.domain.adjustment import ADJUSTED, EVENTS, empty_events
from quantdb_lab.domain.calendar import from_day_number
from quantdb_lab.store.records import SeriesMeta


def events_frame(metas: dict[str, SeriesMeta]) -> pl.DataFrame:
    """``domain.adjustment.EVENTS`` of the series whose metadata carries them."""
    symbols, days, factors, references = [], [], [], []
    for symbol, meta in metas.items():
        for day, factor, reference in meta.events or ():
            symbols.append(symbol)
            days.append(from_day_number(day))
            factors.append(factor)
            references.append(reference)
    if not symbols:
        return empty_events()
    return pl.DataFrame({"symbol": symbols, "date": days, "factor": factors, "reference": references}, schema=EVENTS)


def adjust_cross_section(frame: pl.DataFrame | pl.LazyFrame, events: pl.DataFrame, how: str, *,
                         reference: date) -> pl.DataFrame | pl.LazyFrame:  # fmt: skip
    """``frame`` (sorted by date; eager or lazy) with prices adjusted ``how`` ("qfq" at ``reference``, or "hfq")."""
    if how not in ("qfq", "hfq"):
        raise ValueError(f"how must be 'qfq' or 'hfq', not {how!r}")
    names = frame.collect_schema().names()
    if events.is_empty() or (isinstance(frame, pl.DataFrame) and frame.is_empty()):
        return frame
    ev = events.filter(pl.col("date") <= reference) if how == "qfq" else events
    ev = ev.sort("symbol", "date").with_columns(pl.col("factor").cum_prod().over("symbol").alias("_cum"))
    stamps = ev.select("symbol", "date", pl.col("date").alias("_edate"), "_cum", pl.col("reference").alias("_ref")).sort("date")
    stamps = stamps.lazy() if isinstance(frame, pl.LazyFrame) else stamps
    joined = frame.join_asof(stamps, on="date", by="symbol", strategy="backward", check_sortedness=False)
    multiplier = pl.col("_cum").fill_null(1.0)
    if how == "qfq":
        totals = ev.group_by("symbol").agg(pl.col("_cum").last().alias("_total"))
        totals = totals.lazy() if isinstance(frame, pl.LazyFrame) else totals
        joined = joined.join(totals, on="symbol", how="left", maintain_order="left")
        multiplier = multiplier / pl.col("_total").fill_null(1.0)
    on_event = (pl.col("_edate") == pl.col("date")) & pl.col("_ref").is_not_null() & pl.col("_ref").is_not_nan()
    fixes = []
    if "change" in names:
        fixes.append(pl.when(on_event).then(pl.col("close") - pl.col("_ref")).otherwise(pl.col("change")).alias("change"))
    if "pct_change" in names:
        fixes.append(pl.when(on_event).then(pl.col("close") / pl.col("_ref") - 1.0).otherwise(pl.col("pct_change"))
                     .alias("pct_change"))  # fmt: skip
    joined = joined.with_columns(fixes) if fixes else joined
    scaled = [(pl.col(c) * multiplier).alias(c) for c in ADJUSTED if c in names]
    return joined.with_columns(scaled).select(names)
