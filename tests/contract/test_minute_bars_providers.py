"""The minute-bar contract, for every provider (issue 19 item 5): the simulated market, akshare over the simulated
akshare functions, akshare over Eastmoney's recorded wire format (``responses``, our own fixtures), and the
replay provider (which has no minute bars and says so).

A provider's ``minute_bars`` fetcher answers ``MINUTE_BARS`` exactly: bars labelled by end time on the session's
grid (09:30 auction bar for 1-minute, nothing over lunch), sorted, unique, within the asked days, never an
``open == 0.0``; opens the upstream did not send are flagged ``open_estimated``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
import responses
from polars.testing import assert_frame_equal
from responses import matchers

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.domain.schema import MINUTE_BARS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.providers.akshare import AkshareProvider, SimulatedAkshare
from quantdb_lab.providers.fetchers import fetchers_of
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from tests.support.sim import MARKET

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare"
TRENDS_URL = "https://push2his.eastmoney.com/api/qt/stock/trends2/get"
KLINE_URL = "https://push2his.eastmoney.com/api/qt/stock/kline/get"
NOW = datetime(2025, 6, 6, 16, 0, tzinfo=EXCHANGE_TZ)
SYMBOLS = ("600519.SH", "000001.SZ", "000300.SH", "399006.SZ", "510300.SH", "159915.SZ")


def simulated():
    return SimulatedProvider(MARKET, faults=Faults(), clock=FixedClock(NOW))


@pytest.fixture(params=["simulated", "akshare-over-simulated-functions"])
def provider(request):
    if request.param == "simulated":
        yield simulated()
        return
    upstream = SimulatedAkshare(simulated(), clock=FixedClock(NOW))
    with upstream.patch():
        yield AkshareProvider(timeout=10)


def on_the_grid(frame: pl.DataFrame, minutes: int) -> None:
    assert frame.schema == pl.Schema(MINUTE_BARS)
    assert frame["time"].is_sorted() and frame["time"].n_unique() == frame.height
    clock = frame["time"].dt.hour().cast(pl.Int32) * 60 + frame["time"].dt.minute().cast(pl.Int32)
    trading = pl.Series([c - 570 if c <= 780 else c - 780 + 120 for c in clock.to_list()])
    assert ((trading % minutes == 0) & (trading >= (0 if minutes == 1 else minutes)) & (trading <= 240)).all()
    assert frame.filter(pl.col("time").dt.time().is_between(time(11, 31), time(13, 0))).is_empty()
    assert frame.filter((pl.col("open") <= 0) | (pl.col("open") < pl.col("low")) | (pl.col("open") > pl.col("high"))).is_empty()
    assert frame["open_estimated"].null_count() == 0 and (frame["volume"] >= 0).all()


@pytest.mark.parametrize("symbol", SYMBOLS)
@pytest.mark.parametrize("period", ["1", "5", "15", "30", "60"])
def test_every_provider_serves_minute_bars_on_the_grid(provider, symbol, period):
    fetch = fetchers_of(provider)["minute_bars"].fetch
    frame = fetch(parse_symbol(symbol), date(2025, 6, 4), date(2025, 6, 6), period=period)
    on_the_grid(frame, int(period))
    assert sorted(set(frame["time"].dt.date())) == [date(2025, 6, 4), date(2025, 6, 5), date(2025, 6, 6)]
    per_day = frame.group_by(pl.col("time").dt.date()).len()["len"]
    full = 240 // int(period) + (1 if period == "1" else 0)  # the 09:30 auction bar
    # 2025: both exchanges close with a call auction, so a 1-minute session has no 14:59 bar
    assert (per_day == full - (1 if period == "1" else 0)).all()


def test_the_two_akshare_paths_agree_with_the_simulated_market(provider):
    fetch = fetchers_of(provider)["minute_bars"].fetch
    got = fetch(parse_symbol("600519"), date(2025, 6, 5), date(2025, 6, 6), period="1")
    expected = simulated().fetch_minute_bars(parse_symbol("600519"), date(2025, 6, 5), date(2025, 6, 6), period="1")
    assert_frame_equal(got, expected, check_exact=False, abs_tol=0.01)  # the wire rounds 均价, not prices


def test_only_the_upstreams_window_is_served(provider):
    fetch = fetchers_of(provider)["minute_bars"].fetch
    old = fetch(parse_symbol("600519"), date(2025, 5, 5), date(2025, 5, 30), period="1")
    assert sorted(set(old["time"].dt.date())) == [] or min(old["time"].dt.date()) >= date(2025, 5, 29)


def test_the_replay_provider_has_no_minute_bars(tmp_path):
    from quantdb_lab.providers.replay import ReplayProvider

    (tmp_path / "stock_data").mkdir()
    assert "minute_bars" not in fetchers_of(ReplayProvider(tmp_path))


# -- akshare over Eastmoney's wire format (hand-written payloads in tests/fixtures/akshare) -------------------------


@pytest.fixture
def rsps():
    with mock.patch("time.sleep"), responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        yield mocked


def wire(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EXCHANGE_TZ)


def test_one_minute_bars_from_trends2(rsps):
    rsps.get(TRENDS_URL, json=wire("trends2_stock_600519_1min.json"),
             match=[matchers.query_param_matcher({"secid": "1.600519", "ndays": "5", "iscr": "0"}, strict_match=False)])
    out = AkshareProvider(timeout=10).fetch_minute_bars(parse_symbol("600519"), date(2026, 3, 23), date(2026, 3, 24))
    # by hand from the payload: lots x 100; open 0.00 -> the previous close clipped into [low, high], flagged
    # unless high == low (an auction print); the session's first bar takes its own close
    expected = pl.DataFrame({
        "symbol": ["600519.SH"] * 10,
        "time": [at("2026-03-23 09:30"), at("2026-03-23 09:31"), at("2026-03-23 09:32"), at("2026-03-23 11:30"),
                 at("2026-03-23 13:01"), at("2026-03-23 14:57"), at("2026-03-23 14:58"), at("2026-03-23 14:59"),
                 at("2026-03-23 15:00"), at("2026-03-24 09:30")],
        "open": [101.0, 101.0, 101.5, 102.8, 103.0, 103.1, 103.3, 103.3, 103.5, 103.8],
        "high": [101.0, 102.5, 101.8, 103.2, 103.1, 103.4, 103.3, 103.3, 103.5, 103.8],
        "low": [101.0, 99.5, 101.0, 102.8, 102.7, 103.1, 103.3, 103.3, 103.5, 103.8],
        "close": [101.0, 102.0, 101.2, 103.0, 102.9, 103.3, 103.3, 103.3, 103.5, 103.8],
        "volume": [20000.0, 30000.0, 10000.0, 5000.0, 4000.0, 6000.0, 0.0, 0.0, 8000.0, 9000.0],
        "amount": [2020000.0, 3045000.0, 1013000.0, 515000.0, 411600.0, 619800.0, 0.0, 0.0, 828000.0, 934200.0],
        "open_estimated": [False, True, False, True, True, True, False, False, False, False],
    }, schema=MINUTE_BARS)  # fmt: skip
    assert_frame_equal(out, expected)


def test_five_minute_bars_from_the_kline(rsps):
    rsps.get(KLINE_URL, json=wire("kline_stock_600519_5min.json"),
             match=[matchers.query_param_matcher({"secid": "1.600519", "klt": "5", "fqt": "0"}, strict_match=False)])
    out = AkshareProvider(timeout=10).fetch_minute_bars(parse_symbol("600519"), date(2026, 3, 23), date(2026, 3, 23),
                                                        period="5")  # fmt: skip
    assert out["time"].to_list() == [at("2026-03-23 09:35"), at("2026-03-23 11:30"), at("2026-03-23 13:05"),
                                     at("2026-03-23 15:00")]  # fmt: skip
    assert out["volume"].to_list() == [60000.0, 5000.0, 4000.0, 14000.0] and not out["open_estimated"].any()
    assert out["open"].to_list() == [101.0, 102.9, 103.0, 103.2]


def test_an_unknown_symbol_is_no_bars(rsps):
    rsps.get(TRENDS_URL, json=wire("kline_data_null.json"))
    out = AkshareProvider(timeout=10).fetch_minute_bars(parse_symbol("609999"), date(2026, 3, 23), date(2026, 3, 24))
    assert out.is_empty() and out.schema == pl.Schema(MINUTE_BARS)


def test_bad_periods_and_symbols_are_typed_errors():
    with pytest.raises(InvalidRequestError, match="period"):
        AkshareProvider().fetch_minute_bars(parse_symbol("600519"), date(2026, 3, 23), date(2026, 3, 24), period="2")
    with pytest.raises(InvalidRequestError):
        AkshareProvider().fetch_minute_bars(parse_symbol("00700.HK"), date(2026, 3, 23), date(2026, 3, 24))
