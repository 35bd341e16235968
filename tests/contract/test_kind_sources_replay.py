"""The index, ETF and HK fallback sources over akshare's real code, offline, in their own wire formats.

Tencent's index page (``newfqkline``, rows of six fields, the sixth the volume in lots) is the project's own
fixture (tests/fixtures/akshare/sources/), written from the format akshare's parser reads. Sina's obfuscated
kline body is the shared hand-built payload (../shared/akshare-payloads, an index kline); the same body is
served at the index, ETF and HK addresses, and the test skips without it. Expected values are read off the
payloads by hand.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from unittest import mock

import pytest
import responses

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider
from quantdb_lab.providers.akshare.bar_sources import bar_sources_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare" / "sources"
PAYLOADS = Path(__file__).resolve().parents[2] / ".." / "shared" / "akshare-payloads"
TX_KLINE = "https://proxy.finance.qq.com/ifzqgtimg/appstock/app/newfqkline/get"
SINA_URLS = {
    "000300.SH": "https://finance.sina.com.cn/realstock/company/sh000300/hisdata/klc_kl.js",
    "510300.SH": "https://finance.sina.com.cn/realstock/company/sh510300/hisdata_klc2/klc_kl.js",
    "00700.HK": "https://finance.sina.com.cn/stock/hkstock/00700/klc2_kl.js",
}


@pytest.fixture
def rsps():
    with mock.patch("time.sleep"), responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        yield mocked


def source(symbol: str, name: str):
    return next(s for s in bar_sources_for(parse_symbol(symbol)) if s.name == name)


@pytest.mark.parametrize("symbol", list(SINA_URLS))
def test_sina_index_etf_and_hk_bars_in_shares(rsps, symbol: str) -> None:
    kline = PAYLOADS / "sina_klc_kl_sh000300.js"
    if not kline.is_file():
        pytest.skip("the shared akshare payloads are absent")
    pytest.importorskip("py_mini_racer")
    rsps.get(SINA_URLS[symbol], body=kline.read_text(encoding="utf-8"))
    frame = AkshareProvider().fetch_bars_from(source(symbol, "sina"), parse_symbol(symbol), date(2024, 1, 3),
                                              date(2024, 1, 5))  # fmt: skip
    assert frame["date"].to_list() == [date(2024, 1, 3), date(2024, 1, 5)]  # the whole history, cut here
    assert frame["close"].to_list() == [3378.44, 3360.0] and frame["open"].to_list() == [3380.13, 3370.0]
    assert frame["high"].to_list() == [3387.1, 3390.0] and frame["low"].to_list() == [3363.6, 3350.0]
    assert frame["volume"].to_list() == [101_201_231.0, 99_000_000.0]  # shares already
    assert frame["amount"].to_list() == [127_500_000_000.0, 120_000_000_000.0]
    assert frame["turnover"].null_count() == frame["change"].null_count() == 2


def test_tencent_index_volume_is_its_amount_column_in_lots(rsps) -> None:
    seen = []

    def answer(request):
        seen.append(request.params["param"])
        return 200, {"Content-Type": "text/html"}, (FIXTURES / "tx_newfqkline_sh000300_2024.txt").read_text("utf-8")

    rsps.add_callback(responses.GET, TX_KLINE, callback=answer)
    symbol = parse_symbol("000300.SH")
    frame = AkshareProvider().fetch_bars_from(source("000300.SH", "tencent"), symbol, date(2024, 1, 2),
                                              date(2024, 1, 3))  # fmt: skip
    assert seen == ["sh000300,day,2024-01-01,2025-12-31,640,qfq"]  # one page per calendar year
    assert frame["date"].to_list() == [date(2024, 1, 2), date(2024, 1, 3)]
    assert frame["close"].to_list() == [3386.35, 3378.44] and frame["high"].to_list() == [3426.25, 3387.1]
    assert frame["volume"].to_list() == [11_580_356_700.0, 10_051_200_000.0]  # 115,803,567 lots
    assert frame["amount"].null_count() == 2  # what akshare calls "amount" is the volume
