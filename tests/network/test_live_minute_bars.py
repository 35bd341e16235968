"""Live minute-bar canary (off by default; QUANTDB_LAB_LIVE=1 on a networked machine). The first online run settles
the open questions of docs/minute-bars.md: how many sessions Eastmoney keeps per bar length (the registry asks
for 5 and 30), whether index and ETF volume is in lots like the stock's, and that a daily bar from the 1-minute
bars equals the daily kline."""

from __future__ import annotations

import os
from datetime import date, timedelta

import polars as pl
import pytest

from quantdb_lab.domain.datasets import dataset_for_freq
from quantdb_lab.domain.minute import daily_from_minutes
from quantdb_lab.domain.schema import MINUTE_BARS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.environ.get("QUANTDB_LAB_LIVE") != "1", reason="live canary: set QUANTDB_LAB_LIVE=1"),
]


@pytest.mark.parametrize("period", ["1", "5", "15", "30", "60"])
def test_the_window_eastmoney_keeps_is_at_least_what_the_registry_assumes(period):
    out = AkshareProvider(timeout=20).fetch_minute_bars(parse_symbol("600519"), date(2000, 1, 1), date.today(), period=period)
    assert out.schema == pl.Schema(MINUTE_BARS)
    sessions = out["time"].dt.date().n_unique()
    print(f"period {period}: {sessions} sessions, {out.height} bars, opens estimated {out['open_estimated'].sum()}")
    assert sessions >= dataset_for_freq(f"{period}min").upstream_sessions


@pytest.mark.parametrize("symbol", ["600519", "000300.SH", "510300"])
def test_daily_from_one_minute_bars_equals_the_daily_kline(symbol):
    provider = AkshareProvider(timeout=20)
    end = date.today()
    minutes = provider.fetch_minute_bars(parse_symbol(symbol), end - timedelta(days=10), end, period="1")
    daily = provider.fetch_daily_bars(parse_symbol(symbol), end - timedelta(days=10), end)
    both = daily_from_minutes(minutes).join(daily, on=["symbol", "date"], suffix="_d").head(-1)  # not today
    assert both.height >= 2
    for column in ("open", "high", "low", "close"):
        assert ((both[column] - both[f"{column}_d"]).abs() < 1e-6).all(), column
    ratio = both["volume"] / both["volume_d"]
    assert ratio.is_between(0.95, 1.05).all(), f"volume units differ: {ratio.to_list()}"
