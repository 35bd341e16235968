"""What the store keeps about each series: its key, its metadata, and a stored frame ready for slicing.

A series is one (dataset, symbol) inside one source's namespace (``SeriesStore(source=...)``): the source is
part of where everything lives, so nothing fetched from one provider can ever be read as another's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import polars as pl

from quantdb_lab.store.coverage import Coverage


class SeriesKey(NamedTuple):
    dataset: str  # "bars" (unadjusted daily), ...
    symbol: str  # canonical symbol

    def __str__(self) -> str:
        return f"{self.dataset}:{self.symbol}"


@dataclass(frozen=True, slots=True)
class SeriesMeta:
    """Coverage and freshness of one series, plus what its frame must look like (checked on every read).

    ``pending`` are sessions that were asked for and not served (an empty or short answer): they are asked for
    again on a later read, and covered only once a second answer confirms them (a suspension, a day before
    listing), so one transient empty answer is never remembered forever. ``pending_since`` is when the first
    such answer came. ``events`` are the series' price-adjustment factor events, ``(day, factor, reference price)``,
    derived when the bars are written (None: not derived, e.g. a series written before events were kept).
    """

    coverage: Coverage = field(default_factory=Coverage.empty)
    provisional_day: int | None = None  # the open session's bar, stored but not final
    provisional_at: float | None = None  # epoch seconds it was fetched
    fetched_at: float | None = None  # epoch seconds of the last successful fetch
    rows: int = 0
    bytes: int = 0
    generation: int = 0
    first_day: int | None = None  # first and last stored day (an invariant of the frame)
    last_day: int | None = None
    pending: Coverage = field(default_factory=Coverage.empty)
    pending_since: float | None = None
    events: tuple[tuple[int, float, float], ...] | None = None  # (day, factor, reference); None: not derived
    sources: tuple[tuple[str, int, int], ...] = ()  # (upstream source, first day, last day) that served the rows
    # Sessions the upstream had already forgotten when they were wanted (``Dataset.upstream_sessions``): a gap that
    # can never be filled, recorded once by the collector so it is said by reads and quality, never asked for.
    lost: Coverage = field(default_factory=Coverage.empty)
    # Rows whose volume came in another unit and was corrected as it entered the cache (``loader.units``):
    # ``(day, factor, volume as received, turnover as received or None)``; kept with the series (and so with the
    # team store's copy), so every read of those rows lists them and they can be put back as received.
    units: tuple[tuple[int, float, float, float | None], ...] = ()

    def to_json(self) -> dict:
        return {
            "coverage": self.coverage.to_pairs(),
            "provisional_day": self.provisional_day,
            "provisional_at": self.provisional_at,
            "fetched_at": self.fetched_at,
            "rows": self.rows,
            "bytes": self.bytes,
            "generation": self.generation,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "pending": self.pending.to_pairs(),
            "pending_since": self.pending_since,
            "events": None if self.events is None else [[int(d), float(f), float(r)] for d, f, r in self.events],
            **({"sources": [[str(n), int(a), int(b)] for n, a, b in self.sources]} if self.sources else {}),
            **({"lost": self.lost.to_pairs()} if self.lost else {}),
            **({"units": [[int(d), float(f), float(v), t] for d, f, v, t in self.units]} if self.units else {}),
        }

    @classmethod
    def from_json(cls, data: dict) -> SeriesMeta:
        return cls(
            coverage=Coverage.from_pairs(data.get("coverage", [])),
            provisional_day=data.get("provisional_day"),
            provisional_at=data.get("provisional_at"),
            fetched_at=data.get("fetched_at"),
            rows=int(data.get("rows", 0)),
            bytes=int(data.get("bytes", 0)),
            generation=int(data.get("generation", 0)),
            first_day=data.get("first_day"),
            last_day=data.get("last_day"),
            pending=Coverage.from_pairs(data.get("pending", [])),
            pending_since=data.get("pending_since"),
            events=None if data.get("events") is None else tuple(
                (int(e[0]), float(e[1]), float(e[2]) if len(e) > 2 else float("nan")) for e in data["events"]),
            sources=tuple((str(n), int(a), int(b)) for n, a, b in data.get("sources", [])),
            lost=Coverage.from_pairs(data.get("lost", [])),
            units=tuple((int(d), float(f), float(v), None if t is None else float(t))
                        for d, f, v, t in data.get("units", [])),  # fmt: skip
        )


def day_numbers(frame: pl.DataFrame, column: str = "date") -> np.ndarray:
    """The frame's ``column`` (a Date or Datetime) as int64 days since 1970-01-01."""
    values = frame.get_column(column)
    if values.dtype == pl.Datetime or isinstance(values.dtype, pl.Datetime):
        values = values.dt.date()
    return values.to_numpy().astype("datetime64[D]").astype(np.int64)


@dataclass(frozen=True, slots=True)
class StoredFrame:
    """A stored frame with its dates as day numbers, so range slicing is a numpy binary search."""

    frame: pl.DataFrame
    days: np.ndarray  # int64 days since 1970-01-01, ascending

    @classmethod
    def of(cls, frame: pl.DataFrame, column: str = "date") -> StoredFrame:
        if column not in frame.columns or frame.is_empty():
            return cls(frame, np.empty(0, np.int64))
        return cls(frame, day_numbers(frame, column))
