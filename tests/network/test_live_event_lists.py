"""Live check of the daily event lists: off by default; run with QUANTDB_LAB_LIVE=1 on a networked machine.

Settles on the first online run what the registry declares: the schemas and units, how far back each upstream
still answers (``upstream_sessions``), and what the pool answers for a non-trading date.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import polars as pl
import pytest

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.datasets import DRAGON_TIGER_LIST, LIMIT_UP
from quantdb_lab.providers.akshare import AkshareProvider

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.environ.get("QUANTDB_LAB_LIVE") != "1", reason="live canary: set QUANTDB_LAB_LIVE=1"),
]


def _sessions_back(count: int) -> date:
    calendar = TradingCalendar.xshg()
    today = date.today()
    return calendar.sessions(today - timedelta(days=2 * count + 30), today - timedelta(days=1))[-count]


@pytest.mark.parametrize("record", [LIMIT_UP, DRAGON_TIGER_LIST], ids=lambda r: r.name)
def test_the_declared_oldest_session_is_still_served_with_the_canonical_schema(record):
    day = _sessions_back(record.upstream_sessions)
    fetch = AkshareProvider(timeout=20).fetchers()[record.capability].fetch
    frame = fetch(None, day, day)
    assert frame.schema == pl.Schema(record.schema)
    assert frame.height > 0, f"{record.name}: the upstream no longer has {day}: shorten upstream_sessions"
    assert frame["date"].unique().to_list() == [day]


def test_the_pool_on_a_weekend():
    today = date.today()
    saturday = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
    provider = AkshareProvider(timeout=20)
    weekend = provider.fetch_limit_up_pool(None, saturday, saturday)
    friday = saturday - timedelta(days=1)
    if weekend.height:  # Eastmoney's quirk: the previous session's pool, labelled with the date asked
        assert weekend.drop("date").equals(provider.fetch_limit_up_pool(None, friday, friday).drop("date"))
