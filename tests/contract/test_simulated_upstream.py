"""SimulatedAkshare: akshare's shapes from a canonical source, and a lossless round trip through AkshareProvider.

The source is a tiny fake Provider defined here (its bars are the fixture). The round trip
``source -> SimulatedAkshare (inverse transform) -> akshare.<function> -> AkshareProvider (transform)`` must give
back the source's frames, which shows the transform and its inverse agree.
"""

from __future__ import annotations

import math
import threading
from datetime import date, datetime

import akshare
import numpy as np
import pandas as pd
import polars as pl
import pytest
import requests
from polars.testing import assert_frame_equal

from quantdb_lab.domain.actions import ACTIONS
from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.domain.schema import BARS, SECURITIES
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import ProviderUnavailableError
from quantdb_lab.providers.akshare import AkshareProvider, SimulatedAkshare

SESSIONS = [date(2024, 1, d) for d in (2, 3, 4, 5, 8, 9, 10, 11, 12)]  # two weeks: Tue-Fri, Mon-Fri
CLOSES = {
    "600000.SH": [10.00, 10.20, 10.10, 10.30, 10.25, 10.40, 10.35, 10.50, 10.60],
    "000001.SZ": [9.50, 9.60, 9.55, 9.70, 9.65, 9.80, 9.75, 9.90, 10.00],
    "688981.SH": [50.0, 51.0, 50.5, 52.0, 51.5, 53.0, 52.5, 54.0, 55.0],
    "830799.BJ": [20.0, 20.5, 20.2, 20.8, 20.6, 21.0, 20.9, 21.2, 21.5],
    "510300.SH": [3.401, 3.412, 3.405, 3.420, 3.415, 3.430, 3.425, 3.440, 3.450],
    "000300.SH": [3400.0, 3420.0, 3410.0, 3430.0, 3425.0, 3440.0, 3435.0, 3450.0, 3460.0],
    "00700.HK": [290.0, 292.0, 291.0, 295.0, 294.0, 297.0, 296.0, 299.0, 301.0],
}
EX_DATE = date(2024, 1, 8)  # hfq factor 1.0 before, 1.1 from here on
SECURITIES_ROWS = [
    ("600000.SH", "浦发银行", "银行", "main", date(1999, 11, 10)),
    ("000001.SZ", "平安银行", "银行", "main", date(1991, 4, 3)),
    ("688981.SH", "中芯国际", "半导体", "star", date(2020, 7, 16)),
    ("830799.BJ", "艾融软件", "软件开发", "beijing", None),
    ("510300.SH", "沪深300ETF", None, "etf", date(2012, 5, 28)),
    ("00700.HK", "腾讯控股", None, "hk", date(2004, 6, 16)),
]


def source_bars(canonical: str, adjust: str = "") -> pl.DataFrame:
    """The fixture: open = previous close, high/low 0.05 outside, volume in whole lots, fractions as upstream."""
    closes = CLOSES[canonical]
    previous = [closes[0] - 0.10, *closes[:-1]]
    index = canonical == "000300.SH"
    rows = []
    for i, (day, close, prev) in enumerate(zip(SESSIONS, closes, previous, strict=True)):
        factor = 1.1 if adjust == "hfq" and day >= EX_DATE else 1.0
        volume = 100.0 * (1000 + 10 * i)
        rows.append({
            "symbol": canonical, "date": day,
            "open": prev * factor, "high": (max(prev, close) + 0.05) * factor,
            "low": (min(prev, close) - 0.05) * factor, "close": close * factor,
            "volume": volume, "amount": volume * close,
            "turnover": None if index else 0.01 + 0.001 * i,
            "pct_change": None if index else (close - prev) / prev,
            "change": None if index else (close - prev) * factor,
        })  # fmt: skip
    return pl.DataFrame(rows, schema=BARS)


class FakeSource:
    name = "fake"
    synthetic = True

    def __init__(self) -> None:
        self.down = False

    def fetch_daily_bars(self, symbol: Symbol, start: date, end: date, *, adjust: str = "") -> pl.DataFrame:
        if self.down:
            raise ProviderUnavailableError("fake outage", symbol=symbol.canonical)
        if symbol.canonical not in CLOSES:
            return pl.DataFrame(schema=BARS)
        return source_bars(symbol.canonical, adjust).filter(pl.col("date").is_between(start, end))

    def fetch_trade_dates(self) -> list[date]:
        return list(SESSIONS)

    def fetch_securities(self) -> pl.DataFrame:
        return pl.DataFrame(SECURITIES_ROWS, schema=SECURITIES, orient="row")

    def host_family(self, symbol: Symbol) -> str:
        return "fake"


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


@pytest.fixture
def sim(source):
    upstream = SimulatedAkshare(source)
    with upstream.patch():
        yield upstream


FIRST, LAST = SESSIONS[0], SESSIONS[-1]


# -- round trip ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["600000.SH", "000001.SZ", "688981.SH", "830799.BJ", "510300.SH", "00700.HK"])
@pytest.mark.parametrize("adjust", ["", "hfq"])
def test_round_trip_is_the_identity(sim, text, adjust):
    out = AkshareProvider().fetch_daily_bars(parse_symbol(text), FIRST, LAST, adjust=adjust)
    assert_frame_equal(out, source_bars(text, adjust))


def test_round_trip_index_keeps_what_the_endpoint_carries(sim):
    out = AkshareProvider().fetch_daily_bars(parse_symbol("sh000300"), FIRST, LAST)
    assert_frame_equal(out, source_bars("000300.SH"))


def test_round_trip_sub_range(sim):
    out = AkshareProvider().fetch_daily_bars(parse_symbol("600000"), date(2024, 1, 4), date(2024, 1, 9))
    assert out["date"].to_list() == SESSIONS[2:6]


def test_trade_dates_and_securities_round_trip(sim):
    provider = AkshareProvider()
    assert provider.fetch_trade_dates() == SESSIONS
    expected = pl.DataFrame(
        [
            ("000001.SZ", "平安银行", "银行", "main", None),
            ("600000.SH", "浦发银行", "银行", "main", None),
            ("688981.SH", "中芯国际", "半导体", "star", None),
            ("830799.BJ", "艾融软件", "软件开发", "beijing", None),
        ],
        schema=SECURITIES,
        orient="row",
    )
    assert_frame_equal(provider.fetch_securities(), expected)


# -- akshare shapes -----------------------------------------------------------------------------------

KLINE = ["开盘", "收盘", "最高", "最低", "成交量", "成交额", "振幅", "涨跌幅", "涨跌额", "换手率"]


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


def test_stock_zh_a_hist_shape_and_units(sim):
    df = akshare.stock_zh_a_hist(symbol="600000", period="daily", start_date="20240102", end_date="20240103")
    assert list(df.columns) == ["日期", "股票代码", *KLINE]
    types = dtypes(df)
    assert types["日期"] == "object" and isinstance(df["日期"][0], date)
    assert types["股票代码"] in ("str", "object") and df["股票代码"].tolist() == ["600000", "600000"]
    assert types["成交量"] == "int64"
    assert all(types[c] == "float64" for c in KLINE if c != "成交量")
    assert df["成交量"].tolist() == [1000, 1010]  # lots
    assert df["涨跌幅"].tolist() == pytest.approx([1.0101010, 2.0])  # percent: 0.10 / 9.90, 0.20 / 10.00
    assert df["换手率"].tolist() == pytest.approx([1.0, 1.1])
    assert df["振幅"].tolist() == pytest.approx([(10.05 - 9.85) / 9.90 * 100, (10.25 - 9.95) / 10.00 * 100])


def test_other_functions_shapes(sim):
    etf = akshare.fund_etf_hist_em(symbol="510300", start_date="20240102", end_date="20240103")
    assert list(etf.columns) == ["日期", *KLINE] and etf["日期"].tolist() == ["2024-01-02", "2024-01-03"]
    index = akshare.stock_zh_index_daily_em(symbol="sh000300", start_date="20240102", end_date="20240103")
    assert list(index.columns) == ["date", "open", "close", "high", "low", "volume", "amount"]
    assert index["date"].tolist() == ["2024-01-02", "2024-01-03"] and str(index["volume"].dtype) == "int64"
    hk = akshare.stock_hk_hist(symbol="00700", start_date="20240102", end_date="20240103")
    assert list(hk.columns) == ["日期", *KLINE] and hk["成交量"].tolist() == [100000, 101000]  # shares
    calendar = akshare.tool_trade_date_hist_sina()
    assert list(calendar.columns) == ["trade_date"] and calendar["trade_date"].tolist() == SESSIONS
    names = akshare.stock_info_a_code_name()
    assert names["code"].tolist() == ["000001", "600000", "688981", "830799"]  # SZ, SH main, STAR, BJ
    info = akshare.stock_individual_info_em(symbol="600000")
    assert info["item"].tolist() == [
        "最新",
        "股票代码",
        "股票简称",
        "总股本",
        "流通股",
        "总市值",
        "流通市值",
        "行业",
        "上市时间",
    ]
    values = dict(zip(info["item"], info["value"], strict=True))
    assert values["最新"] == pytest.approx(10.60)
    assert values["流通股"] == pytest.approx(108000 / 0.018)  # volume / turnover of the last bar
    assert (values["股票简称"], values["行业"], values["上市时间"]) == ("浦发银行", "银行", 19991110)
    boards = akshare.stock_board_industry_name_em()
    assert boards["板块名称"].tolist() == sorted(["银行", "半导体", "软件开发"])
    members = akshare.stock_board_industry_cons_em(symbol="银行")
    assert members["代码"].tolist() == ["000001", "600000"]


def test_weekly_and_monthly_bars(sim):
    weekly = akshare.stock_zh_a_hist(symbol="600000", period="weekly", start_date="20240102", end_date="20240112")
    assert weekly["日期"].tolist() == [date(2024, 1, 5), date(2024, 1, 12)]
    assert weekly["开盘"].tolist() == pytest.approx([9.90, 10.30])
    assert weekly["收盘"].tolist() == pytest.approx([10.30, 10.60])
    assert weekly["最高"].tolist() == pytest.approx([10.35, 10.65])
    assert weekly["最低"].tolist() == pytest.approx([9.85, 10.20])
    assert weekly["成交量"].tolist() == [1000 + 1010 + 1020 + 1030, 1040 + 1050 + 1060 + 1070 + 1080]
    assert weekly["涨跌额"].tolist() == pytest.approx([0.40, 0.30])
    assert weekly["涨跌幅"].tolist() == pytest.approx([0.40 / 9.90 * 100, 0.30 / 10.30 * 100])
    monthly = akshare.stock_zh_a_hist(
        symbol="600000", period="monthly", start_date="20240102", end_date="20240112"
    )
    assert monthly["日期"].tolist() == [date(2024, 1, 12)] and monthly["涨跌额"].tolist() == pytest.approx([0.70])


class FakeSourceWithTable(FakeSource):
    """The fixture plus a dividend table: 600000.SH pays 0.50 cash and 1 bonus share per 10 on EX_DATE."""

    def fetch_corporate_actions(self, symbol: Symbol) -> pl.DataFrame:
        rows = [(symbol.canonical, date(2023, 12, 1), date(2024, 1, 5), EX_DATE, 0.5, 0.1, 0.0, 0.0, None, "fake")]
        return pl.DataFrame(rows if symbol.canonical == "600000.SH" else [], schema=ACTIONS, orient="row")


def test_qfq_and_hfq_are_eastmoneys_affine_maps_of_the_table():
    with SimulatedAkshare(FakeSourceWithTable()).patch():
        qfq = akshare.stock_zh_a_hist(symbol="600000", start_date="20240102", end_date="20240112", adjust="qfq")
        hfq = akshare.stock_zh_a_hist(symbol="600000", start_date="20240102", end_date="20240112", adjust="hfq")
        tables = akshare.stock_fhps_detail_em(symbol="600000")
    closes = CLOSES["600000.SH"]
    # before the ex-date (p - 0.50) / 1.1, rounded to the cent; after it p x 1.1 + 0.50 for hfq: affine, not x 1/1.1
    assert qfq["收盘"].tolist() == pytest.approx([math.floor(round((c - 0.5) / 1.1 * 100, 6) + 0.5) / 100 if d < EX_DATE else c
                                                 for d, c in zip(SESSIONS, closes, strict=True)])  # fmt: skip
    assert hfq["收盘"].tolist() == pytest.approx([c if d < EX_DATE else math.floor(round((c * 1.1 + 0.5) * 100, 6) + 0.5) / 100
                                                 for d, c in zip(SESSIONS, closes, strict=True)])  # fmt: skip
    # changes are close to close within the adjusted series
    assert qfq["涨跌额"].tolist()[1:] == pytest.approx(np.diff(qfq["收盘"].to_numpy()), abs=1e-9)
    assert tables["现金分红-现金分红比例"].tolist() == [5.0] and tables["送转股份-送转总比例"].tolist() == [1.0]


# -- failures look like akshare's ---------------------------------------------------------------------


def test_unknown_symbols_fail_like_akshare(sim):
    assert akshare.stock_zh_a_hist(symbol="601999").empty and len(akshare.stock_zh_a_hist("601999").columns) == 0
    assert akshare.fund_etf_hist_em(symbol="159999").empty
    assert akshare.stock_zh_index_daily_em(symbol="xx000300").empty  # unknown prefix
    with pytest.raises(TypeError, match="NoneType"):
        akshare.stock_hk_hist(symbol="09999")
    with pytest.raises(ValueError, match="all scalar values"):
        akshare.stock_individual_info_em(symbol="601999")
    with pytest.raises(IndexError):
        akshare.stock_board_industry_cons_em(symbol="不存在")
    with pytest.raises(KeyError):
        akshare.stock_zh_a_hist(symbol="600000", period="hourly")
    out = AkshareProvider().fetch_daily_bars(parse_symbol("09999.HK"), FIRST, LAST)
    assert out.is_empty() and out.schema == pl.Schema(BARS)


def test_source_outage_looks_like_a_dropped_connection(sim, source):
    source.down = True
    with pytest.raises(requests.exceptions.ConnectionError):
        akshare.stock_zh_a_hist(symbol="600000")
    with pytest.raises(ProviderUnavailableError) as info:
        AkshareProvider().fetch_daily_bars(parse_symbol("600000"), FIRST, LAST)
    assert info.value.retryable is True


# -- instrumentation ----------------------------------------------------------------------------------


def test_latency_uses_the_clock_and_calls_are_counted_across_threads(source):
    clock = FixedClock(datetime(2024, 1, 15, 10, 0))
    upstream = SimulatedAkshare(source, latency=0.25, clock=clock)
    original = akshare.stock_zh_a_hist
    with upstream.patch():
        assert akshare.stock_zh_a_hist is not original
        threads = [
            threading.Thread(target=akshare.stock_zh_a_hist, kwargs={"symbol": "600000"}) for _ in range(20)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        akshare.tool_trade_date_hist_sina()
    assert akshare.stock_zh_a_hist is original
    assert upstream.call_counts == {"stock_zh_a_hist": 20, "tool_trade_date_hist_sina": 1}
    assert clock.monotonic() == pytest.approx(21 * 0.25)
    upstream.reset_counts()
    assert upstream.call_counts == {}


def test_requests_are_clamped_to_the_clocks_today(source):
    upstream = SimulatedAkshare(source, clock=FixedClock(datetime(2024, 1, 9, 16, 0)))
    df = upstream.stock_zh_a_hist(symbol="600000", start_date="20240101", end_date="20500101")
    assert df["日期"].tolist() == SESSIONS[:6]
    assert np.isclose(df["收盘"].iloc[-1], 10.40)
