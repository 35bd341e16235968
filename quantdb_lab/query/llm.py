"""An optional LLM planner over any OpenAI-compatible ``/v1/chat/completions`` endpoint.

Configured by ``LLMSettings`` or the environment (``QUANTDB_LAB_LLM_URL``, ``QUANTDB_LAB_LLM_MODEL``,
``QUANTDB_LAB_LLM_KEY``). The model gets the question, today's date, the plan's JSON schema and the allowed
sector and commodity keys, and must answer with one JSON object. Its answer is data: parsed with ``json``,
validated by ``plan_from_dict`` like any plan, never executed. Any failure raises a typed error, and ``ask``
falls back to the rule-based parser with a note. The exchange is bounded (``bounded_http``): ``timeout`` is a
total deadline, the reply is capped at ``max_bytes`` and at ``max_depth`` levels of JSON nesting, redirects
are not followed (the key is sent only to the configured host). Standard library only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.query.bounded_http import loads_bounded, post_json
from quantdb_lab.query.plan import PLAN_SCHEMA, QueryPlan, plan_from_dict
from quantdb_lab.query.vocabulary import vocabulary

URL_ENV, MODEL_ENV, KEY_ENV = "QUANTDB_LAB_LLM_URL", "QUANTDB_LAB_LLM_MODEL", "QUANTDB_LAB_LLM_KEY"


@dataclass(frozen=True, slots=True)
class LLMSettings:
    url: str  # the server's base URL, e.g. http://127.0.0.1:8000 (``/v1/chat/completions`` is appended)
    model: str
    key: str | None = field(default=None, repr=False)  # a bearer token: never in reprs, notes or logs
    timeout: float = 20.0  # seconds for the whole call, not per read
    max_bytes: int = 1_000_000  # a plan is well under 2 kB; a reply over this is refused unread
    max_depth: int = 32  # JSON nesting (the envelope is 4 deep, a plan 2)

    @classmethod
    def from_env(cls) -> LLMSettings | None:
        url, model = os.environ.get(URL_ENV), os.environ.get(MODEL_ENV)
        if not url or not model:
            return None
        return cls(url=url, model=model, key=os.environ.get(KEY_ENV) or None)

    @property
    def endpoint(self) -> str:
        base = self.url.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")


def instructions(today: date) -> str:
    vocab = vocabulary()
    return (
        "You turn questions about Chinese A-share market data into a JSON query plan. Answer with exactly one "
        "JSON object that validates against this JSON schema, and nothing else:\n"
        f"{json.dumps(PLAN_SCHEMA)}\n"
        f"Today is {today.isoformat()}; dates are inclusive ISO dates, never after today. "
        f"sector must be one of {sorted(vocab.sectors)}; commodity one of {sorted(vocab.commodities)} "
        "(SC0 = INE crude oil). Symbols are canonical: 600519.SH, 000858.SZ, 000300.SH (CSI 300). "
        "rank needs universe and n (or a return threshold in pct); spikes need universe, metric volume or price, "
        "threshold (default 3) and threshold_unit (x for volume, sigma or pct for price); compare needs two "
        "symbols or more, measure one or more; correlation needs exactly two series among commodity, commodity2, "
        "index, sector, sector2 and symbols; beta is against benchmark (default 000300.SH)."
    )


class LLMPlanner:
    """``LLMPlanner(settings).plan(question, today=...)`` -> a validated ``QueryPlan`` (or raises)."""

    name = "llm"

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings

    def request_body(self, question: str, today: date) -> dict[str, Any]:
        return {
            "model": self.settings.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": instructions(today)}, {"role": "user", "content": question}],
        }

    def plan(self, question: str, *, today: date) -> QueryPlan:
        settings = self.settings
        headers = {"Authorization": f"Bearer {settings.key}"} if settings.key else {}
        _, body = post_json(settings.endpoint, self.request_body(question, today), headers=headers,
                            timeout=settings.timeout, max_bytes=settings.max_bytes)  # fmt: skip
        text = body.decode("utf-8", errors="replace")
        payload = loads_bounded(text, max_depth=settings.max_depth, what="the LLM reply")
        return parse_reply(payload, today=today, max_depth=settings.max_depth)


def parse_reply(payload: Any, *, today: date, max_depth: int = 32) -> QueryPlan:
    """The plan in a chat-completions reply, validated; raises InvalidRequestError otherwise."""
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise InvalidRequestError("the LLM reply has no message content") from None
    if not isinstance(content, str):
        raise InvalidRequestError("the LLM reply's content is not text")
    text = content.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    data = loads_bounded(text, max_depth=max_depth, what="the LLM's plan")
    if not isinstance(data, dict):
        raise InvalidRequestError("the LLM's plan is not a JSON object")
    plan = plan_from_dict(data)
    vocab = vocabulary()
    for sector in (plan.sector, plan.sector2):
        if sector is not None and sector not in vocab.sectors:
            raise InvalidRequestError(f"the LLM named an unknown sector {sector!r}")
    for commodity in (plan.commodity, plan.commodity2):
        if commodity is not None and commodity not in vocab.commodities:
            raise InvalidRequestError(f"the LLM named an unknown commodity {commodity!r}")
    if plan.last > today:
        raise InvalidRequestError(f"the LLM's plan ends in the future ({plan.end})")
    return plan
