"""The Sina and Tencent daily-bar sources over akshare's real code, offline, in their own wire formats.

Tencent's answers (``weekTrends`` and one ``newfqkline`` page per year) and Sina's share-count JSONP are the
project's own fixtures (tests/fixtures/akshare/sources/), written from the formats in akshare's code. Sina's
obfuscated ``klc_kl.js`` body is the shared hand-built payload (../shared/akshare-payloads); the test skips
without it. Expected values are read off the payloads by hand (Tencent amount in 10^4 CNY, turnover percent).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from unittest import mock

import pytest
import responses

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider
from quantdb_lab.providers.akshare.bar_sources import BAR_SOURCES_BY_NAME

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare" / "sources"
PAYLOADS = Path(__file__).resolve().parents[2] / ".." / "shared" / "akshare-payloads"
TX_KLINE = "https://proxy.finance.qq.com/ifzqgtimg/appstock/app/newfqkline/get"
TX_START = "https://web.ifzq.gtimg.cn/other/klineweb/klineWeb/weekTrends"
SINA_KLINE = "https://finance.sina.com.cn/realstock/company/sh600000/hisdata_klc2/klc_kl.js"
SINA_AMOUNT = "https://stock.finance.sina.com.cn/stock/api/jsonp.php/var%20KKE_ShareAmount_sh600000=/StockService.getAmountBySymbol"


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def rsps():
    with mock.patch("time.sleep"), responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


def tencent_pages(code: str):
    year_page = text("tx_newfqkline_sz000001_2024.txt").replace("sz000001", code)
    empty = text("tx_newfqkline_empty_year.txt")
    seen = []

    def answer(request):
        param = request.params["param"]  # "<symbol>,day,<year>-01-01,<year+1>-12-31,640,"
        symbol, _, first = param.split(",")[:3]
        seen.append(first[:4])
        body = year_page if first.startswith("2024") else empty.replace("{year}", first[:4]).replace("{symbol}", symbol)
        return 200, {"Content-Type": "text/html"}, body

    return answer, seen


@pytest.mark.parametrize(("code", "lots"), [("sz000001", True), ("sh600000", False)])
def test_tencent_bars_in_shares_and_cny(rsps, code: str, lots: bool) -> None:
    answer, seen = tencent_pages(code)
    rsps.get(TX_START, body=text("tx_weektrends_sz000001.txt"))
    rsps.add_callback(responses.GET, TX_KLINE, callback=answer)
    source = BAR_SOURCES_BY_NAME["tencent"]
    symbol = parse_symbol(code[2:])
    frame = AkshareProvider().fetch_bars_from(source, symbol, date(2024, 1, 1), date(2024, 1, 3))
    assert frame["date"].to_list() == [date(2024, 1, 2), date(2024, 1, 3)]
    assert frame["close"].to_list() == [9.21, 9.20]
    assert frame["high"].to_list() == [9.42, 9.22] and frame["open"].to_list() == [9.39, 9.19]
    # 1,158,366 lots = 115,836,600 shares, whichever way akshare treated the prefix
    assert frame["volume"].to_list() == [115_836_600.0, 73_361_000.0]
    assert frame["amount"].to_list() == [1_077_320_000.0, 674_480_000.0]
    assert frame["turnover"].to_list() == pytest.approx([0.006, 0.0038])
    assert frame["change"].null_count() == 2  # Tencent reports no change
    assert "2024" in seen  # one page per calendar year from the start year on


def test_sina_bars_in_shares_with_turnover_fraction(rsps) -> None:
    kline = PAYLOADS / "sina_klc_kl_sh000300.js"
    if not kline.is_file():
        pytest.skip("the shared akshare payloads are absent")
    pytest.importorskip("py_mini_racer")
    rsps.get(SINA_KLINE, body=kline.read_text(encoding="utf-8"))
    rsps.get(SINA_AMOUNT, body=text("sina_share_amount_sh600000.js"))
    source = BAR_SOURCES_BY_NAME["sina"]
    frame = AkshareProvider().fetch_bars_from(source, parse_symbol("600000"), date(2024, 1, 1), date(2024, 1, 5))
    assert frame["date"].to_list() == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 5)]
    assert frame["close"].to_list() == [3386.35, 3378.44, 3360.0]
    assert frame["volume"].to_list() == [107_830_050.0, 101_201_231.0, 99_000_000.0]  # shares already
    # share counts in 10^4: 2,935,217.4 until 2024-01-02, then 100,000 -> turnover = volume / shares
    assert frame["turnover"].to_list() == pytest.approx(
        [107_830_050 / 29_352_174_000, 101_201_231 / 1e9, 99_000_000 / 1e9])
    assert frame["pct_change"].null_count() == 3


def _direct(_family, fn, *args, **kwargs):
    return fn(*args, **kwargs)


def test_failover_on_the_wire_456_page_then_empty_body_then_tencent(rsps) -> None:
    """Eastmoney answers HTTP 456 with a captcha page, Sina an empty 200 body: both are refusals of a kind, and
    Tencent serves; the order and the reasons are recorded."""
    from quantdb_lab.loader.failover import fetch_first

    rsps.get("https://push2his.eastmoney.com/api/qt/stock/kline/get", status=456,
             body="<html><body>访问受限</body></html>", content_type="text/html")  # fmt: skip
    rsps.get("https://finance.sina.com.cn/realstock/company/sz000001/hisdata_klc2/klc_kl.js", body="")
    answer, _ = tencent_pages("sz000001")
    rsps.get(TX_START, body=text("tx_weektrends_sz000001.txt"))
    rsps.add_callback(responses.GET, TX_KLINE, callback=answer)
    symbol = parse_symbol("000001")
    served = fetch_first(AkshareProvider().bar_sources(symbol), _direct, symbol, date(2024, 1, 1), date(2024, 1, 4),
                         expect_rows=True)  # fmt: skip
    assert served.source.name == "tencent" and served.frame.height == 3
    assert [name for name, _ in served.passed_over] == ["eastmoney", "sina"]
    assert "HTTP 456" in served.passed_over[0][1]
