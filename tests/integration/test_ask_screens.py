"""lab.ask on valuation and fundamentals (issue 21 item 5) over the simulated market: the answers checked against
screens computed here with polars straight from lab.valuation / lab.fundamentals / lab.securities, in English and
Chinese, and point in time in a backtesting Lab."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import polars as pl
import pytest

from quantdb_lab import BACKTESTING
from tests.support.sim import make_lab

TODAY = date(2025, 6, 6)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab, _, _ = make_lab(tmp_path_factory.mktemp("screens"))
    return lab


def _ask(lab, question):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answer = lab.ask(question, planner="rules")
    assert answer.plan is not None and answer.plan.intent == "screen", answer.problems
    return answer


def _valued(lab, symbols, day):
    """Each stock's valuation on its last session in the fortnight up to ``day``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = lab.valuation(symbols, start=day - timedelta(days=14), end=day)
    return frame.filter(pl.col("date") == pl.col("date").max().over("symbol"))


@pytest.mark.parametrize("question", ["banks with PB below 1", "PB低于1的银行股"])
def test_banks_with_pb_below_one(lab, question):
    answer = _ask(lab, question)
    banks = lab.securities().filter(pl.col("industry") == "Financials")["symbol"].to_list()  # the sim's bank board
    expected = _valued(lab, banks, TODAY).filter(pl.col("pb") < 1).sort("pb")["symbol"].to_list()
    assert expected and answer.data["symbol"].to_list() == expected
    assert (answer.data["pb"] < 1).all()
    said = " ".join(answer.notes + answer.assumptions)
    assert "latest session" in said and "financials" in said.lower()  # what was assumed is said


@pytest.mark.parametrize("question", ["largest 50 by market cap", "市值最大的50只股票"])
def test_largest_fifty_by_market_cap(lab, question):
    answer = _ask(lab, question)
    universe = answer.data["symbol"].to_list()
    frame = _valued(lab, answer_universe(lab), TODAY)
    expected = frame.drop_nulls("total_mv").sort("total_mv", descending=True).head(50)["symbol"].to_list()
    assert len(universe) == 50 and universe == expected
    assert answer.data["total_mv"].is_sorted(descending=True)


def answer_universe(lab) -> list[str]:
    """All listed A-shares as the resolver sees them: stocks of the master (not indices or H shares)."""
    from quantdb_lab.domain.symbols import parse_symbol

    return [s for s in lab.securities()["symbol"].to_list() if parse_symbol(s).kind == "stock"]


@pytest.mark.parametrize("question", ["ROE above 15% last year", "去年ROE超过15%的股票"])
def test_roe_above_fifteen_percent_last_year(lab, question):
    answer = _ask(lab, question)
    known = lab.fundamentals(answer_universe(lab), ["roe"], history=True)
    fy = known.filter(pl.col("report_period") <= date(2024, 12, 31)).sort("report_period").group_by("symbol").last()
    expected = set(fy.filter(pl.col("roe") > 0.15)["symbol"].to_list())
    assert expected and set(answer.data["symbol"].to_list()) == expected
    assert set(answer.data["report_period"].to_list()) <= {date(2024, 12, 31)} | set(fy["report_period"].to_list())
    assert answer.data["roe"].is_sorted(descending=True)
    assert any("not annualised" in note for note in answer.notes)


def test_a_backtesting_lab_screens_as_of_its_cutoff(lab):
    cutoff = date(2024, 12, 31)
    past = lab.using(BACKTESTING.with_(as_of=cutoff, on_quality_fail="ignore"))
    answer = _ask(past, "largest 10 by market cap")
    assert answer.data["valued_on"].max() <= cutoff
    expected = _valued(past, answer_universe(past), cutoff).drop_nulls("total_mv").sort("total_mv", descending=True).head(10)
    assert answer.data["symbol"].to_list() == expected["symbol"].to_list()
    assert any(str(cutoff) in note for note in answer.notes)
    later = _ask(past, "ROE above 15% last year")  # today's last year (2024) reports are not yet announced then
    assert (later.data["report_period"] < cutoff).all()
