"""ReplayProvider on recorded akshare CSVs: the project's small fixture always, the shared real data when present.

Expected values are read off the recorded files by hand (lots x 100, percent / 100), not from the code.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantdb_lab.domain.schema import BARS, SECURITIES
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import EmptyResultError, InvalidRequestError, ProviderUnavailableError
from quantdb_lab.providers.base import Provider
from quantdb_lab.providers.replay import ReplayProvider

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "akshare"
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
EM_DAILY = SHARED_DATA / "akshare_em_daily"
ALL = (date(1990, 1, 1), date(2099, 12, 31))


@pytest.fixture
def replay() -> ReplayProvider:
    return ReplayProvider(FIXTURES / "replay")


# -- the project's fixture ----------------------------------------------------------------------------


def test_protocol_and_identity(replay):
    assert isinstance(replay, Provider)
    assert (replay.name, replay.synthetic) == ("replay", False)
    assert replay.host_family(parse_symbol("600519")) == "local"


def test_bars_match_the_hand_written_expectation(replay):
    # 600519.csv records the same three days as the kline fixture, so the expected frame is shared.
    expected = pl.read_csv(FIXTURES / "kline_stock_600519_daily.expected.csv", schema=BARS)
    assert_frame_equal(replay.fetch_daily_bars(parse_symbol("600519.SH"), *ALL), expected)


def test_range_is_inclusive_and_no_adjustment_is_served_that_was_not_recorded(replay):
    symbol = parse_symbol("600519")
    window = replay.fetch_daily_bars(symbol, date(2024, 3, 4), date(2024, 3, 5))
    assert window["date"].to_list() == [date(2024, 3, 4), date(2024, 3, 5)]
    for adjust in ("hfq", "qfq"):  # the files are unadjusted: the same frame under another label would be wrong
        with pytest.raises(InvalidRequestError, match="no " + adjust):
            replay.fetch_daily_bars(symbol, date(2024, 3, 4), date(2024, 3, 5), adjust=adjust)
    assert replay.adjustment_of(symbol) == "Eastmoney unadjusted (akshare CSVs)"
    assert replay.factor_source(symbol) == "actions"  # Eastmoney's change is close to close


def test_file_and_code_column_that_lost_leading_zeros(replay):
    out = replay.fetch_daily_bars(parse_symbol("000338"), *ALL)
    assert out["symbol"].to_list() == ["000338.SZ", "000338.SZ"]
    assert out["date"].to_list() == [date(2024, 3, 4), date(2024, 3, 6)]
    assert out["volume"].to_list() == [51234500.0, 49876500.0]
    assert out["turnover"].to_list() == pytest.approx([0.0059, 0.0057])


def test_indices_etfs_and_hk_are_served_from_their_files(replay):
    # the files hold the same rows as the kline fixtures, so their hand-written expectations are shared
    for text, name in (("sz399001", "kline_index_399001_f58"), ("159915", "kline_etf_159915_daily"),
                       ("09988.HK", "kline_hk_09988_20240304_20240305")):  # fmt: skip
        expected = pl.read_csv(FIXTURES / f"{name}.expected.csv", schema=BARS)
        assert_frame_equal(replay.fetch_daily_bars(parse_symbol(text), *ALL), expected)


def test_a_symbol_without_a_file_says_what_the_set_holds(replay):
    for text in ("600000", "000001.SH", "00700.HK"):  # a stock, an index and a HK code the set has no file for
        with pytest.raises(EmptyResultError) as info:
            replay.fetch_daily_bars(parse_symbol(text), *ALL)
        assert "no file" in info.value.reason and "unknown, delisted" not in str(info.value)


def test_trade_dates_from_files_or_calendar(replay, tmp_path):
    assert replay.fetch_trade_dates() == [date(2024, 3, d) for d in (1, 4, 5, 6)]
    calendar = tmp_path / "calendar.json"
    calendar.write_text(json.dumps(["20240102", "20240103"]), encoding="utf-8")
    with_calendar = ReplayProvider(FIXTURES / "replay", calendar_file=calendar)
    assert with_calendar.fetch_trade_dates() == [date(2024, 1, 2), date(2024, 1, 3)]


def test_securities_from_file_names_and_names_file(replay):
    expected = pl.DataFrame(
        [("000338.SZ", "潍柴动力", None, "main", None), ("600519.SH", "贵州茅台", None, "main", None)],
        schema=SECURITIES,
        orient="row",
    )
    assert_frame_equal(replay.fetch_securities(), expected)


def test_missing_directory_is_not_retryable(tmp_path):
    with pytest.raises(ProviderUnavailableError) as info:
        ReplayProvider(tmp_path / "absent").fetch_daily_bars(parse_symbol("600519"), *ALL)
    assert info.value.retryable is False


# -- the shared real data (skipped in a fresh clone) ----------------------------------------------------

shared = pytest.mark.skipif(not EM_DAILY.is_dir(), reason=f"shared data not present at {EM_DAILY}")


@pytest.fixture(scope="module")
def real() -> ReplayProvider:
    if not EM_DAILY.is_dir():
        pytest.skip(f"shared data not present at {EM_DAILY}")
    return ReplayProvider(EM_DAILY)


@shared
def test_real_qfq_close_matches_the_readme(real):
    # README: 600039 close on 2025-04-07, akshare qfq as of about 2026-01: 7.94 (file row: 成交量 711242, 换手率 1.06)
    row = real.fetch_daily_bars(parse_symbol("600039"), date(2025, 4, 7), date(2025, 4, 7), adjust="qfq").row(0, named=True)
    assert row["close"] == 7.94
    assert row["volume"] == 71124200.0
    assert row["turnover"] == pytest.approx(0.0106)


@shared
def test_real_long_file_is_qfq_up_to_the_recording_and_unadjusted_after(real):
    symbol = parse_symbol("600039")
    qfq = real.fetch_daily_bars(symbol, *ALL, adjust="qfq")
    raw = real.fetch_daily_bars(symbol, *ALL)
    assert qfq.height + raw.height == 5532  # 5533 lines minus the header: every row, each under its own label
    assert qfq["date"].max() <= date(2026, 1, 26) < raw["date"].min()
    assert qfq.row(0, named=True)["close"] == -1.52  # 2003-03-25: Eastmoney's additive qfq, never "unadjusted"
    assert "qfq as of 2026-01-26" in real.adjustment_of(symbol)


@shared
def test_real_code_column_that_lost_zeros_is_ignored(real):
    # 000016.csv: 股票代码 is "16" on 2026-01-27 and "000016" on 2026-01-28
    out = real.fetch_daily_bars(parse_symbol("000016"), date(2026, 1, 27), date(2026, 1, 28))
    assert out["symbol"].to_list() == ["000016.SZ", "000016.SZ"]
    assert out["close"].to_list() == [5.09, 5.09]
    assert out["volume"].to_list() == [2718735700.0, 1475071600.0]  # the upstream unit switch stays visible


@shared
def test_real_securities_and_trade_dates(real):
    securities = real.fetch_securities()
    assert securities.height == len(list((EM_DAILY / "stock_data").glob("*.csv")))
    assert securities.filter(pl.col("symbol") == "000001.SZ")["name"].to_list() == ["平安银行"]
    assert securities["name"].null_count() == 0
    dates = real.fetch_trade_dates()
    assert dates == sorted(dates) and dates[-1] >= date(2026, 1, 1)
    calendar = SHARED_DATA / "calendar" / "akshare_calendar.json"
    if calendar.exists():
        sessions = ReplayProvider(EM_DAILY, calendar_file=calendar).fetch_trade_dates()
        assert (sessions[0], sessions[-1], len(sessions)) == (date(1990, 12, 19), date(2026, 12, 31), 8797)
