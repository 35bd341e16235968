"""lab.ask end to end on the simulated market: plans run through the cache, and results checked against values
computed here independently (plain Python over lab.bars, the market's own sector lists and commodity series)."""

from __future__ import annotations

import math
import statistics
from datetime import date
from itertools import pairwise

import plotly.graph_objects as go
import polars as pl
import pytest

from quantdb_lab.domain.calendar import SESSION_FINAL
from quantdb_lab.providers.simulated.commodities import commodity_frame
from tests.support.sim import MARKET, at, make_lab

SEEDS = [
    "Show me the top 10 performing stocks in the tech sector over the last month",
    "Compare the volatility of 600519 and 000858 during earnings seasons",
    "Find stocks with unusual volume spikes in the last 3 days",
    "Analyze the correlation between oil prices and energy sector performance",
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab, _, _ = make_lab(tmp_path_factory.mktemp("ask"))
    return lab


@pytest.fixture(scope="module")
def answers(lab):
    return {q: lab.ask(q, planner="rules") for q in SEEDS}


def _closes(lab, symbol, start, end):
    frame = lab.bars(symbol, start=start, end=end, adjust="qfq")
    return [row["close"] for row in frame.sort("date").to_dicts()]


def test_seed_questions_are_answered_with_data_insights_figure_and_measures(answers):
    for question, answer in answers.items():
        assert answer.ok, (question, answer.problems)
        assert answer.data.height > 0 or answer.plan.intent == "spikes"
        assert answer.insights and all(isinstance(s, str) and s for s in answer.insights)
        assert isinstance(answer.figure, go.Figure) and answer.figure.data
        assert answer.execution_time > 0 and answer.upstream_calls >= 0
        assert answer.cache_hit_rate is None or 0.0 <= answer.cache_hit_rate <= 1.0
        assert any("synthetic" in note for note in answer.notes)


def test_top_n_by_return_matches_an_independent_computation(lab, answers):
    answer = answers[SEEDS[0]]
    start, end = answer.plan.first, answer.plan.last
    members = [s for s in MARKET.sector_members("Technology", now=at("2025-06-06 16:00"))
               if MARKET.listing_date(s) <= end]  # fmt: skip
    returns = {}
    for symbol in members:
        closes = _closes(lab, symbol, start, end) if MARKET.listing_date(symbol) <= end else []
        if len(closes) >= 1:
            returns[symbol] = closes[-1] / closes[0] - 1
    expected = sorted(returns, key=lambda s: (-returns[s], s))[:10]
    assert answer.data["symbol"].to_list() == expected
    assert answer.data["value"].to_list() == pytest.approx([returns[s] for s in expected])
    lead = answer.insights[0]
    assert expected[0] in lead and f"{returns[expected[0]] * 100:+.1f}%" in lead


def test_earnings_season_volatility_matches_an_independent_computation(lab, answers):
    answer = answers[SEEDS[1]]
    table = answer.data.filter(pl.col("window") == "all seasons")
    windows = [(date(2024, 7, 1), date(2024, 8, 31)), (date(2024, 10, 1), date(2024, 10, 31)),
               (date(2025, 1, 1), date(2025, 4, 30))]  # fmt: skip
    for symbol in ("600519.SH", "000858.SZ"):
        rows = lab.bars(symbol, start=answer.plan.start, end=answer.plan.end, adjust="qfq").sort("date").to_dicts()
        daily = [(b["date"], b["close"] / a["close"] - 1) for a, b in pairwise(rows)]
        inside = [r for d, r in daily if any(lo <= d <= hi for lo, hi in windows)]
        expected = statistics.stdev(inside) * math.sqrt(252)
        assert table.filter(pl.col("symbol") == symbol)["value"][0] == pytest.approx(expected)
    assert set(answer.data["window"]) >= {"2024 Jul-Aug (interim reports)", "2024 Oct (Q3 reports)",
                                          "2025 Jan-Apr (annual and Q1 reports)", "all seasons"}  # fmt: skip


def test_volume_spikes_match_an_independent_computation(lab, answers):
    answer = answers[SEEDS[2]]
    plan = answer.plan
    assert (plan.start, plan.end) == ("2025-06-04", "2025-06-06")
    found = set()
    for symbol in answer.data["symbol"].unique(maintain_order=True).to_list()[:5] + ["600519.SH", "000001.SZ"]:
        rows = lab.bars(symbol, start="2025-04-01", end=plan.end, adjust="qfq").sort("date").to_dicts()
        for i, row in enumerate(rows):
            prior = [r["volume"] for r in rows[max(0, i - 20): i]]
            if str(row["date"]) >= plan.start and len(prior) >= 10 and row["volume"] >= 3.0 * statistics.median(prior):
                found.add((symbol, row["date"]))
    reported = {(r["symbol"], r["date"]) for r in answer.data.to_dicts()}
    checked = {s for s, _ in found} | set(answer.data["symbol"].unique(maintain_order=True).to_list()[:5])
    assert {x for x in reported if x[0] in checked} == found


def test_correlation_with_crude_oil_matches_an_independent_computation(lab, answers):
    answer = answers[SEEDS[3]]
    plan = answer.plan
    oil = commodity_frame(MARKET.factors, MARKET.seed, "SC0", plan.first, plan.last, plan.last).to_dicts()
    oil_ret = {b["date"]: b["close"] / a["close"] - 1 for a, b in pairwise(oil)}
    members = [s for s in MARKET.sector_members("Energy", now=at("2025-06-06 16:00")) if MARKET.listing_date(s) <= plan.last]
    sums: dict = {}
    for symbol in members:
        rows = lab.bars(symbol, start=plan.start, end=plan.end, adjust="qfq").sort("date").to_dicts()
        for a, b in pairwise(rows):
            sums.setdefault(b["date"], []).append(b["close"] / a["close"] - 1)
    days = sorted(set(oil_ret) & set(sums))
    xs, ys = [oil_ret[d] for d in days], [statistics.fmean(sums[d]) for d in days]
    assert answer.data.height == len(days)
    assert f"{statistics.correlation(xs, ys):.2f}" in answer.insights[0]
    assert statistics.correlation(xs, ys) > 0.3  # the simulated crude series loads on the Energy factor


def test_a_warm_cache_answers_without_upstream_calls(lab, answers):
    # The first answers left the sessions after a suspended stock's last bar unconfirmed (a short answer is
    # asked again once, never taken as the truth on one answer): one pass confirms them, then all is warm.
    for question in SEEDS:
        lab.ask(question, planner="rules")
    for question in SEEDS:
        again = lab.ask(question, planner="rules")
        assert again.upstream_calls == 0 and again.cache_hit_rate == 1.0
        assert again.data.equals(answers[question].data)


def test_correlation_with_an_index_and_chinese_questions(lab):
    answer = lab.ask("How correlated is Moutai with the CSI 300 in 2024?", planner="rules")
    assert answer.ok and answer.plan.index == "000300.SH" and answer.plan.symbols == ("600519.SH",)
    index = _closes(lab, "000300.SH", "2024-01-01", "2024-12-31")
    assert answer.data.height == len(index) - 1
    zh = lab.ask("贵州茅台和五粮液今年的波动率对比", planner="rules")
    assert zh.ok and zh.data["symbol"].to_list() == ["600519.SH", "000858.SZ"]


def test_unknown_symbols_are_named(lab):
    answer = lab.ask("Compare 600036 and 600519 this year", planner="rules")
    assert not answer.ok and answer.unknown_symbols == ["600036.SH"]
    assert "600036.SH" in answer.problems[0] and answer.suggestions


def test_reference_data_is_cached_until_the_next_close(tmp_path):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-05 16:00")
    lab.ask("plot crude oil prices over the last 3 months", planner="rules")
    lab.ask("plot crude oil prices over the last 3 months", planner="rules")
    assert provider.calls["fetch_commodity_daily"] == 1 and provider.calls["fetch_securities"] == 1
    clock.advance(23 * 3600)  # 2025-06-06 15:00: that day's bar is not final yet (SESSION_FINAL), still fresh
    lab.ask("plot crude oil prices over the last 3 months", planner="rules")
    assert provider.calls["fetch_commodity_daily"] == 1
    clock.advance(3600)  # 16:00, past SESSION_FINAL
    assert SESSION_FINAL.hour == 15
    answer = lab.ask("plot crude oil prices over the last 3 months", planner="rules")
    assert provider.calls["fetch_commodity_daily"] == 2 and answer.upstream_calls == 2
    assert answer.data["date"].max() == date(2025, 6, 6)
