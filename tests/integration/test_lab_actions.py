"""``lab.actions`` and the quality report's use of dividend tables, on the simulated market (its table is the
ground truth the prices were generated from) and the Eastmoney-like simulated upstream."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import polars as pl

from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.akshare import AkshareProvider, SimulatedAkshare
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from quantdb_lab.throttle.policy import RateLimit
from tests.support.sim import MARKET, at, d, make_lab

warnings.filterwarnings("ignore", category=UserWarning)


def test_actions_are_cached_and_point_in_time(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    symbol = next(s for s in MARKET.symbols("stock") if len(MARKET.ex_dates(s)) >= 5)
    table = lab.actions(symbol)
    assert table.equals(MARKET.corporate_actions(symbol, now=at("2025-06-06 16:00")))
    lab.actions(symbol)
    assert provider.calls["fetch_corporate_actions"] == 1
    cut = table["announcement_date"][2]
    past = lab.using(lab.mode.with_(as_of=cut)).actions(symbol)
    assert past.height == 3 and (past["announcement_date"] <= cut).all()
    assert lab.actions(symbol, start=table["ex_date"][1], end=table["ex_date"][2]).height == 2


def _split_symbol() -> tuple[str, date]:
    for symbol in MARKET.symbols("stock"):
        table = MARKET.corporate_actions(symbol)
        split = table.filter((pl.col("bonus") + pl.col("transfer") >= 0.5) & pl.col("ex_date").is_between(d("2016-01-01"), d("2025-05-30")))
        if split.height:
            return symbol, split["ex_date"][0]
    raise AssertionError("no simulated split")


def test_the_table_explains_a_bonus_issue_in_close_to_close_bars(tmp_path):
    symbol, ex = _split_symbol()
    clock = FixedClock(at("2025-06-06 16:00"))
    limits = {f: RateLimit(per_second=1e9, burst=10**9) for f in ("eastmoney_push2his", "eastmoney_datacenter", "sina")}
    with SimulatedAkshare(SimulatedProvider(MARKET, faults=Faults(), clock=clock), clock=clock).patch():
        lab = Lab(tmp_path, provider=AkshareProvider(timeout=10), clock=clock, limits=limits)
        start, end = ex - timedelta(days=25), ex + timedelta(days=20)
        bare = lab.quality(symbol, start=start, end=end)  # no table cached yet: the ex-date looks like a crash
        assert "price_limit" in bare.for_symbol(symbol).filter(pl.col("date") == ex)["check"].to_list()
        lab.actions(symbol)
        report = lab.quality(symbol, start=start, end=end)  # the cached table is used
    on_ex = report.for_symbol(symbol).filter(pl.col("date") == ex)
    assert on_ex["check"].to_list() == ["corporate_action"] and "dividend table" in on_ex["detail"][0]


def test_a_table_that_disagrees_with_the_bars_is_reported(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    symbol = next(s for s in MARKET.symbols("stock") if len(MARKET.ex_dates(s)) >= 5)
    table = MARKET.corporate_actions(symbol, now=at("2025-06-06 16:00"))
    ex = table.filter(pl.col("cash") > 0.2)["ex_date"][-1]
    frame = lab.bars(symbol, start=ex - timedelta(days=25), end=ex + timedelta(days=20), adjust="")
    good = lab.quality(frame, actions=table)
    assert good.for_symbol(symbol).filter(pl.col("date") == ex)["check"].to_list() == ["corporate_action"]
    wrong = table.with_columns(pl.when(pl.col("ex_date") == ex).then(pl.col("cash") + 0.2).otherwise("cash").alias("cash"))
    report = lab.quality(frame, actions=wrong)
    checks = report.for_symbol(symbol).filter(pl.col("date") == ex)["check"].to_list()
    assert "factor_mismatch" in checks and "corporate_action" not in checks
    assert report.score[symbol] < good.score[symbol]
