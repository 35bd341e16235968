"""The warmer's economics (issue 24): the daily call budget, the value ordering, the learning update.
Expected figures are worked out by hand in each test from the documented formulas."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import date

import pytest

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.prefetch import CallBudget, Outcomes, Prediction, Valued
from quantdb_lab.prefetch.value import choose

DAY = date(2025, 6, 9)


def _valued(symbol, p, calls, members=()):
    prediction = Prediction(symbol, "qfq", None, DAY, p, "test", kind="universe" if members else "tracked",
                            members=members)  # fmt: skip
    parts = tuple((f"{symbol}-{i}", 1) for i in range(calls))
    return Valued(prediction, p, calls, parts=parts)


# -- the budget -------------------------------------------------------------------------------------------
def test_budget_is_shared_across_processes_and_resets_each_day(tmp_path):
    budget = CallBudget(tmp_path, 10)
    assert budget.remaining(DAY) == 10
    budget.spend(DAY, 4)
    other = subprocess.run(
        [sys.executable, "-c", "import sys; from datetime import date; from quantdb_lab.prefetch import CallBudget;"
         "b = CallBudget(sys.argv[1], 10); b.spend(date(2025, 6, 9), 3); print(b.remaining(date(2025, 6, 9)))",
         str(tmp_path)], capture_output=True, text=True, check=True)  # fmt: skip
    assert other.stdout.strip() == "3"  # another process sees the 4 spent here, and adds its own 3
    assert CallBudget(tmp_path, 10).spent(DAY) == 7
    assert budget.remaining(date(2025, 6, 10)) == 10  # a new day, a fresh budget
    budget.spend(DAY, 9)
    assert budget.remaining(DAY) == 0  # overspent by a caller: never negative
    assert json.loads((tmp_path / "budget.json").read_text())["spent"] == 16


def test_budget_rejects_a_negative_allowance(tmp_path):
    with pytest.raises(InvalidRequestError):
        CallBudget(tmp_path, -1)


# -- value ordering ---------------------------------------------------------------------------------------
def test_best_value_first_and_nothing_below_cost():
    items = [_valued("D", 0.6, 1), _valued("B", 0.8, 5), _valued("A", 0.9, 4), _valued("C", 0.75, 3)]
    out = choose(items, threshold=0.7, remaining=10, per_day=10, ban_calls=10)  # a steep ban risk, to see it
    assert [v.prediction.symbol for v in out] == ["A", "B", "C", "D"]
    # A: risk 0.2 * 4 * (spent 0 + 4/2) / ban_calls 10 = 0.16, cost 4 * 0.7 + 0.16 = 2.96 < EV 0.9 * 4 = 3.6: chosen.
    # B: risk 0.2 * 5 * (4 + 5/2) / 10 = 0.65, cost 3.5 + 0.65 = 4.15 > EV 4.0: below cost (the ban risk).
    # C: risk 0.2 * 3 * (4 + 3/2) / 10 = 0.33, cost 2.1 + 0.33 = 2.43 > EV 2.25.
    # D: risk 0.2 * 1 * (4 + 1/2) / 10 = 0.09, cost 0.7 + 0.09 = 0.79 > EV 0.6.
    assert [(v.chosen, round(v.expected_value, 3), round(v.cost, 3)) for v in out] == [
        (True, 3.6, 2.96), (False, 4.0, 4.15), (False, 2.25, 2.43), (False, 0.6, 0.79)]  # fmt: skip
    assert out[1].why_not == "expected value below cost"


def test_a_prediction_that_does_not_fit_is_skipped_for_smaller_ones():
    out = choose([_valued("big", 0.99, 8), _valued("small", 0.95, 2)], threshold=0.7, remaining=5, per_day=10)
    assert [(v.prediction.symbol, v.chosen) for v in out] == [("big", False), ("small", True)]
    assert out[0].why_not == "needs 8 calls, 5 left in today's budget"


def test_a_universe_is_warmed_in_part_within_the_budget():
    members = tuple(f"S{i}" for i in range(8))
    out = choose([_valued("universe x", 0.95, 8, members)], threshold=0.7, remaining=3, per_day=10)
    assert out[0].chosen and out[0].calls == 3 and len(out[0].parts) == 3
    assert out[0].why_not == "3 of 8 members: the rest is past today's budget"


@pytest.mark.parametrize("seed", range(20))
def test_chosen_calls_never_exceed_the_budget_left(seed):
    rng = random.Random(seed)
    items = [_valued(f"s{i}", rng.uniform(0.5, 1.0), rng.randint(1, 30), members=("a",) * rng.randint(0, 1))
             for i in range(rng.randint(1, 40))]  # fmt: skip
    remaining = rng.randint(0, 60)
    out = choose(items, threshold=0.7, remaining=remaining, per_day=60, ban_calls=rng.choice((10, 1000)))
    assert sum(v.calls for v in out if v.chosen) <= remaining
    chosen = [v.probability for v in out if v.chosen]
    assert chosen == sorted(chosen, reverse=True) and all(v.expected_value >= v.cost for v in out if v.chosen)


# -- learning ---------------------------------------------------------------------------------------------
def _entry(pred, kind, used, when="2025-06-05T16:30:00+08:00", calls=1):
    return {"pred": pred, "kind": kind, "calls": calls, "uses": int(used), "warmed_at": when}


def test_outcomes_update_a_beta_posterior_per_rule_once(tmp_path):
    entries = [
        _entry("p1", "tracked", True), _entry("p1", "tracked", False),  # one pass: 1 of 2 calls used
        _entry("p2", "tracked", True, calls=2),  # another pass, all used
        _entry("u1", "universe", True), _entry("u1", "universe", False, calls=3),  # 1 of 4 calls used
        _entry("p3", "tracked", False, when="2025-06-06T16:30:00+08:00"),  # the session after has not closed
        {"symbol": "600519.SH", "calls": 1, "uses": 0, "warmed_at": "2025-06-01T16:30:00+08:00"},  # before learning
    ]  # fmt: skip
    outcomes = Outcomes(tmp_path)
    newly = outcomes.update(entries, latest_closed=date(2025, 6, 6))
    assert newly == {"p1": ("tracked", 0.5), "p2": ("tracked", 1.0), "u1": ("universe", 0.25)}
    assert outcomes.update(entries, latest_closed=date(2025, 6, 6)) == {}  # settled once only
    assert Outcomes(tmp_path).counts() == {"tracked": (1.5, 0.5), "universe": (0.25, 0.75)}
    # Prior Beta(4c, 4(1-c)) with c the rule's confidence: (4 * 0.8 + 1.5) / (4 + 2) = 4.7 / 6.
    assert Outcomes(tmp_path).probability("tracked", 0.8) == pytest.approx(4.7 / 6)
    assert Outcomes(tmp_path).probability("universe", 0.9) == pytest.approx((3.6 + 0.25) / 5)
    assert Outcomes(tmp_path).probability("peer", 0.75) == pytest.approx(0.75)  # nothing learned yet
    later = outcomes.update(entries, latest_closed=date(2025, 6, 9))
    assert later == {"p3": ("tracked", 0.0)} and Outcomes(tmp_path).counts()["tracked"] == (1.5, 1.5)
    json.loads((tmp_path / "outcomes.json").read_text())  # plain JSON


def test_an_unreadable_outcomes_file_is_read_as_nothing_learned(tmp_path):
    (tmp_path / "outcomes.json").write_bytes(b"\x80\x04not json")
    assert Outcomes(tmp_path).counts() == {} and Outcomes(tmp_path).probability("tracked", 0.8) == 0.8
