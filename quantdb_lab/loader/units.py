"""Volume units at ingest: bars entering the cache are judged for a unit switch (``quality.units``), corrected
before they are stored, and the corrections kept beside the series (the reference store, ``units_<symbol>``) so
that every later read of those rows lists them in its provenance notes and ``quality.units.revert`` gives the
rows back as received. Never served silently: a correction is in the notes of each read that includes it."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl

from quantdb_lab.quality.units import CORRECTIONS, correct_volume_units
from quantdb_lab.store.reference_store import ReferenceStore


class UnitCorrections:
    def __init__(self, root: Path, provider: str) -> None:
        self.store = ReferenceStore(root, provider)

    def corrections(self, symbol: str) -> pl.DataFrame:
        """Every correction made to ``symbol``'s stored bars (``quality.units.CORRECTIONS``)."""
        entry = self.store.read(f"units_{symbol}")
        return entry.frame if entry is not None else pl.DataFrame(schema=CORRECTIONS)

    def on_ingest(self, symbol: str, merged: pl.DataFrame, fresh: list[date], now: datetime) -> pl.DataFrame:
        """``merged`` (stored + fetched rows of one series) with the fetched rows' unit switches corrected."""
        fixed, found = correct_volume_units(merged, fresh)
        if not found.is_empty():
            known = self.corrections(symbol)
            table = pl.concat([known, found]).unique("date", keep="last").sort("date")
            self.store.write(f"units_{symbol}", table, now)
        return fixed

    def notes_many(self, symbols: list[str], start: date, end: date) -> dict[str, tuple[str, ...]]:
        """``notes`` of each of ``symbols`` that has some (a cross-section: one directory listing, then only
        the series with corrections are read)."""
        stored = self.store.stems("units_")
        if not stored:
            return {}
        found = {s: self.notes(s, start, end) for s in symbols if self.store.stem(f"units_{s}") in stored}
        return {s: notes for s, notes in found.items() if notes}

    def notes(self, symbol: str, start: date, end: date) -> tuple[str, ...]:
        entry = self.store.read(f"units_{symbol}")  # a warm read without corrections: one failed stat
        if entry is None:
            return ()
        rows = entry.frame.filter(pl.col("date").is_between(start, end))
        if rows.is_empty():
            return ()
        days = ", ".join(d.isoformat() for d in rows["date"].to_list())
        note = (f"volume of {days} came in another unit (x{1 / rows['factor'][0]:g} off against amount / price): "
                "corrected as it entered the cache; quality.units.revert(frame, loader.units.corrections(symbol)) "
                "gives the rows as received")  # fmt: skip
        return (note,)
