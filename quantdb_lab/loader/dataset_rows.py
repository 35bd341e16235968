"""The rows of a dataset's answers and of its stored series: put on trading sessions, merged into what is
stored, and sliced by date. Pure functions of frames and metadata (the store is only read)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar, day_number, from_day_number
from quantdb_lab.domain.datasets import Dataset
from quantdb_lab.errors import ProviderSchemaError
from quantdb_lab.loader.read_plan import Range
from quantdb_lab.store.records import SeriesKey, SeriesMeta, day_numbers
from quantdb_lab.store.segments import day_of


def on_sessions(dataset: Dataset, frame: pl.DataFrame, calendar: TradingCalendar) -> pl.DataFrame:
    """``frame`` with every row on a trading session: rows labelled with another date are refused
    (ProviderSchemaError) or, where the dataset says the upstream answers a non-trading date with the previous
    session's rows (``off_session="previous"``), relabelled with that session."""
    if frame.is_empty() or dataset.off_session == "keep":
        return frame
    column = dataset.index_column
    days = day_numbers(frame, column)
    low, high = int(days.min()), int(days.max())
    sessions = calendar.session_days(from_day_number(low), from_day_number(high))
    off = ~np.isin(days, sessions)
    if not off.any():
        return frame
    wrong = sorted({from_day_number(int(d)) for d in days[off]})
    if dataset.off_session != "previous" or frame.schema[column] != pl.Date:
        raise ProviderSchemaError(f"the upstream labelled {dataset.title} rows with {len(wrong)} date(s) that are no "
                                  f"trading session ({wrong[0].isoformat()}...): nothing was stored",
                                  dataset=dataset.name)  # fmt: skip
    previous = {day: calendar.previous_session(day) for day in wrong}
    if any(value is None for value in previous.values()):
        raise ProviderSchemaError(f"{dataset.title} rows dated before the first session", dataset=dataset.name)
    relabel = pl.col(column).replace_strict(list(previous), list(previous.values()), default=pl.col(column))
    return frame.with_columns(relabel.cast(pl.Date).alias(column))


def merge_answer(dataset: Dataset, old: pl.DataFrame | None, fresh: pl.DataFrame) -> pl.DataFrame:
    """The stored rows with every session the answer holds replaced by the answer's rows (a session's rows come
    from one answer); sessions the answer lacks keep what was stored: nothing captured earlier is ever lost."""
    column = dataset.index_column
    if old is None or old.is_empty():
        merged = fresh
    else:
        added = [pl.lit(None, dtype).alias(n) for n, dtype in dataset.schema.items() if n not in old.columns]
        old = old.with_columns(added).select(fresh.columns) if added else old  # stored before a column was added
        answered = fresh.select(day_of(column).unique()).to_series()
        kept = old.filter(~day_of(column).is_in(answered.to_list()))
        merged = pl.concat([kept, fresh], how="vertical_relaxed")
    if dataset.unique_index:
        merged = merged.unique(column, keep="last", maintain_order=True)
    return merged.sort(column, maintain_order=True)


def stored_slice(store: Any, dataset: Dataset, key: SeriesKey, meta: SeriesMeta | None,
                 span: Range) -> tuple[pl.DataFrame, np.ndarray]:  # fmt: skip
    """The stored rows of ``key`` in ``span`` and their day numbers."""
    if meta is None or not meta.rows:
        return pl.DataFrame(schema=dataset.schema), np.empty(0, np.int64)
    stored = store.read_stored(key, meta)
    lo = int(np.searchsorted(stored.days, day_number(span.start), side="left"))
    hi = int(np.searchsorted(stored.days, day_number(span.end), side="right"))
    return stored.frame.slice(lo, hi - lo), stored.days[lo:hi]
