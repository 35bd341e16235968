"""The daily event lists (limit-up pool, dragon-tiger list) through every provider: the same contract each.

* ``simulated``: the SimulatedProvider over the shared simulated market;
* ``akshare``: AkshareProvider over akshare's real code, with Eastmoney's answers replayed by ``responses``
  from the project's own wire-format fixtures (tests/fixtures/akshare/events); the expected CSVs were written
  by hand from the payloads (percent / 100, price / 1000), not produced by the code under test;
* ``akshare-over-simulated``: AkshareProvider over akshare's shapes answered from the simulated market
  (``SimulatedAkshare``): the transform and its inverse agree;
* ``replay`` (recorded daily bars) does not serve them, and says so with a typed error.

Contract: the canonical schema exactly; every row on the session asked for (or, for the pool asked on a
non-trading date, labelled with that date, Eastmoney's quirk, which the loader puts back on its session);
canonical symbols; no rows (not an error) for a date the upstream does not have.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
import responses
from polars.testing import assert_frame_equal
from responses import matchers

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.domain.datasets import DRAGON_TIGER_LIST, LIMIT_UP, dataset
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.loader.dataset_rows import on_sessions
from quantdb_lab.providers.akshare import AkshareProvider, SimulatedAkshare
from quantdb_lab.providers.fetchers import fetcher_for
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from tests.support.sim import MARKET

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "akshare" / "events"
ZT_URL = "https://push2ex.eastmoney.com/getTopicZTPool"
DC_URL = "https://datacenter-web.eastmoney.com/api/data/v1/get"
SESSION = date(2025, 6, 6)  # a Friday
SATURDAY = date(2025, 6, 7)
DATASETS = (LIMIT_UP, DRAGON_TIGER_LIST)


def body(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def expected(name: str, schema: dict) -> pl.DataFrame:
    read = {c: pl.String() if t == pl.Time else t for c, t in schema.items()}
    frame = pl.read_csv(EVENTS / name, schema=read)
    return frame.with_columns(pl.col(c).str.to_time("%H:%M:%S") for c, t in schema.items() if t == pl.Time)


@pytest.fixture
def wire():
    with mock.patch("time.sleep"), responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(ZT_URL, json=body("em_ztpool_20250606.json"),
                   match=[matchers.query_param_matcher({"date": "20250606"}, strict_match=False)])  # fmt: skip
        mocked.get(ZT_URL, json=body("em_ztpool_20250606.json"),  # Eastmoney: Saturday -> Friday's pool
                   match=[matchers.query_param_matcher({"date": "20250607"}, strict_match=False)])  # fmt: skip
        mocked.get(ZT_URL, json=body("em_ztpool_empty.json"),
                   match=[matchers.query_param_matcher({"date": "20240105"}, strict_match=False)])  # fmt: skip
        for day, name in (("2025-06-06", "em_lhb_20250606.json"), ("2025-06-07", "em_lhb_empty.json"),
                          ("2024-01-05", "em_lhb_empty.json")):  # fmt: skip
            mocked.get(DC_URL, json=body(name), match=[matchers.query_param_matcher(
                {"filter": f"(TRADE_DATE<='{day}')(TRADE_DATE>='{day}')"}, strict_match=False)])  # fmt: skip
        yield mocked


def simulated() -> SimulatedProvider:
    clock = FixedClock(datetime(2025, 6, 9, 16, 0, tzinfo=EXCHANGE_TZ))
    return SimulatedProvider(MARKET, faults=Faults(), clock=clock)


@pytest.fixture(params=["simulated", "akshare", "akshare-over-simulated"])
def provider(request):
    if request.param == "simulated":
        yield simulated()
    elif request.param == "akshare":
        request.getfixturevalue("wire")
        yield AkshareProvider(timeout=10)
    else:  # akshare's shapes from the simulated market (SimulatedAkshare), read back by AkshareProvider
        with SimulatedAkshare(simulated()).patch():
            yield AkshareProvider(timeout=10)


def _session_of_richest_pool(provider) -> date:
    """A session whose simulated pool is not empty (the akshare fixture's is 2025-06-06)."""
    import akshare

    if isinstance(provider, AkshareProvider) and not hasattr(akshare.stock_zt_pool_em, "__self__"):
        return SESSION  # the recorded wire (SimulatedAkshare patches in bound methods)
    fetch = fetcher_for(provider, "limit_up_pool", dataset="limit_up_pool").fetch
    for day in MARKET.calendar.sessions(date(2025, 5, 20), SESSION)[::-1]:
        if fetch(None, day, day).height:
            return day
    raise AssertionError("no limit-up in three weeks of the simulated market")


@pytest.mark.parametrize("record", DATASETS, ids=lambda d: d.name)
def test_schema_dates_and_symbols(provider, record):
    day = _session_of_richest_pool(provider) if record is LIMIT_UP else SESSION
    frame = fetcher_for(provider, record.capability, dataset=record.name).fetch(None, day, day)
    assert frame.schema == pl.Schema(record.schema)
    assert frame.height > 0
    assert frame["date"].unique().to_list() == [day]
    assert all(parse_symbol(s).canonical == s for s in frame["symbol"].to_list())
    assert frame["pct_change"].abs().max() < 0.35  # fractions, not percent


def test_the_pool_asked_on_a_non_trading_date_is_the_previous_sessions_labelled_with_that_date(provider):
    fetch = fetcher_for(provider, "limit_up_pool", dataset="limit_up_pool").fetch
    friday = fetch(None, SESSION, SESSION)
    saturday = fetch(None, SATURDAY, SATURDAY)
    assert saturday["date"].unique().to_list() == ([SATURDAY] if saturday.height else [])
    assert saturday.drop("date").equals(friday.drop("date"))  # the quirk, reproduced by every provider
    relabelled = on_sessions(LIMIT_UP, saturday, MARKET.calendar)
    assert relabelled.equals(friday)  # the loader puts the rows on the session they belong to


def test_the_dragon_tiger_list_of_a_non_trading_date_is_empty(provider):
    frame = fetcher_for(provider, "dragon_tiger", dataset="dragon_tiger").fetch(None, SATURDAY, SATURDAY)
    assert frame.is_empty() and frame.schema == pl.Schema(DRAGON_TIGER_LIST.schema)


@pytest.mark.parametrize("record", DATASETS, ids=lambda d: d.name)
def test_a_date_the_upstream_no_longer_keeps_gives_no_rows(provider, record):
    old = date(2024, 1, 5)  # far older than the declared retention
    frame = fetcher_for(provider, record.capability, dataset=record.name).fetch(None, old, old)
    assert frame.is_empty() and frame.schema == pl.Schema(record.schema)


def test_the_pool_is_asked_one_date_a_call(provider):
    with pytest.raises(InvalidRequestError, match="one date per call"):
        fetcher_for(provider, "limit_up_pool", dataset="limit_up_pool").fetch(None, SESSION, SATURDAY)


def test_akshare_frames_equal_the_hand_written_expectations(wire):
    provider = AkshareProvider(timeout=10)
    pool = provider.fetch_limit_up_pool(None, SESSION, SESSION)
    assert_frame_equal(pool, expected("em_ztpool_20250606.expected.csv", LIMIT_UP.schema))
    lhb = provider.fetch_dragon_tiger(None, SESSION, SESSION)
    assert_frame_equal(lhb, expected("em_lhb_20250606.expected.csv", DRAGON_TIGER_LIST.schema), abs_tol=1e-9)


def test_host_families():
    table = AkshareProvider().fetchers()
    assert table["limit_up_pool"].host_family(None) == "eastmoney_push2ex"
    assert table["dragon_tiger"].host_family(None) == "eastmoney_datacenter"


def test_a_provider_without_them_says_so(tmp_path):
    from quantdb_lab.providers.replay import ReplayProvider

    folder = Path(__file__).resolve().parents[1] / "fixtures" / "akshare" / "replay"
    replay = ReplayProvider(folder)
    for record in DATASETS:
        with pytest.raises(InvalidRequestError, match="does not serve"):
            fetcher_for(replay, record.capability, dataset=record.name)
    assert dataset("limit_up_pool") is LIMIT_UP


def test_simulated_open_session_pool_is_read_off_the_intraday_path_and_the_list_waits_for_the_close():
    fetched = simulated()
    pool = None
    for day in MARKET.calendar.sessions(date(2025, 4, 1), SESSION)[::-1]:
        if not fetched.fetch_limit_up_pool(None, day, day).height:
            continue
        clock = FixedClock(datetime(day.year, day.month, day.day, 14, 50, tzinfo=EXCHANGE_TZ))
        live = SimulatedProvider(MARKET, faults=Faults(), clock=clock)
        pool = live.fetch_limit_up_pool(None, day, day)
        if pool.height:
            break
    assert pool is not None and pool.height, "no session of two months is at its limit at 14:50"
    assert pool.schema == pl.Schema(LIMIT_UP.schema) and pool["date"].unique().to_list() == [day]
    for symbol, close in zip(pool["symbol"], pool["close"], strict=True):  # the provisional close at 14:50
        assert float(MARKET.bars(symbol, day, day, now=clock.now())["close"][0]) == close
    assert live.fetch_dragon_tiger(None, day, day).is_empty()  # published after the close


def test_akshare_over_the_simulated_upstream_gives_back_the_simulated_frames():
    source = simulated()
    with SimulatedAkshare(source).patch():
        provider = AkshareProvider(timeout=10)
        lhb = provider.fetch_dragon_tiger(None, date(2025, 6, 2), SESSION)
        days = [d for d in MARKET.calendar.sessions(date(2025, 5, 12), SESSION)]
        pools = [(provider.fetch_limit_up_pool(None, d, d), source.fetch_limit_up_pool(None, d, d)) for d in days]
    assert_frame_equal(lhb, source.fetch_dragon_tiger(None, date(2025, 6, 2), SESSION).sort(["date", "symbol"],
                       maintain_order=True), check_exact=False, rel_tol=1e-12)  # fmt: skip
    assert sum(theirs.height for _, theirs in pools) > 0
    for ours, theirs in pools:
        assert_frame_equal(ours, theirs.sort("symbol"), check_exact=False, rel_tol=1e-12)
