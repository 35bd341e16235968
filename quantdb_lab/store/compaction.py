"""Compaction: bring the cross-sectional segments up to date with the series files.

Each series' catalog row says from which day (``dirty_from``) its segment rows are out of date; dropped series
leave tombstones. A compaction rewrites only the periods those touch: each new segment is the old one minus
the rows of tombstoned series and the out-of-date rows of changed series, plus those series' rows from their own
files, sorted by date then symbol. Nothing is ever lost when a process is killed mid-way:

1. new segment files are written under new names (``<period>.<seq+1>.parquet``), never over live ones;
2. one catalog transaction makes them live and marks the series it consumed clean, but only a series whose
   generation is still the one that was read (a write that raced the compaction keeps its own ``dirty_from``,
   so its rows keep coming from its own file);
3. the replaced files are deleted last (a reader that still held the old catalog state retries).

A crash before 2 leaves unreferenced files (``quantdb-lab clear --stale`` removes them); after 2 the new state
is complete. One compaction runs per dataset at a time (a file lock; another caller skips, it is not needed).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

import filelock
import polars as pl

from quantdb_lab.store.catalog import DIRTY_ALL, Entry, Segment
from quantdb_lab.store.frame_files import FrameFileError, read_verified
from quantdb_lab.store.records import SeriesKey
from quantdb_lab.store.segments import SID, day_of, period_of, read_segment, write_segment

if TYPE_CHECKING:
    from quantdb_lab.store.series_store import SeriesStore

#: a multi-series load compacts afterwards when at least this many series, and this share of the dataset's
#: series, are out of date: a daily update of the market does, a handful of symbols in a big cache does not
AUTO_COMPACT_SERIES = 32
AUTO_COMPACT_SHARE = 0.05


def compact(store: SeriesStore, dataset: str, *, wait: float = 0.0) -> dict:
    """Rewrite the periods of ``dataset`` whose segments are out of date; returns what was done."""
    from quantdb_lab.store.series_store import index_column, safe_name, verify_series

    started = time.perf_counter()
    lock = filelock.FileLock(str(store.base / "locks" / f"compact.{safe_name(dataset)}.lock"))
    try:
        lock.acquire(timeout=wait)
    except filelock.Timeout:
        return {"dataset": dataset, "skipped": "another compaction of this dataset is running"}
    try:
        snap = store.catalog.snapshot(dataset)
        changed = {s: e for s, e in snap.entries.items() if e.dirty_from is not None and e.rows}
        if not changed and not snap.tombstones:
            return {"dataset": dataset, "periods": 0, "series": 0, "seconds": time.perf_counter() - started}
        segments = {seg.period: seg for seg in snap.segments}
        fresh, consumed = _changed_rows(store, dataset, changed, verify_series)
        column = "date" if fresh.is_empty() else index_column(fresh, dataset)
        periods = _periods(fresh, column, changed, segments, snap.tombstones)
        try:  # every period rewritten starts from its old segment (whole, checked against its CRC)
            old = {p: read_segment(store.base, segments[p]) for p in periods if p in segments}
        except FrameFileError:  # a damaged segment: every segment is rebuilt from the series files
            changed = {s: replace(e, dirty_from=DIRTY_ALL) for s, e in snap.entries.items() if e.rows}
            fresh, consumed = _changed_rows(store, dataset, changed, verify_series)
            column = "date" if fresh.is_empty() else index_column(fresh, dataset)
            periods = _periods(fresh, column, changed, segments, snap.tombstones)
            old = {}
        new: list[Segment] = []
        emptied: list[str] = []
        for period in sorted(periods):
            seg = segments.get(period)
            kept = _kept(old.get(period) if seg is not None else None, changed, snap.tombstones, column)
            rows = fresh.filter(pl.col("__period") == period).drop("__period") if fresh.height else fresh
            frame = pl.concat([f for f in (kept, rows) if f.height], how="diagonal_relaxed") if kept.height or rows.height else kept
            if frame.is_empty():
                emptied.append(period)
                continue
            frame = frame.sort(column, "symbol")
            new.append(write_segment(store.base, dataset, period, (seg.seq if seg else 0) + 1, frame, column))
        with store.catalog.transaction() as con:
            replaced = store.catalog.register_segments(con, new) + store.catalog.drop_segments(con, dataset, emptied)
            clean = 0
            for symbol, generation in consumed.items():
                cursor = con.execute(
                    "UPDATE series SET dirty_from=NULL WHERE dataset=? AND symbol=? AND generation=?",
                    (dataset, symbol, generation),
                )
                clean += cursor.rowcount
            con.executemany("DELETE FROM tombstones WHERE dataset=? AND symbol=?", [(dataset, s) for s in snap.tombstones])
        for name in replaced:
            (store.base / name).unlink(missing_ok=True)
        return {"dataset": dataset, "periods": len(new) + len(emptied), "series": clean,
                "rows": sum(s.rows for s in new), "seconds": time.perf_counter() - started}  # fmt: skip
    finally:
        lock.release()


def _touched(seg: Segment, changed: dict[str, Entry], tombstones: frozenset[str]) -> bool:
    if tombstones:
        return True
    return any(e.dirty_from <= seg.last_day for e in changed.values())


def _changed_rows(store: SeriesStore, dataset: str, changed: dict[str, Entry], verify) -> tuple[pl.DataFrame, dict[str, int]]:  # noqa: ANN001
    """Rows of the changed series from their ``dirty_from`` day on, with their period; and their generations."""
    from quantdb_lab.store.series_store import index_column

    frames, consumed = [], {}
    for symbol, entry in changed.items():
        try:
            frame = verify(read_verified(store.file_of(SeriesKey(dataset, symbol), entry), entry.crc), entry.meta, dataset).frame
        except FrameFileError:
            continue  # left out of date: the loader repairs the series when it is read
        column = index_column(frame, dataset)
        if entry.dirty_from != DIRTY_ALL:
            frame = frame.filter(day_of(column) >= entry.dirty_from)
        if "symbol" not in frame.columns:
            frame = frame.with_columns(symbol=pl.lit(symbol))
        frame = frame.with_columns(pl.lit(entry.sid, pl.UInt32).alias(SID))
        frames.append(frame.with_columns(period_of(column).alias("__period")))
        consumed[symbol] = entry.meta.generation
    if not frames:
        return pl.DataFrame(), consumed
    return pl.concat(frames, how="diagonal_relaxed"), consumed


def _periods(fresh: pl.DataFrame, column: str, changed: dict[str, Entry], segments: dict[str, Segment],
             tombstones: frozenset[str]) -> set[str]:  # fmt: skip
    periods = set(fresh.get_column("__period").unique().to_list()) if fresh.height else set()
    for period, seg in segments.items():
        if _touched(seg, changed, tombstones):
            periods.add(period)
    return periods


def _kept(old: pl.DataFrame | None, changed: dict[str, Entry], tombstones: frozenset[str], column: str) -> pl.DataFrame:
    """The old segment's rows that are still right: not of a dropped series, not out of date."""
    if old is None or old.is_empty():
        return pl.DataFrame()
    stale = pl.DataFrame({"symbol": list(changed), "__from": [e.dirty_from for e in changed.values()]},
                         schema={"symbol": pl.String, "__from": pl.Int64})  # fmt: skip
    days = day_of(column)
    kept = old.filter(~pl.col("symbol").is_in(list(tombstones))) if tombstones else old
    if stale.height:
        kept = kept.join(stale, on="symbol", how="left").filter(pl.col("__from").is_null() | (days < pl.col("__from")))
        kept = kept.drop("__from")
    return kept
