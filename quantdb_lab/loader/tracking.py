"""What a Lab records about its own use, for the predictive warmer (``quantdb_lab.prefetch``):

* ``Activity``: how many foreground loads are in flight and when the last one ended, so a warmer yields to a
  researcher at once (checked between warm calls);
* the usage log (``store.usage_log``): one line per distinct request per day; daily-bar requests (``dataset``
  "bars") and reads of any other registered dataset (``lab.read``: ``dataset`` names it), which tell the
  collector (``quantdb_lab.prefetch.collector``) what the user follows;
* the warm ledger (``store.warm_ledger``): spans fetched ahead of time, and foreground reads they served.

The Lab calls ``foreground`` and ``served`` around each load; both stay in the microseconds on a warm read.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import polars as pl

from quantdb_lab.domain.clock import Clock
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.loader.bar_loader import series_keys
from quantdb_lab.loader.plan import BarRequest
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.store.usage_log import UsageLog
from quantdb_lab.store.warm_ledger import WarmLedger

USAGE_SCHEMA = {
    "ts": pl.String(), "symbol": pl.String(), "adjust": pl.String(), "start": pl.String(), "end": pl.String(),
    "first": pl.String(), "last": pl.String(), "mode": pl.String(), "related": pl.Boolean(),
    "cached": pl.Boolean(), "calls": pl.Int64(), "pid": pl.Int64(), "batch": pl.Int64(),
    "dataset": pl.String(),
}  # fmt: skip
BARS_DATASET = "bars"  # the ``dataset`` of a daily-bar request (lines written before the column: null, the same)
TABLE_DATASET = "reference"  # the ``dataset`` of a read of a reference table (``symbol`` names the table)
FOR_GOOD = "9999-12-31"  # a refreshed table serves every later read of it: its warmed span has no end


class Activity:
    """Foreground loads in flight, shared by the Labs of one engine and read by warmer threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._last_end = float("-inf")
        self.requested = threading.Event()  # set by every new usage record: wakes a background warmer

    def __enter__(self) -> Activity:
        with self._lock:
            self._active += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._active -= 1
            self._last_end = time.monotonic()

    def busy(self, quiet: float = 0.0) -> bool:
        """True while a foreground load runs or ended less than ``quiet`` seconds ago (a notebook cell's next
        read usually follows within milliseconds: a warmer should not slip into that gap)."""
        with self._lock:
            return self._active > 0 or time.monotonic() - self._last_end < quiet


@lru_cache(maxsize=8)
def _datasets_of(adjust: str) -> tuple[str, ...]:
    return tuple(key.dataset for key in series_keys(BarRequest(parse_symbol("600519"), None, None, adjust)))


def _datasets(request: BarRequest) -> tuple[str, ...]:
    """The stored datasets a request reads (cached per adjustment: this runs on every warm read)."""
    return _datasets_of(request.adjust)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


class Tracker:
    def __init__(self, base: Path, clock: Clock, *, usage_log: bool) -> None:
        self.clock = clock
        self.activity = Activity()
        self.usage = UsageLog(base, enabled=usage_log)
        self.ledger = WarmLedger(base / "prefetch")
        self._pid = os.getpid()

    def served(self, request: BarRequest, origin: Provenance, mode: ContextMode, *, batch: int = 1) -> None:
        """After a foreground load: log the request (first time today) and credit warmed spans it used.
        ``batch``: how many symbols the same call asked (a cross-section of the market is one question)."""
        self.served_many([(request, origin)], mode, batch=batch)

    def served_many(self, served: Sequence[tuple[BarRequest, Provenance]], mode: ContextMode, *, batch: int) -> None:
        """``served`` for the series of one cross-sectional read: one clock reading, one lock, one wake-up."""
        now = self.clock.now()
        stamp = now.isoformat(timespec="seconds")
        items = (((request, mode.name), partial(self._entry, request, origin, mode, stamp, batch))
                 for request, origin in served)  # fmt: skip
        if self.usage.record_many(items, now.date()):
            self.activity.requested.set()
        for request, origin in served:
            self.ledger.note(origin.symbol, _datasets(request), origin.start, origin.end, stamp)

    def _entry(self, request: BarRequest, origin: Provenance, mode: ContextMode, stamp: str,
               batch: int) -> dict[str, Any]:  # fmt: skip
        return {
            "ts": stamp,
            "symbol": origin.symbol,
            "adjust": request.adjust,
            "start": _iso(request.start),
            "end": _iso(request.end),
            "first": _iso(origin.start),
            "last": _iso(origin.end),
            "mode": mode.name,
            "related": mode.prefetch_related,
            "cached": origin.from_cache,
            "calls": origin.upstream_calls,
            "pid": self._pid,
            "batch": batch,
        }

    def read_served(self, dataset: str, origin: Provenance, mode: ContextMode) -> None:
        """After a foreground ``lab.read`` of ``dataset``: log it (first time today), so the collector knows it
        is followed."""
        self._log_read(dataset, origin, mode.name)

    def table_served(self, origin: Provenance) -> None:
        """After a foreground read of a reference table (``ReferenceData.on_served``; ``origin.symbol`` names it):
        log it (first time today) and credit a refresh that warmed it."""
        stamp = self._log_read(TABLE_DATASET, origin, "")
        if origin.from_cache:
            self.ledger.note(origin.symbol, (TABLE_DATASET,), origin.start, origin.end, stamp)

    def _log_read(self, dataset: str, origin: Provenance, mode: str) -> str:
        """One usage line for a read of ``dataset`` (first time today per symbol and mode); returns its stamp."""
        now = self.clock.now()
        stamp = now.isoformat(timespec="seconds")

        def entry() -> dict[str, Any]:
            return {"ts": stamp, "symbol": origin.symbol, "adjust": "", "start": _iso(origin.start),
                    "end": _iso(origin.end), "first": _iso(origin.start), "last": _iso(origin.end), "mode": mode,
                    "related": False, "cached": origin.from_cache, "calls": origin.upstream_calls, "pid": self._pid,
                    "dataset": dataset}  # fmt: skip

        if self.usage.record(("read", dataset, origin.symbol, mode), now.date(), entry):
            self.activity.requested.set()
        return stamp

    def table_warmed(self, name: str, *, confidence: float | None, reason: str, kind: str, pred: str) -> None:
        """After a background refresh of the table ``name`` (one upstream call): remember it."""
        now = self.clock.now()
        span = [TABLE_DATASET, now.date().isoformat(), FOR_GOOD]
        self.ledger.add({"symbol": name, "adjust": "", "spans": [span], "calls": 1, "confidence": confidence,
                         "reason": reason, "kind": kind, "pred": pred,
                         "warmed_at": now.isoformat(timespec="seconds")})  # fmt: skip

    def warmed(self, request: BarRequest, origin: Provenance, *, confidence: float | None, reason: str,
               kind: str = "", pred: str = "") -> None:  # fmt: skip
        """After a background load that called the upstream: remember what it fetched."""
        if not origin.upstream_calls:
            return
        self.ledger.add(
            {
                "symbol": origin.symbol,
                "adjust": request.adjust,
                "spans": [[dataset, start.isoformat(), end.isoformat()] for dataset, start, end in origin.fetched],
                "calls": origin.upstream_calls,
                "confidence": confidence,
                "reason": reason,
                "kind": kind,  # the prediction's rule and id: outcomes are learned per rule (prefetch.outcomes)
                "pred": pred,
                "warmed_at": self.clock.now().isoformat(timespec="seconds"),
            }
        )

    def usage_frame(self, *, every_dataset: bool = False) -> pl.DataFrame:
        """The usage log: daily-bar requests (what the predictive warmer learns from), or ``every_dataset``."""
        rows = self.usage.read()
        if not every_dataset:
            rows = [row for row in rows if row.get("dataset") in (None, BARS_DATASET)]
        columns = {name: [row.get(name) for row in rows] for name in USAGE_SCHEMA}
        frame = pl.DataFrame(columns, schema=USAGE_SCHEMA)
        return frame.with_columns(pl.col("dataset").fill_null(BARS_DATASET))
