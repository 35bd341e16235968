"""Reference frames on disk: the security master, index constituents, commodity series.

One Parquet file per (provider, name) plus a small JSON file with ``fetched_at``; writes are atomic (temporary
file, then ``os.replace``) and the metadata goes last, so a reader never sees a half-written pair. An in-memory
copy is reused while the file's modification time is unchanged, so warm questions do not re-read Parquet but
another kernel's refresh is still seen.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import polars as pl

from quantdb_lab.errors import StoreError

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class ReferenceEntry:
    """A stored frame and when it was fetched."""

    frame: pl.DataFrame
    fetched_at: datetime


class ReferenceStore:
    """``root/<provider>/<name>.parquet`` with ``<name>.json`` beside it."""

    _memory: ClassVar[dict[Path, tuple[int, ReferenceEntry]]] = {}  # shared by every store in the process: files decide
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, root: Path, provider: str) -> None:
        self.directory = Path(root) / _SAFE.sub("_", provider)

    def _paths(self, name: str) -> tuple[Path, Path]:
        safe = self.stem(name)
        return self.directory / f"{safe}.parquet", self.directory / f"{safe}.json"

    @staticmethod
    def stem(name: str) -> str:
        """The file stem an entry called ``name`` is stored under."""
        return _SAFE.sub("_", name)

    def stems(self, prefix: str) -> set[str]:
        """The stems of the stored entries whose stem starts with ``prefix`` (one directory listing)."""
        try:
            with os.scandir(self.directory) as found:
                return {e.name[:-5] for e in found if e.name.startswith(prefix) and e.name.endswith(".json")}
        except FileNotFoundError:
            return set()

    def read(self, name: str) -> ReferenceEntry | None:
        """The stored entry, or None when there is none (or it is unreadable: it will be fetched again)."""
        frame_path, meta_path = self._paths(name)
        try:
            stamp = meta_path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        with self._lock:
            cached = self._memory.get(meta_path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            entry = ReferenceEntry(pl.read_parquet(frame_path), datetime.fromisoformat(meta["fetched_at"]))
        except (OSError, ValueError, KeyError, pl.exceptions.PolarsError):
            return None
        with self._lock:
            self._memory[meta_path] = (stamp, entry)
        return entry

    def delete(self, name: str) -> None:
        """Remove the entry (the metadata first, so a reader never finds a frame without it as an entry)."""
        for path in reversed(self._paths(name)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StoreError(f"cannot remove reference data {name!r}: {exc}", dataset=name) from exc

    def write(self, name: str, frame: pl.DataFrame, fetched_at: datetime) -> ReferenceEntry:
        frame_path, meta_path = self._paths(name)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = frame_path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            frame.write_parquet(tmp)
            os.replace(tmp, frame_path)
            tmp_meta = meta_path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp_meta.write_text(json.dumps({"fetched_at": fetched_at.isoformat(), "rows": frame.height}))
            os.replace(tmp_meta, meta_path)
        except OSError as exc:
            raise StoreError(f"cannot write reference data {name!r}: {exc}", dataset=name) from exc
        return ReferenceEntry(frame, fetched_at)
