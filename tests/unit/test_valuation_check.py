"""Our valuation panel checked against an upstream valuation series (Eastmoney's stock_value_em)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import polars as pl
import pytest

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.domain.valuation import compare_valuation
from quantdb_lab.errors import ProviderSchemaError
from quantdb_lab.providers.akshare.pit import transform_value_em

D1, D2, D3 = date(2024, 6, 3), date(2024, 6, 4), date(2024, 6, 5)


def test_the_comparison_reports_each_field_on_the_sessions_both_have():
    ours = pl.DataFrame({"date": [D1, D2, D3], "symbol": ["600519.SH"] * 3, "total_mv": [100.0, 110.0, 120.0],
                         "pe_ttm": [20.0, None, 30.0], "pb": [5.0, 5.0, 5.0]})  # fmt: skip
    theirs = pl.DataFrame({"date": [D1, D2], "symbol": ["600519.SH"] * 2, "total_mv": [100.0, 100.0],
                           "pe_ttm": [25.0, 22.0], "pb": [5.0, 5.05]})  # fmt: skip
    table = {r["field"]: r for r in compare_valuation(ours, theirs, tolerance=0.02).iter_rows(named=True)}
    assert set(table) == {"total_mv", "pe_ttm", "pb"}  # ps_ttm: on neither side
    mv = table["total_mv"]  # D1 equal, D2 110 vs 100: 10%; D3 only ours
    assert mv["sessions"] == 2 and mv["worst_rel"] == pytest.approx(0.10) and mv["median_rel"] == pytest.approx(0.05)
    assert mv["within"] == pytest.approx(0.5) and mv["worst_date"] == D2
    pe = table["pe_ttm"]  # D2 is null on our side (a loss): D1 alone, 20 vs 25
    assert pe["sessions"] == 1 and pe["worst_rel"] == pytest.approx(0.2) and pe["within"] == 0.0
    pb = table["pb"]  # 5 vs 5.05: 0.99%, inside 2%
    assert pb["within"] == 1.0 and pb["worst_rel"] == pytest.approx(0.05 / 5.05)


def test_stock_value_em_is_read_into_our_units_and_names():
    # the columns stock_value_em returns (akshare 1.19): the date as a date, figures as numbers, 总市值 in CNY
    raw = pd.DataFrame({"数据日期": [D2, D1], "当日收盘价": [1500.0, 1490.0], "当日涨跌幅": [0.67, -0.2],
                        "总市值": [1.884e12, 1.872e12], "流通市值": [1.884e12, 1.872e12], "总股本": [1.256e9] * 2,
                        "流通股本": [1.256e9] * 2, "PE(TTM)": [25.1, 24.9], "PE(静)": [26.0, 25.8], "市净率": [8.1, 8.0],
                        "PEG值": [1.2, 1.1], "市现率": [20.0, 19.9], "市销率": [12.3, 12.2]})  # fmt: skip
    frame = transform_value_em(raw, parse_symbol("600519"), context={})
    assert frame.columns == ["date", "symbol", "total_mv", "pe_ttm", "pb", "ps_ttm"]
    assert frame["date"].to_list() == [D1, D2] and frame["symbol"].unique().to_list() == ["600519.SH"]
    assert frame.row(0) == (D1, "600519.SH", 1.872e12, 24.9, 8.0, 12.2)
    assert transform_value_em(pd.DataFrame(), parse_symbol("600519"), context={}).is_empty()
    with pytest.raises(ProviderSchemaError):
        transform_value_em(raw.drop(columns=["PE(TTM)"]), parse_symbol("600519"), context={})
