"""Corporate actions (``domain.actions``): the reference price, factor events built from a dividend table, the
check against price-derived factors, and Eastmoney's affine adjustment, by hand and against the simulated
market's independent ground truth (its prices were generated from the same actions)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from quantdb_lab.domain.actions import ACTIONS, check_factors, eastmoney_adjust, events_from_actions, visible_actions
from quantdb_lab.domain.adjustment import factor_events
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.simulated import SimulatedMarket, SimulatedProvider

D0 = date(2024, 7, 1)


def action(ex: date | None, *, cash=0.0, bonus=0.0, transfer=0.0, rights=0.0, price=None, announced=None, symbol="600028.SH"):
    return {"symbol": symbol, "announcement_date": announced, "record_date": None, "ex_date": ex, "cash": cash,
            "bonus": bonus, "transfer": transfer, "rights_ratio": rights, "rights_price": price, "source": "test"}  # fmt: skip


def table(*rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=ACTIONS)


def bars(closes, symbol="600028.SH") -> pl.DataFrame:
    days = [D0 + timedelta(days=i) for i in range(len(closes))]
    prev = [None, *closes[:-1]]
    return pl.DataFrame({"symbol": [symbol] * len(closes), "date": days, "open": closes, "high": closes, "low": closes,
                         "close": closes, "pct_change": [None if p is None else c / p - 1 for p, c in zip(prev, closes)],
                         "change": [None if p is None else c - p for p, c in zip(prev, closes)]})  # fmt: skip


def test_reference_price_of_cash_bonus_and_rights_by_hand():
    # 10 CNY; 0.50 cash, 10 for 10 (3 bonus + 7 transfer), no rights: (10 - 0.5) / 2 = 4.75
    frame = bars([10.0, 10.0, 4.80])
    events = events_from_actions(table(action(D0 + timedelta(days=2), cash=0.5, bonus=0.3, transfer=0.7)), frame)
    assert events["reference"].to_list() == pytest.approx([4.75]) and events["factor"].to_list() == pytest.approx([10 / 4.75])
    # a rights issue of 3 per 10 at 6.00 and 0.20 cash: (10 - 0.2 + 1.8) / 1.3 = 8.923 -> 8.92 (the exchange rounds)
    events = events_from_actions(table(action(D0 + timedelta(days=2), cash=0.2, rights=0.3, price=6.0)), frame)
    assert events["reference"].to_list() == pytest.approx([8.92])


def test_two_rows_of_one_plan_are_one_event_and_a_suspended_ex_date_lands_on_the_resumption():
    frame = bars([10.0, 10.0, 4.80, 4.9]).filter(pl.col("date") != D0 + timedelta(days=2))  # suspended on the ex-date
    rows = table(action(D0 + timedelta(days=2), cash=0.5), action(D0 + timedelta(days=2), bonus=1.0))
    events = events_from_actions(rows, frame)
    assert events["date"].to_list() == [D0 + timedelta(days=3)] and events["reference"].to_list() == pytest.approx([4.75])


def test_plans_without_ex_date_and_actions_outside_the_bars_give_no_event():
    frame = bars([10.0, 10.1, 10.2])
    rows = table(action(None, cash=0.3), action(D0 - timedelta(days=30), cash=0.3), action(D0 + timedelta(days=9), cash=0.3))
    assert events_from_actions(rows, frame).is_empty()


def test_point_in_time_visibility():
    rows = table(action(date(2024, 7, 10), cash=0.3, announced=date(2024, 6, 1)), action(None, cash=0.2, announced=date(2024, 8, 1)))
    assert visible_actions(rows, date(2024, 7, 1)).height == 1  # announced, ex-date still ahead: visible
    assert visible_actions(rows, date(2024, 5, 31)).is_empty() and visible_actions(rows, None).height == 2


def test_check_factors_flags_disagreement_beyond_a_tick():
    price = pl.DataFrame({"symbol": ["A", "A", "A"], "date": [D0, D0 + timedelta(1), D0 + timedelta(2)],
                          "factor": [1.05, 1.02, 1.01], "reference": [9.52, 9.80, 9.90]})  # fmt: skip
    acts = pl.DataFrame({"symbol": ["A", "A", "A"], "date": [D0, D0 + timedelta(1), D0 + timedelta(3)],
                         "factor": [1.0499, 1.05, 1.01], "reference": [9.53, 9.52, 9.90]})  # fmt: skip
    out = check_factors(price, acts)
    assert out["status"].to_list() == ["agree", "disagree", "price_only", "actions_only"]


def test_eastmoney_qfq_subtracts_later_cash_and_hfq_adds_it_back():
    frame = bars([10.0, 10.2, 9.75, 9.80])  # ex-dividend 0.50 on the third day
    acts = table(action(D0 + timedelta(days=2), cash=0.5))
    qfq = eastmoney_adjust(frame, acts, "qfq")
    hfq = eastmoney_adjust(frame, acts, "hfq")
    assert qfq["close"].to_list() == pytest.approx([9.50, 9.70, 9.75, 9.80])  # affine: minus 0.50, not x 0.951
    assert hfq["close"].to_list() == pytest.approx([10.0, 10.2, 10.25, 10.30])
    assert qfq["change"].to_list()[1:] == pytest.approx([0.20, 0.05, 0.05])  # close to close in the series
    # with shares: 10 for 10 and 0.50 cash, m(p) = (p - 0.5) / 2 on earlier prices, the inverse after
    acts = table(action(D0 + timedelta(days=2), cash=0.5, bonus=1.0))
    frame = bars([10.0, 10.2, 4.9, 5.0])
    assert eastmoney_adjust(frame, acts, "qfq")["close"].to_list() == pytest.approx([4.75, 4.85, 4.9, 5.0])
    assert eastmoney_adjust(frame, acts, "hfq")["close"].to_list() == pytest.approx([10.0, 10.2, 10.3, 10.5])


# -- the simulated market ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=7)


def _with_rights(market):
    return next(s for s in market.symbols("stock") if market.history(s).ex_rights.any())


def test_the_simulated_table_explains_every_simulated_ex_date(market):
    for symbol in (_with_rights(market), "600519.SH"):
        raw = market.bars(symbol)
        from_prices = factor_events(raw)
        from_table = events_from_actions(market.corporate_actions(symbol), raw)
        check = check_factors(from_prices, from_table)
        assert check.height == market.actions(symbol).height and set(check["status"]) == {"agree"}
        assert from_table["factor"].to_numpy() == pytest.approx(1 / market.actions(symbol)["factor"].to_numpy(), rel=1e-12)


def test_the_simulated_provider_serves_eastmoneys_affine_adjustment(market):
    symbol = next(s for s in market.symbols("stock") if len(market.ex_dates(s)) >= 8)
    provider = SimulatedProvider(market)
    raw = market.bars(symbol)
    qfq = provider.fetch_daily_bars(parse_symbol(symbol), raw["date"].min(), raw["date"].max(), adjust="qfq")
    # raw - qfq is the sum of later cash dividends where no shares were issued after the day
    acts = market.corporate_actions(symbol)
    last_shares = acts.filter(pl.col("bonus") + pl.col("transfer") + pl.col("rights_ratio") > 0)["ex_date"].max()
    tail = raw.join(qfq.select("date", pl.col("close").alias("qfq")), on="date").filter(pl.col("date") >= (last_shares or date.min))
    later_cash = [acts.filter(pl.col("ex_date") > d)["cash"].sum() for d in tail["date"]]
    assert (tail["close"] - tail["qfq"]).to_numpy() == pytest.approx(np.array(later_cash), abs=0.0051)
    # and it is not the multiplicative truth: the ratio to raw drifts between ex-dates
    exact = market.bars(symbol, adjust="qfq")
    ratio = (qfq["close"] / exact["close"]).to_numpy()
    assert ratio.max() - ratio.min() > 0.01
