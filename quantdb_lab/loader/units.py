"""Volume units at ingest: bars entering the cache are judged for a unit switch (``quality.units``), corrected
before they are stored, and the corrections kept with the series' metadata (``SeriesMeta.units``: they travel
with it, to the team store too) so that every later read of those rows lists them in its provenance notes and
``quality.units.revert`` gives the rows back as received. Never served silently: a correction is in the notes of
each read that includes it, whichever path stored the rows (``lab.bars``, ``lab.read("bars")``, a collector).

Caches written before the corrections moved into the metadata kept them in the reference store
(``units_<symbol>``): those are still read, beside the metadata's, and moved into it by the series' next fetch.

Minute bars are judged per session (``quality.units.correct_minute_units``), one correction per session."""

from __future__ import annotations

import math
from datetime import date

import polars as pl

from quantdb_lab.domain.calendar import day_number, from_day_number
from quantdb_lab.quality.units import (
    CORRECTIONS,
    MIN_ROWS,
    MIN_SESSIONS,
    correct_minute_units,
    correct_volume_units,
)
from quantdb_lab.store.records import SeriesKey, SeriesMeta
from quantdb_lab.store.reference_store import ReferenceStore

Units = tuple[tuple[int, float, float, float | None], ...]  # SeriesMeta.units


def _as_units(found: pl.DataFrame) -> Units:
    return tuple((day_number(d), float(f), float(v), None if t is None or math.isnan(t) else float(t))
                 for d, f, v, t in found.select("date", "factor", "volume_received", "turnover_received").iter_rows())  # fmt: skip


def _as_frame(units: Units) -> pl.DataFrame:
    return pl.DataFrame({
        "date": [from_day_number(u[0]) for u in units], "volume_received": [u[2] for u in units],
        "turnover_received": [u[3] for u in units], "volume": [u[2] * u[1] for u in units],
        "factor": [u[1] for u in units],
    }, schema=CORRECTIONS)  # fmt: skip


_NONE = pl.DataFrame(schema=CORRECTIONS)


class UnitCorrections:
    def __init__(self, store, provider: str, dataset: str = "bars") -> None:  # noqa: ANN001 - a SeriesBackend
        self.store = store
        self.dataset = dataset
        self.legacy = ReferenceStore(store.base / "reference", provider)  # where older caches kept them
        self._legacy_stems: set[str] | None = None  # listed once: only an older version writes such entries

    def _has_legacy(self, symbol: str) -> bool:
        """Whether an older cache kept corrections of ``symbol`` in the reference store (one directory listing
        per Lab, not a stat on every warm read)."""
        if self._legacy_stems is None:
            self._legacy_stems = self.legacy.stems("units_")
        return self.legacy.stem(f"units_{symbol}") in self._legacy_stems

    def corrections(self, symbol: str) -> pl.DataFrame:
        """Every correction made to ``symbol``'s stored bars (``quality.units.CORRECTIONS``)."""
        meta = self.store.read_meta(SeriesKey(self.dataset, symbol))
        return self._table(symbol, meta.units if meta is not None else ())

    def known(self, symbol: str, units: Units) -> Units:
        """The corrections of ``symbol`` before a fetch: its metadata's (``units``) and those an older cache kept
        in the reference store, which the write that follows takes into the metadata (then ``migrated``)."""
        entry = self.legacy.read(f"units_{symbol}")
        if entry is None:
            return units
        return tuple(sorted({u[0]: u for u in (*_as_units(entry.frame), *units)}.values()))

    def migrated(self, symbol: str) -> None:
        """The series' corrections are in its metadata now: an older cache's entry is removed."""
        if self._has_legacy(symbol):
            self.legacy.delete(f"units_{symbol}")
            self._legacy_stems.discard(self.legacy.stem(f"units_{symbol}"))

    def on_ingest(self, merged: pl.DataFrame, fresh: list[date], known: Units) -> tuple[pl.DataFrame, Units]:
        """``merged`` (stored + fetched rows of one series) with the fetched rows' unit switches corrected, and
        the series' corrections (``known`` and those just made) to keep in its metadata. While the stored rows
        were too few to be judged (``MIN_ROWS``), every row is judged: none of them was yet."""
        judged = fresh if merged.height - len(fresh) >= MIN_ROWS else None
        fixed, found = correct_volume_units(merged, judged)
        return fixed, _replaced(known, fresh, found)

    def on_ingest_minutes(self, merged: pl.DataFrame, fresh: list[date], known: Units) -> tuple[pl.DataFrame, Units]:
        """As ``on_ingest`` for minute bars (``quality.units.correct_minute_units``): the fetched sessions judged,
        one correction per session."""
        sessions = sorted(set(fresh))
        stored = merged["time"].dt.date().n_unique() - len(sessions)
        fixed, found = correct_minute_units(merged, sessions if stored >= MIN_SESSIONS else None)
        return fixed, _replaced(known, sessions, found)

    def minute_notes(self, start: date, end: date, meta: SeriesMeta | None) -> tuple[str, ...]:
        """The note listing a minute series' corrected sessions in ``[start, end]``."""
        inside = _inside(meta.units if meta is not None else (), start, end)
        if not inside:
            return ()
        return (f"volume of the session(s) {_days_of(inside)} came in another unit (x{1 / inside[0][1]:g} "
                "off against amount / price): corrected as it entered the cache; quality.units.revert_minutes(frame, "
                "corrections) gives the bars as received",)  # fmt: skip

    def notes(self, symbol: str, start: date, end: date, meta: SeriesMeta | None = None) -> tuple[str, ...]:
        """The note listing the corrected rows of ``[start, end]`` (``meta``: the series' metadata, when the
        caller has it; otherwise read)."""
        if meta is None:
            meta = self.store.read_meta(SeriesKey(self.dataset, symbol))
        unjudged = ()
        if meta is not None and 0 < meta.rows < MIN_ROWS:
            unjudged = (f"volume units not judged: {meta.rows} session(s) stored, too few to judge a unit switch "
                        f"against (at least {MIN_ROWS}); judged, and corrected if need be, when more are fetched",)  # fmt: skip
        if not self._has_legacy(symbol):  # the corrections are all in the metadata: no frame built
            return (*_note_of(_inside(meta.units if meta is not None else (), start, end)), *unjudged)
        return (*_note(self.corrected(symbol, start, end, meta)), *unjudged)

    def corrected(self, symbol: str, start: date, end: date, meta: SeriesMeta | None = None) -> pl.DataFrame:
        """The corrections (``CORRECTIONS``) of ``symbol``'s rows in ``[start, end]``."""
        if meta is None:
            meta = self.store.read_meta(SeriesKey(self.dataset, symbol))
        units = meta.units if meta is not None else ()
        if not _inside(units, start, end) and not self._has_legacy(symbol):
            return _NONE  # the common warm read: no frame built
        return self._table(symbol, units).filter(pl.col("date").is_between(start, end))

    def corrected_many(self, metas: dict[str, SeriesMeta], start: date, end: date) -> dict[str, pl.DataFrame]:
        """``corrected`` of each series of ``metas`` that has some (a cross-section: from the metadata it already
        read, plus one directory listing for the older caches' entries)."""
        out = {}
        for symbol, meta in metas.items():
            if meta.units or self._has_legacy(symbol):
                found = self.corrected(symbol, start, end, meta)
                if found.height:
                    out[symbol] = found
        return out

    def notes_many(self, metas: dict[str, SeriesMeta], start: date, end: date) -> dict[str, tuple[str, ...]]:
        """``notes`` of each series of ``metas`` that has some (as ``corrected_many``, and the series too short
        to be judged yet)."""
        found = {symbol: _note(rows) for symbol, rows in self.corrected_many(metas, start, end).items()}
        for symbol in unjudged(metas):
            found[symbol] = self.notes(symbol, start, end, metas[symbol])
        return found

    def _table(self, symbol: str, units: Units) -> pl.DataFrame:
        entry = self.legacy.read(f"units_{symbol}")  # none: one failed stat
        table = _as_frame(units)
        if entry is not None:
            table = pl.concat([entry.frame.cast(CORRECTIONS), table]).unique("date", keep="last")
        return table.sort("date")


def unjudged(metas: dict[str, SeriesMeta]) -> list[str]:
    """The series of ``metas`` with too few rows stored for their volume units to have been judged."""
    return [symbol for symbol, meta in metas.items() if 0 < meta.rows < MIN_ROWS]


def listed_days(rows: pl.DataFrame) -> str:
    """The days of ``rows`` (``CORRECTIONS``) as a note lists them."""
    return ", ".join(d.isoformat() for d in rows["date"].to_list())


def _note(rows: pl.DataFrame) -> tuple[str, ...]:
    if rows.is_empty():
        return ()
    return _said(listed_days(rows), rows["factor"][0])


def _note_of(units: Units) -> tuple[str, ...]:
    """``_note`` of corrections as the metadata keeps them (sorted by day)."""
    return _said(_days_of(units), units[0][1]) if units else ()


def _inside(units: Units, start: date, end: date) -> Units:
    lo, hi = day_number(start), day_number(end)
    return tuple(u for u in units if lo <= u[0] <= hi)


def _days_of(units: Units) -> str:
    return ", ".join(from_day_number(u[0]).isoformat() for u in units)


def _replaced(known: Units, fetched: list[date], found: pl.DataFrame) -> Units:
    """``known`` corrections with those of the rows fetched again replaced by what judging them ``found`` (a
    clean answer leaves none), sorted by day."""
    again = {day_number(d) for d in fetched}
    kept = tuple(u for u in known if u[0] not in again)
    return tuple(sorted({u[0]: u for u in (*kept, *_as_units(found))}.values()))


def _said(days: str, factor: float) -> tuple[str, ...]:
    note = (f"volume of {days} came in another unit (x{1 / factor:g} off against amount / price): "
            "corrected as it entered the cache; lab.as_received(frame) "
            "gives the rows as received")  # fmt: skip
    return (note,)
