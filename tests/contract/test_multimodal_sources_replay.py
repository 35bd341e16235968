"""Replay tests of the multi-modal sources in akshare 1.19.5's wire formats (fixtures in tests/fixtures/akshare).

jin10 and Sina go through ``requests`` and are served by ``responses``; ``stock_news_em`` uses curl_cffi, which
``responses`` cannot intercept, so its module attribute is patched (akshare-upstream.md section 3).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from unittest import mock

import pytest
import responses

from quantdb_lab.domain.schema import COMMODITY_BARS
from quantdb_lab.domain.sources import MACRO, NEWS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare.provider import AkshareProvider

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare"
JIN10 = "https://datacenter-api.jin10.com/reports/list_v2"


class FakeResponse:
    def __init__(self, text: str) -> None:
        self.text = text
        self.status_code = 200


def test_stock_news_em_jsonp_to_news():
    import akshare.news.news_stock as news_module

    body = (FIXTURES / "stock_news_em_600000.jsonp").read_text(encoding="utf-8")
    with mock.patch.object(news_module.requests, "get", return_value=FakeResponse(body)) as get:
        frame = AkshareProvider(timeout=5).fetch_news(parse_symbol("600000"))
    assert get.call_count == 1
    assert json.loads(get.call_args.kwargs["params"]["param"])["keyword"] == "600000"
    assert dict(frame.schema) == NEWS
    assert frame.height == 3 and frame["symbol"].unique().to_list() == ["600000.SH"]
    assert frame["published_at"].to_list() == sorted(frame["published_at"].to_list())  # ascending
    first = frame.row(0, named=True)
    assert first["published_at"].replace(tzinfo=None) == datetime(2024, 3, 7, 20, 5, 40)
    assert str(first["published_at"].tzinfo) == "Asia/Shanghai"
    assert all("<em>" not in t for t in frame["title"].to_list())
    assert frame["url"][0].endswith("202403072953333333.html")


def _jin10(pages: dict[str, str]):
    """A callback serving jin10's pages by max_date ('' first); any other max_date ends the paging."""
    seen = []

    def callback(request):
        max_date = request.params.get("max_date", "")
        seen.append((request.params.get("attr_id"), max_date))
        if max_date in pages:
            return 200, {}, (FIXTURES / pages[max_date]).read_text(encoding="utf-8")
        return 200, {}, json.dumps({"status": 200, "message": "", "data": {"keys": [], "values": []}})

    return callback, seen


def test_jin10_cpi_keeps_release_dates_and_drops_scheduled_rows():
    callback, seen = _jin10({"": "jin10_cpi_yearly_p1.json"})
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, JIN10, callback=callback)
        frame = AkshareProvider(timeout=5).fetch_macro("CPI")
    assert seen == [("56", ""), ("56", "2024-01-11")]  # attr_id 56 = CPI yoy; paged by max_date - 1 day
    assert dict(frame.schema) == MACRO
    # the 2024-04-11 row has no value yet (a scheduled release): never stored
    assert frame["release_date"].to_list() == [date(2024, 1, 12), date(2024, 2, 8), date(2024, 3, 9)]
    assert frame["period"].to_list() == [date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1)]
    assert frame["value"].to_list() == [-0.3, -0.8, 0.7]
    assert not frame["release_estimated"].any()


def test_jin10_pmi_released_at_month_end_describes_that_month():
    callback, _ = _jin10({"": "jin10_pmi_yearly_p1.json"})
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, JIN10, callback=callback)
        frame = AkshareProvider(timeout=5).fetch_macro("pmi")
    assert frame["period"].to_list() == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]


def test_shibor_overnight_fixing():
    with responses.RequestsMock() as rsps:
        rsps.get("https://cdn.jin10.com/data_center/reports/il_1.json",
                 body=(FIXTURES / "jin10_shibor_il_1.json").read_text(encoding="utf-8"))
        frame = AkshareProvider(timeout=5).fetch_macro("shibor")
    assert frame["period"].to_list() == frame["release_date"].to_list() == [date(2024, 3, 7), date(2024, 3, 8)]
    assert frame["value"].to_list() == [1.712, 1.698]


def test_futures_main_sina_sc0():
    url = ("https://stock2.finance.sina.com.cn/futures/api/jsonp.php/var%20_SC02021_08_17=/"
           "InnerFuturesNewService.getDailyKLine")
    with responses.RequestsMock() as rsps:
        rsps.get(url, body=(FIXTURES / "sina_futures_SC0.txt").read_text(encoding="utf-8"))
        frame = AkshareProvider(timeout=5).fetch_commodity_daily("SC0")
    assert dict(frame.schema) == COMMODITY_BARS
    assert frame["date"].to_list() == [date(2024, 3, 7), date(2024, 3, 8)]
    assert frame["close"].to_list() == [598.3, 605.8] and frame["open_interest"].to_list() == [28921.0, 29543.0]


def test_unknown_macro_series_is_a_typed_error():
    from quantdb_lab.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError):
        AkshareProvider().fetch_macro("gdp_of_mars")


def test_host_families():
    provider = AkshareProvider()
    served = provider.fetchers()
    assert served["news"].host_family(None) == "eastmoney_search"
    assert served["macro"].host_family(None) == "jin10"
