"""``ask(lab, text)``: plan (LLM if configured, else rules), check, execute through the Lab, explain, measure."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from quantdb_lab.domain.clock import to_exchange_time
from quantdb_lab.errors import QuantdbError
from quantdb_lab.query.answer import Answer
from quantdb_lab.query.cost import DEFAULT_MAX_CALLS, CostLimitError
from quantdb_lab.query.execute import Executor
from quantdb_lab.query.insights import insights
from quantdb_lab.query.llm import LLMPlanner, LLMSettings
from quantdb_lab.query.parser import Parsed, RuleParser
from quantdb_lab.query.refusals import suggest
from quantdb_lab.query.universe import Resolver
from quantdb_lab.query.vocabulary import vocabulary

_PARSERS: dict[tuple, RuleParser] = {}  # (today, name index, calendar) -> parser


def _counters(lab) -> tuple[int, int, int]:
    stats = lab.stats()
    return stats["hits"], stats["misses"], stats["upstream_calls_total"]


def today_of(lab) -> date:
    return to_exchange_time(lab.clock.now()).date()


def sessions_back(lab, today: date):
    """n -> the n-th latest session on or before ``today`` (from the Lab's calendar)."""

    def back(n: int) -> date:
        sessions = lab.calendar.sessions(today - timedelta(days=2 * n + 20), today)
        return sessions[-n] if len(sessions) >= n else today - timedelta(days=2 * n)

    return back


def rule_parser(lab, resolver: Resolver | None, today: date) -> RuleParser:
    """The rule parser for this Lab and day; the name index is built once per security master content."""
    index = resolver.name_index() if resolver is not None else None
    key = (today, id(index), id(lab.calendar))
    parser = _PARSERS.get(key)
    if parser is None:
        if len(_PARSERS) > 16:
            _PARSERS.clear()
        parser = _PARSERS[key] = RuleParser(today=today, sessions_back=sessions_back(lab, today), index=index)
    return parser


def ask(lab, text: str, *, planner: Any = None, progress: Any = False,
        max_calls: int | None = DEFAULT_MAX_CALLS) -> Answer:  # fmt: skip
    """Answer ``text`` with ``lab``. ``planner``: None (an LLM when ``QUANTDB_LAB_LLM_*`` is set, else rules),
    ``"rules"``, an ``LLMSettings`` or an ``LLMPlanner``. ``progress`` is handed to ``lab.portfolio``.
    ``max_calls``: the most upstream calls the answer may make (``cost``); a question that needs more is
    declined with its cost, before anything is fetched. None lifts the cap."""
    started = time.perf_counter()
    before = _counters(lab)
    answer = _answer(lab, text, planner=planner, progress=progress, max_calls=max_calls)
    after = _counters(lab)
    hits, misses = after[0] - before[0], after[1] - before[1]
    answer.cache_hit_rate = hits / (hits + misses) if hits + misses else None
    answer.upstream_calls = after[2] - before[2]
    answer.execution_time = time.perf_counter() - started
    return answer


def _llm(planner: Any) -> LLMPlanner | None:
    if planner == "rules":
        return None
    if isinstance(planner, LLMPlanner):
        return planner
    if isinstance(planner, LLMSettings):
        return LLMPlanner(planner)
    settings = LLMSettings.from_env() if planner is None else None
    return LLMPlanner(settings) if settings is not None else None


def _answer(lab, text: str, *, planner: Any, progress: Any, max_calls: int | None) -> Answer:
    answer = Answer(question=text)
    today = today_of(lab)
    resolver: Resolver | None = Resolver(lab)
    try:
        resolver.names()  # the security master: names in questions, sectors, unknown symbols
    except QuantdbError as exc:
        answer.notes.append(f"the security master is unavailable ({exc}); company names and sectors cannot be used")
        resolver = None
    parsed = rule_parser(lab, resolver, today).parse(text)
    llm = _llm(planner)
    if llm is not None:
        try:
            parsed = Parsed(text=text, plan=llm.plan(text, today=today), understood=["planned by the LLM"],
                            language=parsed.language)  # fmt: skip
            answer.planner = "llm"
        except QuantdbError as exc:
            answer.notes.append(f"LLM planner failed ({exc.reason}); used the rule-based parser")
    answer.understood, answer.assumptions = parsed.understood, parsed.assumptions
    answer.unknown_symbols = list(parsed.unknown_symbols)
    if parsed.plan is None:
        answer.problems, answer.suggestions = parsed.problems, parsed.suggestions
        return answer
    plan = parsed.plan
    if resolver is None and (plan.sector or plan.universe in ("market", "index")):
        return _decline(answer, parsed, [("the security master could not be loaded, so sectors and the market "
                                         "cannot be listed")])  # fmt: skip
    unknown = resolver.unknown(plan.symbols) if resolver is not None else []
    if unknown:
        answer.unknown_symbols += unknown
        return _decline(answer, parsed, [f"unknown to the provider ({lab.provider.name}): {', '.join(unknown)}"])
    answer.plan = plan
    executor = Executor(lab, resolver or Resolver(lab), progress=progress, max_calls=max_calls)
    try:
        outcome = executor.run(plan)
    except QuantdbError as exc:
        answer.problems.append(exc.reason if isinstance(exc, CostLimitError) else str(exc))
        answer.suggestions = suggest({}, vocabulary(), language=parsed.language)
        return answer
    answer.data, answer.notes = outcome.data, answer.notes + executor.cost_notes + outcome.notes
    answer.insights = insights(plan, outcome)
    from quantdb_lab.query.figures import figure  # plotly only when a chart is drawn

    answer.figure = figure(plan, outcome, plan.describe())
    if getattr(lab.provider, "synthetic", False):
        answer.notes.append("synthetic data: the provider is a simulation, not the market")
    return answer


def _decline(answer: Answer, parsed: Parsed, problems: list[str]) -> Answer:
    answer.problems = problems
    answer.suggestions = suggest({}, vocabulary(), language=parsed.language)
    return answer
