"""Live akshare canary: off by default; run with QUANTDB_LAB_LIVE=1 on a networked machine.

It detects upstream schema drift (renamed or added columns, unit changes) before an akshare bump does.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import polars as pl
import pytest

from quantdb_lab.domain.schema import BARS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.environ.get("QUANTDB_LAB_LIVE") != "1", reason="live canary: set QUANTDB_LAB_LIVE=1"),
]


def test_600519_recent_days_have_the_canonical_schema():
    end = date.today()
    start = end - timedelta(days=14)
    out = AkshareProvider(timeout=20).fetch_daily_bars(parse_symbol("600519"), start, end)
    assert out.schema == pl.Schema(BARS)
    assert out.height >= 3, "two weeks should hold at least three sessions"
    assert out["symbol"].unique().to_list() == ["600519.SH"]
    assert out["date"].is_sorted() and out["date"].min() >= start
    assert (out["low"] <= out["close"]).all() and (out["close"] <= out["high"]).all()
    # Units: Moutai trades thousands of lots a day, i.e. far more than 10^5 shares; turnover is a small fraction.
    assert out["volume"].min() > 1e5
    assert out["turnover"].max() < 0.2
