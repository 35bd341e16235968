"""Which sources serve each kind's daily bars, in which order and under which host family (the order and the
functions are the ones issue 20 names; the families are the hosts akshare's code requests)."""

from __future__ import annotations

import pytest

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare.bar_sources import bar_sources_for

EXPECTED = {
    "000300.SH": [("eastmoney", "stock_zh_index_daily_em", "eastmoney_push2his"),
                  ("sina", "stock_zh_index_daily", "sina_kline"),
                  ("tencent", "stock_zh_index_daily_tx", "tencent")],
    "399001.SZ": [("eastmoney", "stock_zh_index_daily_em", "eastmoney_push2his"),
                  ("sina", "stock_zh_index_daily", "sina_kline"),
                  ("tencent", "stock_zh_index_daily_tx", "tencent")],
    "510300.SH": [("eastmoney", "fund_etf_hist_em", "eastmoney_push2his"),
                  ("sina", "fund_etf_hist_sina", "sina_kline")],
    "00700.HK": [("eastmoney", "stock_hk_hist", "eastmoney_push2his"), ("sina", "stock_hk_daily", "sina_kline")],
    "600000.SH": [("eastmoney", "stock_zh_a_hist", "eastmoney_push2his"), ("sina", "stock_zh_a_daily", "sina_kline"),
                  ("tencent", "stock_zh_a_hist_tx", "tencent")],
    "csi931151": [],  # CSI-only: Eastmoney's endpoint alone
}  # fmt: skip


@pytest.mark.parametrize("text", list(EXPECTED))
def test_sources_per_kind_in_order(text):
    found = [(s.name, s.upstream.function, s.upstream.host_family) for s in bar_sources_for(parse_symbol(text))]
    assert found == EXPECTED[text]


@pytest.mark.parametrize(("text", "kwargs"), [
    ("000300.SH", [{"symbol": "sh000300", "start_date": "20240102", "end_date": "20240329"},
                   {"symbol": "sh000300"},
                   {"symbol": "sh000300", "start_date": "20240102", "end_date": "20240329"}]),
    ("510300.SH", [{"symbol": "510300", "period": "daily", "start_date": "20240102", "end_date": "20240329",
                    "adjust": ""}, {"symbol": "sh510300"}]),
    ("00700.HK", [{"symbol": "00700", "period": "daily", "start_date": "20240102", "end_date": "20240329",
                   "adjust": ""}, {"symbol": "00700", "adjust": ""}]),
])  # fmt: skip
def test_each_source_is_asked_in_its_own_symbol_form_and_unadjusted(text, kwargs):
    from datetime import date

    symbol = parse_symbol(text)
    asked = [s.kwargs(symbol, date(2024, 1, 2), date(2024, 3, 29)) for s in bar_sources_for(symbol)]
    assert asked == kwargs


@pytest.mark.parametrize("name", ["stock_zh_index_daily", "stock_zh_index_daily_tx", "fund_etf_hist_sina",
                                  "stock_hk_daily"])  # fmt: skip
def test_the_simulated_functions_take_akshares_arguments(name):
    import inspect

    import akshare

    from quantdb_lab.providers.akshare.simulated_upstream import FUNCTIONS, SimulatedAkshare

    def params(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values() if p.name != "self"]

    assert name in FUNCTIONS
    assert params(getattr(SimulatedAkshare, name)) == params(getattr(akshare, name))
