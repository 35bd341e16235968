"""The one planner, as tables: each row a dataset shape, what is stored, and the calls a person would expect."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from quantdb_lab.domain.calendar import TradingCalendar, day_number
from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.domain.datasets import Dataset
from quantdb_lab.domain.modes import BACKTESTING, RESEARCH
from quantdb_lab.errors import LookAheadError
from quantdb_lab.loader.read_plan import effective_range, plan_read, snapshot_fresh
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.records import SeriesKey, SeriesMeta

CAL = TradingCalendar.xshg()
SCHEMA = {"date": pl.Date(), "symbol": pl.String(), "x": pl.Float64()}
RUN = Dataset(name="t_run", title="t", schema=SCHEMA, index="session", index_column="date")
PER_SESSION = Dataset(name="t_event", title="t", schema=SCHEMA, index="event", index_column="date",
                      unique_index=False, per_symbol=False, fetch_unit="session", upstream_sessions=20)  # fmt: skip
WINDOW = Dataset(name="t_min", title="t", schema={"time": pl.Datetime("us", "Asia/Shanghai"), "x": pl.Float64()},
                 index="timestamp", index_column="time", fetch_unit="window", upstream_sessions=5)  # fmt: skip
KEY = SeriesKey("t", "600519.SH")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EXCHANGE_TZ)


def d(text: str) -> date:
    return date.fromisoformat(text)


def covered(*spans: tuple[str, str]) -> SeriesMeta:
    return SeriesMeta(coverage=Coverage.from_pairs([[day_number(d(a)), day_number(d(b))] for a, b in spans]))


def plan(dataset, start, end, meta=None, now="2024-06-07 16:00", mode=RESEARCH):  # noqa: ANN001, ANN201
    span = effective_range(d(start), d(end), mode, CAL, at(now))
    return plan_read(dataset, KEY, span, mode, meta, CAL, at(now))


def spans(result) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(f.start.isoformat(), f.end.isoformat()) for f in result.fetches]


@pytest.mark.parametrize(
    ("dataset", "start", "end", "meta", "expected"),
    [
        # nothing stored: one call over the range's sessions (2024-06-01 is a Saturday, 06-10 the Dragon Boat holiday)
        (RUN, "2024-06-01", "2024-06-14", None, [("2024-06-03", "2024-06-14")]),
        # a gap in the middle: only that run, the holiday inside it does not split it
        (RUN, "2024-06-03", "2024-06-14", covered(("2024-06-03", "2024-06-05"), ("2024-06-13", "2024-06-14")),
         [("2024-06-06", "2024-06-12")]),
        (RUN, "2024-06-03", "2024-06-14", covered(("2024-06-01", "2024-06-14")), []),
        # an event list: one call per missing trading date, never the holiday
        (PER_SESSION, "2024-06-06", "2024-06-12", None,
         [("2024-06-06", "2024-06-06"), ("2024-06-07", "2024-06-07"), ("2024-06-11", "2024-06-11"),
          ("2024-06-12", "2024-06-12")]),
    ],
)
def test_plans(dataset, start, end, meta, expected):
    assert spans(plan(dataset, start, end, meta, now="2024-06-14 16:00")) == expected


def test_sessions_the_upstream_forgot_are_reported_not_fetched():
    result = plan(WINDOW, "2024-05-20", "2024-06-14", None, now="2024-06-14 16:00")
    # the upstream keeps 5 sessions: 06-07, 06-11..06-14 (06-10 a holiday); everything before is forgotten
    assert spans(result) == [("2024-06-07", "2024-06-14")]
    assert result.forgotten == ((d("2024-05-20"), d("2024-06-06")),)
    assert any("can no longer be fetched" in r for r in result.reasons)
    event = plan(PER_SESSION, "2024-01-02", "2024-06-14", None, now="2024-06-14 16:00")
    assert len(event.fetches) == 20 and event.forgotten


def test_open_session_is_provisional_and_fresh_for_the_modes_duration():
    fetched = at("2024-06-14 10:00").timestamp()
    meta = SeriesMeta(coverage=covered(("2024-06-03", "2024-06-13")).coverage, provisional_day=day_number(d("2024-06-14")),
                      provisional_at=fetched)  # fmt: skip
    assert plan(RUN, "2024-06-03", "2024-06-14", meta, now="2024-06-14 10:30").is_warm  # 30 min < 1 h
    again = plan(RUN, "2024-06-03", "2024-06-14", meta, now="2024-06-14 11:30")
    assert spans(again) == [("2024-06-14", "2024-06-14")] and again.provisional == d("2024-06-14")


def test_as_of_is_one_rule_for_every_dataset():
    mode = BACKTESTING.with_(as_of=d("2024-06-07"))
    for dataset in (RUN, PER_SESSION, WINDOW):
        with pytest.raises(LookAheadError):
            plan(dataset, "2024-06-01", "2024-06-12", mode=mode, now="2024-06-14 16:00")
    clipped = effective_range(d("2024-06-01"), None, mode, CAL, at("2024-06-14 16:00"))
    assert clipped.end == d("2024-06-07") and clipped.open_session is None


@pytest.mark.parametrize(
    ("freshness", "fetched", "now", "fresh"),
    [
        ("session", "2024-06-13 16:00", "2024-06-14 10:00", True),  # no session became final since
        ("session", "2024-06-13 16:00", "2024-06-14 16:00", False),  # 06-14 became final at 15:30
        ("session", "2024-06-14 15:45", "2024-06-17 09:00", True),  # the weekend changes nothing
        ("minutes:30", "2024-06-14 10:00", "2024-06-14 10:20", True),
        ("minutes:30", "2024-06-14 10:00", "2024-06-14 10:40", False),
    ],
)
def test_snapshot_freshness(freshness, fetched, now, fresh):
    dataset = Dataset(name="t_snap", title="t", schema=SCHEMA, index="snapshot", index_column="date",
                      per_symbol=False, freshness=freshness)  # fmt: skip
    assert snapshot_fresh(dataset, at(fetched), CAL, at(now))[0] is fresh
    assert snapshot_fresh(dataset, None, CAL, at(now)) == (False, "never fetched")
