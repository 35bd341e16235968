"""Minute bars on the real fixtures (../shared/data/minute_bars): Eastmoney's quirks and bars derived from 1-minute.

Expected values come from the recorded files themselves (Eastmoney's own 5-minute bars, the vendor's own daily
bars, counts taken straight off the raw rows), never from the code under test.
"""

from __future__ import annotations

from datetime import date, time

import polars as pl
import pytest

from quantdb_lab.domain.minute import (
    bar_label,
    daily_from_minutes,
    expected_bars,
    has_closing_auction,
    repair_opens,
    resample_minutes,
)
from tests.support.minute_files import eastmoney, sse_composite, sse_composite_daily


@pytest.fixture(scope="module")
def moutai_1min():
    return eastmoney("600519_1min.csv", "600519.SH")


@pytest.fixture(scope="module")
def sse():
    return sse_composite()


def test_zero_opens_are_filled_inside_the_bar_and_flagged(moutai_1min):
    zero = moutai_1min.filter(pl.col("open") == 0.0)
    assert zero.height == 964  # the README's count
    pinned = zero.filter(pl.col("high") == pl.col("low")).height  # an auction print: the open is the price
    repaired = repair_opens(moutai_1min)
    assert repaired.filter(pl.col("open") == 0.0).is_empty()
    assert repaired["open_estimated"].sum() == zero.height - pinned
    assert repaired.filter((pl.col("open") < pl.col("low")) | (pl.col("open") > pl.col("high"))).is_empty()
    auction = repaired.filter(pl.col("time").dt.time() == time(9, 30))
    assert (auction["open"] == auction["close"]).all() and not auction["open_estimated"].any()
    untouched = moutai_1min.filter(pl.col("open") != 0.0)
    assert repaired.join(untouched, on="time").filter(pl.col("open") != pl.col("open_right")).is_empty()


def test_five_minute_bars_from_one_minute_bars_equal_eastmoneys_own(moutai_1min):
    derived = resample_minutes(repair_opens(moutai_1min), 5)
    real = eastmoney("600519_5min.csv", "600519.SH").filter(pl.col("time").dt.date() >= date(2026, 3, 23))
    assert derived.height == real.height == 5 * 48
    both = derived.join(real, on="time", suffix="_em")
    assert both.height == real.height  # the same labels: the auction bar joins 09:35, nothing spans lunch
    for column in ("high", "low", "close", "amount"):
        assert (both[column] == both[f"{column}_em"]).all(), column
    assert (both["volume"] - both["volume_em"]).abs().max() <= 100.0  # Eastmoney rounds each bar to the lot
    with_opens = both.filter(pl.col("time").dt.date() == date(2026, 3, 27))  # the day the upstream sent opens
    assert (with_opens["open"] == with_opens["open_em"]).all()
    first = both.filter(pl.col("time").dt.time() == time(9, 35))
    assert (first["open"] == first["open_em"]).all()  # the 09:30 auction price opens the session's first bar


@pytest.mark.parametrize(("minutes", "labels"), [
    (60, [time(10, 30), time(11, 30), time(14, 0), time(15, 0)]),
    (30, [time(10, 0), time(10, 30), time(11, 0), time(11, 30), time(13, 30), time(14, 0), time(14, 30), time(15, 0)]),
])  # fmt: skip
def test_no_bar_spans_the_lunch_break(moutai_1min, minutes, labels):
    derived = resample_minutes(repair_opens(moutai_1min), minutes)
    assert sorted(set(derived["time"].dt.time().to_list())) == labels
    one_day = moutai_1min.filter(pl.col("time").dt.date() == date(2026, 3, 24))
    afternoon = one_day.filter(pl.col("time").dt.time().is_between(time(13, 1), time(14, 0)))
    bar = resample_minutes(repair_opens(one_day), 60).filter(pl.col("time").dt.time() == time(14, 0))
    assert bar["volume"].item() == afternoon["volume"].sum() and bar["high"].item() == afternoon["high"].max()


def test_lunch_and_auction_minutes_have_no_bars_in_the_real_files(moutai_1min, sse):
    clock = pl.col("time").dt.time()
    assert moutai_1min.filter(clock.is_between(time(11, 31), time(13, 0))).is_empty()
    assert sse.filter(clock.is_between(time(11, 31), time(13, 0))).is_empty()


def test_no_1459_bar_on_days_with_a_closing_call_auction(sse):
    by_day = sse.group_by(pl.col("time").dt.date().alias("date")).agg(
        (pl.col("time").dt.time() == time(14, 59)).any().alias("has_1459"))
    before = by_day.filter(pl.col("date") < date(2018, 8, 20))
    after = by_day.filter(pl.col("date") >= date(2018, 8, 20))
    assert not has_closing_auction("000001.SH", date(2018, 8, 17)) and has_closing_auction("000001.SH", date(2018, 8, 20))
    assert has_closing_auction("000001.SZ", date(2015, 1, 5))
    assert not after["has_1459"].any() and before["has_1459"].sum() >= before.height - 2  # the circuit-breaker days
    day = sse.filter(pl.col("time").dt.date() == date(2018, 8, 21))
    last = day.filter(pl.col("time").dt.time() >= time(14, 56))
    bar = resample_minutes(day, 5).tail(1)
    assert bar["time"].dt.time().item() == time(15, 0) and last.height == 4  # 14:56 14:57 14:58 15:00
    assert bar["high"].item() == last["high"].max() and bar["volume"].item() == last["volume"].sum()
    assert bar["open"].item() == last["open"][0] and bar["close"].item() == last["close"][-1]


def test_circuit_breaker_days_are_short_sessions(sse):
    counts = dict(sse.group_by(pl.col("time").dt.date()).agg(pl.len()).iter_rows())
    assert counts[date(2016, 1, 4)] == 142 and counts[date(2016, 1, 7)] == 17
    assert expected_bars(1, date(2016, 1, 7)) == 30 and expected_bars(1, date(2016, 1, 4)) == 155
    assert expected_bars(5, date(2016, 1, 5)) == 48
    last = sse.filter(pl.col("time").dt.date() == date(2016, 1, 7))["time"].max()
    assert last.time() == time(10, 0)


def test_daily_bars_from_minutes_against_the_vendors_daily_series(sse):
    daily = sse_composite_daily()
    derived = daily_from_minutes(sse).join(daily, on="date", suffix="_d")
    assert derived.height == 1000
    close_equal = ((derived["close"] - derived["close_d"]).abs() < 0.005).mean()
    open_equal = ((derived["open"] - derived["open_d"]).abs() < 0.005).mean()
    assert close_equal > 0.98 and open_equal > 0.97  # index minute bars are snapshots: a few days differ
    ratio = derived["volume"] / derived["volume_d"]
    assert ratio.median() == pytest.approx(1.0, abs=1e-6)
    halted = derived.filter(pl.col("date") == date(2016, 1, 7))
    assert halted["low"].item() == halted["low_d"].item() and halted["open"].item() == halted["open_d"].item()


def test_bar_labels_follow_eastmoney(moutai_1min):
    labels = moutai_1min.head(8).select(bar_label(5).dt.time())["time"].to_list()
    assert labels == [time(9, 35)] * 6 + [time(9, 40)] * 2
    with pytest.raises(ValueError):
        bar_label(7)


@pytest.mark.parametrize("minutes", [5, 15, 30, 60])
def test_every_bar_length_gives_the_same_daily_bars(sse, minutes):
    one = daily_from_minutes(sse).drop("bars", "auction_volume")
    coarse = daily_from_minutes(resample_minutes(sse, minutes)).drop("bars", "auction_volume")
    assert coarse.equals(one)
    counts = resample_minutes(sse, minutes).group_by(pl.col("time").dt.date()).len()["len"]
    assert counts.max() == 240 // minutes  # never a bar across lunch or past 15:00
