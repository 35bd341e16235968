"""AkshareProvider over akshare's real code, offline: Eastmoney kline answers replayed with ``responses``.

Payloads and expected canonical frames are the project's own fixtures (tests/fixtures/akshare/); the expected
CSVs were written by hand from the payloads (lots x 100, percent / 100), not produced by the code under test.
Any request that is not registered raises ConnectionError, so these tests never reach the network.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
import requests
import responses
from polars.testing import assert_frame_equal
from responses import matchers

from quantdb_lab.domain.schema import BARS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import ProviderSchemaError, ProviderUnavailableError
from quantdb_lab.providers.akshare import AkshareProvider

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare"
KLINE_URL = "https://push2his.eastmoney.com/api/qt/stock/kline/get"
HK_KLINE_URL = "https://33.push2his.eastmoney.com/api/qt/stock/kline/get"
LRU_CACHED = (
    "stock_info_a_code_name",
    "stock_info_sh_name_code",
    "stock_info_sz_name_code",
    "stock_info_bj_name_code",
    "index_code_id_map_em",
)


def payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def expected(name: str) -> pl.DataFrame:
    return pl.read_csv(FIXTURES / name, schema=BARS)


def kline_params(**params: str) -> list:
    return [matchers.query_param_matcher(params, strict_match=False)]  # ignore ut/fields1/fields2


@pytest.fixture
def rsps():
    import akshare

    for name in LRU_CACHED:  # process-wide state inside akshare
        cache_clear = getattr(getattr(akshare, name, None), "cache_clear", None)
        if cache_clear is not None:
            cache_clear()
    with mock.patch("time.sleep"), responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        yield mocked


@pytest.fixture
def provider() -> AkshareProvider:
    return AkshareProvider(timeout=10)


# -- happy paths, one per endpoint ---------------------------------------------------------------------


def test_a_share_daily(rsps, provider):
    rsps.get(
        KLINE_URL,
        json=payload("kline_stock_600519_daily.json"),
        match=kline_params(secid="1.600519", klt="101", fqt="0", beg="20240301", end="20240305"),
    )
    out = provider.fetch_daily_bars(parse_symbol("600519.SH"), date(2024, 3, 1), date(2024, 3, 5))
    assert_frame_equal(out, expected("kline_stock_600519_daily.expected.csv"))


def test_a_share_hfq_asks_for_fqt_2(rsps, provider):
    rsps.get(
        KLINE_URL,
        json=payload("kline_stock_600519_daily.json"),
        match=kline_params(secid="1.600519", klt="101", fqt="2", beg="20240301", end="20240305"),
    )
    out = provider.fetch_daily_bars(parse_symbol("sh600519"), date(2024, 3, 1), date(2024, 3, 5), adjust="hfq")
    assert out.height == 3


def test_etf_daily(rsps, provider):
    rsps.get(
        KLINE_URL,
        json=payload("kline_etf_159915_daily.json"),
        match=kline_params(secid="0.159915", klt="101", fqt="0", beg="20240301", end="20240304"),
    )
    out = provider.fetch_daily_bars(parse_symbol("159915.SZ"), date(2024, 3, 1), date(2024, 3, 4))
    assert_frame_equal(out, expected("kline_etf_159915_daily.expected.csv"))


def test_index_daily_em(rsps, provider):
    rsps.get(
        KLINE_URL,
        json=payload("kline_index_399001_f58.json"),
        match=kline_params(secid="0.399001", klt="101", fqt="0", beg="20240301", end="20240304"),
    )
    out = provider.fetch_daily_bars(parse_symbol("399001.SZ"), date(2024, 3, 1), date(2024, 3, 4))
    assert_frame_equal(out, expected("kline_index_399001_f58.expected.csv"))


def test_hk_daily_downloads_everything_and_filters_locally(rsps, provider):
    rsps.get(
        HK_KLINE_URL,
        json=payload("kline_hk_09988_full.json"),
        match=kline_params(secid="116.09988", klt="101", fqt="0"),
    )
    out = provider.fetch_daily_bars(parse_symbol("09988.HK"), date(2024, 3, 4), date(2024, 3, 5))
    assert_frame_equal(out, expected("kline_hk_09988_20240304_20240305.expected.csv"))


# -- unknown symbols: "data": null --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "url", "secid"),
    [
        ("609999.SH", KLINE_URL, "1.609999"),  # akshare: pd.DataFrame()
        ("159999.SZ", KLINE_URL, "0.159999"),  # akshare: pd.DataFrame()
        ("399999.SZ", KLINE_URL, "0.399999"),  # akshare: TypeError on None
        ("09999.HK", HK_KLINE_URL, "116.09999"),  # akshare: TypeError on None
    ],
)
def test_unknown_symbol_is_an_empty_canonical_frame(rsps, provider, text, url, secid):
    rsps.get(url, json=payload("kline_data_null.json"), match=kline_params(secid=secid))
    out = provider.fetch_daily_bars(parse_symbol(text), date(2024, 3, 1), date(2024, 3, 5))
    assert out.is_empty()
    assert out.schema == pl.Schema(BARS)


# -- failures ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 403])
def test_html_page_is_a_ban_retryable_later(rsps, provider, status):
    body = (FIXTURES / "captcha_page.html").read_text(encoding="utf-8")
    rsps.get(KLINE_URL, body=body, status=status, content_type="text/html; charset=utf-8")
    with pytest.raises(ProviderUnavailableError) as info:
        provider.fetch_daily_bars(parse_symbol("600519"), date(2024, 3, 1), date(2024, 3, 5))
    assert info.value.retryable is True and info.value.kind == "ban"
    assert isinstance(info.value.__cause__, requests.exceptions.JSONDecodeError)
    assert info.value.symbol == "600519.SH"


def test_dropped_connection_is_retryable_unavailable(rsps, provider):
    rsps.get(KLINE_URL, body=requests.exceptions.ConnectionError("Remote end closed connection without response"))
    with pytest.raises(ProviderUnavailableError) as info:
        provider.fetch_daily_bars(parse_symbol("510300"), date(2024, 3, 1), date(2024, 3, 5))
    assert info.value.retryable is True


def test_extra_kline_field_is_a_schema_error(rsps, provider):
    rsps.get(KLINE_URL, json=payload("kline_stock_extra_field.json"))
    with pytest.raises(ProviderSchemaError, match="Length mismatch") as info:
        provider.fetch_daily_bars(parse_symbol("600519"), date(2024, 3, 1), date(2024, 3, 5))
    assert info.value.dataset == "daily_bars"
    assert "akshare.stock_zh_a_hist" in info.value.reason


def test_unregistered_request_never_reaches_the_network(rsps, provider):
    with pytest.raises(ProviderUnavailableError):
        provider.fetch_daily_bars(parse_symbol("600000"), date(2024, 3, 1), date(2024, 3, 5))
