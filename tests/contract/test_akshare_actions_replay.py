"""Corporate actions through akshare's real code, offline: Eastmoney's dividend table (datacenter JSON) and Sina's
dividend and rights page (GB2312 HTML) replayed with ``responses``, in the wire formats akshare 1.19.5 parses.

The payloads are the project's own fixtures (tests/fixtures/akshare/actions/); the expected rows below are read
off them by hand (amounts per 10 shares divided by 10). Where ../shared/data is present, the table's factors are
checked against the reference prices in baostock's real unadjusted bars: the fixture's amounts are the real ones.
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
from responses import matchers

from quantdb_lab.domain.actions import ACTIONS, check_factors, events_from_actions
from quantdb_lab.domain.adjustment import factor_events
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import ProviderUnavailableError
from quantdb_lab.providers.akshare import AkshareProvider

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare" / "actions"
EM_URL = "https://datacenter-web.eastmoney.com/api/data/v1/get"
SINA_URL = "https://vip.stock.finance.sina.com.cn/corp/go.php/vISSUE_ShareBonus/stockid/{}.phtml"
BAOSTOCK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "baostock_csi300_daily" / "data"


@pytest.fixture
def rsps():
    with mock.patch("time.sleep"), responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        yield mocked


def serve(rsps, code: str, em: str, sina: str) -> None:
    body = json.loads((FIXTURES / em).read_text(encoding="utf-8"))
    rsps.get(EM_URL, json=body, match=[matchers.query_param_matcher(
        {"reportName": "RPT_SHAREBONUS_DET", "filter": f'(SECURITY_CODE="{code}")'}, strict_match=False)])  # fmt: skip
    rsps.get(SINA_URL.format(code), body=(FIXTURES / sina).read_bytes(), content_type="text/html; charset=gb2312")


def rows(*values) -> pl.DataFrame:
    return pl.DataFrame(list(values), schema=list(ACTIONS), orient="row").cast(ACTIONS)


def test_icbc_dividends_from_eastmoney_and_its_rights_issue_from_sina(rsps):
    serve(rsps, "601398", "em_sharebonus_601398.json", "sina_sharebonus_601398.html")
    out = AkshareProvider(timeout=10).fetch_corporate_actions(parse_symbol("601398"))
    d = date.fromisoformat
    expected = rows(
        ("601398.SH", d("2010-11-12"), d("2010-11-22"), d("2010-11-23"), 0.0, 0.0, 0.0, 0.045, 2.99, "sina"),
        ("601398.SH", d("2020-03-27"), d("2020-06-29"), d("2020-06-30"), 0.2628, 0.0, 0.0, 0.0, None, "eastmoney"),
        ("601398.SH", d("2021-03-26"), d("2021-07-05"), d("2021-07-06"), 0.266, 0.0, 0.0, 0.0, None, "eastmoney"),
        ("601398.SH", d("2022-03-30"), d("2022-07-11"), d("2022-07-12"), 0.2933, 0.0, 0.0, 0.0, None, "eastmoney"),
        ("601398.SH", d("2023-03-30"), d("2023-07-14"), d("2023-07-17"), 0.3035, 0.0, 0.0, 0.0, None, "eastmoney"),
        ("601398.SH", d("2024-03-28"), d("2024-07-15"), d("2024-07-16"), 0.3064, 0.0, 0.0, 0.0, None, "eastmoney"),
        ("601398.SH", d("2024-08-30"), d("2025-01-06"), d("2025-01-07"), 0.1434, 0.0, 0.0, 0.0, None, "eastmoney"),
        ("601398.SH", d("2025-03-28"), d("2025-07-11"), d("2025-07-14"), 0.1646, 0.0, 0.0, 0.0, None, "eastmoney"),
    )  # the 2020 interim plan distributed nothing: dropped
    assert out.select("symbol", "announcement_date", "record_date", "ex_date", "source").equals(
        expected.select("symbol", "announcement_date", "record_date", "ex_date", "source"))  # fmt: skip
    for column in ("cash", "bonus", "transfer", "rights_ratio", "rights_price"):
        assert out[column].to_list() == pytest.approx(expected[column].to_list(), nan_ok=True), column


def test_bonus_it_ratio_is_already_the_total_of_bonus_and_transfer(rsps):
    # Eastmoney writes a 10-for-4 transfer as BONUS_IT_RATIO=4, BONUS_RATIO=null, IT_RATIO=4: 0.4 shares, not 0.8
    serve(rsps, "002459", "em_sharebonus_002459.json", "sina_sharebonus_002459.html")
    out = AkshareProvider(timeout=10).fetch_corporate_actions(parse_symbol("002459"))
    assert out["ex_date"].to_list() == [date(2022, 6, 17), date(2023, 4, 25)]
    assert out["transfer"].to_list() == pytest.approx([0.4, 0.4]) and out["bonus"].to_list() == [0.0, 0.0]
    assert out["cash"].to_list() == pytest.approx([0.148, 0.24]) and out["rights_ratio"].to_list() == [0.0, 0.0]


def test_no_data_is_an_empty_table(rsps):
    serve(rsps, "600999", "em_sharebonus_unknown.json", "sina_sharebonus_002459.html")  # a page without rights
    out = AkshareProvider(timeout=10).fetch_corporate_actions(parse_symbol("600999"))
    assert out.is_empty() and out.schema == pl.Schema(ACTIONS)


def test_a_dropped_connection_is_retryable(rsps):
    rsps.get(EM_URL, body=requests.exceptions.ConnectionError("Connection aborted."))
    with pytest.raises(ProviderUnavailableError) as info:
        AkshareProvider(timeout=10).fetch_corporate_actions(parse_symbol("601398"))
    assert info.value.retryable


@pytest.mark.skipif(not BAOSTOCK.is_dir(), reason="../shared/data is absent")
@pytest.mark.parametrize("code, em, sina", [("601398", "em_sharebonus_601398.json", "sina_sharebonus_601398.html"),
                                            ("002459", "em_sharebonus_002459.json", "sina_sharebonus_002459.html")])
def test_the_tables_factors_are_the_exchanges_reference_prices(rsps, code, em, sina):
    serve(rsps, code, em, sina)
    symbol = parse_symbol(code)
    actions = AkshareProvider(timeout=10).fetch_corporate_actions(symbol)
    prefix = "sh" if symbol.exchange == "SH" else "sz"
    raw = pl.read_csv(BAOSTOCK / f"{prefix}.{code}.csv").select(
        pl.lit(symbol.canonical).alias("symbol"), pl.col("date").str.to_date(), "close", "preclose"
    ).filter(pl.col("close") > 0)
    from_table = events_from_actions(actions, raw)
    check = check_factors(factor_events(raw), from_table)
    # every plan of the fixture inside the bars agrees within a tick; ICBC's fixture holds all of its plans
    assert from_table.height >= 2 and check.filter(pl.col("status") == "agree").height == from_table.height, check
    assert not set(check["status"]) & {"disagree", "actions_only"}
    if code == "601398":
        assert set(check["status"]) == {"agree"}
