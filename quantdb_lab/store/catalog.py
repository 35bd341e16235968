"""The catalog: one SQLite database per source namespace, holding what the store knows about every series.

Why SQLite and not a key-value index: planning a whole-market read needs the metadata of thousands of series
in one query, a reader needs one consistent snapshot of series and segments, and a compaction switches many of
both at once (one transaction). Values are JSON text, never pickles: a shared cache directory must not be a
code-execution hole.

Tables::

    series(dataset, symbol, generation, meta, file, rows, crc, bytes, dirty_from)
        one row per series: ``meta`` is SeriesMeta JSON; ``file`` its Parquet file (which also carries the meta
        in its footer), with the file's CRC-32; ``dirty_from`` the first day whose rows the segments do not
        hold as stored now (NULL: the segments hold every row; ``DIRTY_ALL``: never compacted)
    segments(id, dataset, period, seq, file, rows, crc, bytes, first_day, last_day, groups)
        the live cross-sectional files, one per (dataset, period), sorted by date then symbol; ``groups`` is a
        JSON list of [first_row, rows, content_crc, first_day, last_day] per Parquet row group
    tombstones(dataset, symbol)
        series dropped since the last compaction: their rows in segments are dead
    info(key, value)
        the layout version and the counter that makes every generation unique in the namespace

The catalog is a cache of what the files say: ``store.repair.rebuild_catalog`` recreates it from the files.
Generations come from one counter, so a series dropped and fetched again never reuses a generation that a
kernel's in-memory copy might still hold.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from functools import lru_cache
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from quantdb_lab.config import apply_file_mode
from quantdb_lab.sqlite_wal import set_wal
from quantdb_lab.store.records import SeriesMeta

LAYOUT_VERSION = "2.2"
DIRTY_ALL = -(2**31)  # dirty_from of a series never compacted: no segment row of it may be used

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS series (
        dataset TEXT NOT NULL, symbol TEXT NOT NULL, generation INTEGER NOT NULL, meta TEXT NOT NULL,
        file TEXT NOT NULL, rows INTEGER NOT NULL, crc INTEGER NOT NULL, bytes INTEGER NOT NULL, dirty_from INTEGER,
        sid INTEGER NOT NULL, PRIMARY KEY (dataset, symbol)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS segments (
        id INTEGER PRIMARY KEY, dataset TEXT NOT NULL, period TEXT NOT NULL, seq INTEGER NOT NULL,
        file TEXT NOT NULL, rows INTEGER NOT NULL, crc INTEGER NOT NULL, bytes INTEGER NOT NULL,
        first_day INTEGER NOT NULL, last_day INTEGER NOT NULL, groups TEXT NOT NULL, symbols TEXT NOT NULL,
        UNIQUE (dataset, period))""",
    "CREATE TABLE IF NOT EXISTS tombstones (dataset TEXT NOT NULL, symbol TEXT NOT NULL, PRIMARY KEY (dataset, symbol))",
    "CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
)
_SERIES_COLUMNS = "symbol, meta, file, rows, crc, bytes, dirty_from, sid"


@lru_cache(maxsize=65_536)
def _parse_meta(text: str) -> SeriesMeta:
    """SeriesMeta from its JSON text, memoised: planning thousands of series parses each version once (a new
    process's whole-market read parses ~5,000: orjson, about twice as fast as the standard library)."""
    return SeriesMeta.from_json(orjson.loads(text))


@dataclass(frozen=True, slots=True)
class Entry:
    """One series' row: its metadata and its file."""

    meta: SeriesMeta
    file: str
    rows: int
    crc: int
    bytes: int
    dirty_from: int | None  # None: every row is in the segments
    sid: int = 0  # the series' number in this namespace, stable while it exists (segments carry it as __sid)


@dataclass(frozen=True, slots=True)
class Segment:
    dataset: str
    period: str
    seq: int
    file: str
    rows: int
    crc: int
    bytes: int
    first_day: int
    last_day: int
    groups: tuple[tuple[int, int, int, int, int], ...]  # first_row, rows, content_crc, first_day, last_day
    symbols: str = "{}"  # JSON {symbol: rows}: how many rows of each series the segment holds

    def to_row(self) -> tuple:
        return (self.dataset, self.period, self.seq, self.file, self.rows, self.crc, self.bytes, self.first_day,
                self.last_day, json.dumps([list(g) for g in self.groups]), self.symbols)  # fmt: skip

    @classmethod
    def from_row(cls, row: tuple) -> Segment:
        *head, groups, symbols = row
        return cls(*head, groups=tuple(tuple(g) for g in orjson.loads(groups)), symbols=symbols)

    def symbol_rows(self) -> dict[str, int]:
        return _symbol_rows(self.symbols)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent view of a dataset for a cross-sectional read."""

    entries: dict[str, Entry]
    segments: list[Segment]
    tombstones: frozenset[str]


class Catalog:
    """Thread-safe access to one namespace's catalog; each method is one short transaction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self.commits = 0  # write transactions committed through this connection (data_version counts the others)
        self._con = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        set_wal(self._con)
        for suffix in ("", "-wal", "-shm"):  # SQLite's own files take the cache's one mode too
            if Path(f"{self.path}{suffix}").exists():
                apply_file_mode(f"{self.path}{suffix}")
        self._con.execute("PRAGMA synchronous=NORMAL")
        with self.transaction() as con:
            for statement in _SCHEMA:
                con.execute(statement)
            con.execute("INSERT OR IGNORE INTO info VALUES ('layout', ?)", (LAYOUT_VERSION,))
            con.execute("INSERT OR IGNORE INTO info VALUES ('generation', '0')")
            con.execute("INSERT OR IGNORE INTO info VALUES ('sid', '0')")

    def check(self, *, thorough: bool = False) -> None:
        """Raise sqlite3.DatabaseError when the database is not a catalog of this layout. Opening a store reads
        its layout row only (a damaged page raises when a query meets it, and the store rebuilds then);
        ``thorough`` also runs SQLite's structural check, whose cost grows with the catalog (ms per thousands)."""
        with self._lock:
            if thorough:
                (result,) = self._con.execute("PRAGMA quick_check").fetchone()
                if result != "ok":
                    raise sqlite3.DatabaseError(f"catalog check failed: {result}")
            layout = self._con.execute("SELECT value FROM info WHERE key='layout'").fetchone()
        if layout is None or layout[0] != LAYOUT_VERSION:
            raise sqlite3.DatabaseError(f"catalog layout {layout and layout[0]!r} is not {LAYOUT_VERSION!r}")

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")
            self.commits += write

    def data_version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``data_version``): a cheap staleness check."""
        with self._lock:
            return self._con.execute("PRAGMA data_version").fetchone()[0]

    # -- series ------------------------------------------------------------------------------------------
    def get(self, dataset: str, symbol: str) -> Entry | None:
        with self._lock:
            row = self._con.execute(
                f"SELECT {_SERIES_COLUMNS} FROM series WHERE dataset=? AND symbol=?", (dataset, symbol)
            ).fetchone()
        return _entry(row) if row else None

    def get_many(self, dataset: str, symbols: Iterable[str] | None = None, *,
                 con: sqlite3.Connection | None = None) -> dict[str, Entry]:  # fmt: skip
        """Entries of ``symbols`` in ``dataset`` (all of the dataset when None), in one query."""
        with self._lock:
            con = con or self._con
            if symbols is None:
                rows = con.execute(f"SELECT {_SERIES_COLUMNS} FROM series WHERE dataset=?", (dataset,)).fetchall()
            else:
                rows = con.execute(
                    f"SELECT {_SERIES_COLUMNS} FROM series WHERE dataset=? AND symbol IN (SELECT value FROM json_each(?))",
                    (dataset, json.dumps(sorted(set(symbols)))),
                ).fetchall()
        return {row[0]: _entry(row) for row in rows}

    def snapshot(self, dataset: str, symbols: Iterable[str] | None = None) -> Snapshot:
        """Series, live segments and tombstones of ``dataset`` as of one moment (one read transaction)."""
        with self.transaction(write=False) as con:
            entries = self.get_many(dataset, symbols, con=con)
            segments = [Segment.from_row(row) for row in con.execute(
                "SELECT dataset, period, seq, file, rows, crc, bytes, first_day, last_day, groups, symbols FROM segments "
                "WHERE dataset=? ORDER BY period", (dataset,)).fetchall()]  # fmt: skip
            dead = frozenset(r[0] for r in con.execute("SELECT symbol FROM tombstones WHERE dataset=?", (dataset,)))
        return Snapshot(entries, segments, dead)

    def next_generation(self, con: sqlite3.Connection) -> int:
        con.execute("UPDATE info SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
        return int(con.execute("SELECT value FROM info WHERE key='generation'").fetchone()[0])

    def put(self, con: sqlite3.Connection, dataset: str, symbol: str, entry: Entry) -> None:
        known = con.execute("SELECT sid FROM series WHERE dataset=? AND symbol=?", (dataset, symbol)).fetchone()
        if known is not None:
            sid = known[0]
        else:
            con.execute("UPDATE info SET value = CAST(value AS INTEGER) + 1 WHERE key='sid'")
            sid = int(con.execute("SELECT value FROM info WHERE key='sid'").fetchone()[0])
        con.execute(
            "INSERT OR REPLACE INTO series VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (dataset, symbol, entry.meta.generation, json.dumps(entry.meta.to_json()), entry.file, entry.rows,
             entry.crc, entry.bytes, entry.dirty_from, sid),
        )  # fmt: skip
        con.execute("DELETE FROM tombstones WHERE dataset=? AND symbol=?", (dataset, symbol))

    def delete(self, dataset: str, symbol: str) -> None:
        """Forget a series; its rows in segments are dead until the next compaction drops them."""
        with self.transaction() as con:
            con.execute("DELETE FROM series WHERE dataset=? AND symbol=?", (dataset, symbol))
            con.execute("INSERT OR IGNORE INTO tombstones VALUES (?, ?)", (dataset, symbol))

    def keys(self) -> list[tuple[str, str]]:
        with self._lock:
            return self._con.execute("SELECT dataset, symbol FROM series ORDER BY dataset, symbol").fetchall()

    def usage(self) -> dict[str, dict[str, int]]:
        """Series, rows and bytes on disk per dataset (series files plus segments)."""
        with self._lock:
            series = self._con.execute(
                "SELECT dataset, COUNT(*), SUM(rows), SUM(bytes) FROM series GROUP BY dataset").fetchall()
            segments = dict(self._con.execute("SELECT dataset, SUM(bytes) FROM segments GROUP BY dataset").fetchall())
        return {dataset: {"series": int(n), "rows": int(rows or 0), "bytes": int(size or 0) + int(segments.get(dataset) or 0)}
                for dataset, n, rows, size in series}  # fmt: skip

    def count(self, dataset: str) -> int:
        """How many series ``dataset`` holds."""
        with self._lock:
            return int(self._con.execute("SELECT COUNT(*) FROM series WHERE dataset=?", (dataset,)).fetchone()[0])

    def backlog(self, dataset: str) -> int:
        """How many series of ``dataset`` have rows the segments do not hold (the compaction backlog)."""
        with self._lock:
            (dirty,) = self._con.execute(
                "SELECT COUNT(*) FROM series WHERE dataset=? AND dirty_from IS NOT NULL", (dataset,)).fetchone()
            (dead,) = self._con.execute("SELECT COUNT(*) FROM tombstones WHERE dataset=?", (dataset,)).fetchone()
        return int(dirty) + int(dead)

    # -- segments ----------------------------------------------------------------------------------------
    def register_segments(self, con: sqlite3.Connection, new: Iterable[Segment]) -> list[str]:
        """Make ``new`` the live segments of their periods; returns the files of the segments they replace."""
        replaced = []
        for seg in new:
            old = con.execute("SELECT id, file FROM segments WHERE dataset=? AND period=?", (seg.dataset, seg.period)).fetchone()
            if old is not None:
                con.execute("DELETE FROM segments WHERE id=?", (old[0],))
                if old[1] != seg.file:
                    replaced.append(old[1])
            con.execute(
                "INSERT INTO segments (dataset, period, seq, file, rows, crc, bytes, first_day, last_day, groups, symbols) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", seg.to_row())  # fmt: skip
        return replaced

    def drop_segments(self, con: sqlite3.Connection, dataset: str, periods: Iterable[str]) -> list[str]:
        replaced = []
        for period in periods:
            row = con.execute("SELECT id, file FROM segments WHERE dataset=? AND period=?", (dataset, period)).fetchone()
            if row is not None:
                con.execute("DELETE FROM segments WHERE id=?", (row[0],))
                replaced.append(row[1])
        return replaced

    def referenced_files(self) -> set[str]:
        """Every file the catalog points at, relative to the namespace folder."""
        with self._lock:
            own = self._con.execute("SELECT dataset, file FROM series").fetchall()
            segs = self._con.execute("SELECT file FROM segments").fetchall()
        return {f"frames/{dataset}/{name}" for dataset, name in own} | {name for (name,) in segs}

    def close(self) -> None:
        with self._lock:
            self._con.close()


@lru_cache(maxsize=256)
def _symbol_rows(text: str) -> dict[str, int]:
    return orjson.loads(text)


def _entry(row: tuple) -> Entry:
    _, meta, name, rows, crc, size, dirty_from, sid = row
    return Entry(_parse_meta(meta), name, int(rows), int(crc), int(size), dirty_from, int(sid))
