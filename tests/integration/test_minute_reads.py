"""Minute bars through the cache (issue 19 item 2): lab.bars(freq="1min") and lab.read, over the simulated
Eastmoney (only 5 sessions of 1-minute bars kept, quirks included). Expected values come from the simulated
market's own daily bars and from counting sessions on the calendar, not from the code under test."""

from __future__ import annotations

from datetime import date, time, timedelta

import polars as pl
import pytest

from quantdb_lab.domain.minute import daily_from_minutes, resample_minutes
from quantdb_lab.domain.schema import MINUTE_BARS
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from tests.support.sim import MARKET, at, make_lab

pytestmark = pytest.mark.filterwarnings("ignore::quantdb_lab.errors.SyntheticDataWarning")


def calls(provider) -> int:
    return provider.calls["fetch_minute_bars"]


def sessions(first: str, last: str) -> list[date]:
    return MARKET.calendar.sessions(date.fromisoformat(first), date.fromisoformat(last))


def test_one_call_then_warm_and_the_lunch_break_has_no_bars(tmp_path):
    lab, provider, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    frame = lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")
    days = sessions("2025-06-03", "2025-06-06")
    assert calls(provider) == 1 and sorted(set(frame["time"].dt.date())) == days
    assert frame.filter(pl.col("time").dt.time().is_between(time(11, 31), time(13, 0))).is_empty()
    assert frame.group_by(pl.col("time").dt.date()).len()["len"].to_list() == [240] * len(days)  # 09:30 + 239
    again = lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")
    assert again.equals(frame) and calls(provider) == 1 and again.quantdb.provenance.series[0].from_cache
    assert lab.read("bars_1min", "600519", start="2025-06-03", end="2025-06-06").equals(frame)


def test_daily_bars_from_cached_minutes_equal_the_daily_series(tmp_path):
    lab, _, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    for symbol in ("600519", "000001.SZ", "000300.SH", "510300"):
        minutes = lab.bars(symbol, freq="1min", start="2025-06-02", end="2025-06-06")
        daily = lab.bars(symbol, start="2025-06-02", end="2025-06-06", adjust="")  # minute bars are unadjusted
        both = daily_from_minutes(minutes).join(daily, on=["symbol", "date"], suffix="_d")
        assert both.height == daily.height == 4, symbol
        for column in ("open", "high", "low", "close"):
            assert (both[column] == both[f"{column}_d"]).all(), (symbol, column)
        assert ((both["volume"] - both["volume_d"]).abs() <= both["auction_volume"]).all(), symbol


def test_the_cache_keeps_sessions_the_upstream_has_forgotten(tmp_path):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-06 16:00")
    first = lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")
    clock.advance(timedelta(days=14).total_seconds())  # ten sessions later: Eastmoney has dropped them all
    later = lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-20")
    assert calls(provider) == 2  # one call for the window, incrementally by session
    kept = later.filter(pl.col("time").dt.date() <= date(2025, 6, 6))
    assert kept.equals(first)
    assert sorted(set(later["time"].dt.date())) == sessions("2025-06-03", "2025-06-20")[:4] + sessions("2025-06-03", "2025-06-20")[-5:]
    assert any("can no longer be fetched" in note for note in later.quantdb.provenance.series[0].notes)


def test_an_open_session_serves_completed_bars_only_provisionally(tmp_path):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-06 10:00:30", mode="research")
    frame = lab.bars("600519", freq="1min", start="2025-06-06", end="2025-06-06")
    assert frame["time"].max() == at("2025-06-06 10:00")  # the forming 10:01 bar is not served
    assert frame.quantdb.provenance.series[0].provisional == date(2025, 6, 6)
    clock.advance(60)
    lab.bars("600519", freq="1min", start="2025-06-06", end="2025-06-06")
    assert calls(provider) == 1  # younger than the mode's cache_duration
    clock.advance(2 * 3600)
    later = lab.bars("600519", freq="1min", start="2025-06-06", end="2025-06-06")
    assert calls(provider) == 2 and later["time"].max() == at("2025-06-06 11:30")  # lunch: the morning's last bar
    clock.advance(6 * 3600)
    final = lab.bars("600519", freq="1min", start="2025-06-06", end="2025-06-06")
    assert final["time"].max() == at("2025-06-06 15:00") and final.quantdb.provenance.series[0].provisional is None


def test_coarser_bars_come_from_cached_one_minute_bars(tmp_path):
    lab, provider, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    ones = lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")
    fives = lab.bars("600519", freq="5min", start="2025-06-03", end="2025-06-06")
    assert calls(provider) == 1  # no call: every session is held as 1-minute bars
    assert fives.equals(resample_minutes(ones, 5))
    assert fives.group_by(pl.col("time").dt.date()).len()["len"].to_list() == [48] * 4
    longer = lab.bars("600519", freq="60min", start="2025-05-20", end="2025-06-06")
    assert calls(provider) == 2 and set(longer["time"].dt.time()) == {time(10, 30), time(11, 30), time(14, 0), time(15, 0)}
    assert sorted(set(longer["time"].dt.date())) == sessions("2025-05-20", "2025-06-06")


def test_minute_bars_of_several_symbols_and_bad_input(tmp_path):
    lab, _, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    frame = lab.bars(["600519", "159915", "399006.SZ"], freq="15min", start="2025-06-05", end="2025-06-06")
    assert frame.group_by("symbol").len().sort("symbol")["len"].to_list() == [32, 32, 32]
    with pytest.raises(InvalidRequestError, match="unadjusted"):
        lab.bars("600519", freq="1min", adjust="qfq")
    with pytest.raises(InvalidRequestError, match="1min"):
        lab.bars("600519", freq="2min")


def test_a_provider_without_minute_bars_says_so(tmp_path):
    class DailyOnly(SimulatedProvider):
        def fetchers(self):
            table = super().fetchers()
            table.pop("minute_bars")
            return table

    lab, _, clock = make_lab(tmp_path)
    plain = Lab(tmp_path / "other", provider=DailyOnly(MARKET, faults=Faults(), clock=clock), clock=clock)
    with pytest.raises(InvalidRequestError, match="does not serve bars_1min"):
        plain.bars("600519", freq="1min", start="2025-06-06")


def test_minute_quality_through_the_lab(tmp_path):
    lab, _, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    issues = lab.minute_quality(["600519", "000001.SZ"], start="2025-06-02", end="2025-06-06")
    assert set(issues["check"]) <= {"minute_estimated_open"}  # the simulated Eastmoney drops opens 4 days in 5
    assert issues.filter(pl.col("severity") != "info").is_empty()
    with pytest.raises(InvalidRequestError):
        lab.minute_quality("600519", freq="weekly")


def test_the_portfolio_fetch_serves_minute_bars(tmp_path):
    lab, provider, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    result = lab.portfolio(["600519", "000001.SZ", "510300"], start="2025-06-05", end="2025-06-06", freq="5min",
                           progress=False)  # fmt: skip
    assert result.status["status"].to_list() == ["fetched"] * 3 and calls(provider) == 3
    assert result.frame.height == 3 * 2 * 48 and result.frame.columns == list(MINUTE_BARS)
    again = lab.portfolio(["600519", "000001.SZ", "510300"], start="2025-06-05", end="2025-06-06", freq="5min",
                          progress=False)  # fmt: skip
    assert again.status["status"].to_list() == ["from_cache"] * 3 and calls(provider) == 3
    with pytest.raises(InvalidRequestError, match="unadjusted"):
        lab.portfolio(["600519"], freq="1min", adjust="hfq", progress=False)
