"""AkshareProvider's point-in-time sources over akshare's real code, offline: the exchanges' delisting lists and
Eastmoney's three statements by report, replayed with ``responses`` (payloads written by hand in the wire
format akshare parses; expected values read off the payloads). Unregistered requests raise ConnectionError."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
import responses

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare" / "pit"
F10 = "https://emweb.securities.eastmoney.com/PC_HSF10/NewFinanceAnalysis/"


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def rsps():
    import akshare.stock_feature.stock_three_report_em as three

    three._stock_balance_sheet_by_report_ctype_em.cache_clear()
    with mock.patch("time.sleep"), responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        yield mocked


def szse_delist_xlsx() -> bytes:
    frame = pd.DataFrame({"证券代码": [3, 13], "证券简称": ["PT金田A", "*ST石化A"],
                          "上市日期": ["1991-07-03", "1992-05-06"], "终止上市日期": ["2002-06-14", "2004-09-20"]})  # fmt: skip
    out = io.BytesIO()
    frame.to_excel(out, index=False)
    return out.getvalue()


def test_the_delisting_lists_become_listing_and_delisting_events(rsps):
    rsps.get("https://query.sse.com.cn/commonQuery.do", json=json.loads(text("sse_delist.json")))
    rsps.get("https://www.szse.cn/api/report/ShowReport", body=szse_delist_xlsx())
    events = AkshareProvider().fetch_security_events()
    got = {(r["symbol"], r["event"]): r["date"] for r in events.iter_rows(named=True)}
    assert got == {
        ("600001.SH", "listed"): date(1998, 1, 22), ("600001.SH", "delisted"): date(2009, 12, 29),
        ("600087.SH", "listed"): date(1997, 6, 12), ("600087.SH", "delisted"): date(2014, 6, 5),
        ("000003.SZ", "listed"): date(1991, 7, 3), ("000003.SZ", "delisted"): date(2002, 6, 14),
        ("000013.SZ", "listed"): date(1992, 5, 6), ("000013.SZ", "delisted"): date(2004, 9, 20),
    }  # fmt: skip
    assert set(events["name"]) >= {"邯郸钢铁", "*ST石化A"} and events["industry"].null_count() == events.height


def test_the_three_statements_by_report_become_one_row_per_period(rsps):
    rsps.get(F10 + "Index", body=text("f10_index.html"))
    for sheet in ("zcfzb", "lrb", "xjllb"):
        rsps.get(F10 + f"{sheet}DateAjaxNew", json=json.loads(text("f10_dates.json")))
        rsps.get(F10 + f"{sheet}AjaxNew", json=json.loads(text(f"f10_{sheet}.json")))
    frame = AkshareProvider().fetch_financials(parse_symbol("600519"))
    assert frame["report_period"].to_list() == [date(2024, 9, 30), date(2024, 12, 31)]
    q3, fy = frame.row(0, named=True), frame.row(1, named=True)
    assert (q3["announcement_date"], q3["update_date"], q3["known_at"]) == (date(2024, 10, 26), date(2025, 1, 15),
                                                                           date(2024, 10, 26))  # fmt: skip
    assert fy["revenue"] == 174144069958.25 and fy["parent_net_profit"] == 86228146421.62
    assert fy["parent_equity"] == 232540941735.85 and fy["share_capital"] == 1256197800.0
    assert fy["operating_cash_flow"] == 92463692168.43 and q3["basic_eps"] == 48.42
