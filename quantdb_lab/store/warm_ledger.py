"""The warm ledger: which spans a warmer fetched ahead of time, and whether a foreground read used them later.

It turns warming into measured value: entries warmed, entries used (and how many reads they served), and the
upstream calls spent on entries never used. One JSON file per cache directory (``prefetch/warmed.json``),
rewritten atomically under a file lock, so the cron warmer and the kernels that read share it.

Recording a use must not slow a warm read: ``note`` only updates memory; ``background_flush`` merges the
counts into the file (additive, so kernels never overwrite each other's uses). The file is re-read at most
once a second, when another process changed it.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Final

import filelock

from quantdb_lab.errors import StoreError
from quantdb_lab.store import background_flush

FILE_NAME: Final = "warmed.json"
VERSION: Final = 1
MAX_ENTRIES: Final = 2000  # oldest entries go first; a few weeks of nightly warming
REFRESH_SECONDS: Final = 1.0


def _overlaps(span: list, datasets: Iterable[str], first: str, last: str) -> bool:
    dataset, start, end = span
    return dataset in datasets and start <= last and end >= first


class WarmLedger:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._by_symbol: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._pending: dict[str, list] = {}  # entry id -> [uses to add, first_used_at]
        self._new: list[dict[str, Any]] = []  # entries added here, not yet written
        self._mtime: int | None = None
        self._checked = float("-inf")
        self._registered = False

    # -- reading -----------------------------------------------------------------------------------------
    def _load_file(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read the warm ledger: {exc}") from exc
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return []  # another layout: start afresh rather than misread it
        return [e for e in data.get("entries", []) if isinstance(e, dict)]

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < REFRESH_SECONDS:
            return
        self._checked = now
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime == self._mtime and not force:
            return
        entries = self._load_file()
        with self._lock:
            self._install(entries, mtime)

    def _install(self, entries: list[dict[str, Any]], mtime: int | None) -> None:
        for entry in entries:  # uses noted here but not yet flushed stay visible
            pending = self._pending.get(entry["id"])
            if pending:
                entry["uses"] = entry.get("uses", 0) + pending[0]
                entry["first_used_at"] = entry.get("first_used_at") or pending[1]
        written = {entry["id"] for entry in entries}
        entries = entries + [e for e in self._new if e["id"] not in written]
        self._entries = entries
        self._by_symbol = defaultdict(list)
        for entry in entries:
            self._by_symbol[entry["symbol"]].append(entry)
        self._mtime = mtime

    def entries(self) -> list[dict[str, Any]]:
        self.flush()
        self._refresh(force=True)
        with self._lock:
            return [dict(e) for e in self._entries]

    def summary(self) -> dict[str, Any]:
        entries = self.entries()
        used = [e for e in entries if e.get("uses", 0) > 0]
        calls = sum(e.get("calls", 0) for e in entries)
        unused_calls = sum(e.get("calls", 0) for e in entries if not e.get("uses", 0))
        return {
            "warmed_entries": len(entries),
            "warmed_used": len(used),
            "warm_hits": sum(e.get("uses", 0) for e in entries),
            "warming_calls": calls,
            "warming_calls_unused": unused_calls,
            "warm_hit_rate": (len(used) / len(entries)) if entries else None,
            "wasted_share": (unused_calls / calls) if calls else None,
        }

    # -- writing -----------------------------------------------------------------------------------------
    def add(self, entry: dict[str, Any]) -> None:
        """Record one warming load: ``symbol, adjust, spans [[dataset, start, end]], calls, confidence, reason,
        warmed_at`` (ISO dates). Visible here at once; written with the next flush (a rewrite per warm call
        would be quadratic, and holds the GIL while a foreground read may be waiting)."""
        entry = {**entry, "id": f"{os.getpid()}-{time.time_ns()}", "uses": 0, "first_used_at": None}
        with self._lock:
            self._new.append(entry)
            self._entries.append(entry)
            self._by_symbol[entry["symbol"]].append(entry)
            register = not self._registered
            self._registered = True
        if register:
            background_flush.register(self)

    def note(self, symbol: str, datasets: tuple[str, ...], first: date, last: date, when: str) -> int:
        """A foreground read served ``datasets`` of ``symbol`` over ``[first, last]``; returns entries it used."""
        self._refresh()
        candidates = self._by_symbol.get(symbol)
        if not candidates:
            return 0
        lo, hi = first.isoformat(), last.isoformat()
        hits = 0
        with self._lock:
            for entry in candidates:
                if any(_overlaps(span, datasets, lo, hi) for span in entry["spans"]):
                    entry["uses"] = entry.get("uses", 0) + 1
                    entry["first_used_at"] = entry.get("first_used_at") or when
                    pending = self._pending.setdefault(entry["id"], [0, when])
                    pending[0] += 1
                    hits += 1
            register = hits and not self._registered
            self._registered = self._registered or bool(hits)
        if register:
            background_flush.register(self)
        return hits

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            new, self._new = self._new, []
        if not pending and not new:
            return

        def merge(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            entries = entries + [dict(e, uses=0, first_used_at=None) for e in new]
            for entry in entries:
                delta = pending.get(entry["id"])
                if delta:
                    entry["uses"] = entry.get("uses", 0) + delta[0]
                    entry["first_used_at"] = entry.get("first_used_at") or delta[1]
            return entries[-MAX_ENTRIES:]

        try:
            self._rewrite(merge)
        except StoreError:
            with self._lock:  # keep the counts and entries for the next flush
                self._new[:0] = new
                for key, (uses, when) in pending.items():
                    slot = self._pending.setdefault(key, [0, when])
                    slot[0] += uses
            raise

    def _rewrite(self, change) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with filelock.FileLock(str(self.path) + ".lock", timeout=30):
                entries = change(self._load_file())
                fd, tmp = tempfile.mkstemp(prefix=".warmed.", suffix=".tmp", dir=self.directory)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump({"version": VERSION, "entries": entries}, handle, separators=(",", ":"))
                os.replace(tmp, self.path)
                mtime = self.path.stat().st_mtime_ns
        except (OSError, filelock.Timeout) as exc:
            raise StoreError(f"cannot write the warm ledger: {exc}") from exc
        with self._lock:
            self._install(entries, mtime)
        self._checked = time.monotonic()
