"""Quality checks of minute bars (quality.minutes) on the real fixtures and on hand-built frames."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.domain.minute import repair_opens
from quantdb_lab.domain.schema import MINUTE_BARS
from quantdb_lab.quality.minutes import check_daily_agreement, check_minute_bars
from quantdb_lab.ui.cache_report import dataset_rows
from tests.support.minute_files import eastmoney, sse_composite, sse_composite_daily


def test_the_sse_composite_five_years(tmp_path):
    issues = check_minute_bars(sse_composite())
    early = issues.filter(pl.col("check") == "minute_early_close")
    assert early["date"].to_list() == [date(2016, 1, 4), date(2016, 1, 7)]  # the circuit breaker, not damage
    short = issues.filter(pl.col("check") == "minute_missing")
    # counted straight off the file, leaving out 14:58 and 14:59 (a closing auction has no trades there, and the
    # file drops 14:59 from 2018-08-20 on, both on 2019-01-15): a whole day has the other 238 bars
    auction = pl.col("time").dt.strftime("%H:%M").is_in(["14:58", "14:59"])
    raw = sse_composite().filter(~auction).group_by(pl.col("time").dt.date().alias("date")).len()
    expected_short = raw.filter((pl.col("len") < 238) & ~pl.col("date").is_in([date(2016, 1, 4), date(2016, 1, 7)]))
    assert sorted(short["date"].to_list()) == sorted(expected_short["date"].to_list()) and short.height == 7
    assert issues.filter(pl.col("severity") == "error").is_empty()


def test_daily_agreement_on_the_vendors_own_daily_series():
    minutes = sse_composite()
    daily = sse_composite_daily().with_columns(pl.lit("000001.SH").alias("symbol"))
    issues = check_daily_agreement(minutes, daily)
    prices = issues.filter(pl.col("check") == "minute_daily_ohlc")
    assert 0 < prices.height < 1000  # index minute bars are snapshots: their extremes miss the daily's on most days
    assert issues.filter(pl.col("check") == "minute_daily_volume").height <= 5


def test_eastmoney_week_has_estimated_opens_and_nothing_else():
    issues = check_minute_bars(repair_opens(eastmoney("600519_1min.csv", "600519.SH")))
    assert set(issues["check"]) == {"minute_estimated_open"}
    assert issues["date"].to_list() == [date(2026, 3, 23), date(2026, 3, 24), date(2026, 3, 25), date(2026, 3, 26)]


def bars(times: list[str], **values) -> pl.DataFrame:
    n = len(times)
    base = {"symbol": ["600519.SH"] * n, "time": [datetime.fromisoformat(t).replace(tzinfo=EXCHANGE_TZ) for t in times],
            "open": [10.0] * n, "high": [10.5] * n, "low": [9.5] * n, "close": [10.0] * n, "volume": [100.0] * n,
            "amount": [1000.0] * n, "open_estimated": [False] * n}  # fmt: skip
    return pl.DataFrame(base | values, schema=MINUTE_BARS)


def test_broken_and_off_grid_bars_and_a_volume_mismatch():
    frame = bars(["2025-06-06 09:31", "2025-06-06 12:00", "2025-06-06 15:00"], close=[10.0, 10.0, 11.0])
    issues = check_minute_bars(frame)
    assert set(issues["check"]) == {"minute_ohlc", "minute_off_grid", "minute_missing"}
    daily = pl.DataFrame({"symbol": ["600519.SH"], "date": [date(2025, 6, 6)], "open": [10.0], "high": [10.5],
                          "low": [9.5], "close": [11.0], "volume": [900.0]})  # fmt: skip
    agreement = check_daily_agreement(frame, daily)
    assert agreement["check"].to_list() == ["minute_daily_volume"]  # 300 vs 900: more than the auction + lots


def test_a_whole_session_is_clean():
    start = datetime(2025, 6, 6, 9, 30)
    times = [start] + [start + timedelta(minutes=k) for k in range(1, 121)] + [
        datetime(2025, 6, 6, 13, 0) + timedelta(minutes=k) for k in range(1, 121)]
    frame = bars([t.isoformat() for t in times])
    assert check_minute_bars(frame).is_empty()
    assert check_minute_bars(frame.filter(pl.col("time").dt.minute() != 59)).height == 1  # hourly :59 bars gone


def test_the_cache_monitor_names_the_dataset_and_the_upstreams_memory():
    rows = dataset_rows({"by_dataset": {"bars_1min": {"series": 1, "rows": 960, "bytes": 10}, "other": {"series": 1}}})
    assert rows[0]["title"] == "1-minute bars (unadjusted)" and rows[0]["upstream keeps"] == "5 sessions"
    assert rows[1]["title"] == "" and rows[1]["upstream keeps"] == ""
