"""lab.read: any registered dataset through the cache, decided by the one planner (issue 19 item 1)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from quantdb_lab.domain.datasets import Dataset, register
from quantdb_lab.errors import InvalidRequestError, LookAheadError
from quantdb_lab.lab import Lab
from quantdb_lab.providers.fetchers import Fetcher
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from tests.support.sim import MARKET, make_lab

EVENTS = register(Dataset(
    name="test_limit_up", title="test limit-up list", index="event", index_column="date", unique_index=False,
    per_symbol=False, fetch_unit="session", upstream_sessions=10, capability="test_limit_up",
    schema={"date": pl.Date(), "symbol": pl.String(), "known_at": pl.Date()}, pit_column="known_at",
))  # fmt: skip


class WithEvents(SimulatedProvider):
    """A provider that serves the test event list: two symbols a trading date, known the same day."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: list[date] = []

    def fetchers(self):
        table = super().fetchers()
        table["test_limit_up"] = Fetcher(self._events, lambda symbol: "local")
        return table

    def _events(self, symbol, start, end):
        assert symbol is None
        self.asked.append(start)
        days = [day for day in MARKET.calendar.sessions(start, end)]
        rows = [(day, s) for day in days for s in ("600519.SH", "000001.SZ")]
        return pl.DataFrame({"date": [r[0] for r in rows], "symbol": [r[1] for r in rows],
                             "known_at": [r[0] for r in rows]}, schema=EVENTS.schema)  # fmt: skip


def events_lab(tmp_path, now="2025-06-06 16:00"):
    lab, _, clock = make_lab(tmp_path, now=now)
    provider = WithEvents(MARKET, faults=Faults(), clock=clock)
    return Lab(tmp_path / "cache", provider=provider, clock=clock), provider


def test_a_per_date_list_is_fetched_once_per_trading_date_and_then_served_from_the_cache(tmp_path):
    lab, provider = events_lab(tmp_path)
    frame = lab.read("test_limit_up", start="2025-05-26", end="2025-06-06")
    sessions = MARKET.calendar.sessions(date(2025, 5, 26), date(2025, 6, 6))
    assert provider.asked == sessions and frame.height == 2 * len(sessions)  # 2025-06-02 was a holiday
    assert lab.read("test_limit_up", start="2025-05-26", end="2025-06-06").equals(frame)
    assert provider.asked == sessions  # nothing fetched again
    lab.read("test_limit_up", start="2025-05-20", end="2025-06-06")
    kept = MARKET.calendar.sessions(date(2025, 4, 1), date(2025, 6, 6))[-10:]  # what the upstream still has
    wanted = [day for day in MARKET.calendar.sessions(date(2025, 5, 20), date(2025, 5, 23)) if day in kept]
    assert provider.asked[len(sessions):] == wanted


def test_what_the_upstream_forgot_is_not_asked_for_and_said(tmp_path):
    lab, provider = events_lab(tmp_path)
    frame = lab.read("test_limit_up", start="2025-01-02", end="2025-06-06")
    assert len(provider.asked) == 10  # the upstream keeps 10 sessions
    assert any("can no longer be fetched" in note for note in frame.quantdb.provenance.series[0].notes)


def test_as_of_and_bad_input(tmp_path):
    lab, _ = events_lab(tmp_path)
    cut = lab.using(lab.mode.with_(as_of=date(2025, 6, 3)))
    with pytest.raises(LookAheadError):
        cut.read("test_limit_up", start="2025-05-26", end="2025-06-06")
    assert cut.read("test_limit_up", start="2025-05-26")["date"].max() == date(2025, 6, 3)
    with pytest.raises(InvalidRequestError, match="unknown dataset"):
        lab.read("no_such_dataset")
    with pytest.raises(InvalidRequestError, match="market-wide"):
        lab.read("test_limit_up", "600519")
    plain, _, _ = make_lab(tmp_path / "other")
    with pytest.raises(InvalidRequestError, match="does not serve"):
        plain.read("test_limit_up", start="2025-05-26")
