"""The series the quality gate refused, kept as one plain JSON file per source namespace.

The gate judges bars when they enter the cache, and the rows are stored before it judges them (a refusal must
not cost the user another upstream call once they decide to look). Without a record, the next warm read would
serve refused rows without a word; with it, a read in a gating mode re-judges the series it names. Layout:
``<namespace>/quality/gate.json``::

    {"version": 1, "refused": {"600519.SH": {"first": "2025-04-10", "last": "2025-05-30", "mode": "trading"}}}

``first`` and ``last`` span the open issues that failed the series. Minute bars have theirs beside it, one file
per dataset (``quality/gate_bars_1min.json``, ``GateVerdicts.of``): a refused minute series is not the daily one.
Writes are atomic under a file lock (several kernels share a cache); reads are served from memory while the
file's stat is unchanged, so a warm read pays one ``stat`` and no parse.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import filelock

from quantdb_lab.errors import StoreError
from quantdb_lab.store.frame_files import atomic_write

VERSION = 1
Span = tuple[date, date]


class GateVerdicts:
    def __init__(self, directory: str | os.PathLike[str], name: str = "gate") -> None:
        self.directory = Path(directory)
        self.path = self.directory / "quality" / f"{name}.json"
        self._seen: tuple[int, int] | None = None
        self._refused: dict[str, Span] = {}
        self._others: dict[str, GateVerdicts] = {}

    def of(self, dataset: str) -> GateVerdicts:
        """The verdicts on the series of ``dataset`` ("bars": these; minute bars: a file of their own)."""
        if dataset == "bars":
            return self
        found = self._others.get(dataset)
        if found is None:
            found = self._others[dataset] = GateVerdicts(self.directory, name=f"gate_{dataset}")
        return found

    def ever_refused(self, symbols: set[str]) -> set[str]:
        """Those of ``symbols`` with a refusal on record, whatever its span."""
        spans = self._read() if symbols else {}
        return {s for s in symbols if s in spans}

    def refused(self, symbols: set[str], start: date, end: date) -> set[str]:
        """Those of ``symbols`` with refused rows inside ``[start, end]``."""
        spans = self._read()
        return {s for s in symbols if s in spans and spans[s][0] <= end and spans[s][1] >= start}

    def update(self, refused: dict[str, Span], cleared: dict[str, Span], mode: str) -> None:
        """Record ``refused`` series (with the span of their failing issues) and drop the records of ``cleared``
        ones whose recorded span their judged span covers (a pass over part of it says nothing of the rest)."""
        if not refused and not any(s in self._read() for s in cleared):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(self.path) + ".lock", timeout=60):
            self._seen = None
            records = self._load()
            for symbol, (first, last) in cleared.items():
                old = records.get(symbol)
                if old is not None and first <= date.fromisoformat(old["first"]) and last >= date.fromisoformat(old["last"]):
                    del records[symbol]
            for symbol, (first, last) in refused.items():
                records[symbol] = {"first": first.isoformat(), "last": last.isoformat(), "mode": mode}
            self._write(records)

    def _read(self) -> dict[str, Span]:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._seen, self._refused = None, {}
            return self._refused
        if self._seen != (info.st_mtime_ns, info.st_size):
            records = self._load()
            self._refused = {s: (date.fromisoformat(r["first"]), date.fromisoformat(r["last"])) for s, r in records.items()}
            self._seen = (info.st_mtime_ns, info.st_size)
        return self._refused

    def _load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise StoreError(f"unreadable quality gate file {self.path.name}: {exc}", dataset="quality") from exc
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise StoreError("quality gate file has an unknown version", dataset="quality")
        return dict(data.get("refused", {}))

    def _write(self, records: dict[str, dict]) -> None:
        try:
            atomic_write(self.path, json.dumps({"version": VERSION, "refused": records}, indent=1).encode("utf-8"))
        except OSError as exc:
            raise StoreError(f"cannot write the quality gate file: {exc}", dataset="quality") from exc
