"""The market-wide dividend table (``stock_fhps_em``: one reporting period of every stock) through akshare's real
code, offline: the wire rows of the project's Eastmoney fixtures (the same report, ``RPT_SHAREBONUS_DET``, as the
per-symbol table) served for a ``REPORT_DATE`` filter. Expected rows are read off the fixtures by hand; the
per-symbol transform of the same rows must agree (one wire format, two akshare column maps by position)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
import responses
from responses import matchers

from quantdb_lab.domain.actions import report_periods
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare" / "actions"
EM_URL = "https://datacenter-web.eastmoney.com/api/data/v1/get"


@pytest.fixture
def rsps():
    with mock.patch("time.sleep"), responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        yield mocked


def period_rows(period: str) -> list[dict]:
    out = []
    for name in ("em_sharebonus_601398.json", "em_sharebonus_002459.json"):
        body = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        out += [r for r in body["result"]["data"] if r["REPORT_DATE"].startswith(period)]
    return out


def serve_period(rsps, period: str, rows: list[dict]) -> None:
    body = {"result": {"pages": 1, "data": rows, "count": len(rows)}, "success": True, "code": 0}
    rsps.get(EM_URL, json=body, match=[matchers.query_param_matcher(
        {"reportName": "RPT_SHAREBONUS_DET", "filter": f"(REPORT_DATE='{period}')"}, strict_match=False)])  # fmt: skip


def test_one_period_of_every_stock_as_canonical_actions(rsps):
    serve_period(rsps, "2022-12-31", period_rows("2022-12-31"))
    out = AkshareProvider(timeout=10).fetch_dividend_period(date(2022, 12, 31)).sort("symbol")
    assert out["symbol"].to_list() == ["002459.SZ", "601398.SH"]
    d = date.fromisoformat
    # 002459: 10转4.00股派2.40元; 601398: 10派3.035元 (announced 2023-03-30, the plan's notice)
    assert out["announcement_date"].to_list() == [d("2023-04-11"), d("2023-03-30")]
    assert out["record_date"].to_list() == [d("2023-04-24"), d("2023-07-14")]
    assert out["ex_date"].to_list() == [d("2023-04-25"), d("2023-07-17")]
    assert out["cash"].to_list() == pytest.approx([0.24, 0.3035])
    assert out["transfer"].to_list() == pytest.approx([0.4, 0.0])
    assert out["bonus"].to_list() == pytest.approx([0.0, 0.0])


def test_the_market_table_agrees_with_each_symbols_own(rsps):
    rows = period_rows("2021-12-31")
    serve_period(rsps, "2021-12-31", rows)
    market = AkshareProvider(timeout=10).fetch_dividend_period(date(2021, 12, 31))
    for code in ("601398", "002459"):
        body = {"result": {"pages": 1, "data": [r for r in rows if r["SECURITY_CODE"] == code], "count": 1}}
        rsps.get(EM_URL, json=body, match=[matchers.query_param_matcher(
            {"filter": f'(SECURITY_CODE="{code}")'}, strict_match=False)])  # fmt: skip
        rsps.get(f"https://vip.stock.finance.sina.com.cn/corp/go.php/vISSUE_ShareBonus/stockid/{code}.phtml",
                 body=(FIXTURES / f"sina_sharebonus_{code}.html").read_bytes(), content_type="text/html; charset=gb2312")
        own = AkshareProvider(timeout=10).fetch_corporate_actions(parse_symbol(code)).filter(pl.col("source") == "eastmoney")
        mine = market.filter(pl.col("symbol") == parse_symbol(code).canonical)
        cols = ["symbol", "record_date", "ex_date", "cash", "bonus", "transfer"]
        assert mine.select(cols).equals(own.select(cols))


def test_a_period_without_plans_is_an_empty_table(rsps):
    rsps.get(EM_URL, json={"result": None, "success": False, "code": 9201}, match=[matchers.query_param_matcher(
        {"filter": "(REPORT_DATE='2031-03-31')"}, strict_match=False)])  # fmt: skip
    assert AkshareProvider(timeout=10).fetch_dividend_period(date(2031, 3, 31)).is_empty()


def test_report_periods_cover_every_plan_that_can_go_ex_in_the_span():
    periods = report_periods(date(2024, 1, 2), date(2024, 12, 31))
    assert periods[0] == date(2022, 9, 30) and periods[-1] == date(2024, 12, 31)  # 550 days back: 2022-07-01
    assert all((p.month, p.day) in ((3, 31), (6, 30), (9, 30), (12, 31)) for p in periods) and len(periods) == 10
