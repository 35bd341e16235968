"""Single-stock valuation and fundamental figures in plain language (issue 21): "market cap of 600519",
"600519的市盈率", "PB of 000001 and 600519". Expected values computed by hand from the simulated truth (raw close
x the share capital of the latest report announced by then)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from quantdb_lab.providers.simulated.pit import statements
from tests.support.sim import MARKET, make_lab

pytestmark = pytest.mark.filterwarnings("ignore::quantdb_lab.errors.SyntheticDataWarning")


def market_cap(lab, symbol: str, day: date) -> float:
    close = lab.bars(symbol, start=day, end=day, adjust="")["close"].item()
    report = statements(MARKET, symbol, day).filter(pl.col("announcement_date") <= day).sort("report_period").row(-1, named=True)
    return close * report["share_capital"]


@pytest.mark.parametrize("question", ["market cap of 600519", "600519的市值", "what is the market cap of 600519?"])
def test_the_market_cap_of_one_stock(tmp_path, question):
    lab, _, _ = make_lab(tmp_path)
    answer = lab.ask(question)
    assert answer.plan is not None, answer
    assert (answer.plan.intent, answer.plan.by, answer.plan.symbols) == ("screen", "total_mv", ("600519.SH",))
    row = answer.data.row(0, named=True)
    assert answer.data.height == 1 and row["symbol"] == "600519.SH"
    assert row["value"] == pytest.approx(market_cap(lab, "600519.SH", row["valued_on"]))


def test_the_pb_of_two_stocks(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    answer = lab.ask("PB of 000001 and 600519")
    assert answer.plan is not None and answer.plan.by == "pb"
    assert set(answer.data["symbol"]) == {"000001.SZ", "600519.SH"}


def test_a_figure_without_a_stock_is_still_refused_as_fundamentals(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    answer = lab.ask("what is the PE")
    assert answer.plan is None and "fundamentals" in str(answer).lower()
