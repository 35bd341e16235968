"""Issue 22's question categories (tests/fixtures/query/categories.json, written before the code that handles
them): sectors on real taxonomies, colloquial fillers, periods, thresholds, abbreviations and typos, richer plans
and refusals that recognise what is asked. The held-out set (heldout.json) is not used here: only
benchmarks/bench_ask.py reads it, to report accuracy on questions nothing was tuned on."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.unit.test_query_parser import plan_matches as matches
from tests.unit.test_query_parser import question_set, sim_parser

SET, PLANNED, REFUSED = question_set("categories.json")


@pytest.fixture(scope="module")
def parser(tmp_path_factory):
    return sim_parser(tmp_path_factory, SET["today"])


def test_every_category_has_questions_in_both_languages():
    by_category = defaultdict(list)
    for item in SET["questions"]:
        by_category[item["category"]].append(item["q"])
    assert set(by_category) == {"sectors", "fillers", "periods", "thresholds", "names", "richer", "refusals", "valuation"}
    for category, questions in by_category.items():
        chinese = [q for q in questions if any("\u4e00" <= ch <= "\u9fff" for ch in q)]
        assert len(questions) >= 10 and 3 <= len(chinese) < len(questions), category


@pytest.mark.parametrize("category", ["sectors", "fillers", "periods", "thresholds", "names", "richer", "valuation"])
def test_at_least_95_percent_of_each_category_get_the_expected_plan(parser, category):
    items = [item for item in PLANNED if item["category"] == category]
    misses = []
    for item in items:
        parsed = parser.parse(item["q"])
        if not matches(item["plan"], parsed.plan):
            misses.append((item["q"], parsed.plan.to_dict() if parsed.plan else parsed.problems))
    assert 1 - len(misses) / len(items) >= 0.95, misses


@pytest.mark.parametrize("item", REFUSED, ids=lambda item: item["q"][:40])
def test_refusals_recognise_what_is_asked_and_offer_what_can_be_answered(parser, item):
    parsed = parser.parse(item["q"])
    assert parsed.plan is None and parsed.problems
    if "refusal" in item:
        assert parsed.refusal == item["refusal"], parsed.problems
        # recognised, not refused for an unknown word
        assert not any(problem.startswith("did not understand") for problem in parsed.problems), parsed.problems
    for symbol in item.get("mentions", []):
        assert any(symbol in s for s in parsed.suggestions[:2]), parsed.suggestions
    for suggestion in parsed.suggestions:
        assert parser.parse(suggestion).plan is not None, suggestion


def test_a_typo_is_understood_and_the_assumption_stated(parser):
    parsed = parser.parse("Top 10 semiconducter stocks this year")
    assert parsed.plan is not None and parsed.plan.sector == "semiconductors"
    assert any("semiconducter" in a and "semiconductor" in a for a in parsed.assumptions), parsed.assumptions
    parsed = parser.parse("gzmt 2024年走势")
    assert parsed.plan is not None and parsed.plan.symbols == ("600519.SH",)
    assert any("gzmt" in a for a in parsed.assumptions), parsed.assumptions
    parsed = parser.parse("今年波动律最高的银行股")  # a homophone of the volatility word, as pinyin input types it
    assert parsed.plan is not None and parsed.plan.metric == "volatility"
    assert any("波动律" in a and "波动率" in a and "same sound" in a for a in parsed.assumptions), parsed.assumptions


def test_fillers_never_leave_stray_characters(parser):
    for text in ("有没有最近三天成交量异常的股票", "帮我看看贵州茅台今年的走势图", "茅台最近半年走势咋样呢",
                 "银行板块今年涨幅前十吧", "请问沪深300今年的走势怎么样啊"):  # fmt: skip
        parsed = parser.parse(text)
        assert parsed.plan is not None, (text, parsed.problems)


def test_unknown_content_words_still_refuse_by_name(parser):
    for text, word in (("Top 10 fintech stocks last month", "fintech"), ("元宇宙板块今年涨幅前十", "元宇宙")):
        parsed = parser.parse(text)
        assert parsed.plan is None and any(word in p for p in parsed.problems), parsed.problems


@pytest.mark.parametrize(
    "extra, reason",
    [
        ({"intent": "screen", "universe": "market"}, "a filter or a field"),
        ({"intent": "screen", "universe": "market", "filters": ["pb<<1"]}, "malformed"),
        ({"intent": "screen", "universe": "market", "filters": ["dividend>1"]}, "malformed"),
        ({"intent": "screen", "universe": "market", "by": "dividend"}, "by must be one of"),
        ({"intent": "rank", "universe": "market", "n": 5, "by": "pb"}, "for screens"),
        ({"intent": "screen", "filters": ["pb<1"]}, "universe"),
    ],
)
def test_invalid_screen_plans_are_rejected_with_the_reason(extra, reason):
    from quantdb_lab.errors import InvalidRequestError
    from quantdb_lab.query import plan_from_dict

    with pytest.raises(InvalidRequestError, match=reason):
        plan_from_dict({"start": "2025-06-06", "end": "2025-06-06", **extra})


def test_screen_plans_round_trip_and_say_what_they_screen(parser):
    import json

    import jsonschema

    from quantdb_lab.query import PLAN_SCHEMA, QueryPlan

    for item in [i for i in PLANNED if i["category"] == "valuation"]:
        plan = parser.parse(item["q"]).plan
        data = json.loads(json.dumps(plan.to_dict()))
        jsonschema.validate(data, PLAN_SCHEMA)
        assert QueryPlan.from_dict(data) == plan
    plan = parser.parse("ROE above 15% last year").plan
    assert plan.describe() == "all listed A-shares with roe>0.15, as of 2024-12-31"
    parsed = parser.parse("stocks with ROE above 15")  # a bare number on a ratio is read as percent, and said
    assert parsed.plan.filters == ("roe>0.15",) and any("15%" in a for a in parsed.assumptions)
    assert parser.parse("market cap above 500亿").plan.filters == ("total_mv>5e+10",)
