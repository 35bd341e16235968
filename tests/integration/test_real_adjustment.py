"""Adjustment on real data, end to end through the Lab: baostock's unadjusted bars (with the exchange's preclose)
served by the replay provider, qfq and hfq derived by the loader, checked against Tushare's multiplicative qfq
(an independent vendor's answer) and against the exchange's own total return. Skipped without ../shared/data."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.lab import Lab
from quantdb_lab.providers.replay import ReplayProvider
from tests.support.sim import at
from tests.support.tushare import pinned_return

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BAOSTOCK, TUSHARE = SHARED / "baostock_csi300_daily", SHARED / "tushare_qfq_daily"
EM = SHARED / "akshare_em_daily"
pytestmark = pytest.mark.skipif(not (BAOSTOCK.is_dir() and TUSHARE.is_dir()), reason="../shared/data is absent")
START, END = date(2020, 1, 2), date(2025, 4, 7)


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    clock = FixedClock(at("2025-04-07 16:00"))
    provider = ReplayProvider(BAOSTOCK, calendar_file=SHARED / "calendar" / "akshare_calendar.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Lab(tmp_path_factory.mktemp("real"), provider=provider, clock=clock, mode="research")


def tushare(code: str) -> pl.DataFrame:
    return ReplayProvider(TUSHARE).fetch_daily_bars(parse_symbol(code), START, END, adjust="qfq")


@pytest.mark.parametrize("code", ["601398", "601288", "600028", "002459"])
def test_our_qfq_is_tushares_multiplicative_qfq(lab, code):
    ours = lab.bars(code, start=START, end=END, adjust="qfq").filter(pl.col("volume") > 0)
    theirs = tushare(code)
    both = ours.select("date", "close").join(theirs.select("date", pl.col("close").alias("ts")), on="date")
    assert both.height > 1200
    # Tushare's qfq is anchored months later (more dividends since): the same multiplicative series up to a scale,
    # published to the cent (for a 5-CNY bank that rounding alone is up to 0.1 %: compare at the same precision)
    ratio = both["ts"] / both["close"]
    scale = ratio.median()
    rel = ((both["close"] * scale * 100 + 0.5).floor() / 100 / both["ts"] - 1).abs()
    assert rel.median() <= 5e-4 and rel.max() <= 5e-3
    assert ((both["close"] * scale - both["ts"]).abs() <= 0.0101).mean() >= 0.97  # within a cent
    # five-year cumulative return equal to the exchange's own daily returns (baostock's pctChg, a column the
    # loader never reads) within 0.1 pp
    ours = both["close"][-1] / both["close"][0]
    raw = lab.bars(code, start=both["date"][0], end=END, adjust="")
    exchange = float((1.0 + raw["pct_change"].slice(1).fill_null(0.0)).product())
    assert abs(ours - exchange) <= 0.001


def both_sets() -> list[str]:
    if not (BAOSTOCK.is_dir() and TUSHARE.is_dir()):
        return ["absent"]  # the module is skipped
    return sorted(set(ReplayProvider(BAOSTOCK).sets[0].files()) & set(ReplayProvider(TUSHARE).sets[0].files()))


@pytest.mark.parametrize("code", both_sets())
def test_five_year_returns_are_tushares_within_a_tenth_of_a_point(lab, code):
    """Against Tushare's return with its own cent rounding taken out (tests.support.tushare): a cent is 0.5 % of
    a 1.86 CNY price, so the return read off Tushare's first and last prices alone is uncertain by 0.4 pp."""
    raw = lab.bars(code, start=START, end=END, adjust="")
    pinned = pinned_return(raw, tushare(code))
    assert min(pinned.rows) >= 20  # each end pinned by weeks of rows, not by one price
    ours = lab.bars(code, start=pinned.first, end=pinned.last, adjust="qfq").filter(pl.col("volume") > 0)["close"]
    assert abs(ours[-1] / ours[0] - pinned.middle) <= 0.001


@pytest.mark.parametrize("code", ["601398", "600588"])
def test_hfq_daily_returns_are_the_exchanges_total_return(lab, code):
    hfq = lab.bars(code, start=START, end=END, adjust="hfq")
    raw = lab.bars(code, start=START, end=END, adjust="")
    closes = hfq["close"].to_numpy()
    total = (raw["close"] / (raw["close"] - raw["change"])).to_numpy() - 1.0  # close / the exchange's preclose
    assert np.abs(closes[1:] / closes[:-1] - 1.0 - total[1:]).max() < 1e-9
    assert np.abs(hfq["pct_change"].to_numpy()[1:] - raw["pct_change"].to_numpy()[1:]).max() < 1e-6


def test_cold_qfq_one_symbol_one_year_is_one_call(tmp_path):
    provider = ReplayProvider(BAOSTOCK, calendar_file=SHARED / "calendar" / "akshare_calendar.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = Lab(tmp_path, provider=provider, clock=FixedClock(at("2025-04-07 16:00")), mode="research")
        frame = fresh.bars("600009", start="2024-01-01", end="2024-12-31", adjust="qfq")
    assert frame.quantdb.provenance.series[0].upstream_calls == 1


@pytest.mark.skipif(not EM.is_dir(), reason="../shared/data is absent")
def test_a_set_without_reference_prices_or_tables_refuses_qfq(tmp_path):
    clock = FixedClock(at("2026-08-11 16:00"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path, provider=ReplayProvider(EM), clock=clock)
        assert lab.bars("601398", start="2026-02-02", end="2026-02-27", adjust="").height > 10
        with pytest.raises(InvalidRequestError, match="no adjustment factors"):
            lab.bars("601398", start="2026-02-02", end="2026-02-27", adjust="qfq")
