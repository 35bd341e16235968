"""Live quotes: the simulated snapshot against its minute bars, akshare's call choice and transforms (akshare
patched at the module boundary), and the freshness cache shared by threads and Labs on one cache directory."""

from __future__ import annotations

import threading
from datetime import date, datetime
from unittest import mock

import pandas as pd
import polars as pl
import pytest

from quantdb_lab import Lab
from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.domain.quotes import QUOTES
from quantdb_lab.domain.symbols import parse_symbols
from quantdb_lab.errors import MarketClosedWarning
from quantdb_lab.providers.akshare import AkshareProvider
from quantdb_lab.providers.akshare.columns import STOCK_ZH_A_SPOT_EM_ORDER
from quantdb_lab.providers.akshare.quotes import WATCHLIST_MAX, quote_batches
from quantdb_lab.providers.simulated import SimulatedMarket, SimulatedProvider
from quantdb_lab.realtime.snapshot_file import read_snapshot

SESSION = date(2024, 3, 5)
AFTER = datetime(2024, 3, 5, 23, 0, tzinfo=EXCHANGE_TZ)


def _at(hour: int, minute: int, day: date = SESSION) -> FixedClock:
    return FixedClock(datetime(day.year, day.month, day.day, hour, minute, tzinfo=EXCHANGE_TZ))


@pytest.fixture(scope="module")
def market():
    return SimulatedMarket(seed=7)


def test_simulated_snapshot_agrees_with_the_minute_bars(market):
    clock = _at(10, 15)
    quotes = SimulatedProvider(market, clock=clock).fetch_quotes(parse_symbols(["000001.SZ", "604262.SH"]))
    assert quotes.schema == pl.Schema(QUOTES)
    minutes = market.intraday_path("000001.SZ", SESSION, now=AFTER).head(45)  # 09:31 .. 10:15
    row = quotes.row(0, named=True)
    assert row["last"] == minutes["close"][-1] and row["volume"] == minutes["volume"].sum()
    assert row["high"] == max(minutes["high"].max(), row["open"]) and row["low"] == min(minutes["low"].min(), row["open"])
    assert row["open"] == minutes["open"][0] and not row["halted"]
    prev = market.bars("000001.SZ", date(2024, 3, 4), date(2024, 3, 4), now=AFTER)["close"][0]
    assert row["prev_close"] == prev and row["pct_change"] == pytest.approx(row["last"] / prev - 1)
    assert row["limit_up"] == pytest.approx(round(prev * 1.1 + 1e-9, 2))
    halted = quotes.row(1, named=True)
    assert halted["symbol"] == "604262.SH" and halted["halted"] and halted["volume"] == 0


def test_akshare_chooses_per_symbol_calls_for_a_watchlist_and_the_spot_list_otherwise():
    few = parse_symbols(["600519", "000001.SZ"])
    assert quote_batches(few) == [[few[0]], [few[1]]]
    assert quote_batches(None) == [None]
    many = parse_symbols([f"{600000 + i}" for i in range(WATCHLIST_MAX + 1)])
    assert quote_batches(many) == [None]


def _spot_frame() -> pd.DataFrame:
    rows = [[1, "600519", "A", 100.0, 1.5, 1.5, 1000, 1e6, 2.0, 101.0, 99.0, 99.5, 98.52] + [0.0] * 10,
            [2, "300750", "B", "-", "-", "-", "-", "-", "-", "-", "-", "-", 50.0] + [0.0] * 10,
            [3, "600001", "*ST C", 5.0, 1.0, 0.05, 10, 1e3, 1.0, 5.0, 5.0, 5.0, 4.76] + [0.0] * 10]
    return pd.DataFrame(rows, columns=list(STOCK_ZH_A_SPOT_EM_ORDER))


def test_akshare_spot_transform_units_limits_and_halts():
    with mock.patch("akshare.stock_zh_a_spot_em", return_value=_spot_frame()) as spot:
        quotes = AkshareProvider().fetch_quotes(None)
    assert spot.call_count == 1
    rows = {r["symbol"]: r for r in quotes.iter_rows(named=True)}
    assert rows["600519.SH"]["volume"] == 100_000 and rows["600519.SH"]["pct_change"] == pytest.approx(0.015)
    assert rows["600519.SH"]["limit_up"] == 108.37 and rows["600519.SH"]["limit_down"] == 88.67
    assert rows["300750.SZ"]["halted"] and rows["300750.SZ"]["limit_up"] == 60.0  # ChiNext 20 %
    assert rows["600001.SH"]["limit_up"] == 5.0  # ST: 5 %


def test_akshare_bid_ask_is_called_once_per_symbol():
    items = ["最新", "均价", "涨幅", "涨跌", "总手", "金额", "换手", "量比", "最高", "最低", "今开", "昨收", "涨停", "跌停",
             "外盘", "内盘"]  # fmt: skip
    values = [10.0, 10.0, 1.0, 0.1, 500, 5e5, 1, 1, 10.2, 9.8, 9.9, 9.9, 10.89, 8.91, 1, 1]
    frame = pd.DataFrame({"item": ["sell_5", "sell_5_vol", *items], "value": [1.0, 2.0, *values]})
    with mock.patch("akshare.stock_bid_ask_em", return_value=frame) as bid_ask:
        quotes = AkshareProvider().fetch_quotes(parse_symbols(["000001.SZ", "600000"]))
    assert bid_ask.call_count == 2 and quotes["symbol"].to_list() == ["000001.SZ", "600000.SH"]
    assert quotes["volume"][0] == 50_000 and quotes["limit_up"][0] == 10.89 and quotes["pct_change"][0] == 0.01


def _lab(tmp_path, clock, market):
    return Lab(tmp_path, SimulatedProvider(market, clock=clock), mode="trading", clock=clock, usage_log=False)


def test_fresh_snapshots_are_served_without_upstream_calls(tmp_path, market):
    clock = _at(10, 0)
    lab = _lab(tmp_path, clock, market)
    first = lab.quotes(["000001.SZ", "600519"])
    clock.advance(59)
    assert lab.quotes(["000001.SZ", "600519"]).equals(first)
    assert lab.provider.calls["fetch_quotes"] == 1
    clock.advance(2)
    later = lab.quotes(["000001.SZ", "600519"])
    assert lab.provider.calls["fetch_quotes"] == 2 and later["as_of"][0] == clock.now()
    # the throttle saw every upstream call
    assert {r["host_family"]: r["calls"] for r in lab.throttle.status()}["local"] == 2


def test_a_whole_market_snapshot_serves_watchlists_and_other_labs_read_the_file(tmp_path, market):
    clock = _at(10, 0)
    lab = _lab(tmp_path, clock, market)
    whole = lab.quotes()
    other = _lab(tmp_path, clock, market)  # another kernel on the same cache directory
    subset = other.quotes(["000001.SZ"])
    assert (lab.provider.calls["fetch_quotes"], other.provider.calls["fetch_quotes"]) == (1, 0)
    assert subset.drop("stale").equals(whole.filter(pl.col("symbol") == "000001.SZ").drop("stale"))
    on_disk = read_snapshot(tmp_path / "realtime" / "latest-all.arrow")
    assert on_disk is not None and on_disk.height == whole.height


def test_concurrent_threads_make_one_upstream_call(tmp_path, market):
    clock = _at(10, 0)
    labs = [_lab(tmp_path, clock, market) for _ in range(4)]
    threads = [threading.Thread(target=lab.quotes, args=(["000001.SZ"],)) for lab in labs for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(lab.provider.calls["fetch_quotes"] for lab in labs) == 1


def test_no_upstream_calls_outside_trading_hours(tmp_path, market):
    clock = _at(11, 0)
    lab = _lab(tmp_path, clock, market)
    lab.quotes(["000001.SZ"])
    for hour, minute in ((12, 0), (15, 30), (20, 0)):
        clock.current = clock.current.replace(hour=hour, minute=minute)
        served = lab.quotes(["000001.SZ"])
        assert served["as_of"][0].hour == 11 and not served["stale"][0]
    assert lab.provider.calls["fetch_quotes"] == 1
    fresh = _lab(tmp_path / "other", _at(20, 0), market)
    with pytest.warns(MarketClosedWarning, match="market closed"):  # and an empty frame, never an exception
        assert fresh.quotes(["000001.SZ"]).is_empty()
    assert fresh.provider.calls["fetch_quotes"] == 0


def test_a_failed_refresh_raises_in_trading_mode_and_serves_stale_where_the_mode_allows(tmp_path, market):
    from quantdb_lab.errors import ProviderUnavailableError, StaleDataWarning

    clock = _at(10, 0)
    lab = _lab(tmp_path, clock, market)
    first = lab.quotes(["000001.SZ"])
    lab.provider.faults.down = True
    clock.advance(61)
    with pytest.raises(ProviderUnavailableError):
        lab.quotes(["000001.SZ"])
    research = lab.using("research")  # serve_stale: the last snapshot, flagged and warned about
    clock.advance(61)
    with pytest.warns(StaleDataWarning):
        stale = research.quotes(["000001.SZ"])
    assert stale["stale"][0] and stale["as_of"][0] == first["as_of"][0]
