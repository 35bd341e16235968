"""Switching a SQLite database to WAL when other processes may be doing the same."""

from __future__ import annotations

import sqlite3
import time

_ATTEMPTS = 500  # about 10 s in all: far beyond the milliseconds another opener holds the switch


def set_wal(conn: sqlite3.Connection) -> None:
    """Switch ``conn``'s database to WAL, retrying a bounded while: while another connection makes the same switch
    on a new database, SQLite answers "database is locked" at once instead of calling the busy handler. A real
    sleep, not an injected clock's: it waits for another process's file lock, which a simulated clock cannot
    release."""
    for attempt in range(_ATTEMPTS):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.01 + 0.01 * (attempt % 5))
