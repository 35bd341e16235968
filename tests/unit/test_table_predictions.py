"""The table rule of the predictor (prefetch.tables), on hand-written usage logs: scores counted by hand."""

from __future__ import annotations

from datetime import datetime

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.prefetch.tables import table_predictions

CALENDAR = TradingCalendar.xshg()
DAYS = ["2025-06-09", "2025-06-10", "2025-06-11", "2025-06-12", "2025-06-13"]  # Mon-Fri, all sessions


def row(day: str, symbol: str, dataset: str, hour: int = 9) -> dict:
    return {"ts": f"{day}T{hour:02d}:30:00+08:00", "symbol": symbol, "dataset": dataset}


def active_every_day() -> list[dict]:
    return [row(day, "600519.SH", "bars") for day in DAYS]


def test_read_on_three_of_five_active_days_scores_a_half():
    # read Mon, Wed and Fri (today, evening): 3 reads over the 5 active days since the first, 3 / (5 + 1)
    log = active_every_day() + [row(day, "securities", "reference") for day in DAYS[::2]]
    (prediction,) = table_predictions(log, CALENDAR, datetime(2025, 6, 13, 16, 30, tzinfo=EXCHANGE_TZ))
    assert (prediction.symbol, prediction.confidence, prediction.kind) == ("securities", 0.5, "table")
    assert prediction.end.isoformat() == "2025-06-13"  # up to the latest final session


def test_read_daily_scores_high_and_tables_refresh_cannot_reload_are_left_out():
    log = active_every_day() + [row(day, name, "reference") for day in DAYS[1:]
                                for name in ("index_members_000300.SH", "actions_600519.SH")]  # fmt: skip
    predictions = table_predictions(log, CALENDAR, datetime(2025, 6, 13, 16, 30, tzinfo=EXCHANGE_TZ))
    # index members read Tue-Fri: 4 reads over 4 days, 4 / 5; a dividend table is reloaded by the reads needing it
    assert [(p.symbol, p.confidence) for p in predictions] == [("index_members_000300.SH", 0.8)]


def test_todays_reads_count_only_once_made_and_the_future_is_invisible():
    log = active_every_day() + [row(day, "securities", "reference") for day in DAYS[:4]]
    log.append(row(DAYS[4], "securities", "reference", hour=15))  # read on Friday afternoon
    morning = datetime(2025, 6, 13, 9, 0, tzinfo=EXCHANGE_TZ)
    # at 09:00 on Friday: Friday's reads are in the future; today has no read yet, so it is not counted against:
    # 4 reads over the 4 earlier days, 4 / 5
    (prediction,) = table_predictions(log, CALENDAR, morning)
    assert prediction.confidence == 0.8
