"""Adjusted prices derived at read time from the stored unadjusted bars alone. Pure.

Why not store qfq: a forward-adjusted history changes at every dividend (the whole past is rescaled), so a
cached qfq frame goes stale, and in a backtest it leaks future dividends into past prices. Why not store the
upstream's hfq: Eastmoney's adjusted series are affine (price minus cumulative cash dividends, measured on the
shared real data), so ``hfq_close / close`` drifts between ex-dates and is no factor.

So only ``bars`` (as traded) is stored, and the ex-rights factor events of a series (``domain.adjustment``:
``previous close / reference`` on each day where the exchange's reference price differs from the previous
close) give, at read time:

* ``hfq``: ``price x prod(factor_e, e <= t)``: needs the series from its first bar (the listing);
* ``qfq``: ``price / prod(factor_e, t < e <= R)``, R the reference session (the latest session, or ``as_of`` in a
  point-in-time mode): equal to the traded price from the last event up to R on; events after R are unseen.

Where the events come from is the loader's :class:`EventSource`: the stored bars themselves by default (cheap:
microseconds for a series); the lead's store catalog will keep them with the series.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from quantdb_lab.domain.adjustment import multipliers, series_events
from quantdb_lab.domain.calendar import day_number
from quantdb_lab.store.series_store import StoredFrame


@dataclass(frozen=True, slots=True)
class SeriesEvents:
    """The factor events of one series: day numbers, factors (> 1) and the reference prices, ascending."""

    days: np.ndarray
    factors: np.ndarray
    references: np.ndarray

    @classmethod
    def none(cls) -> SeriesEvents:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))


def slice_dates(stored: StoredFrame, start: date, end: date) -> pl.DataFrame:
    """Rows with ``start <= date <= end``, by binary search on the day index (no scan, no copy)."""
    lo, hi = _bounds(stored, start, end)
    return stored.frame.slice(lo, hi - lo)


def _bounds(stored: StoredFrame, start: date, end: date) -> tuple[int, int]:
    lo = int(np.searchsorted(stored.days, day_number(start), side="left"))
    hi = int(np.searchsorted(stored.days, day_number(end), side="right"))
    return lo, hi


_memo: dict[int, tuple[weakref.ref, SeriesEvents]] = {}
_memo_lock = threading.Lock()


def events_from_bars(stored: StoredFrame) -> SeriesEvents:
    """The events the stored unadjusted bars carry (their ``change`` against the previous traded close).

    Remembered while the stored frame lives (a warm read reuses the store's in-memory frame): stored frames
    are immutable, so the events of one never change."""
    frame = stored.frame
    key = id(frame)
    with _memo_lock:
        hit = _memo.get(key)
    if hit is not None and hit[0]() is frame:
        return hit[1]
    events = SeriesEvents.none()
    if frame.height >= 2:
        close = frame.get_column("close").cast(pl.Float64).fill_null(np.nan).to_numpy()
        change = frame.get_column("change").cast(pl.Float64).fill_null(np.nan).to_numpy()
        rows, factors, references = series_events(close, close - change)
        events = SeriesEvents(stored.days[rows], factors, references)
    with _memo_lock:
        _memo[key] = (weakref.ref(frame, lambda _, k=key: _forget(k)), events)
    return events


def _forget(key: int) -> None:
    with _memo_lock:
        entry = _memo.get(key)
        if entry is not None and entry[0]() is None:
            del _memo[key]


def derive(stored: StoredFrame, events: SeriesEvents, start: date, end: date, how: str, reference: date) -> pl.DataFrame:
    """The rows of ``[start, end]`` adjusted ``how`` ("hfq" or "qfq", anchored at session ``reference``)."""
    lo, hi = _bounds(stored, start, end)
    rows = stored.frame.slice(lo, hi - lo)
    if rows.is_empty() or not len(events.days):
        return rows
    days = stored.days[lo:hi]
    scale = pl.Series(multipliers(days, events.days, events.factors, how, reference_day=day_number(reference)))  # type: ignore[arg-type]
    # Series arithmetic, not expressions: a warm read of one series is a few dozen microseconds of this
    cols = {name: rows.get_column(name) for name in rows.columns}
    for name in ("open", "high", "low", "close"):
        cols[name] = cols[name] * scale
    at = np.minimum(np.searchsorted(events.days, days), len(events.days) - 1)
    on_event = events.days[at] == days
    change, pct = cols["change"], cols["pct_change"]
    if on_event.any():  # on an ex-date, change and pct_change against the reference price, whatever the source said
        mask, ref, close = pl.Series(on_event), pl.Series(np.where(on_event, events.references[at], np.nan)), rows["close"]
        change = (close - ref).zip_with(mask, change).alias("change")
        cols["pct_change"] = (close / ref - 1.0).zip_with(mask, pct).alias("pct_change")
    cols["change"] = change * scale
    return pl.DataFrame(list(cols.values()))
