"""Adjusted prices derived at read time from stored unadjusted and back-adjusted (hfq) bars. Pure.

Why not store qfq: a forward-adjusted history changes at every dividend (the whole past is rescaled), so a
cached qfq frame goes stale, and in a backtest it leaks future dividends into past prices. hfq history is
append-only stable (a new dividend never changes past hfq values), so we store ``bars`` (as traded) and
``hfq`` and derive:

* ``hfq``: the stored hfq bars as served upstream.
* ``qfq``: ``hfq * (close_C / hfq_close_C)`` for open, high, low, close and change, where C is the last day on or
  before the reference session R (the latest session, or ``as_of`` in a point-in-time mode) that has a bar in
  both series. So qfq equals the traded price at C, and its day-to-day returns equal hfq's.

How this relates to Eastmoney's own qfq: Eastmoney forward-adjusts *additively* (subtracting cash dividends
in price units), so its early-year prices can go to zero or below (41,245 rows with close <= 0 in the shared
akshare files). Ours is proportional: always positive, identical to Eastmoney's at and after the last
corporate action, and with exact total-return-consistent ratios before it, where Eastmoney's differ.
Volume, amount and turnover are never adjusted.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.store.series_store import StoredFrame

ADJUSTED_COLUMNS = ("open", "high", "low", "close", "change")


def slice_dates(stored: StoredFrame, start: date, end: date) -> pl.DataFrame:
    """Rows with ``start <= date <= end``, by binary search on the day index (no scan, no copy)."""
    lo = int(np.searchsorted(stored.days, day_number(start), side="left"))
    hi = int(np.searchsorted(stored.days, day_number(end), side="right"))
    return stored.frame.slice(lo, hi - lo)


def qfq_scale(bars: StoredFrame, hfq: StoredFrame, reference: date) -> float | None:
    """close / hfq_close on the last day on or before ``reference`` with a bar in both; None when none."""
    limit = day_number(reference)
    i = int(np.searchsorted(bars.days, limit, side="right")) - 1
    j = int(np.searchsorted(hfq.days, limit, side="right")) - 1
    closes, hfq_closes = bars.frame.get_column("close"), hfq.frame.get_column("close")
    while i >= 0 and j >= 0:  # walk back to a common day; on real data the first step already matches
        if bars.days[i] == hfq.days[j]:
            back = hfq_closes[j]
            if back is not None and back > 0 and closes[i] is not None:
                return float(closes[i]) / float(back)
            i, j = i - 1, j - 1
        elif bars.days[i] > hfq.days[j]:
            i -= 1
        else:
            j -= 1
    return None


def derive_qfq(hfq_rows: pl.DataFrame, scale: float) -> pl.DataFrame:
    return hfq_rows.with_columns(pl.col(c) * scale for c in ADJUSTED_COLUMNS)
