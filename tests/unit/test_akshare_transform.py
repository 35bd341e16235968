"""The akshare transform: mapping, units, dtypes, drift, schema errors, and the error translation table.

Raw frames are built here the way akshare 1.19.5 builds them (column names, order and dtypes from the upstream
notes); expected values are written out by hand.
"""

from __future__ import annotations

import functools
import json
import time
import warnings
from datetime import date
from http.client import RemoteDisconnected

import akshare
import numpy as np
import pandas as pd
import polars as pl
import pytest
import requests

from quantdb_lab.domain.schema import BARS, SECURITIES
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import (
    EmptyResultError,
    InvalidDateRangeError,
    InvalidRequestError,
    ProviderSchemaError,
    ProviderUnavailableError,
    SchemaDriftWarning,
)
from quantdb_lab.providers.akshare import AkshareProvider
from quantdb_lab.providers.akshare.columns import (
    FUND_ETF_HIST_EM,
    STOCK_HK_HIST,
    STOCK_ZH_A_HIST,
    STOCK_ZH_INDEX_DAILY_EM,
)
from quantdb_lab.providers.akshare.extract import classify
from quantdb_lab.providers.akshare.query import build_bars_query
from quantdb_lab.providers.akshare.transform import (
    build_securities,
    transform_bars,
    transform_code_names,
    transform_trade_dates,
)
from quantdb_lab.providers.base import Provider

D1, D2 = date(2024, 1, 2), date(2024, 1, 3)
KLINE_NUMERIC = ["开盘", "收盘", "最高", "最低", "成交量", "成交额", "振幅", "涨跌幅", "涨跌额", "换手率"]


def a_share_raw(**overrides) -> pd.DataFrame:
    """What stock_zh_a_hist returns: 日期 date objects, 股票代码 str, 成交量 int64 lots, percent columns."""
    data = {
        "日期": pd.array([D1, D2], dtype=object),
        "股票代码": ["600000", "600000"],
        "开盘": [6.62, 6.60],
        "收盘": [6.60, 6.58],
        "最高": [6.66, 6.63],
        "最低": [6.57, 6.55],
        "成交量": np.array([301255, 265110], dtype=np.int64),
        "成交额": [199204868.75, 174707490.0],
        "振幅": [1.36, 1.21],
        "涨跌幅": [-0.15, -0.30],
        "涨跌额": [-0.01, -0.02],
        "换手率": [0.10, 0.09],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def kline_raw(dates, **overrides) -> pd.DataFrame:
    """fund_etf_hist_em / stock_hk_hist: no 股票代码."""
    frame = a_share_raw(**overrides).drop(columns=["股票代码"])
    frame["日期"] = dates
    return frame


SH600000 = parse_symbol("600000")


# -- mapping, units, dtypes ---------------------------------------------------------------------------


def test_a_share_columns_units_and_dtypes():
    out = transform_bars(a_share_raw(), STOCK_ZH_A_HIST, SH600000)
    assert out.schema == pl.Schema(BARS)
    assert out["symbol"].to_list() == ["600000.SH", "600000.SH"]
    assert out["date"].to_list() == [D1, D2]
    assert out["open"].to_list() == [6.62, 6.60]
    assert out["high"].to_list() == [6.66, 6.63]
    assert out["low"].to_list() == [6.57, 6.55]
    assert out["close"].to_list() == [6.60, 6.58]
    assert out["volume"].to_list() == [30125500.0, 26511000.0]  # lots x 100
    assert out["amount"].to_list() == [199204868.75, 174707490.0]
    assert out["pct_change"].to_list() == pytest.approx([-0.0015, -0.0030])  # percent -> fraction
    assert out["turnover"].to_list() == pytest.approx([0.0010, 0.0009])
    assert out["change"].to_list() == [-0.01, -0.02]


def test_etf_string_dates_and_lots():
    raw = kline_raw(["2024-01-02", "2024-01-03"])
    out = transform_bars(raw, FUND_ETF_HIST_EM, parse_symbol("510300"))
    assert out["date"].to_list() == [D1, D2]
    assert out["volume"].to_list() == [30125500.0, 26511000.0]
    assert out["symbol"].unique().to_list() == ["510300.SH"]


def test_hk_volume_is_already_shares():
    out = transform_bars(kline_raw(pd.array([D1, D2], dtype=object)), STOCK_HK_HIST, parse_symbol("00700"))
    assert out["volume"].to_list() == [301255.0, 265110.0]
    assert out["symbol"].unique().to_list() == ["00700.HK"]


def test_index_english_columns_missing_fields_are_null():
    raw = pd.DataFrame(
        {
            "date": ["2024-01-02", "2024-01-03"],
            "open": [3426.25, 3380.13],
            "close": [3386.35, 3378.44],
            "high": [3426.25, 3387.10],
            "low": [3386.35, 3363.60],
            "volume": np.array([107830050, 101201231], dtype=np.int64),
            "amount": [3.67e11, 3.41e11],
        }
    )
    out = transform_bars(raw, STOCK_ZH_INDEX_DAILY_EM, parse_symbol("sh000300"))
    assert out["symbol"].unique().to_list() == ["000300.SH"]
    assert out["close"].to_list() == [3386.35, 3378.44]
    assert out["volume"].to_list() == [10783005000.0, 10120123100.0]
    for column in ("turnover", "pct_change", "change"):
        assert out[column].null_count() == 2


def test_missing_volume_stays_null_and_rows_are_sorted_and_filtered():
    raw = a_share_raw(成交量=[np.nan, 265110.0])  # one "-" turns akshare's int column into float64 with NaN
    raw = raw.iloc[::-1].reset_index(drop=True)
    out = transform_bars(raw, STOCK_ZH_A_HIST, SH600000)
    assert out["date"].to_list() == [D1, D2]
    assert out["volume"].to_list() == [None, 26511000.0]
    assert transform_bars(raw, STOCK_ZH_A_HIST, SH600000, start=D2, end=D2)["date"].to_list() == [D2]


def test_raw_frame_is_not_mutated():
    raw = a_share_raw()
    before = raw.copy()
    transform_bars(raw, STOCK_ZH_A_HIST, SH600000)
    pd.testing.assert_frame_equal(raw, before)


def test_polars_raw_frame_from_a_recorded_csv():
    raw = pl.DataFrame({"日期": ["2024-01-02"], "股票代码": ["600000"], **{c: [1.0] for c in KLINE_NUMERIC}})
    out = transform_bars(raw, STOCK_ZH_A_HIST, SH600000)
    assert out.row(0) == ("600000.SH", D1, 1.0, 1.0, 1.0, 1.0, 100.0, 1.0, 0.01, 0.01, 1.0)


# -- empty, drift, schema errors ----------------------------------------------------------------------


def test_frame_without_columns_is_an_empty_canonical_frame():
    out = transform_bars(pd.DataFrame(), STOCK_ZH_A_HIST, SH600000)
    assert out.is_empty()
    assert out.schema == pl.Schema(BARS)


def test_extra_column_warns_and_is_dropped():
    raw = a_share_raw(新字段=[1, 2])
    with pytest.warns(SchemaDriftWarning, match="新字段"):
        out = transform_bars(raw, STOCK_ZH_A_HIST, SH600000)
    assert out.columns == list(BARS)


def test_known_ignored_columns_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transform_bars(a_share_raw(), STOCK_ZH_A_HIST, SH600000)


def test_missing_column_raises_schema_error_with_received_columns():
    raw = a_share_raw().drop(columns=["换手率"])
    with pytest.raises(ProviderSchemaError) as info:
        transform_bars(raw, STOCK_ZH_A_HIST, SH600000, start=D1, end=D2)
    error = info.value
    assert "换手率" in error.reason and "stock_zh_a_hist" in error.reason
    assert "收盘" in error.columns and "换手率" not in error.columns
    assert (error.symbol, error.dataset, error.start, error.end) == ("600000.SH", "daily_bars", D1, D2)


def test_unreadable_dates_are_a_schema_error():
    raw = a_share_raw(日期=["not a date", "2024-01-03"])
    with pytest.raises(ProviderSchemaError, match="unreadable dates"):
        transform_bars(raw, STOCK_ZH_A_HIST, SH600000)


# -- calendar and securities --------------------------------------------------------------------------


def test_trade_dates_are_sorted_unique_dates():
    raw = pd.DataFrame({"trade_date": pd.array([D2, D1, D2], dtype=object)})
    assert transform_trade_dates(raw, context={}) == [D1, D2]


def test_securities_from_code_names_and_industries():
    raw = pd.DataFrame(
        {
            "code": ["000002", "600000", "688981", "830799", "999"],
            "name": ["万  科Ａ", "浦发银行", "中芯国际", "艾融软件", "x"],
        }
    )
    codes = transform_code_names(raw, context={})
    assert codes["code"].to_list()[-1] == "000999"  # leading zeros restored
    out = build_securities(codes, industry_by_code={"600000": "银行"})
    assert out.schema == pl.Schema(SECURITIES)
    rows = {r["symbol"]: r for r in out.iter_rows(named=True)}
    assert rows["000002.SZ"]["name"] == "万科A"
    assert rows["600000.SH"]["industry"] == "银行"
    assert rows["688981.SH"]["board"] == "star"
    assert rows["830799.BJ"]["board"] == "beijing"
    assert rows["600000.SH"]["list_date"] is None


# -- query -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "function", "symbol_arg"),
    [
        ("600519.SH", "stock_zh_a_hist", "600519"),
        ("830799.BJ", "stock_zh_a_hist", "830799"),
        ("159915.SZ", "fund_etf_hist_em", "159915"),
        ("000300.SH", "stock_zh_index_daily_em", "sh000300"),
        ("399001.SZ", "stock_zh_index_daily_em", "sz399001"),
        ("csi931151", "stock_zh_index_daily_em", "csi931151"),
        ("00700.HK", "stock_hk_hist", "00700"),
    ],
)
def test_query_symbol_forms_and_dates(text, function, symbol_arg):
    query = build_bars_query(parse_symbol(text), date(2024, 1, 2), date(2024, 2, 9), adjust="hfq")
    assert query.endpoint.function == function
    assert query.kwargs["symbol"] == symbol_arg
    assert (query.kwargs["start_date"], query.kwargs["end_date"]) == ("20240102", "20240209")
    assert (
        "adjust" not in query.kwargs if function == "stock_zh_index_daily_em" else query.kwargs["adjust"] == "hfq"
    )


def test_query_rejects_bad_adjust_and_reversed_range():
    with pytest.raises(InvalidRequestError):
        build_bars_query(SH600000, D1, D2, adjust="bfq")
    with pytest.raises(InvalidDateRangeError):
        build_bars_query(SH600000, D2, D1)


def test_provider_protocol_and_host_families():
    provider = AkshareProvider()
    assert isinstance(provider, Provider)
    assert (provider.name, provider.synthetic) == ("akshare", False)
    for text in ("600519", "510300", "sh000300", "00700"):
        assert provider.host_family(parse_symbol(text)) == "eastmoney_push2his"


# -- error translation table --------------------------------------------------------------------------


def _json_error() -> Exception:
    try:
        requests.Response().json()  # empty body, as an HTML/403 page gives
    except requests.exceptions.JSONDecodeError as exc:
        return exc
    raise AssertionError("unreachable")


TRANSLATION = [
    (TypeError("'NoneType' object is not subscriptable"), "empty"),
    (IndexError("index 0 is out of bounds for axis 0 with size 0"), "empty"),
    (ValueError("If using all scalar values, you must pass an index"), "empty"),
    (requests.exceptions.ConnectionError(("Connection aborted.", RemoteDisconnected("closed"))), "unavailable"),
    (requests.exceptions.Timeout("read timed out"), "unavailable"),
    (requests.exceptions.ProxyError("proxy"), "unavailable"),
    (_json_error(), "unavailable"),
    (json.JSONDecodeError("Expecting value", "<html>", 0), "unavailable"),
    (RemoteDisconnected("Remote end closed connection without response"), "unavailable"),
    (ValueError("Length mismatch: Expected axis has 13 elements, new values have 12 elements"), "schema"),
    (KeyError("klines"), "schema"),
    (ZeroDivisionError("boom"), None),
    (TypeError("unsupported operand"), None),
]


@pytest.mark.parametrize(
    ("exc", "outcome"), TRANSLATION, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v)
)
def test_classify(exc, outcome):
    assert classify(exc) == outcome


@pytest.mark.parametrize(
    ("exc", "outcome"), TRANSLATION, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v)
)
def test_provider_translates_once_with_context(monkeypatch, exc, outcome):
    def raiser(**kwargs):
        raise exc

    monkeypatch.setattr(akshare, "stock_zh_a_hist", raiser)
    provider = AkshareProvider(timeout=5)
    if outcome == "empty":
        out = provider.fetch_daily_bars(SH600000, D1, D2)
        assert out.is_empty() and out.schema == pl.Schema(BARS)
        return
    expected = {
        "unavailable": ProviderUnavailableError,
        "schema": ProviderSchemaError,
        None: ProviderUnavailableError,
    }
    with pytest.raises(expected[outcome]) as info:
        provider.fetch_daily_bars(SH600000, D1, D2)
    error = info.value
    assert error.__cause__ is exc
    assert (error.symbol, error.dataset, error.start, error.end) == ("600000.SH", "daily_bars", D1, D2)
    if outcome == "unavailable":
        assert error.retryable is True
    if outcome is None:
        assert error.retryable is False


def test_timeout_is_passed_where_the_function_takes_one(monkeypatch):
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        return pd.DataFrame()

    monkeypatch.setattr(akshare, "stock_zh_a_hist", fake)
    AkshareProvider(timeout=7.5).fetch_daily_bars(SH600000, D1, D2, adjust="qfq")
    assert seen == {
        "symbol": "600000", "period": "daily", "start_date": "20240102", "end_date": "20240103",
        "adjust": "qfq", "timeout": 7.5,
    }  # fmt: skip


def test_deadline_where_the_function_takes_no_timeout(monkeypatch):
    def slow(**kwargs):
        time.sleep(2.0)
        return pd.DataFrame()

    monkeypatch.setattr(akshare, "fund_etf_hist_em", slow)
    began = time.monotonic()
    with pytest.raises(ProviderUnavailableError, match="no answer within") as info:
        AkshareProvider(timeout=0.05).fetch_daily_bars(parse_symbol("510300"), D1, D2)
    assert time.monotonic() - began < 1.0
    assert info.value.retryable is True


def test_empty_calendar_and_security_list_are_empty_result_errors(monkeypatch):
    monkeypatch.setattr(akshare, "tool_trade_date_hist_sina", lambda: pd.DataFrame())
    monkeypatch.setattr(akshare, "stock_info_a_code_name", lambda: pd.DataFrame())
    with pytest.raises(EmptyResultError):
        AkshareProvider().fetch_trade_dates()
    with pytest.raises(EmptyResultError):
        AkshareProvider(industries=False).fetch_securities()


def test_security_list_is_fetched_afresh_despite_akshares_lru_cache(monkeypatch):
    answers = iter([["600000"], ["600000", "000001"]])

    @functools.lru_cache
    def cached_code_name():
        return pd.DataFrame({"code": next(answers), "name": "x"})

    monkeypatch.setattr(akshare, "stock_info_a_code_name", cached_code_name)
    provider = AkshareProvider(industries=False)
    assert provider.fetch_securities().height == 1
    assert provider.fetch_securities().height == 2
