"""Questions in plain English or Chinese, answered from the cache: ``lab.ask(text) -> Answer``.

Layer above the Lab (``lab -> query -> ui``). Pieces, one job each:

* ``plan``: ``QueryPlan``, its JSON schema and validation;
* the rule-based planner, no network: ``vocabulary`` (+ ``vocabulary.json``), ``sectors`` (+ ``taxonomy.json``),
  ``lexicon`` (Aho-Corasick phrase matching), ``names`` (the security master's names, pinyin, one-edit typos),
  ``segment`` (jieba on what is left), ``periods``, ``parser``, ``builder``, ``refusals``;
* ``llm`` and ``bounded_http``: the optional planner over an OpenAI-compatible endpoint, validated against the
  same schema, with a total deadline and size and depth caps;
* ``universe``, ``cost``, ``execute``, ``metrics``, ``seasons``: running a plan through the Lab;
* ``insights``, ``figures``, ``answer``, ``agent``: explaining and measuring the result.
"""

from quantdb_lab.query.agent import ask
from quantdb_lab.query.answer import Answer
from quantdb_lab.query.llm import LLMPlanner, LLMSettings
from quantdb_lab.query.parser import RuleParser
from quantdb_lab.query.plan import PLAN_SCHEMA, QueryPlan, plan_from_dict

__all__ = ["PLAN_SCHEMA", "Answer", "LLMPlanner", "LLMSettings", "QueryPlan", "RuleParser", "ask", "plan_from_dict"]
