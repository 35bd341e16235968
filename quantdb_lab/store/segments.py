"""Cross-sectional segment files: one per (dataset, period), the rows of every series sorted by date, symbol.

A whole-market read is a few large sequential reads instead of thousands of small ones (measured in
benchmarks/bench_market.py: 5,000 per-series files take several times longer to read than the same rows in ten
yearly segments), and sorting by date first gives three things at once: the result of a market read comes out
in (date, symbol) order with no sort, Parquet row-group statistics on ``date`` prune a short date range to the
row groups it needs, and an as-of join of adjustment factors needs no reordering.

Each segment records, per row group, its first row, row count, content CRC and first and last day, so a read of
some row groups is checked group by group; a read of the whole file is checked against the file's CRC.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from quantdb_lab.store.catalog import Segment
from quantdb_lab.store.checksum import crc32
from quantdb_lab.store.frame_files import FrameFileError, atomic_write, content_crc, encode_frame, read_verified
from quantdb_lab.store.records import day_numbers

ROW_GROUP_ROWS = 65_536
SID = "__sid"  # each row's series number (catalog ``series.sid``): integer keys for joins over a cross-section
_EPOCH = date(1970, 1, 1)


def period_of(column: str) -> pl.Expr:
    """The period a row belongs to: its year for daily data, its month for intraday bars (more rows a day)."""
    when = pl.col(column)
    return when.dt.strftime("%Y") if column == "date" else when.dt.strftime("%Y-%m")


def day_of(column: str) -> pl.Expr:
    """``column`` (a Date, or a Datetime of intraday bars) as day numbers since 1970-01-01."""
    when = pl.col(column)
    return when.cast(pl.Date).cast(pl.Int64) if column == "date" else when.dt.date().cast(pl.Int64)


def period_bounds(period: str) -> tuple[int, int]:
    """First and last day number a period can hold."""
    if len(period) == 4:
        first, after = date(int(period), 1, 1), date(int(period) + 1, 1, 1)
    else:
        year, month = int(period[:4]), int(period[5:7])
        first = date(year, month, 1)
        after = date(year + (month == 12), month % 12 + 1, 1)
    return (first - _EPOCH).days, (after - _EPOCH).days - 1


def segment_name(dataset: str, period: str, seq: int) -> str:
    return f"segments/{dataset}/{period}.{seq}.parquet"


def write_segment(base: Path, dataset: str, period: str, seq: int, frame: pl.DataFrame, column: str) -> Segment:
    """Write ``frame`` (already sorted by ``column``, symbol) as the segment of ``period``; returns its record."""
    name = segment_name(dataset, period, seq)
    data = encode_frame(frame, {"layout": 2, "dataset": dataset, "period": period, "seq": seq},
                        row_group_size=ROW_GROUP_ROWS)  # fmt: skip
    metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    days = day_numbers(frame, column)
    groups, first = [], 0
    for i in range(metadata.num_row_groups):
        rows = metadata.row_group(i).num_rows
        part = frame.slice(first, rows)
        groups.append((first, rows, content_crc(part, skip=()), int(days[first]), int(days[first + rows - 1])))
        first += rows
    atomic_write(base / name, data)
    counts = dict(frame.group_by("symbol").len().iter_rows())
    return Segment(dataset, period, seq, name, frame.height, crc32(data), len(data), int(days[0]),
                   int(days[-1]), tuple(groups), json.dumps(counts, separators=(",", ":")))  # fmt: skip


def read_segment(base: Path, segment: Segment, first_day: int | None = None, last_day: int | None = None) -> pl.DataFrame:
    """The segment's rows that may lie in ``[first_day, last_day]`` (whole row groups), verified.

    All of it when the range covers every row group (checked against the file CRC), else only the row groups
    that overlap the range (each checked against its content CRC). Rows are not filtered by day here."""
    lo = segment.first_day if first_day is None else first_day
    hi = segment.last_day if last_day is None else last_day
    wanted = [i for i, g in enumerate(segment.groups) if g[4] >= lo and g[3] <= hi]
    if len(wanted) == len(segment.groups):
        frame = read_verified(base / segment.file, segment.crc)
        if frame.height != segment.rows:
            raise FrameFileError(f"segment {segment.file} has {frame.height} rows where the catalog records {segment.rows}")
        return frame
    if not wanted:
        return pl.DataFrame()
    try:
        table = pq.ParquetFile(base / segment.file).read_row_groups(wanted)
        frame = pl.from_arrow(table)
    except FileNotFoundError as exc:
        raise FrameFileError(f"missing segment {segment.file}") from exc
    except Exception as exc:  # noqa: BLE001 - an undecodable segment cannot be trusted
        raise FrameFileError(f"undecodable segment {segment.file} ({type(exc).__name__})") from exc
    offset = 0
    for i in wanted:
        _, rows, crc, _, _ = segment.groups[i]
        if content_crc(frame.slice(offset, rows), skip=()) != crc:
            raise FrameFileError(f"segment {segment.file} row group {i} checksum mismatch")
        offset += rows
    if offset != frame.height:
        raise FrameFileError(f"segment {segment.file} row groups hold {frame.height} rows, not {offset}")
    return frame


def to_day(value: date | datetime | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    return (value - _EPOCH).days
