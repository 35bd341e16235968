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

import numpy as np
import polars as pl

from quantdb_lab.domain.adjustment import ADJUSTED, EVENTS, empty_events
from quantdb_lab.domain.calendar import from_day_number
from quantdb_lab.store.records import SeriesMeta
from quantdb_lab.store.segments import SID



def events_frame(metas: dict[str, SeriesMeta], sids: dict[str, int] | None = None) -> pl.DataFrame:
    """``domain.adjustment.EVENTS`` of the series whose metadata carries them (with each series' number in
    ``__sid`` when ``sids`` is given: the cross-section's integer key)."""
    symbols, days, factors, references = [], [], [], []
    for symbol, meta in metas.items():
        for day, factor, reference in meta.events or ():
            symbols.append(symbol)
            days.append(from_day_number(day))
            factors.append(factor)
            references.append(reference)
    frame = pl.DataFrame({"symbol": symbols, "date": days, "factor": factors, "reference": references}, schema=EVENTS)
    if sids is not None:
        frame = frame.with_columns(pl.col("symbol").replace_strict(sids, return_dtype=pl.UInt32).alias(SID))
    return frame if symbols else (frame if sids is not None else empty_events())


def adjust_cross_section(frame: pl.DataFrame | pl.LazyFrame, events: pl.DataFrame, how: str, *,
                         reference: date) -> pl.DataFrame | pl.LazyFrame:  # fmt: skip
    """``frame`` (sorted by date; eager or lazy) with prices adjusted ``how`` ("qfq" at ``reference``, or "hfq")."""
    if how not in ("qfq", "hfq"):
        raise ValueError(f"how must be 'qfq' or 'hfq', not {how!r}")
    names = frame.collect_schema().names()
    if events.is_empty() or (isinstance(frame, pl.DataFrame) and frame.is_empty()):
        return frame
    if isinstance(frame, pl.DataFrame) and SID in names and SID in events.columns:
        return _adjust_by_sid(frame, events, how, reference=reference)
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


def _adjust_by_sid(frame: pl.DataFrame, events: pl.DataFrame, how: str, *, reference: date) -> pl.DataFrame:
    """The same arithmetic as one sweep over the dates of a frame sorted by date: a multiplier per series
    number is kept current as the (sparse) events pass, and each date's rows gather theirs. One pass over the
    rows, no join on text; event rows get their change against the reference."""
    ev = events.filter(pl.col("date") <= reference) if how == "qfq" else events
    ev = ev.sort("date", SID)
    ev_sid = ev[SID].to_numpy().astype(np.int64)
    ev_day = ev["date"].cast(pl.Int32).to_numpy().astype(np.int64)
    ev_factor = ev["factor"].to_numpy()
    ev_ref = ev["reference"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    sid = frame[SID].to_numpy()  # uint32: an index as it is (no int64 copy of millions of rows)
    day = frame["date"].cast(pl.Int32).to_numpy()
    current = np.ones(int(max(sid.max(initial=0), ev_sid.max(initial=0))) + 1)
    if how == "qfq":  # divided by each series' product of factors up to R
        np.divide.at(current, ev_sid, ev_factor)
    multiplier = np.empty(len(sid))
    on_event_rows, on_event_refs = [], []
    starts = np.concatenate(([0], np.flatnonzero(np.diff(day)) + 1, [len(day)]))
    e, n_events = 0, len(ev_day)
    for lo, hi in zip(starts[:-1], starts[1:]):
        today = day[lo]
        first = e
        while e < n_events and ev_day[e] <= today:
            e += 1
        if e > first:
            np.multiply.at(current, ev_sid[first:e], ev_factor[first:e])
            exact = ev_day[first:e] == today
            if exact.any():  # rows that are an event of their series: change against the reference
                hit_sid, hit_ref = ev_sid[first:e][exact], ev_ref[first:e][exact]
                rows = lo + np.flatnonzero(np.isin(sid[lo:hi], hit_sid))
                order = np.argsort(hit_sid)
                at = order[np.searchsorted(hit_sid[order], sid[rows])]
                on_event_rows.append(rows)
                on_event_refs.append(hit_ref[at])
        multiplier[lo:hi] = current[sid[lo:hi]]
    del sid, day  # the row keys are done with: free them before the new columns are made
    if on_event_rows:
        rows, refs = np.concatenate(on_event_rows), np.concatenate(on_event_refs)
        keep = np.isfinite(refs)
        rows, refs = rows[keep], refs[keep]
    else:
        rows, refs = np.zeros(0, np.int64), np.zeros(0)
    # each adjusted column is made once, in place on its own buffer, and wrapped without a copy; the event rows
    # are patched in that buffer (a polars scatter would copy the whole column again)
    close = frame["close"].gather(rows).to_numpy() if len(rows) else np.zeros(0)
    patches = {"change": (close - refs) * multiplier[rows], "pct_change": close / refs - 1.0}
    columns = [_scaled(frame[c], multiplier, rows, patches.get(c)) for c in ADJUSTED if c in frame.columns]
    if "pct_change" in frame.columns and len(rows):
        columns.append(_patched(frame["pct_change"], rows, patches["pct_change"]))
    return frame.with_columns(columns)


def _scaled(column: pl.Series, multiplier: np.ndarray, rows: np.ndarray, patch: np.ndarray | None) -> pl.Series:
    """``column * multiplier`` with ``patch`` at ``rows``: one new float64 buffer (nulls stay null)."""
    if column.null_count():
        out = column * _chunked_like(column, multiplier)
        return out.scatter(rows, patch) if patch is not None and len(rows) else out
    values = column.to_numpy()  # a copy when the column has several chunks (a segment each), else a view
    if values.flags.writeable and values.dtype == np.float64:
        np.multiply(values, multiplier, out=values)
    else:
        values = np.multiply(values, multiplier, dtype=np.float64)
    if patch is not None and len(rows):
        values[rows] = patch
    return _chunked_like(column, values)


def _patched(column: pl.Series, rows: np.ndarray, patch: np.ndarray) -> pl.Series:
    """``column`` with ``patch`` at ``rows``, as one new buffer."""
    if column.null_count():
        return column.scatter(rows, patch)
    values = column.to_numpy()
    values = values if values.flags.writeable and values.dtype == np.float64 else values.astype(np.float64)
    values[rows] = patch
    return _chunked_like(column, values)


def _chunked_like(column: pl.Series, values: np.ndarray) -> pl.Series:
    """``values`` as a Series named and chunked like ``column``, without a copy. A frame whose columns are
    chunked alike stays so: polars rechunks every column of a frame whose chunks disagree at its next select,
    a copy of the whole cross-section."""
    lengths = column.chunk_lengths()
    if len(lengths) < 2:
        return pl.Series(column.name, values)
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    pieces = [pl.Series(column.name, values[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
    return pl.concat(pieces, rechunk=False)
