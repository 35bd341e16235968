"""akshare's minute-bar answers into MINUTE_BARS (providers.akshare.minutes), the registry's minute entries, and
how a derived dataset's plan counts the sessions its finer dataset holds (loader.finer_bars.with_finer).

The raw frames are written here in akshare 1.19.5's shapes (docs: ../shared/docs/akshare-upstream.md section 2,
and akshare's own code): the stock's 均价, the index's 最新价, the ETF's strings and 'YYYY-MM-DD HH:MM' times."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import polars as pl
import pytest

from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.domain.datasets import dataset_for_freq, datasets
from quantdb_lab.domain.schema import MINUTE_BARS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import ProviderSchemaError
from quantdb_lab.loader.finer_bars import with_finer
from quantdb_lab.providers.akshare.minutes import minute_query, transform_minutes
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.records import SeriesMeta

CONTEXT = {"dataset": "minute_bars"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EXCHANGE_TZ)


def test_the_etf_answer_has_strings_and_minutes_without_seconds():
    raw = pd.DataFrame({"时间": ["2026-03-23 09:30", "2026-03-23 09:31"], "开盘": ["0.000", "3.901"],
                        "收盘": ["3.900", "3.905"], "最高": ["3.900", "3.910"], "最低": ["3.900", "3.899"],
                        "成交量": ["1000", "2500"], "成交额": ["390000.0", "975500.0"], "均价": ["3.900", "3.902"]})  # fmt: skip
    out = transform_minutes(raw, "fund_etf_hist_min_em", parse_symbol("510300"), start=date(2026, 3, 23),
                            end=date(2026, 3, 23), context=CONTEXT)  # fmt: skip
    assert out.schema == pl.Schema(MINUTE_BARS)
    assert out["time"].to_list() == [at("2026-03-23 09:30"), at("2026-03-23 09:31")]
    assert out["open"].to_list() == [3.9, 3.901] and out["volume"].to_list() == [100000.0, 250000.0]
    assert out["open_estimated"].to_list() == [False, False]


def test_the_index_answer_names_its_last_column_differently_and_the_range_is_kept():
    raw = pd.DataFrame({"时间": ["2026-03-20 15:00:00", "2026-03-23 09:31:00"], "开盘": [3300.0, 3301.0],
                        "收盘": [3301.0, 3302.5], "最高": [3302.0, 3303.0], "最低": [3299.0, 3300.5],
                        "成交量": [10, 20], "成交额": [1e6, 2e6], "最新价": [3301.0, 3302.5]})  # fmt: skip
    out = transform_minutes(raw, "index_zh_a_hist_min_em", parse_symbol("000300.SH"), start=date(2026, 3, 23),
                            end=date(2026, 3, 23), context=CONTEXT)  # fmt: skip
    assert out["time"].to_list() == [at("2026-03-23 09:31")] and out["symbol"].to_list() == ["000300.SH"]


def test_a_missing_column_or_an_unreadable_time_is_a_schema_error():
    raw = pd.DataFrame({"时间": ["2026-03-23 09:31:00"], "开盘": [1.0], "收盘": [1.0], "最高": [1.0], "最低": [1.0],
                        "成交量": [1]})  # fmt: skip
    with pytest.raises(ProviderSchemaError):
        transform_minutes(raw, "stock_zh_a_hist_min_em", parse_symbol("600519"), start=date(2026, 3, 23),
                          end=date(2026, 3, 23), context=CONTEXT)  # fmt: skip
    bad = raw.assign(成交额=[1.0], 时间=["yesterday"])
    with pytest.raises(ProviderSchemaError, match="unreadable times"):
        transform_minutes(bad, "stock_zh_a_hist_min_em", parse_symbol("600519"), start=date(2026, 3, 23),
                          end=date(2026, 3, 23), context=CONTEXT)  # fmt: skip


def test_each_kind_of_symbol_calls_its_function():
    assert minute_query(parse_symbol("600519"), date(2026, 3, 23), date(2026, 3, 24), "1") == (
        "stock_zh_a_hist_min_em", {"symbol": "600519", "start_date": "2026-03-23 09:00:00",
                                   "end_date": "2026-03-24 15:30:00", "period": "1", "adjust": ""})  # fmt: skip
    assert minute_query(parse_symbol("000300.SH"), date(2026, 3, 23), date(2026, 3, 24), "5")[0] == "index_zh_a_hist_min_em"
    assert "adjust" not in minute_query(parse_symbol("000300.SH"), date(2026, 3, 23), date(2026, 3, 24), "5")[1]
    assert minute_query(parse_symbol("159915"), date(2026, 3, 23), date(2026, 3, 24), "60")[0] == "fund_etf_hist_min_em"


def test_the_registry_holds_five_minute_datasets():
    minutes = [d for d in datasets().values() if d.bar_minutes]
    assert [d.freq for d in minutes] == ["1min", "5min", "15min", "30min", "60min"]
    assert dataset_for_freq("1min").upstream_sessions == 5 and dataset_for_freq("1min").derived_from is None
    assert {d.derived_from for d in minutes[1:]} == {"bars_1min"} and dataset_for_freq("weekly") is None
    assert all(d.fetch_unit == "window" and d.index == "timestamp" and d.index_column == "time" for d in minutes)


def test_a_derived_plan_counts_what_the_finer_series_holds():
    own = SeriesMeta(coverage=Coverage.from_pairs([[10, 12]]), provisional_day=20, provisional_at=100.0)
    finer = SeriesMeta(coverage=Coverage.from_pairs([[15, 19]]), provisional_day=20, provisional_at=200.0)
    merged = with_finer(own, finer)
    assert merged.coverage.to_pairs() == [[10, 12], [15, 19]] and merged.provisional_at == 200.0
    assert with_finer(own, None) is own
    assert with_finer(None, finer).coverage.to_pairs() == [[15, 19]]
    older = with_finer(SeriesMeta(provisional_day=20, provisional_at=300.0), finer)
    assert older.provisional_at == 300.0  # the coarse series' own fetch is the fresher one
