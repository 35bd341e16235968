"""Indices, ETFs and Hong Kong stocks survive an Eastmoney ban: their Sina (and, for indices, Tencent) daily
bars serve through the Lab, over akshare's functions answered by the simulated upstream in their wire shapes.

Expected values are the simulated market's own rows (``SimulatedProvider.fetch_daily_bars``), put on each
wire's rounding by hand: Sina index, ETF and HK prices to 3 decimals, Tencent to 2; volume in shares, Tencent's
index volume in whole lots. Expected sources follow from the scenario, not from the code under test."""

from __future__ import annotations

from unittest import mock

import akshare
import polars as pl
import pytest

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import SourceMismatchError
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from quantdb_lab.throttle.policy import RateLimit
from tests.support.akshare_sim import akshare_lab, simulated_akshare
from tests.support.sim import MARKET, d

NOW = "2025-06-06 16:00"
LATER = "2024-03-29 16:00"
QUARTER = 91 * 86400.0
FAMILIES = ("eastmoney_push2his", "eastmoney_datacenter", "sina", "sina_kline", "tencent")
FAST = {family: RateLimit(per_second=1e9, burst=10**9) for family in FAMILIES}
INDEX = "000300.SH"
ETF = "510300.SH"
HK = MARKET.symbols("hk")[0]
START, END = "2024-01-02", "2024-03-29"


@pytest.fixture
def upstream(request):
    with simulated_akshare(getattr(request, "param", NOW)) as pair:
        yield pair


def lab_over(upstream, tmp_path, limits=FAST):
    return akshare_lab(tmp_path / "cache", upstream[1], limits)


def sources(frame: pl.DataFrame):
    return [(name, str(a), str(b)) for name, a, b in frame.quantdb.provenance.series[0].served_by]


def market_rows(symbol: str, start: str = START, end: str = END) -> pl.DataFrame:
    """The simulated market's own unadjusted bars, straight from the market (not through akshare)."""
    provider = SimulatedProvider(MARKET, faults=Faults())
    return provider.fetch_daily_bars(parse_symbol(symbol), d(start), d(end), adjust="").sort("date")


def prices(frame: pl.DataFrame, decimals: int) -> pl.DataFrame:
    return frame.select("date", *[pl.col(c).round(decimals) for c in ("open", "high", "low", "close")])


@pytest.mark.parametrize(("symbol", "function"), [
    (INDEX, "stock_zh_index_daily"), (ETF, "fund_etf_hist_sina"), (HK, "stock_hk_daily"),
])  # fmt: skip
def test_an_eastmoney_ban_moves_other_kinds_to_sina(upstream, tmp_path, symbol, function):
    sim, _ = upstream
    sim.bans.ban("eastmoney_push2his")
    lab = lab_over(upstream, tmp_path)
    frame = lab.bars(symbol, start=START, end=END, adjust="")
    expected = market_rows(symbol)
    assert sources(frame) == [("sina", START, END)]
    assert sim.call_counts.get(function, 0) >= 1 and sim.bans.refused["eastmoney_push2his"] >= 1
    assert frame["date"].to_list() == expected["date"].to_list()
    assert prices(frame, 3).equals(prices(expected, 3))
    assert frame["volume"].to_list() == expected["volume"].round(0).to_list()  # shares from Sina, as the market


def test_an_index_falls_to_tencent_with_its_volume_in_shares(upstream, tmp_path):
    sim, _ = upstream
    sim.bans.ban("eastmoney_push2his")
    sim.bans.ban("sina_kline", kind="reset")
    lab = lab_over(upstream, tmp_path)
    frame = lab.bars(INDEX, start=START, end=END)
    expected = market_rows(INDEX)
    assert sources(frame) == [("tencent", START, END)]
    assert sim.call_counts.get("stock_zh_index_daily_tx", 0) >= 1
    assert prices(frame, 2).equals(prices(expected, 2))
    # Tencent hands an index's volume out in lots, under the name "amount": whole lots x 100 shares
    assert frame["volume"].to_list() == ((expected["volume"] / 100).round(0) * 100).to_list()
    assert frame["amount"].null_count() == frame.height  # Tencent's index answer has no turnover value


def test_healthy_eastmoney_still_serves_other_kinds_first(upstream, tmp_path):
    sim, _ = upstream
    lab = lab_over(upstream, tmp_path)
    for symbol in (INDEX, ETF, HK):
        assert sources(lab.bars(symbol, start=START, end=END, adjust="")) == [("eastmoney", START, END)]
    assert all(sim.call_counts.get(f, 0) == 0 for f in
               ("stock_zh_index_daily", "stock_zh_index_daily_tx", "fund_etf_hist_sina", "stock_hk_daily"))


def off_by(name: str, factor: float):
    real = getattr(akshare, name)

    def wrong(*args, **kwargs):
        frame = real(*args, **kwargs)
        frame["close"] = (frame["close"] * factor).round(3)
        return frame

    return wrong


@pytest.mark.parametrize("upstream", [LATER], indirect=True)
def test_an_index_whose_sina_bars_disagree_is_flagged_and_tencent_serves(upstream, tmp_path):
    sim, clock = upstream
    lab = lab_over(upstream, tmp_path)
    lab.bars(INDEX, start=START, end=END)  # stored from Eastmoney
    sim.bans.ban("eastmoney_push2his")
    clock.advance(QUARTER)
    with mock.patch.object(akshare, "stock_zh_index_daily", off_by("stock_zh_index_daily", 1.05)):
        frame = lab.bars(INDEX, start=START, end="2024-06-28")
    assert [r[0] for r in sources(frame)] == ["eastmoney", "tencent"]
    issues = lab.source_issues()
    assert issues.height and "sina and eastmoney disagree" in issues["detail"][0]
    assert set(issues["check"]) == {"source_mismatch"}
    expected = market_rows(INDEX, START, "2024-06-28")
    assert frame["date"].to_list() == expected["date"].to_list()  # nothing lost, nothing duplicated


@pytest.mark.parametrize("upstream", [LATER], indirect=True)
@pytest.mark.parametrize(("symbol", "function"), [(ETF, "fund_etf_hist_sina"), (HK, "stock_hk_daily")])
def test_a_disagreeing_only_fallback_mixes_nothing(upstream, tmp_path, symbol, function):
    sim, clock = upstream
    lab = lab_over(upstream, tmp_path)
    lab.bars(symbol, start=START, end=END, adjust="")
    sim.bans.ban("eastmoney_push2his")
    clock.advance(QUARTER)
    with mock.patch.object(akshare, function, off_by(function, 0.9)), pytest.raises(SourceMismatchError) as caught:
        lab.bars(symbol, start=START, end="2024-06-28", adjust="")
    assert "sina" in str(caught.value) and caught.value.issues.height >= 1
    frame = lab.bars(symbol, start=START, end=END, adjust="")  # the stored rows are untouched
    assert sources(frame) == [("eastmoney", START, END)]


@pytest.mark.parametrize("upstream", [LATER], indirect=True)
def test_a_later_range_from_sina_agrees_with_the_stored_eastmoney_rows(upstream, tmp_path):
    sim, clock = upstream
    lab = lab_over(upstream, tmp_path)
    for symbol in (INDEX, ETF, HK):
        lab.bars(symbol, start=START, end=END, adjust="")
    sim.bans.ban("eastmoney_push2his")
    clock.advance(QUARTER)
    for symbol in (INDEX, ETF, HK):
        frame = lab.bars(symbol, start=START, end="2024-06-28", adjust="")
        runs = sources(frame)
        assert [r[0] for r in runs] == ["eastmoney", "sina"], symbol
        assert d(runs[1][1]) > d(END) and runs[1][2] == "2024-06-28"
    assert lab.source_issues().is_empty()


def test_no_host_exceeds_its_rate_while_eastmoney_is_banned(upstream, tmp_path):
    sim, clock = upstream
    rate, burst = 2.0, 2
    limits = {**FAST, **{f: RateLimit(per_second=rate, burst=burst) for f in ("eastmoney_push2his", "sina_kline",
                                                                              "tencent")}}  # fmt: skip
    sim.bans.ban("eastmoney_push2his", after=1)
    lab = lab_over(upstream, tmp_path, limits)
    symbols = [*MARKET.symbols("index"), *MARKET.symbols("etf"), *MARKET.symbols("hk")[:3]]
    started = clock.now().timestamp()
    for symbol in symbols:
        frame = lab.bars(symbol, start=START, end=END, adjust="")
        assert sources(frame)[0][0] in ("eastmoney", "sina", "tencent")
    assert sim.bans.calls["sina_kline"], "Sina served nothing"
    for family in ("eastmoney_push2his", "sina_kline", "tencent"):
        times = sorted(t - started for t in sim.bans.calls.get(family, []))
        for i, first in enumerate(times):  # a token bucket: at most burst + rate * T calls in any span T
            inside = [t for t in times[i:] if t - first <= 1.0]
            assert len(inside) <= burst + rate * 1.0 + 1e-9, (family, times)


def test_a_mixed_portfolio_survives_a_ban_of_eastmoney_mid_way(upstream, tmp_path):
    sim, _ = upstream
    symbols = [*MARKET.symbols("index"), *MARKET.symbols("etf"), *MARKET.symbols("hk")]
    sim.bans.ban("eastmoney_push2his", after=2)
    lab = lab_over(upstream, tmp_path)
    result = lab.portfolio(symbols, start=START, end=END, adjust="", progress=False)
    assert result.ok and result.counts["fetched"] == len(symbols)
    served = result.served_by()
    assert served["symbol"].n_unique() == len(symbols) == served.height  # each symbol by exactly one source
    assert served.filter(pl.col("source") == "eastmoney").height == 2
    bar_functions = ("stock_zh_index_daily_em", "fund_etf_hist_em", "stock_hk_hist", "stock_zh_index_daily",
                     "stock_zh_index_daily_tx", "fund_etf_hist_sina", "stock_hk_daily")  # fmt: skip
    answered = sum(sim.call_counts.get(f, 0) for f in bar_functions) - sim.bans.refused["eastmoney_push2his"]
    assert answered == len(symbols)  # one answered call per symbol, none twice
    for symbol in symbols:  # every frame is the market's own sessions
        frame = result.frame.filter(pl.col("symbol") == symbol)
        assert frame["date"].to_list() == market_rows(symbol)["date"].to_list(), symbol
