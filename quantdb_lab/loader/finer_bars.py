"""A dataset derived from a finer one (5-minute bars from 1-minute bars, ``Dataset.derived_from``): planned as
covered wherever either series is, and served with every session the finer series holds final (or fresher)
re-aggregated from it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from quantdb_lab.domain.datasets import Dataset
from quantdb_lab.domain.datasets import dataset as dataset_record
from quantdb_lab.domain.minute import resample_minutes
from quantdb_lab.loader.dataset_rows import stored_slice
from quantdb_lab.loader.read_plan import ReadPlan
from quantdb_lab.store.records import SeriesKey, SeriesMeta


def finer_key(dataset: Dataset, key: SeriesKey) -> SeriesKey:
    return SeriesKey(dataset.derived_from, key.symbol)


def with_finer(meta: SeriesMeta | None, finer: SeriesMeta | None) -> SeriesMeta | None:
    """A derived series' metadata for planning: covered wherever it or its finer series is; the open session
    fresh if either fetched it lately."""
    if finer is None:
        return meta
    meta = meta or SeriesMeta()
    coverage = meta.coverage
    for first, last in finer.coverage.to_pairs():
        coverage = coverage.add(first, last)
    if finer.provisional_at is not None and (meta.provisional_at is None or finer.provisional_at > meta.provisional_at):
        meta = replace(meta, provisional_day=finer.provisional_day, provisional_at=finer.provisional_at)
    return replace(meta, coverage=coverage)


def with_finer_rows(store: Any, dataset: Dataset, plan: ReadPlan, own: pl.DataFrame, own_days: np.ndarray) -> pl.DataFrame:
    """``own`` with every session the finer dataset holds final (or fresher) replaced by its re-aggregated bars."""
    finer = dataset_record(dataset.derived_from)
    key = finer_key(dataset, plan.key)
    meta = store.read_meta(key)
    fine, fine_days = stored_slice(store, finer, key, meta, plan.range)
    if fine.is_empty():
        return own
    usable = meta.coverage.covered(fine_days)
    own_meta = store.read_meta(plan.key)
    if meta.provisional_day is not None and (own_meta is None or own_meta.provisional_at is None
                                             or (meta.provisional_at or 0) >= own_meta.provisional_at):  # fmt: skip
        usable |= fine_days == meta.provisional_day
    if not usable.any():
        return own
    fine = fine.filter(pl.Series(usable))
    served = np.unique(fine_days[usable])
    kept = own.filter(pl.Series(~np.isin(own_days, served))) if own.height else own
    derived = resample_minutes(fine, dataset.bar_minutes)
    return pl.concat([kept, derived], how="vertical_relaxed").sort(dataset.index_column)
