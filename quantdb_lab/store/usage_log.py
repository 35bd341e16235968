"""The usage log: what was asked of a Lab, when and in which mode, as JSON lines in the cache directory.

Cost on the read path (a warm read takes 50-300 us): ``record`` drops a request this process already logged
today (a loop re-reading one series logs one line a day; the predictor counts days, not reads) and appends the
rest to a memory buffer, a few microseconds; each line is built when it is written, off the read path (a
whole-market read logs ~5,000). ``background_flush`` writes the buffer every couple of seconds
and at exit; ``read`` flushes first. A crash loses at most those seconds of log, which only weakens
predictions a little.

Bounded: past ``max_bytes`` the file is rotated to ``usage.1.jsonl`` (the older one is dropped), so the log
never takes much more than twice ``max_bytes``. Kernels sharing the cache append under one file lock, each
flush one write of whole lines; a torn line (a crash mid-write) is skipped when reading.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Hashable, Iterable
from datetime import date
from pathlib import Path
from typing import Any, Final

import filelock

from quantdb_lab.errors import StoreError
from quantdb_lab.store import background_flush

FILE_NAME: Final = "usage.jsonl"
BACKUP_NAME: Final = "usage.1.jsonl"
MAX_BYTES: Final = 2_000_000  # ~10,000 lines: months of a researcher's distinct daily requests
MAX_PENDING: Final = 20_000  # lines kept in memory while the disk refuses writes


class UsageLog:
    """Append-only JSON-lines log under ``directory``; ``enabled=False`` records nothing (reading still works)."""

    def __init__(self, directory: Path, *, enabled: bool = True, max_bytes: int = MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self.backup = self.directory / BACKUP_NAME
        self.enabled = enabled
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._pending: list[Callable[[], dict[str, Any]]] = []  # built at flush
        self._seen: set[Hashable] = set()
        self._seen_day: date | None = None
        self._registered = False

    def record(self, key: Hashable, day: date, entry: Callable[[], dict[str, Any]]) -> bool:
        """Buffer ``entry()`` unless ``key`` was already recorded on ``day`` by this process; True if new."""
        return self.record_many([(key, entry)], day) > 0

    def record_many(self, items: Iterable[tuple[Hashable, Callable[[], dict[str, Any]]]], day: date) -> int:
        """``record`` for many requests under one lock (a whole-market read: thousands); how many were new."""
        if not self.enabled:
            return 0
        with self._lock:
            if day != self._seen_day:
                self._seen, self._seen_day = set(), day
            new = 0
            for key, entry in items:
                if key not in self._seen:
                    self._seen.add(key)
                    self._pending.append(entry)
                    new += 1
            del self._pending[:-MAX_PENDING]
            register = new and not self._registered
            self._registered = self._registered or bool(new)
        if register:
            background_flush.register(self)
        return new

    def flush(self) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
        if not lines:
            return
        data = "".join(json.dumps(line(), separators=(",", ":")) + "\n" for line in lines)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with filelock.FileLock(str(self.path) + ".lock", timeout=30):
                if self.path.exists() and self.path.stat().st_size + len(data) > self.max_bytes:
                    os.replace(self.path, self.backup)
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(data)
        except (OSError, filelock.Timeout) as exc:
            with self._lock:  # keep them for the next flush
                self._pending[:0] = lines
                del self._pending[:-MAX_PENDING]
            raise StoreError(f"cannot append to the usage log: {exc}") from exc

    def read(self) -> list[dict[str, Any]]:
        """Every logged entry, oldest first (the rotated file, then the current one)."""
        self.flush()
        rows: list[dict[str, Any]] = []
        for path in (self.backup, self.path):
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StoreError(f"cannot read the usage log: {exc}") from exc
            for line in text.splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # a line torn by a crash
                if isinstance(row, dict):
                    rows.append(row)
        return rows
