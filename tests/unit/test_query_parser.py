"""The rule-based question parser against the question set in tests/fixtures/query/questions.json, plus the
plan's schema and validation."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.query import PLAN_SCHEMA, QueryPlan, RuleParser, plan_from_dict
from quantdb_lab.query.agent import rule_parser, today_of
from quantdb_lab.query.universe import Resolver
from tests.support.sim import make_lab

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "query"


def question_set(name: str) -> tuple[dict, list[dict], list[dict]]:
    """A question file of tests/fixtures/query: the whole set, the questions with plans, the refusals."""
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data, [i for i in data["questions"] if not i.get("refuse")], [i for i in data["questions"] if i.get("refuse")]


def sim_parser(factory, today: str):
    """The rule parser of a Lab over the simulated market (its calendar and security names) on ``today``."""
    lab, _, _ = make_lab(factory.mktemp("parser"))
    assert today_of(lab) == date.fromisoformat(today)
    return rule_parser(lab, Resolver(lab), today_of(lab))


def plan_matches(expected: dict, plan) -> bool:
    """Only the listed fields are compared."""
    if plan is None:
        return False
    got = plan.to_dict()
    return all(got.get(key) == value for key, value in expected.items())


SET, PLANNED, REFUSED = question_set("questions.json")


@pytest.fixture(scope="module")
def parser(tmp_path_factory):
    return sim_parser(tmp_path_factory, SET["today"])


def _matches(item, parsed) -> bool:
    return plan_matches(item["plan"], parsed.plan)


def test_the_question_set_is_large_and_bilingual():
    assert len(SET["questions"]) >= 60
    chinese = [item for item in SET["questions"] if any("\u4e00" <= ch <= "\u9fff" for ch in item["q"])]
    assert len(chinese) >= 15
    assert {item["plan"]["intent"] for item in PLANNED} == {"rank", "compare", "spikes", "correlation", "show", "screen"}


def test_at_least_95_percent_of_the_questions_get_the_expected_plan(parser):
    misses = [(item["q"], parser.parse(item["q"]).plan) for item in PLANNED if not _matches(item, parser.parse(item["q"]))]
    rate = 1 - len(misses) / len(PLANNED)
    assert rate >= 0.95, misses


@pytest.mark.parametrize("item", REFUSED, ids=lambda item: item["q"][:40] or "empty")
def test_unsupported_questions_are_declined_helpfully(parser, item):
    parsed = parser.parse(item["q"])
    assert parsed.plan is None
    assert parsed.problems and all(problem.strip() for problem in parsed.problems)
    assert len(parsed.suggestions) >= 3
    # every suggestion is itself a question the parser plans (or one naming symbols this market lacks)
    for suggestion in parsed.suggestions:
        assert parser.parse(suggestion).plan is not None, suggestion


def test_unknown_words_are_named_not_dropped(parser):
    parsed = parser.parse("Top 10 fintech stocks last month")
    assert parsed.plan is None and "fintech" in parsed.problems[0]


def test_defaults_are_stated_as_assumptions(parser):
    parsed = parser.parse("best tech stocks")
    assert parsed.plan is not None and parsed.plan.n == 10
    assert any("no period" in a for a in parsed.assumptions) and any("no N" in a for a in parsed.assumptions)


def test_plans_round_trip_through_json_and_satisfy_the_published_schema(parser):
    jsonschema.Draft202012Validator.check_schema(PLAN_SCHEMA)
    for item in PLANNED:
        plan = parser.parse(item["q"]).plan
        if plan is None:
            continue
        data = json.loads(json.dumps(plan.to_dict()))
        jsonschema.validate(data, PLAN_SCHEMA)
        assert QueryPlan.from_dict(data) == plan


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"intent": "rank", "start": "2025-01-01", "end": "2025-02-01"}, "universe"),
        ({"intent": "compare", "start": "2025-01-01", "end": "2025-02-01", "symbols": ["600519.SH"]}, "two"),
        ({"intent": "show", "start": "2025-03-01", "end": "2025-02-01", "symbols": ["600519.SH"]}, "after end"),
        ({"intent": "show", "start": "2025-01-01", "end": "2025-02-01", "symbols": ["600519"]}, "malformed"),
        ({"intent": "show", "start": "2025-01-01", "end": "2025-02-01", "symbols": ["600519.SH"], "code": "x"}, "unknown fields"),
        ({"intent": "delete", "start": "2025-01-01", "end": "2025-02-01"}, "intent"),
        ({"intent": "rank", "start": "2025-01-01", "end": "2025-02-01", "universe": "market", "n": "ten"}, "integer"),
    ],
)
def test_invalid_plans_are_rejected_with_the_reason(data, reason):
    with pytest.raises(InvalidRequestError, match=reason):
        plan_from_dict(data)
    if reason not in ("two", "after end", "universe"):  # the schema alone catches these
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(data, PLAN_SCHEMA)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("top tech stocks over the last month", "2025-05-07", "2025-06-06"),
        ("top tech stocks last month", "2025-05-01", "2025-05-31"),
        ("top tech stocks ytd", "2025-01-01", "2025-06-06"),
        ("top tech stocks in 2024", "2024-01-01", "2024-12-31"),
        ("top tech stocks in q3", "2024-07-01", "2024-09-30"),
        ("top tech stocks in q1 2025", "2025-01-01", "2025-03-31"),
        ("top tech stocks in the last 2 weeks", "2025-05-24", "2025-06-06"),
        ("top tech stocks last quarter", "2025-01-01", "2025-03-31"),
        ("top tech stocks since 20250301", "2025-03-01", "2025-06-06"),
    ],
)
def test_period_rules(text, start, end):
    plan = RuleParser(today=date(2025, 6, 6)).parse(text).plan
    assert plan is not None and (plan.start, plan.end) == (start, end)


def test_no_question_is_ever_evaluated(parser):
    parsed = parser.parse("__import__('os').system('echo hacked')")
    assert parsed.plan is None and "import" in parsed.problems[0]
