"""Issue 22's richer plans run end to end on the simulated market, each checked against a computation made here
from lab.bars / the market's own series (plain Python, not the query layer's metrics); the simulated sectors
mapped onto the taxonomy's keys; the cost of a whole-market question on a rate-limited provider said before
it is spent."""

from __future__ import annotations

import math
import statistics
from itertools import pairwise
from typing import ClassVar

import pytest

from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from quantdb_lab.providers.simulated.commodities import commodity_frame
from quantdb_lab.throttle.policy import RateLimit
from tests.support.sim import MARKET, at, make_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return make_lab(tmp_path_factory.mktemp("plans"))[0]


def _closes(lab, symbol, start, end, adjust="qfq"):
    return [(r["date"], r["close"]) for r in lab.bars(symbol, start=start, end=end, adjust=adjust).sort("date").to_dicts()]


def _returns(series):
    return {b[0]: b[1] / a[1] - 1 for a, b in pairwise(series)}


def test_maximum_drawdown_of_one_stock(lab):
    answer = lab.ask("maximum drawdown of Moutai in 2024", planner="rules")
    assert answer.ok and answer.plan.intent == "measure" and answer.plan.metric == "drawdown"
    closes = [c for _, c in _closes(lab, "600519.SH", "2024-01-01", "2024-12-31")]
    peak, worst = closes[0], 0.0
    for close in closes:
        peak = max(peak, close)
        worst = max(worst, 1 - close / peak)
    assert answer.data["value"][0] == pytest.approx(worst)
    assert f"{worst * 100:.1f}%" in answer.insights[0]


def test_sharpe_ratios_compared(lab):
    answer = lab.ask("Sharpe ratio of 600519 and 000858 over the past year", planner="rules")
    assert answer.ok and answer.plan.metric == "sharpe"
    for symbol in ("600519.SH", "000858.SZ"):
        daily = list(_returns(_closes(lab, symbol, answer.plan.start, answer.plan.end)).values())
        expected = statistics.fmean(daily) / statistics.stdev(daily) * math.sqrt(252)
        got = answer.data.filter(answer.data["symbol"] == symbol)["value"][0]
        assert got == pytest.approx(expected, rel=1e-6)


def test_beta_against_the_index_named(lab):
    answer = lab.ask("beta of Moutai against the CSI 300 over the past 2 years", planner="rules")
    assert answer.ok and answer.plan.benchmark == "000300.SH"
    stock = _returns(_closes(lab, "600519.SH", answer.plan.start, answer.plan.end))
    index = _returns(_closes(lab, "000300.SH", answer.plan.start, answer.plan.end, adjust=""))
    days = sorted(set(stock) & set(index))
    xs, ys = [index[d] for d in days], [stock[d] for d in days]
    expected = statistics.covariance(xs, ys) / statistics.variance(xs)
    assert answer.data["value"][0] == pytest.approx(expected, rel=1e-6)


def test_correlation_of_two_stocks_and_of_two_commodities(lab):
    answer = lab.ask("correlation between Moutai and Wuliangye this year", planner="rules")
    assert answer.ok and answer.plan.symbols == ("600519.SH", "000858.SZ")
    a = _returns(_closes(lab, "600519.SH", answer.plan.start, answer.plan.end))
    b = _returns(_closes(lab, "000858.SZ", answer.plan.start, answer.plan.end))
    days = sorted(set(a) & set(b))
    assert f"{statistics.correlation([a[d] for d in days], [b[d] for d in days]):.2f}" in answer.insights[0]
    answer = lab.ask("gold vs oil correlation in 2024", planner="rules")
    assert answer.ok and (answer.plan.commodity, answer.plan.commodity2) == ("AU0", "SC0")
    plan = answer.plan
    gold, oil = ({r["date"]: r["close"] for r in commodity_frame(MARKET.factors, MARKET.seed, code, plan.first,
                                                                   plan.last, plan.last).to_dicts()}
                 for code in ("AU0", "SC0"))  # fmt: skip
    g, o = _returns(sorted(gold.items())), _returns(sorted(oil.items()))
    days = sorted(set(g) & set(o))
    assert answer.data.height == len(days)
    assert f"{statistics.correlation([g[d] for d in days], [o[d] for d in days]):.2f}" in answer.insights[0]


def test_one_day_moves_over_a_percent_threshold(lab):
    answer = lab.ask("Which bank stocks jumped more than 5% in a single day this month?", planner="rules")
    plan = answer.plan
    assert answer.ok and (plan.threshold, plan.threshold_unit, plan.direction) == (5.0, "pct", "up")
    members = [s for s in MARKET.sector_members("Financials", now=at("2025-06-06 16:00"))
               if MARKET.listing_date(s) <= plan.last]  # fmt: skip
    expected = set()
    for symbol in members:
        for day, r in _returns(_closes(lab, symbol, "2025-05-01", plan.end)).items():
            if str(day) >= plan.start and r >= 0.05:
                expected.add((symbol, day))
    assert {(r["symbol"], r["date"]) for r in answer.data.to_dicts()} == expected
    assert any("broader" in note and "Financials" in note for note in answer.notes)  # banks -> financials


def test_a_ranking_threshold_keeps_only_the_members_that_pass(lab):
    answer = lab.ask("近一个月涨幅超过5%的科技股", planner="rules")
    assert answer.ok and answer.plan.threshold == 5.0 and answer.plan.n is None
    assert answer.data.height > 0 and min(answer.data["value"]) >= 0.05
    members = [s for s in MARKET.sector_members("Technology", now=at("2025-06-06 16:00"))
               if MARKET.listing_date(s) <= answer.plan.last]  # fmt: skip
    passing = set()
    for symbol in members:
        closes = [c for _, c in _closes(lab, symbol, answer.plan.start, answer.plan.end)]
        if closes and closes[-1] / closes[0] - 1 >= 0.05:
            passing.add(symbol)
    assert set(answer.data["symbol"]) == passing


def test_simulated_sectors_map_onto_the_taxonomy_keys(lab):
    answer = lab.ask("Top 5 photovoltaic stocks this year", planner="rules")
    assert answer.ok and answer.plan.sector == "solar"
    assert any("no solar (photovoltaic) industry" in n and "Industrials" in n for n in answer.notes), answer.notes
    members = set(MARKET.sector_members("Industrials", now=at("2025-06-06 16:00")))
    assert set(answer.data["symbol"]) <= members


class _Remote(SimulatedProvider):
    """The simulated market behind a rate-limited host family, as akshare's kline calls are (fast, for tests)."""

    rate_limits: ClassVar = {"eastmoney_push2his": RateLimit(per_second=500.0, burst=500)}

    def host_family(self, symbol):
        return "eastmoney_push2his"


def test_a_whole_market_question_says_its_cost_before_spending_it(tmp_path):
    from quantdb_lab.domain.clock import FixedClock
    from quantdb_lab.lab import Lab

    clock = FixedClock(at("2025-06-06 16:00"))
    lab = Lab(tmp_path / "cache", provider=_Remote(MARKET, faults=Faults(), clock=clock), clock=clock)
    before = lab.stats()["upstream_calls_total"]
    answer = lab.ask("top 10 stocks by return over the last month", planner="rules", max_calls=50)
    assert not answer.ok and answer.upstream_calls == lab.stats()["upstream_calls_total"] - before
    stocks = [s for s in lab.securities()["symbol"].to_list() if s[-3:] in (".SH", ".SZ", ".BJ") and
              lab.request(s).symbol.kind == "stock"]  # fmt: skip
    per_symbol = len(lab.plan(stocks[0], start=answer.plan.start, end=answer.plan.end, adjust="qfq").fetches)
    problem = answer.problems[0]
    assert "upstream calls" in problem and "max_calls=" in problem and "minutes at the rate limit" in problem
    calls = int(problem.split("needs ")[1].split(" upstream")[0])
    assert per_symbol >= 1 and calls >= 50 and calls % per_symbol == 0
    answer = lab.ask("top 10 bank stocks by return over the last month", planner="rules", max_calls=None)
    assert answer.ok and any("upstream calls" in n for n in answer.notes)
