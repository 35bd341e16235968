"""A cold portfolio over akshare spreads over Eastmoney, Sina and Tencent, and survives a ban of the primary
mid-portfolio: every symbol delivered once, the result says which source served what."""

from __future__ import annotations

import warnings
from datetime import date

import pytest

from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.akshare import AkshareProvider, SimulatedAkshare
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from quantdb_lab.throttle.policy import RateLimit
from tests.support.sim import MARKET, at

BAR_FUNCTIONS = ("stock_zh_a_hist", "stock_zh_a_daily", "stock_zh_a_hist_tx")
# no concurrency cap: a capped family's waiters poll, and on a FixedClock every poll moves everyone's time
LIMITS = {f: RateLimit(per_second=1e9, burst=10**9) for f in ("eastmoney_push2his", "sina_kline", "tencent")}
SYMBOLS = [s for s in MARKET.symbols("stock") if not s.endswith(".BJ") and MARKET.listing_date(s) < date(2023, 1, 1)][:30]


@pytest.fixture
def upstream():
    clock = FixedClock(at("2025-06-06 16:00"))
    sim = SimulatedAkshare(SimulatedProvider(MARKET, faults=Faults(), clock=clock), clock=clock, latency=0.002)
    with sim.patch(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield sim, clock


def portfolio(upstream, tmp_path):
    _, clock = upstream
    lab = Lab(tmp_path / "cache", provider=AkshareProvider(timeout=10), clock=clock, limits=LIMITS)
    return lab.portfolio(SYMBOLS, start="2024-01-02", end="2024-06-28", adjust="", progress=False)


def answered(sim) -> int:
    counts = sim.call_counts
    return sum(counts.get(f, 0) for f in BAR_FUNCTIONS) - sum(sim.bans.refused.values())


def test_a_cold_portfolio_uses_every_source(upstream, tmp_path):
    sim, _ = upstream
    result = portfolio(upstream, tmp_path)
    assert result.ok and set(result.sources()) == {"eastmoney", "sina", "tencent"}
    assert answered(sim) == len(SYMBOLS)  # one answered call per symbol, none twice
    assert "served by" in result.summary()


def test_a_ban_of_the_primary_mid_portfolio_loses_and_duplicates_nothing(upstream, tmp_path):
    sim, _ = upstream
    sim.bans.ban("eastmoney_push2his", after=4)
    result = portfolio(upstream, tmp_path)
    assert result.ok and result.counts["fetched"] == len(SYMBOLS)
    served = result.served_by()
    assert served["symbol"].n_unique() == len(SYMBOLS) == served.height  # each symbol by exactly one source
    assert served.filter(served["source"] == "eastmoney").height == 4
    assert answered(sim) == len(SYMBOLS) and sim.bans.refused["eastmoney_push2his"] >= 1
