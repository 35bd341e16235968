"""The predictor's table rule: the reference tables a user's reads rely on, refreshed before the morning.

A sector question reads the security master, a correlation with oil a commodity series, an index question its
constituents. Each table is refreshed by its first read after a session's bar becomes final
(``loader.reference``), and over akshare the security master with industries is about 90 paginated calls: the
first sector question of every morning waits for them. Reads of tables are in the usage log (``dataset``
"reference", ``symbol`` the table's stored name). A table read on ``k`` of the ``n`` active days since its
first read scores ``k / (n + 1)``, as a cross-section does (``prefetch.predict``, rule 5): read daily for four
days 0.8, once 0.5, below the price of a call. Only tables ``ReferenceData.refresh`` can reload by name are
predicted, and the warmer spends its one call only while the table is stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import to_exchange_time
from quantdb_lab.loader.reference import refreshable
from quantdb_lab.loader.tracking import TABLE_DATASET
from quantdb_lab.prefetch.predict import (LOOKBACK_DAYS, MIN_CONFIDENCE, Prediction, latest_closed,
                                         repeat_confidence)

KIND = "table"


def table_predictions(log: pl.DataFrame | Iterable[Mapping[str, Any]], calendar: TradingCalendar,
                      now: datetime) -> list[Prediction]:  # fmt: skip
    """One prediction per refreshable table read recently, from the whole usage log (every dataset)."""
    now = to_exchange_time(now)
    target = latest_closed(calendar, now)
    rows = log.to_dicts() if isinstance(log, pl.DataFrame) else list(log)
    stamped = [(to_exchange_time(datetime.fromisoformat(str(row["ts"]))), row) for row in rows if row.get("ts")]
    stamped = [(ts, row) for ts, row in stamped if ts <= now]  # the future of the log is invisible
    days = sorted({ts.date() for ts, _ in stamped}, reverse=True)[:LOOKBACK_DAYS]  # active days, latest first
    if target is None or not days:
        return []
    index = {day: i for i, day in enumerate(days)}
    read: dict[str, set[date]] = defaultdict(set)
    for ts, row in stamped:
        if row.get("dataset") == TABLE_DATASET and ts.date() in index and refreshable(str(row["symbol"])):
            read[str(row["symbol"])].add(ts.date())
    out = []
    for name, asked in sorted(read.items()):
        confidence, opportunities = repeat_confidence(asked, days, index, now.date())
        if confidence >= MIN_CONFIDENCE:
            out.append(Prediction(symbol=name, adjust="", start=None, end=target, confidence=round(confidence, 3),
                                  reason=f"table read on {len(asked)} of the last {opportunities} active day(s)",
                                  dataset=TABLE_DATASET, kind=KIND))  # fmt: skip
    return out
