"""The akshare reference datasets for questions: futures main contracts and CSI index constituents, transformed
from frames shaped like akshare 1.19.5's (the functions patched at ``akshare.<function>``)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from quantdb_lab.domain.schema import COMMODITY_BARS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import ProviderSchemaError
from quantdb_lab.providers.akshare import provider as provider_module
from quantdb_lab.providers.akshare.provider import AkshareProvider

FUTURES = pd.DataFrame({
    "日期": [date(2025, 6, 4), date(2025, 6, 5)], "开盘价": [480.0, 482.5], "最高价": [485.1, 490.0],
    "最低价": [478.2, 481.0], "收盘价": [482.0, 488.8], "成交量": [150000, 170000], "持仓量": [40000, 41000],
    "动态结算价": [481.5, 486.0],
})  # fmt: skip
CONS = pd.DataFrame({
    "日期": [date(2025, 6, 6)] * 3, "指数代码": ["000300"] * 3, "指数名称": ["沪深300"] * 3,
    "指数英文名称": ["CSI 300"] * 3, "成分券代码": ["600519", "000858", "300750"], "成分券名称": ["贵州茅台", "五粮液", "宁德时代"],
    "成分券英文名称": ["a", "b", "c"], "交易所": ["上海证券交易所", "深圳证券交易所", "深圳证券交易所"],
    "交易所英文名称": ["SSE", "SZSE", "SZSE"],
})  # fmt: skip


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def fake(function, kwargs, **options):
        seen.append((function, kwargs))
        return {"futures_main_sina": FUTURES, "index_stock_cons_csindex": CONS}[function]

    monkeypatch.setattr(provider_module, "call_akshare", fake)
    return seen


def test_futures_main_contract_bars(calls):
    frame = AkshareProvider().fetch_commodity_daily("sc0")
    assert calls == [("futures_main_sina", {"symbol": "SC0", "start_date": "19900101", "end_date": "22220101"})]
    assert dict(frame.schema) == COMMODITY_BARS
    assert frame["close"].to_list() == [482.0, 488.8] and frame["open_interest"].to_list() == [40000.0, 41000.0]
    assert frame["symbol"].unique().to_list() == ["SC0"]


def test_index_constituents(calls):
    members = AkshareProvider().fetch_index_members(parse_symbol("000300.SH"))
    assert calls == [("index_stock_cons_csindex", {"symbol": "000300"})]
    assert members == ["000858.SZ", "300750.SZ", "600519.SH"]


def test_a_renamed_column_is_schema_drift(monkeypatch):
    broken = FUTURES.rename(columns={"收盘价": "close"})
    monkeypatch.setattr(provider_module, "call_akshare", lambda *a, **k: broken)
    with pytest.raises(ProviderSchemaError):
        AkshareProvider().fetch_commodity_daily("SC0")


def test_reference_host_families():
    provider = AkshareProvider()
    served = provider.fetchers()
    assert served["commodity_daily"].host_family(None) == "sina"
    assert served["securities"].host_family(None) == "exchange"
