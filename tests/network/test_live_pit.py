"""Live canary for the point-in-time sources (off by default; QUANTDB_LAB_LIVE=1 on a networked machine).

The first online run settles what the offline replays assume: the delisting lists' columns and dates, the F10
sheets' column names (for an industrial and a bank), that a report's NOTICE_DATE precedes its UPDATE_DATE, and
for SZSE's short-name changes (``stock_info_sz_change_name(symbol="简称变更")``): its column names (变更前简称 /
变更后简称 are read off the full-name tab's 变更前全称 / 变更后全称, not seen live), whether ST designations are
recorded there as name changes, and that 变更前简称 is the name before (each change's former name is the
previous change's new one). And our valuation panel against Eastmoney's own (``stock_value_em``): whether its
PE (TTM), PB, PS (TTM) and total market cap agree with ours, computed from raw closes and the F10 sheets."""

from __future__ import annotations

import os
from datetime import date

import polars as pl
import pytest

from quantdb_lab.domain.pit import FINANCIALS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.environ.get("QUANTDB_LAB_LIVE") != "1", reason="live canary: set QUANTDB_LAB_LIVE=1"),
]


def test_the_delisting_lists_hold_hundreds_of_terminated_listings():
    events = AkshareProvider(timeout=30).fetch_security_events()
    delisted = events.filter(pl.col("event") == "delisted")
    assert delisted.height > 200 and delisted["date"].max() <= date.today()
    assert {"SH", "SZ"} <= {s.split(".")[1] for s in delisted["symbol"]}


@pytest.mark.parametrize("code", ["600519", "601398"])  # an industrial and a bank (OPERATE_INCOME)
def test_the_three_sheets_fill_every_field_of_the_latest_annual_report(code):
    frame = AkshareProvider(timeout=60).fetch_financials(parse_symbol(code))
    assert frame.schema == pl.Schema(FINANCIALS)
    annual = frame.filter(pl.col("report_period").dt.month() == 12).sort("report_period").row(-1, named=True)
    missing = [k for k in ("revenue", "parent_net_profit", "total_assets", "parent_equity", "share_capital",
                           "operating_cash_flow") if annual[k] is None]  # fmt: skip
    assert not missing, f"F10 columns renamed? no {missing}"
    assert (frame["update_date"] >= frame["announcement_date"]).all()


def test_szse_short_name_changes_record_st_designations_and_chain():
    events = AkshareProvider(timeout=60).fetch_security_events()
    changes = events.filter(pl.col("former_name").is_not_null()).sort("symbol", "date", maintain_order=True)
    assert changes.height > 1000 and changes["date"].max() <= date.today()
    kinds = set(changes["event"])
    assert {"st", "star_st", "st_removed"} <= kinds, f"ST designations not recorded as name changes: {kinds}"
    recent = changes.filter((pl.col("date").dt.year() >= date.today().year - 2) & pl.col("event").is_in(["st", "star_st"]))
    assert recent.height > 5, "no ST designation in the last two years: the list may stop at full-name changes"
    pairs = changes.with_columns(pl.col("name").shift(1).over("symbol").alias("previous")).drop_nulls("previous")
    chained = (pairs["former_name"].str.replace_all(r"\s", "") == pairs["previous"].str.replace_all(r"\s", "")).mean()
    assert chained > 0.9, f"only {chained:.0%} of changes start from the previous change's name: columns swapped?"


def test_the_results_tables_of_an_annual_season_have_plausible_figures_by_position():
    """akshare names these columns by position: plausible figures say the positions still hold. Also settles
    whether the results table's 最新公告日期 is the report's first announcement (F10's NOTICE_DATE) or its
    latest revision (UPDATE_DATE): the assertion message names which."""
    provider = AkshareProvider(timeout=120)
    frame = provider.fetch_earnings_releases(None, date(2025, 3, 1), date(2025, 4, 30))
    assert {"express", "report"} <= set(frame["kind"]) and frame.height > 3000
    assert (frame["known_at"] > frame["report_period"]).all()
    moutai = frame.filter((pl.col("symbol") == "600519.SH") & (pl.col("kind") == "report")
                          & (pl.col("report_period") == date(2024, 12, 31))).row(0, named=True)  # fmt: skip
    assert 1.5e11 < moutai["revenue"] < 2.5e11 and 0.2 < moutai["roe"] < 0.5 and 50 < moutai["basic_eps"] < 100
    sheets = provider.fetch_financials(parse_symbol("600519")).filter(pl.col("report_period") == date(2024, 12, 31))
    notice, update = sheets["announcement_date"].item(), sheets["update_date"].item()
    assert moutai["known_at"] in (notice, update), (moutai["known_at"], notice, update)
    assert moutai["known_at"] == notice, f"最新公告日期 is the latest revision ({update}), not the announcement"


def test_the_forecast_table_of_an_annual_season_names_its_indicators_and_types():
    frame = AkshareProvider(timeout=120).fetch_earnings_forecasts(None, date(2025, 1, 2), date(2025, 1, 31))
    assert frame.height > 500 and set(frame["report_period"]) >= {date(2024, 12, 31)}
    assert (frame["indicator"] == "parent_net_profit").mean() > 0.3, frame["indicator"].value_counts()
    assert (frame["forecast_type"] == "other").mean() < 0.1, frame["forecast_type"].value_counts()
    profits = frame.filter(pl.col("indicator") == "parent_net_profit").drop_nulls(["value", "previous_value"])
    assert (profits["value"].abs() > 1e5).mean() > 0.9  # CNY, not 10k CNY


def test_the_risk_warning_board_lists_st_names_of_both_exchanges():
    board = AkshareProvider(timeout=60).fetch_st_board()
    assert board.height > 50 and set(board["date"]) == {board["date"].max()}
    assert board["name"].str.contains(r"^S?\*?ST").mean() > 0.9, board.head()  # 名称 still where akshare reads it
    assert {"SH", "SZ"} <= {s.split(".")[1] for s in board["symbol"]}


@pytest.mark.parametrize("code", ["600519", "601398"])
def test_our_valuation_agrees_with_eastmoneys_own(code, tmp_path):
    import akshare as ak

    from quantdb_lab import Lab
    from quantdb_lab.domain.valuation import compare_valuation
    from quantdb_lab.providers.akshare.pit import transform_value_em

    symbol = parse_symbol(code)
    end = date.today()
    ours = Lab(tmp_path, provider=AkshareProvider(timeout=60)).valuation([symbol.canonical], start=date(end.year - 1, 1, 1), end=end)
    theirs = transform_value_em(ak.stock_value_em(symbol=code), symbol, context={})
    table = compare_valuation(ours, theirs, tolerance=0.02)
    print(table)  # the first online run records the agreement, field by field
    medians = {r["field"]: r["median_rel"] for r in table.iter_rows(named=True)}
    assert min(r["sessions"] for r in table.iter_rows(named=True)) > 100
    assert medians["total_mv"] < 0.01, f"share capital or close differ from Eastmoney's: {table}"
    assert medians["pb"] < 0.03 and medians["pe_ttm"] < 0.03, f"equity or TTM profit differ from Eastmoney's: {table}"
