"""Cross-sectional reads: many series of one dataset as one long frame, sorted by date then symbol.

The read is one catalog snapshot and a few large reads: the segments overlapping the range (whole files, or the
row groups a short range needs), then, for each series written since the last compaction, its rows from the day
the segments stopped matching it (``dirty_from``), taken from its own file. Because segments are sorted by date
and out-of-date rows can only start at the earliest ``dirty_from``, only the tail of the frame after that day is
re-sorted; a compacted store returns the segments' order untouched.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from quantdb_lab.errors import StoreError
from quantdb_lab.store.catalog import DIRTY_ALL, Segment, Snapshot
from quantdb_lab.store.frame_files import FrameFileError, file_crc
from quantdb_lab.store.records import SeriesKey, StoredFrame
from quantdb_lab.store.repair import warn_repaired
from quantdb_lab.store.segments import SID, day_of, read_segment, to_day

if TYPE_CHECKING:
    from quantdb_lab.store.series_store import SeriesStore

_ATTEMPTS = 3
_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quantdb-segments")


@dataclass(frozen=True, slots=True)
class MarketFrame:
    """A cross-sectional read: the rows, and the series that could not be read (symbol -> why)."""

    frame: pl.DataFrame
    damaged: dict[str, str] = field(default_factory=dict)
    snapshot: Snapshot | None = None
    rows: dict[str, int] = field(default_factory=dict)  # rows of each series in the frame (absent: none)


def read_market(store: SeriesStore, dataset: str, symbols: list[str] | None = None, *,
                start: date | None = None, end: date | None = None) -> MarketFrame:  # fmt: skip
    """Rows of ``symbols`` (every series of ``dataset`` when None) with ``start <= date <= end``."""
    lo, hi = to_day(start), to_day(end)
    problem = ""
    for _ in range(_ATTEMPTS):
        snap = store.catalog.snapshot(dataset, symbols)
        try:
            return _read(store, dataset, snap, symbols is not None, lo, hi)
        except _SegmentChanged as exc:  # a compaction replaced a file after the snapshot: take a new one
            problem = str(exc)
            continue
        except _SegmentDamaged as exc:
            quarantine(store, exc.segment, str(exc))
            problem = str(exc)
    raise StoreError(f"cross-sectional read of {dataset} failed: {problem}", dataset=dataset)


def preload_market(store: SeriesStore, dataset: str, *, start: date | None, end: date | None) -> Future:
    """Check and decode, in a thread, the whole segments a cross-section of ``[start, end]`` will read, into
    the store's memory, while the caller plans the read (the catalog's metadata of thousands of series is
    Python work; the decode releases the GIL). The read waits for it and finds them decoded; any problem is
    left to the read, which reports it."""
    lo, hi = to_day(start), to_day(end)

    def decode() -> None:
        try:
            segments = store.catalog.snapshot(dataset, []).segments
            inside = [seg for seg in segments if (lo is None or lo <= seg.first_day) and (hi is None or hi >= seg.last_day)]
            _segment_frames(store, inside, lo, hi)
        except Exception:  # noqa: BLE001, S110 - the read itself meets the same problem and reports it
            pass

    return _AHEAD.submit(decode)


class _SegmentChanged(Exception):
    pass


class _SegmentDamaged(Exception):
    def __init__(self, segment: Segment, reason: str) -> None:
        super().__init__(f"segment {segment.file}: {reason}")
        self.segment = segment


def _segment_frames(store: SeriesStore, segments: list[Segment], lo: int | None, hi: int | None) -> list[pl.DataFrame]:
    """Each segment's rows that may lie in ``[lo, hi]``, verified: whole files (their CRC) are read in one
    parallel Parquet decode and kept in memory for the next read; a segment the range only grazes is read by row
    groups (each checked against its content CRC)."""
    out: dict[int, pl.DataFrame] = {}
    whole: list[tuple[int, Segment]] = []
    for i, seg in enumerate(segments):
        cached = store.memory.get(("segment", seg.file), seg.crc)
        if cached is not None:
            out[i] = cached.frame
        elif (lo is None or lo <= seg.first_day) and (hi is None or hi >= seg.last_day):
            _verify_file(store, seg)
            whole.append((i, seg))
        else:
            try:
                out[i] = read_segment(store.base, seg, lo, hi)
            except FrameFileError as exc:
                raise _problem(store, seg, str(exc)) from exc
    if whole:
        try:  # segment files are never rewritten in place (a new version is a new name): checked, then decoded
            frame = pl.read_parquet([store.base / seg.file for _, seg in whole])
        except FileNotFoundError as exc:
            raise _SegmentChanged(str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - checked bytes that do not decode: damaged when written
            raise _SegmentDamaged(whole[0][1], f"undecodable ({type(exc).__name__})") from exc
        offset = 0
        for i, seg in whole:
            part = frame.slice(offset, seg.rows)
            offset += seg.rows
            store.memory.put(("segment", seg.file), seg.crc, StoredFrame(part, np.empty(0, np.int64)))
            out[i] = part
        if offset != frame.height:
            raise _SegmentDamaged(whole[0][1], f"{frame.height} rows where the catalog records {offset}")
    return [out[i] for i in range(len(segments))]


def _verify_file(store: SeriesStore, seg: Segment) -> None:
    """The segment file's CRC-32, read through a memory map (no copy of the file into Python)."""
    try:
        crc = file_crc(store.base / seg.file)
    except FileNotFoundError as exc:
        raise _SegmentChanged(f"{seg.file} is gone") from exc
    if crc != seg.crc:
        raise _problem(store, seg, "checksum mismatch")


def _problem(store: SeriesStore, seg: Segment, reason: str) -> Exception:
    """A segment that failed to read: replaced by a compaction meanwhile (take a new snapshot), or damaged."""
    live = store.catalog.snapshot(seg.dataset, []).segments
    return _SegmentChanged(reason) if seg not in live else _SegmentDamaged(seg, reason)


def _read(store: SeriesStore, dataset: str, snap: Snapshot, subset: bool, lo: int | None, hi: int | None) -> MarketFrame:
    used = [seg for seg in snap.segments if (lo is None or seg.last_day >= lo) and (hi is None or seg.first_day <= hi)]
    parts, rows = [], {}
    for seg, part in zip(used, _segment_frames(store, used, lo, hi)):
        inside = (lo is None or lo <= seg.first_day) and (hi is None or hi >= seg.last_day)
        part = part if inside else _slice_days(part, lo, hi)
        counts = seg.symbol_rows() if inside else dict(part.group_by("symbol").len().iter_rows())
        for symbol, n in counts.items():
            rows[symbol] = rows.get(symbol, 0) + n
        if part.height:
            parts.append(part)
    frame = pl.concat(parts, how="vertical_relaxed", rechunk=False) if parts else pl.DataFrame()
    if snap.tombstones:
        frame = frame.filter(~pl.col("symbol").is_in(list(snap.tombstones))) if frame.height else frame
        rows = {s: n for s, n in rows.items() if s not in snap.tombstones}
    if subset and frame.height and len(snap.entries) < store.catalog.count(dataset):
        frame = frame.filter(pl.col("symbol").is_in(list(snap.entries)))
    rows = {s: n for s, n in rows.items() if s in snap.entries}
    dirty = {s: e.dirty_from for s, e in snap.entries.items() if e.dirty_from is not None and e.rows}
    damaged: dict[str, str] = {}
    if dirty:
        frame, damaged = _overlay(store, dataset, snap, frame, dirty, lo, hi)
        recount = frame.filter(pl.col("symbol").is_in(list(dirty))).group_by("symbol").len() if frame.height else None
        rows = {s: n for s, n in rows.items() if s not in dirty}
        if recount is not None:
            rows.update(dict(recount.iter_rows()))
    return MarketFrame(frame, damaged, snap, rows)


def _slice_days(frame: pl.DataFrame, lo: int | None, hi: int | None) -> pl.DataFrame:
    """Rows with ``lo <= day <= hi`` of a frame sorted by date: two binary searches, no scan."""
    if not frame.height:
        return frame
    column = "date" if "date" in frame.columns else "time"
    values = frame.get_column(column)
    first = int(values.search_sorted(_at(lo, values.dtype), side="left")) if lo is not None else 0
    last = int(values.search_sorted(_at(hi + 1, values.dtype), side="left")) if hi is not None else frame.height
    return frame.slice(first, last - first) if (first, last) != (0, frame.height) else frame


def _at(day: int, dtype: pl.DataType):  # noqa: ANN202 - the first instant of a day, comparable to ``dtype``
    from datetime import timedelta

    value = date(1970, 1, 1) + timedelta(days=int(day))
    if dtype == pl.Date:
        return value
    midnight = pl.Series([value]).cast(pl.Datetime(dtype.time_unit))
    return (midnight.dt.replace_time_zone(dtype.time_zone) if dtype.time_zone else midnight)[0]


def _overlay(store: SeriesStore, dataset: str, snap: Snapshot, frame: pl.DataFrame, dirty: dict[str, int],
             lo: int | None, hi: int | None) -> tuple[pl.DataFrame, dict[str, str]]:  # fmt: skip
    """Replace each changed series' rows from its ``dirty_from`` on with those of its own file."""
    keys = [SeriesKey(dataset, s) for s in dirty]
    if len(keys) > 1:
        store.preload(keys)
    own, damaged = [], {}
    for symbol, since in dirty.items():
        entry = snap.entries[symbol]
        try:
            stored = store.read_stored(SeriesKey(dataset, symbol), entry.meta)
        except StoreError as exc:
            damaged[symbol] = exc.reason
            continue
        first = since if lo is None else max(since, lo)
        i = int(np.searchsorted(stored.days, first, side="left"))
        j = int(np.searchsorted(stored.days, hi, side="right")) if hi is not None else len(stored.days)
        rows = stored.frame.slice(i, j - i)
        if rows.height:
            rows = rows if "symbol" in rows.columns else rows.with_columns(symbol=pl.lit(symbol))
            own.append(rows.with_columns(pl.lit(entry.sid, pl.UInt32).alias(SID)))
    earliest = min(v if v != DIRTY_ALL else -(2**31) for v in dirty.values())
    column = "date" if (frame.height == 0 or "date" in frame.columns) else "time"
    if frame.height:
        days = frame.select(day_of(column)).to_series()
        split = int(days.search_sorted(earliest, side="left")) if earliest > -(2**31) else 0
        head, tail = frame.slice(0, split), frame.slice(split)
        stale = pl.DataFrame({"symbol": list(dirty), "__from": list(dirty.values())},
                             schema={"symbol": pl.String, "__from": pl.Int64})  # fmt: skip
        tail = (tail.join(stale, on="symbol", how="left")
                .filter(pl.col("__from").is_null() | (day_of(column) < pl.col("__from"))).drop("__from"))  # fmt: skip
    else:
        head, tail = frame, frame
    pieces = [p for p in (tail, *own) if p.height]
    if not pieces:
        return head, damaged
    merged = pl.concat(pieces, how="diagonal_relaxed")
    merged = merged.sort(column if column in merged.columns else "date", "symbol")
    if head.height:
        merged = pl.concat([head, merged.select(head.columns)], how="vertical_relaxed", rechunk=False)
    return merged, damaged


def quarantine(store: SeriesStore, segment: Segment, reason: str) -> None:
    """A damaged segment leaves the catalog; every series' rows from its first day on come from their own
    files until the next compaction rebuilds it. Warns once."""
    with store.catalog.transaction() as con:
        con.execute("DELETE FROM segments WHERE dataset=? AND file=?", (segment.dataset, segment.file))
        con.execute(
            "UPDATE series SET dirty_from = CASE WHEN dirty_from IS NULL OR dirty_from > ? THEN ? ELSE dirty_from END "
            "WHERE dataset=?",
            (segment.first_day, segment.first_day, segment.dataset),
        )
    warn_repaired(f"{segment.file} did not match what was written ({reason}); it was set aside, and its rows are "
                  "read from the series files until the next compaction rebuilds it", stacklevel=5)  # fmt: skip


def scan_market(store: SeriesStore, dataset: str, symbols: list[str] | None = None, *,
                start: date | None = None, end: date | None = None) -> pl.LazyFrame:  # fmt: skip
    """A lazy scan of the stored rows (projection and predicate pushdown into the Parquet files), the same
    rows as ``read_market``. Every file the scan can touch is checked against its CRC first: a lazy plan
    must not be the one path that serves a damaged file."""
    lo, hi = to_day(start), to_day(end)
    snap = store.catalog.snapshot(dataset, symbols)
    segments = [seg for seg in snap.segments
                if (lo is None or seg.last_day >= lo) and (hi is None or seg.first_day <= hi)]  # fmt: skip
    for seg in segments:
        if file_crc(store.base / seg.file) != seg.crc:
            quarantine(store, seg, "checksum mismatch")
            return scan_market(store, dataset, symbols, start=start, end=end)
    dirty = {s: e.dirty_from for s, e in snap.entries.items() if e.dirty_from is not None and e.rows}
    column = "date"
    parts: list[pl.LazyFrame] = []
    if segments:
        lazy = pl.scan_parquet([store.base / seg.file for seg in segments])
        if snap.tombstones:
            lazy = lazy.filter(~pl.col("symbol").is_in(list(snap.tombstones)))
        if symbols is not None:
            lazy = lazy.filter(pl.col("symbol").is_in(list(snap.entries)))
        if dirty:
            stale = pl.LazyFrame({"symbol": list(dirty), "__from": list(dirty.values())},
                                 schema={"symbol": pl.String, "__from": pl.Int64})  # fmt: skip
            lazy = (lazy.join(stale, on="symbol", how="left")
                    .filter(pl.col("__from").is_null() | (day_of(column) < pl.col("__from"))).drop("__from"))  # fmt: skip
        parts.append(lazy)
    if dirty:
        own = []
        for symbol, since in dirty.items():
            entry = snap.entries[symbol]
            path = store.file_of(SeriesKey(dataset, symbol), entry)
            if file_crc(path) != entry.crc:
                continue  # left out; read_stored names it (and the loader repairs it) on a bars() read
            frame = pl.scan_parquet(path).with_columns(pl.lit(entry.sid, pl.UInt32).alias(SID))
            if since != DIRTY_ALL:
                frame = frame.filter(day_of(column) >= since)
            own.append(frame)
        if own:
            parts.append(pl.concat(own, how="diagonal_relaxed"))
    if not parts:
        return pl.LazyFrame(schema={"symbol": pl.String, column: pl.Date})
    lazy = pl.concat(parts, how="diagonal_relaxed") if len(parts) > 1 else parts[0]
    if lo is not None:
        lazy = lazy.filter(day_of(column) >= lo)
    if hi is not None:
        lazy = lazy.filter(day_of(column) <= hi)
    return lazy
