"""Feedback on quality issues, kept as one plain JSON file in the cache directory.

Layout: ``<cache_dir>/feedback/quality.json``::

    {"version": 1, "decisions": [
        {"symbol": "600519.SH", "check": "volume_spike", "date": "2024-03-01" | null,
         "verdict": "false_positive" | "confirmed", "note": "", "at": "2024-03-02T10:00:00"}]}

Plain JSON on purpose: readable, diffable, never code. Writes are atomic (temporary file, then ``os.replace``)
under a file lock, so several kernels can record decisions at once. This module knows nothing of the checks.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import filelock

from quantdb_lab.errors import InvalidRequestError, StoreError
from quantdb_lab.store.frame_files import atomic_write

VERSION = 1
VERDICTS = ("false_positive", "confirmed")


class FeedbackStore:
    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.path = Path(cache_dir) / "feedback" / "quality.json"

    def read(self) -> list[dict]:
        """Every decision, oldest first (an absent file means none)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise StoreError(f"unreadable feedback file {self.path.name}: {exc}", dataset="feedback") from exc
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise StoreError("feedback file has an unknown version", dataset="feedback")
        return list(data.get("decisions", []))

    def record(self, symbol: str, check: str, day: date | None, verdict: str, *, note: str = "",
               at: datetime | None = None) -> dict:  # fmt: skip
        """Add one decision (a later one for the same symbol, check and date supersedes it)."""
        if verdict not in VERDICTS:
            raise InvalidRequestError(f"verdict must be one of {VERDICTS}, not {verdict!r}")
        entry = {
            "symbol": symbol,
            "check": check,
            "date": day.isoformat() if day is not None else None,
            "verdict": verdict,
            "note": note,
            "at": (at or datetime.now()).isoformat(timespec="seconds"),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(self.path) + ".lock", timeout=60):
            decisions = self.read()
            decisions.append(entry)
            self._write(decisions)
        return entry

    def forget(self, symbol: str, check: str, day: date | None) -> int:
        """Remove the decisions on one (symbol, check, date); returns how many were removed."""
        wanted = day.isoformat() if day is not None else None
        with filelock.FileLock(str(self.path) + ".lock", timeout=60):
            decisions = self.read()
            kept = [d for d in decisions if (d["symbol"], d["check"], d.get("date")) != (symbol, check, wanted)]
            if len(kept) != len(decisions):
                self._write(kept)
        return len(decisions) - len(kept)

    def _write(self, decisions: list[dict]) -> None:
        try:
            atomic_write(self.path, json.dumps({"version": VERSION, "decisions": decisions}, indent=1).encode("utf-8"))
        except OSError as exc:
            raise StoreError(f"cannot write feedback: {exc}", dataset="feedback") from exc
