"""Union of two copies of one series: what two writers (or a laptop and the team store) each hold.

Closed sessions are final and the same whoever fetched them, so the union of rows (one per date) and of
coverage is always right; only the open session's provisional bar differs, and the younger one wins.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.series_store import SeriesMeta


def _latest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _units(base_meta: SeriesMeta, ours: pl.DataFrame, our_meta: SeriesMeta) -> tuple:
    """The volume corrections of the union: ours, and the base's on days whose row is the base's (ours wins)."""
    if not base_meta.units:
        return our_meta.units
    held = set(ours["date"].cast(pl.Int32).to_list()) if "date" in ours.columns else set()
    kept = [u for u in base_meta.units if u[0] not in held]
    return tuple(sorted({u[0]: u for u in (*kept, *our_meta.units)}.values()))


def merge_series(
    base: pl.DataFrame, base_meta: SeriesMeta, ours: pl.DataFrame, our_meta: SeriesMeta
) -> tuple[pl.DataFrame, SeriesMeta]:
    """``base`` and ``ours`` combined; on a date both hold, ``ours`` wins (it is the newer fetch)."""
    if base.is_empty():
        frame = ours
    elif ours.is_empty():
        frame = base
    else:
        frame = pl.concat([base, ours], how="diagonal_relaxed").unique("date", keep="last").sort("date")
    coverage = Coverage(
        np.concatenate([base_meta.coverage.starts, our_meta.coverage.starts]),
        np.concatenate([base_meta.coverage.ends, our_meta.coverage.ends]),
    ).normalise()
    younger = our_meta if (our_meta.provisional_at or 0) >= (base_meta.provisional_at or 0) else base_meta
    provisional_day, provisional_at = younger.provisional_day, younger.provisional_at
    if provisional_day is not None and coverage.covered(np.array([provisional_day])).all():
        provisional_day = provisional_at = None  # the session became final in the other copy
    meta = replace(
        our_meta,
        coverage=coverage,
        provisional_day=provisional_day,
        provisional_at=provisional_at,
        fetched_at=_latest(base_meta.fetched_at, our_meta.fetched_at),
        rows=frame.height,
        units=_units(base_meta, ours, our_meta),
    )
    return frame, meta
