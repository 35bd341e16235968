"""Where family states live: in memory (threads of one process) or in SQLite (every process sharing a directory).

Both store each family's state as a JSON string, so the in-memory backend exercises the same serialisation,
and a shared cache directory never holds anything executable (no pickles).

SQLite rather than a lock file plus JSON: ``BEGIN IMMEDIATE`` takes the write lock before reading, so a
read-modify-write of one family is atomic across processes without a second locking scheme, and WAL mode
keeps readers (``status``) from blocking writers. A transaction is well under a millisecond, against permits
that are hundreds of milliseconds apart. (WAL needs a local filesystem, not NFS.)
"""

from __future__ import annotations

import os
import sqlite3
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Final, Protocol, TypeVar

import filelock

from quantdb_lab.config import apply_file_mode
from quantdb_lab.errors import CacheRepairedWarning, StoreError
from quantdb_lab.sqlite_wal import set_wal
from quantdb_lab.throttle.state import FamilyState

R = TypeVar("R")

#: Bump when the table layout changes: an old database is then emptied, never misread. Throttle state is
#: ephemeral (a bucket refills in seconds), so starting afresh loses nothing that matters.
SCHEMA_VERSION: Final = 1
DB_NAME: Final = "throttle.sqlite3"


class StateBackend(Protocol):
    def transact(self, family: str, update: Callable[[FamilyState], R]) -> R:
        """Run ``update`` on ``family``'s state (a fresh one if none) atomically and store the result."""
        ...

    def snapshot(self) -> dict[str, FamilyState]: ...

    def delete(self, family: str | None) -> None:
        """Forget one family's state, or every family's with ``None``."""
        ...

    def change_mark(self) -> int | None:
        """A value that changes when another process commits to the shared state (None: nothing is shared)."""
        ...


class MemoryBackend:
    """Shared by the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, str] = {}

    def transact(self, family: str, update: Callable[[FamilyState], R]) -> R:
        with self._lock:
            state = FamilyState.from_json(self._rows.get(family))
            result = update(state)
            self._rows[family] = state.to_json()
            return result

    def snapshot(self) -> dict[str, FamilyState]:
        with self._lock:
            rows = dict(self._rows)
        return {family: FamilyState.from_json(text) for family, text in rows.items()}

    def delete(self, family: str | None) -> None:
        with self._lock:
            if family is None:
                self._rows.clear()
            else:
                self._rows.pop(family, None)

    def change_mark(self) -> None:
        return None  # one process: its releases notify waiters directly


class SqliteBackend:
    """Shared by every thread and process that opens the same ``state_dir``.

    A damaged database (garbage bytes, a truncated file, a dropped table) is deleted and created afresh with a
    ``CacheRepairedWarning``: its state is ephemeral, so nothing is lost but a few seconds of pacing. Each
    transaction first checks that the file is still the one its connection opened, so a kernel whose peer
    rebuilt the database moves to the new one instead of pacing itself alone on the deleted file.
    """

    def __init__(self, state_dir: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(state_dir) / DB_NAME
        self._busy_timeout = busy_timeout
        self._local = threading.local()  # sqlite3 connections belong to one thread
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._run(lambda conn: None)  # opens (and migrates, or rebuilds) the database
        except OSError as exc:
            raise StoreError(f"cannot open throttle state at {self.path}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid() and self._local.inode == _inode(self.path):
            return conn
        self._disconnect()
        created = not self.path.exists()
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        try:
            set_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")  # losing the last permits in a power cut is harmless
            _migrate(conn)
        except BaseException:
            conn.close()
            raise
        if created:  # SQLite gives later -wal and -shm files the database's mode; these two came first
            for suffix in ("", "-wal", "-shm"):
                if Path(str(self.path) + suffix).exists():
                    apply_file_mode(Path(str(self.path) + suffix))
        self._local.conn, self._local.pid, self._local.inode = conn, os.getpid(), _inode(self.path)
        return conn

    def _disconnect(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None and self._local.pid == os.getpid():
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def _run(self, operation: Callable[[sqlite3.Connection], R], what: str = "failed") -> R:
        """``operation`` on this thread's connection; a damaged database is rebuilt once and the operation rerun."""
        for attempt in (0, 1):
            seen = _inode(self.path)
            try:
                return operation(self._connect())
            except sqlite3.Error as exc:
                if attempt == 1 or not _is_damage(exc):
                    raise StoreError(f"throttle state at {self.path} {what}: {exc}") from exc
                self._rebuild(seen, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    def _rebuild(self, seen: int | None, exc: sqlite3.Error) -> None:
        self._disconnect()
        with filelock.FileLock(str(self.path) + ".lock", timeout=self._busy_timeout):
            if _inode(self.path) != seen:
                return  # another kernel rebuilt it meanwhile: use theirs
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            self._connect()
        warnings.warn(
            f"the throttle database {self.path} was damaged ({exc}); it was rebuilt empty (its state is "
            "ephemeral: rate limits and breakers start afresh)",
            CacheRepairedWarning,
            stacklevel=5,
        )

    def transact(self, family: str, update: Callable[[FamilyState], R]) -> R:
        def run(conn: sqlite3.Connection) -> R:
            conn.execute("BEGIN IMMEDIATE")  # take the write lock before reading: no lost updates
            try:
                row = conn.execute("SELECT state FROM family_state WHERE family = ?", (family,)).fetchone()
                state = FamilyState.from_json(row[0] if row else None)
                result = update(state)
                conn.execute(
                    "INSERT INTO family_state (family, state) VALUES (?, ?) "
                    "ON CONFLICT(family) DO UPDATE SET state = excluded.state",
                    (family, state.to_json()),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

        return self._run(run)

    def snapshot(self) -> dict[str, FamilyState]:
        rows = self._run(lambda conn: conn.execute("SELECT family, state FROM family_state").fetchall(), "unreadable")
        return {family: FamilyState.from_json(text) for family, text in rows}

    def delete(self, family: str | None) -> None:
        def run(conn: sqlite3.Connection) -> None:
            if family is None:
                conn.execute("DELETE FROM family_state")
            else:
                conn.execute("DELETE FROM family_state WHERE family = ?", (family,))

        self._run(run, "cannot be reset")

    def change_mark(self) -> int | None:
        """SQLite's ``data_version`` on this thread's connection: it moves whenever another connection (another
        process, or another thread of this one) commits, e.g. a permit released. Reading it takes no lock."""
        try:
            return int(self._connect().execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return None


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


_DAMAGE = ("not a database", "malformed", "no such table", "disk i/o error", "file is encrypted", "disk image")


def _is_damage(exc: sqlite3.Error) -> bool:
    """A damaged file, as opposed to a busy one (locked, busy: those are waits, bounded by busy_timeout)."""
    text = str(exc).lower()
    return type(exc) is sqlite3.DatabaseError or any(word in text for word in _DAMAGE)


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version != SCHEMA_VERSION:
            conn.execute("DROP TABLE IF EXISTS family_state")
            conn.execute("CREATE TABLE family_state (family TEXT PRIMARY KEY, state TEXT NOT NULL)")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
