"""Sessions the upstream forgot before the store captured them (a dataset whose upstream keeps days or weeks).

Recorded in the series' catalog entry (``SeriesMeta.lost``) by the collector, never asked for again, and said by
every read of them and by the cache monitor."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar, day_number, from_day_number
from quantdb_lab.domain.datasets import Dataset
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.records import SeriesKey, SeriesMeta


class LostSessions:
    def __init__(self, store: Any, calendar: TradingCalendar) -> None:
        self.store = store
        self.calendar = calendar

    def record(self, dataset: Dataset, key: SeriesKey, spans: tuple[tuple[date, date], ...]) -> int:
        """Record ``spans`` (a plan's ``forgotten``) as lost, less what the series holds. Returns the sessions
        added."""
        if not spans:
            return 0
        with self.store.lock(key):
            meta = self.store.read_meta(key) or SeriesMeta()
            lost = meta.lost
            for first, last in spans:
                days = self.calendar.session_days(first, last)
                if len(days):
                    lost = lost.add(int(days[0]), int(days[-1]))
            lost = lost.subtract(meta.coverage)
            added = self.count(lost) - self.count(meta.lost)
            if added <= 0:
                return 0
            frame = self.store.read_frame(key, meta) if meta.rows else pl.DataFrame(schema=dataset.schema)
            self.store.write(key, frame, replace(meta, lost=lost))
            return added

    def days(self, key: SeriesKey) -> np.ndarray:
        """The sessions recorded as lost for the series (day numbers, ascending; empty when none)."""
        meta = self.store.read_meta(key)
        if meta is None or not meta.lost:
            return np.empty(0, np.int64)
        days = [self.calendar.session_days(from_day_number(a), from_day_number(b)) for a, b in meta.lost.to_pairs()]
        return np.concatenate(days).astype(np.int64) if days else np.empty(0, np.int64)

    def notes(self, key: SeriesKey, start: date, end: date) -> tuple[str, ...]:
        """What a read of ``[start, end]`` says about the lost sessions inside it."""
        meta = self.store.read_meta(key)
        if meta is None or not meta.lost:
            return ()
        window = Coverage.from_pairs([[day_number(start), day_number(end)]])
        inside = meta.lost.subtract(meta.lost.subtract(window))
        count = self.count(inside)
        if not count:
            return ()
        return (f"{count} session(s) of this range are lost: the upstream forgot them before they were captured "
                f"({', '.join(f'{from_day_number(a)}..{from_day_number(b)}' for a, b in inside.to_pairs()[:3])})",)

    def collection_status(self, records: list[Dataset]) -> list[dict[str, Any]]:
        """Per dataset of ``records`` (those whose upstream forgets): series kept, sessions captured and lost,
        the newest captured session, what the upstream keeps. For the cache monitor and ``lab.stats()``."""
        rows = []
        for record in records:
            metas = self.store.read_metas(record.name)
            captured = sum(self.count(m.coverage) for m in metas.values())
            lost = sum(self.count(m.lost) for m in metas.values())
            newest = max((m.last_day for m in metas.values() if m.last_day is not None), default=None)
            rows.append({"dataset": record.name, "title": record.title, "upstream_keeps": record.upstream_sessions,
                         "series": len(metas), "sessions_captured": captured, "sessions_lost": lost,
                         "newest": from_day_number(newest).isoformat() if newest is not None else None})  # fmt: skip
        return rows

    def count(self, coverage: Coverage) -> int:
        """The sessions ``coverage`` holds."""
        return sum(len(self.calendar.session_days(from_day_number(a), from_day_number(b))) for a, b in coverage.to_pairs())
