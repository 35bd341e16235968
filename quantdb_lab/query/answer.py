"""``Answer``: what ``lab.ask`` returns, for a plan that ran and for a question it declined alike."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from quantdb_lab.query.plan import QueryPlan


@dataclass
class Answer:
    """``plan`` is None when the question was declined; ``problems`` then say why and ``suggestions`` offer
    close questions that work. ``execution_time`` is in seconds; ``cache_hit_rate`` is the share of series
    (bars and reference data) served from the cache while answering, None when nothing was loaded;
    ``upstream_calls`` counts the provider calls made for this answer (both from ``lab.stats()`` deltas)."""

    question: str
    plan: QueryPlan | None = None
    data: pl.DataFrame = field(default_factory=pl.DataFrame)
    insights: list[str] = field(default_factory=list)
    figure: Any = None  # a plotly go.Figure, or None
    execution_time: float = 0.0
    cache_hit_rate: float | None = None
    upstream_calls: int = 0
    understood: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    unknown_symbols: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    planner: str = "rules"  # "rules" or "llm"

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Everything but the frame and the figure, JSON-compatible."""
        return {
            "question": self.question, "ok": self.ok, "plan": self.plan.to_dict() if self.plan else None,
            "insights": self.insights, "rows": self.data.height, "execution_time": self.execution_time,
            "cache_hit_rate": self.cache_hit_rate, "upstream_calls": self.upstream_calls,
            "understood": self.understood, "problems": self.problems, "suggestions": self.suggestions,
            "unknown_symbols": self.unknown_symbols, "assumptions": self.assumptions, "notes": self.notes,
            "planner": self.planner,
        }  # fmt: skip

    def text(self) -> str:
        """A plain-text rendering (what ``repr`` shows)."""
        lines = [f"Q: {self.question}"]
        if self.plan is not None:
            lines.append(f"Plan ({self.planner}): {self.plan.describe()}")
        lines += [f"  - {line}" for line in self.insights]
        lines += [f"Assumed: {a}" for a in self.assumptions] + [f"Note: {n}" for n in self.notes]
        if self.problems:
            lines += [f"Not answered: {p}" for p in self.problems]
            if self.understood:
                lines.append("Understood: " + "; ".join(self.understood))
            lines += [f"Try: {s}" for s in self.suggestions]
        rate = "n/a" if self.cache_hit_rate is None else f"{self.cache_hit_rate:.0%}"
        lines.append(f"{self.execution_time * 1000:.0f} ms, cache hit rate {rate}, {self.upstream_calls} upstream calls")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        e = html.escape
        parts = [f"<p><b>{e(self.question)}</b></p>"]
        if self.plan is not None:
            parts.append(f"<p><i>{e(self.plan.describe())}</i></p>")
        if self.insights:
            parts.append("<ul>" + "".join(f"<li>{e(s)}</li>" for s in self.insights) + "</ul>")
        for label, items in (("Assumed", self.assumptions), ("Note", self.notes), ("Not answered", self.problems),
                             ("Try", self.suggestions)):  # fmt: skip
            parts += [f"<div><b>{label}:</b> {e(item)}</div>" for item in items]
        rate = "n/a" if self.cache_hit_rate is None else f"{self.cache_hit_rate:.0%}"
        parts.append(f"<p style='color:#666'>{self.execution_time * 1000:.0f} ms &middot; cache hit rate {rate} "
                     f"&middot; {self.upstream_calls} upstream calls</p>")
        if self.data.height:
            parts.append(self.data.head(20)._repr_html_())
        return "".join(parts)
