"""AkshareProvider's point-in-time sources over akshare's real code, offline: the exchanges' delisting lists, SZSE's
short-name changes (ST designations included) and Eastmoney's three statements by report, replayed with ``responses`` (payloads written by hand in the wire
format akshare parses; expected values read off the payloads). Unregistered requests raise ConnectionError."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from unittest import mock

import pandas as pd
import polars as pl
import pytest
import responses
from responses import matchers

from quantdb_lab.domain.master import securities_as_of
from quantdb_lab.domain.schema import SECURITIES
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


SZSE_REPORT = "https://www.szse.cn/api/report/ShowReport"
# SZSE's short-name changes (名称变更, tab2 简称变更), hand-written in the xlsx akshare reads (not real history):
# 000010 renamed once; 000040 put under ST in 2021, *ST in 2022, lifted in 2023; 300001 under *ST since 2024;
# 200012 is a B share (not in the A-share market).
NAME_CHANGES = {
    "变更日期": ["2019-05-06", "2021-05-06", "2022-05-05", "2023-06-01", "2024-04-30", "2020-03-02"],
    "证券代码": [10, 40, 40, 40, 300001, 200012],
    "证券简称": ["美丽生态", "东旭蓝天", "东旭蓝天", "东旭蓝天", "*ST特锐", "南玻Ｂ"],
    "变更前简称": ["深华新", "东旭蓝天", "ST东旭", "*ST东旭", "特锐德", "ST南玻B"],
    "变更后简称": ["美丽生态", "ST东旭", "*ST东旭", "东旭蓝天", "*ST特锐", "南玻Ｂ"],
}


def xlsx(columns: dict) -> bytes:
    out = io.BytesIO()
    pd.DataFrame(columns).to_excel(out, index=False)
    return out.getvalue()


def exchange_lists(rsps, name_changes: dict = NAME_CHANGES) -> None:
    rsps.get("https://query.sse.com.cn/commonQuery.do", json=json.loads(text("sse_delist.json")))
    rsps.get(SZSE_REPORT, body=szse_delist_xlsx(),
             match=[matchers.query_param_matcher({"CATALOGID": "1793_ssgs"}, strict_match=False)])
    rsps.get(SZSE_REPORT, body=xlsx(name_changes),
             match=[matchers.query_param_matcher({"CATALOGID": "SSGSGMXX", "TABKEY": "tab2"}, strict_match=False)])


def test_the_delisting_lists_become_listing_and_delisting_events(rsps):
    exchange_lists(rsps)
    events = AkshareProvider().fetch_security_events()
    got = {(r["symbol"], r["event"]): r["date"] for r in events.iter_rows(named=True)
           if r["event"] in ("listed", "delisted")}
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


def test_szse_short_name_changes_become_dated_renames_and_st_designations(rsps):
    exchange_lists(rsps)
    events = AkshareProvider().fetch_security_events().filter(pl.col("symbol").str.ends_with(".SZ")
                                                              & ~pl.col("event").is_in(["listed", "delisted"]))
    got = {(r["symbol"], r["date"]): (r["event"], r["name"], r["former_name"]) for r in events.iter_rows(named=True)}
    assert got == {
        ("000010.SZ", date(2019, 5, 6)): ("renamed", "美丽生态", "深华新"),
        ("000040.SZ", date(2021, 5, 6)): ("st", "ST东旭", "东旭蓝天"),
        ("000040.SZ", date(2022, 5, 5)): ("star_st", "*ST东旭", "ST东旭"),
        ("000040.SZ", date(2023, 6, 1)): ("st_removed", "东旭蓝天", "*ST东旭"),
        ("300001.SZ", date(2024, 4, 30)): ("star_st", "*ST特锐", "特锐德"),
    }  # fmt: skip
    assert events.filter(pl.col("symbol") == "300001.SZ")["board"].to_list() == ["chinext"]


def test_the_market_of_a_past_day_on_akshare_knows_st_status_and_old_names(rsps):
    """The path of ``lab.securities(as_of=)``: today's list (names of today) and the fetched events."""
    exchange_lists(rsps)
    events = AkshareProvider().fetch_security_events()
    today = pl.DataFrame({"symbol": ["000010.SZ", "000040.SZ", "300001.SZ", "600519.SH"],
                          "name": ["美丽生态", "东旭蓝天", "*ST特锐", "贵州茅台"], "industry": [None] * 4,
                          "board": ["main", "main", "chinext", "main"], "list_date": [None] * 4}, schema=SECURITIES)  # fmt: skip

    def row(day: date, symbol: str) -> dict:
        return securities_as_of(today, events, day).filter(pl.col("symbol") == symbol).row(0, named=True)

    st2021 = row(date(2021, 8, 2), "000040.SZ")
    assert (st2021["name"], st2021["is_st"], st2021["st_since"]) == ("ST东旭", True, date(2021, 5, 6))
    assert row(date(2022, 8, 1), "000040.SZ")["name"] == "*ST东旭"
    assert not row(date(2020, 1, 2), "000040.SZ")["is_st"] and not row(date(2024, 1, 2), "000040.SZ")["is_st"]
    assert row(date(2018, 1, 2), "000010.SZ")["name"] == "深华新"  # the name before its first recorded change
    assert row(date(2020, 1, 2), "000010.SZ")["name"] == "美丽生态"
    before = row(date(2023, 1, 3), "300001.SZ")  # *ST today, not before its designation
    assert (before["name"], before["is_st"]) == ("特锐德", False)
    assert row(date(2024, 5, 6), "300001.SZ")["is_st"]
    assert row(date(2012, 6, 29), "600519.SH")["name"] == "贵州茅台"  # no history: today's name
    assert {"000013.SZ", "600001.SH"} <= set(securities_as_of(today, events, date(2002, 1, 4))["symbol"])


# -- Eastmoney's results tables: 业绩快报 (express), 业绩报表 (results), 业绩预告 (forecasts) -------------------
DATACENTER = "https://datacenter.eastmoney.com/securities/api/data/v1/get"  # express and forecasts
DATACENTER_WEB = "https://datacenter-web.eastmoney.com/api/data/v1/get"  # the results table
NO_DATA = {"version": None, "result": None, "success": False, "message": "返回数据为空", "code": 9201}


def for_period(report: str, period: str):
    """A matcher for one table (reportName) and report period (the filter's date)."""

    def match(request):
        params = request.params
        ok = params.get("reportName") == report and f"'{period}'" in params.get("filter", "")
        return ok, "" if ok else f"not {report} {period}"

    return match


def results_tables(rsps, report: str, url: str, fixture: str, periods: list[str]) -> None:
    """``fixture`` for 2024-12-31, Eastmoney's empty answer for every other period akshare is asked about."""
    rsps.get(url, json=json.loads(text(fixture)), match=[for_period(report, "2024-12-31")])
    for period in periods:
        rsps.get(url, json=NO_DATA, match=[for_period(report, period)])


def test_express_and_results_tables_become_announcements_of_the_window(rsps):
    results_tables(rsps, "RPT_FCI_PERFORMANCEE", DATACENTER, "em_yjkb_20241231.json", ["2024-09-30", "2025-03-31"])
    results_tables(rsps, "RPT_LICO_FN_CPD", DATACENTER_WEB, "em_yjbb_20241231.json", ["2024-09-30", "2025-03-31"])
    frame = AkshareProvider().fetch_earnings_releases(None, date(2025, 1, 20), date(2025, 4, 10))
    rows = {(r["symbol"], r["kind"]): r for r in frame.iter_rows(named=True)}
    assert set(rows) == {("000001.SZ", "express"), ("601398.SH", "express"), ("600519.SH", "report")}
    pingan = rows[("000001.SZ", "express")]
    assert (pingan["report_period"], pingan["known_at"]) == (date(2024, 12, 31), date(2025, 1, 24))
    assert (pingan["basic_eps"], pingan["revenue"], pingan["parent_net_profit"], pingan["bps"]) == (
        2.15, 146_695_000_000.0, 44_508_000_000.0, 22.96)
    assert pingan["roe"] == pytest.approx(0.1008) and pingan["revenue_growth"] == pytest.approx(-0.109)
    assert pingan["profit_growth"] == pytest.approx(-0.042)
    moutai = rows[("600519.SH", "report")]
    assert (moutai["known_at"], moutai["revenue"], moutai["parent_net_profit"]) == (
        date(2025, 4, 3), 174_144_069_958.25, 86_228_146_421.62)
    assert moutai["roe"] == pytest.approx(0.3602) and moutai["profit_growth"] == pytest.approx(0.1538)


def test_an_announcement_outside_the_window_is_not_returned(rsps):
    results_tables(rsps, "RPT_FCI_PERFORMANCEE", DATACENTER, "em_yjkb_20241231.json", ["2024-09-30"])
    results_tables(rsps, "RPT_LICO_FN_CPD", DATACENTER_WEB, "em_yjbb_20241231.json", ["2024-09-30"])
    frame = AkshareProvider().fetch_earnings_releases(None, date(2025, 1, 20), date(2025, 2, 28))
    assert frame.select("symbol", "known_at").rows() == [("000001.SZ", date(2025, 1, 24))]


def test_forecasts_become_one_row_per_indicator_with_fractions(rsps):
    results_tables(rsps, "RPT_PUBLIC_OP_NEWPREDICT", DATACENTER, "em_yjyg_20241231.json", ["2024-09-30", "2025-03-31"])
    frame = AkshareProvider().fetch_earnings_forecasts(None, date(2025, 1, 10), date(2025, 1, 31))
    got = {(r["symbol"], r["indicator"]): (r["known_at"], r["value"], r["forecast_type"], r["previous_value"])
           for r in frame.iter_rows(named=True)}
    assert got == {
        ("000651.SZ", "parent_net_profit"): (date(2025, 1, 15), 32_644_000_000.0, "increase", 29_017_000_000.0),
        ("000651.SZ", "deducted_net_profit"): (date(2025, 1, 15), 30_800_000_000.0, "increase", 28_000_000_000.0),
        ("002594.SZ", "revenue"): (date(2025, 1, 20), 752_894_000_000.0, "slight_increase", 602_315_000_000.0),
    }  # fmt: skip
    assert set(frame["report_period"]) == {date(2024, 12, 31)}
    assert sorted(frame["change"].to_list()) == pytest.approx([0.10, 0.125, 0.25])


# -- Eastmoney's risk-warning board (风险警示板): today's ST and *ST stocks, captured as a dated snapshot ---------
def test_the_risk_warning_board_becomes_todays_st_snapshot(rsps):
    rsps.get("https://40.push2.eastmoney.com/api/qt/clist/get", json=json.loads(text("em_clist_st_board.json")))
    today = date.today()
    frame = AkshareProvider().fetch_st_board(None, today, today)
    assert frame.sort("symbol").rows() == [(today, "000040.SZ", "*ST东旭"), (today, "300001.SZ", "*ST特锐"),
                                           (today, "600289.SH", "ST信通")]  # fmt: skip


def test_todays_board_is_never_another_days_snapshot(rsps):
    assert AkshareProvider().fetch_st_board(None, date(2021, 5, 6), date(2021, 5, 6)).is_empty()  # no request
