"""``QueryPlan``: what a question asks for, as validated, serialisable data (never code).

Both planners (the rule-based parser and the optional LLM) produce one; ``plan_from_dict`` validates anything
that claims to be one against ``PLAN_SCHEMA`` (the JSON schema handed to the LLM) plus the rules a schema
cannot say (a comparison needs two securities, dates in order). Sector words are stored as vocabulary keys
(``"technology"``), not provider board names, so a plan means the same on every provider; the executor maps
them onto the provider's industries.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any, Final

from quantdb_lab.errors import InvalidRequestError

INTENTS: Final = ("rank", "compare", "spikes", "correlation", "show", "measure", "screen")
SCREEN_FIELDS: Final = ("pe_ttm", "pb", "ps_ttm", "total_mv", "float_mv", "roe", "eps", "bps", "gross_margin", "net_margin")
METRICS: Final = ("return", "volatility", "volume", "turnover", "price", "drawdown", "sharpe", "beta")
THRESHOLD_UNITS: Final = ("x", "sigma", "pct")
DIRECTIONS: Final = ("any", "up", "down")
UNIVERSES: Final = ("market", "sector", "index", "symbols")
WINDOWS: Final = ("period", "earnings_seasons")
ORDERS: Final = ("desc", "asc")
ADJUSTS: Final = ("", "qfq", "hfq")
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_SYMBOL = r"^(\d{6}\.(SH|SZ|BJ)|\d{5}\.HK)$"

PLAN_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "QueryPlan",
    "description": "What a market-data question asks for. Dates are ISO, inclusive; symbols canonical (600519.SH).",
    "type": "object",
    "additionalProperties": False,
    "required": ["intent", "start", "end"],
    "properties": {
        "intent": {"enum": list(INTENTS), "description": "rank: top/bottom N of a universe; compare: securities "
                   "side by side; spikes: unusual volume or price moves; correlation: two series' daily returns "
                   "(any two of stocks, indices, sectors, commodities); show: plot securities or a commodity; "
                   "measure: one measure of one or a few securities"},
        "symbols": {"type": "array", "items": {"type": "string", "pattern": _SYMBOL}, "uniqueItems": True},
        "universe": {"enum": [*UNIVERSES, None], "description": "rank and spikes: which stocks are ranked"},
        "sector": {"type": ["string", "null"], "description": "a sector key: technology, energy, banks, ..."},
        "sector2": {"type": ["string", "null"], "description": "correlation only: a second sector key"},
        "index": {"type": ["string", "null"], "pattern": _SYMBOL},
        "commodity": {"type": ["string", "null"], "pattern": r"^[A-Z]{1,3}0$",
                      "description": "a futures main contract, SC0 = INE crude oil"},
        "commodity2": {"type": ["string", "null"], "pattern": r"^[A-Z]{1,3}0$",
                       "description": "correlation only: a second commodity"},
        "metric": {"enum": list(METRICS), "description": "return: last/first close - 1; volatility: annualised; "
                   "drawdown: maximum peak-to-trough fall, positive; sharpe: annualised, risk-free rate 0; "
                   "beta: of daily returns on the benchmark's"},
        "benchmark": {"type": ["string", "null"], "pattern": _SYMBOL, "description": "beta: the index (000300.SH)"},
        "order": {"enum": list(ORDERS)},
        "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 500},
        "start": {"type": "string", "pattern": _DATE},
        "end": {"type": "string", "pattern": _DATE},
        "period": {"type": ["string", "null"], "description": "the period as the question named it"},
        "window": {"enum": list(WINDOWS), "description": "earnings_seasons: only A-share disclosure windows"},
        "threshold": {"type": ["number", "null"], "exclusiveMinimum": 0,
                      "description": "spikes: volume x baseline, sigmas, or a daily move in percent; rank: a "
                      "period return in percent the members must pass"},
        "threshold_unit": {"enum": [*THRESHOLD_UNITS, None]},
        "direction": {"enum": list(DIRECTIONS), "description": "spikes: only rises (up), falls (down), or both"},
        "adjust": {"enum": list(ADJUSTS)},
        "filters": {"type": "array", "uniqueItems": True,
                    "items": {"type": "string", "pattern": rf"^({'|'.join(SCREEN_FIELDS)})[<>]-?\d+(\.\d+)?(e[+-]?\d+)?$"},
                    "description": "screen: field<value or field>value; ratios (roe, margins) as fractions, market "
                    "caps in CNY; valuation at the period's last session, fundamentals of the latest report period "
                    "ending by the period's end, as known on the Lab's as_of"},
        "by": {"enum": [*SCREEN_FIELDS, None], "description": "screen: the field ranked by (order, n)"},
    },
}


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryPlan:
    """One question's plan. ``start``/``end`` inclusive ISO dates; see ``PLAN_SCHEMA`` for each field."""

    intent: str
    start: str
    end: str
    symbols: tuple[str, ...] = ()
    universe: str | None = None
    sector: str | None = None
    sector2: str | None = None
    index: str | None = None
    commodity: str | None = None
    commodity2: str | None = None
    metric: str = "return"
    benchmark: str | None = None
    order: str = "desc"
    n: int | None = None
    period: str | None = None
    window: str = "period"
    threshold: float | None = None
    threshold_unit: str | None = None
    direction: str = "any"
    adjust: str = "qfq"
    filters: tuple[str, ...] = ()
    by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["symbols"] = list(self.symbols)
        data["filters"] = list(self.filters)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryPlan:
        return plan_from_dict(data)

    @property
    def first(self) -> date:
        return date.fromisoformat(self.start)

    @property
    def last(self) -> date:
        return date.fromisoformat(self.end)

    def describe(self) -> str:
        """One line a person can check: what will be computed, over what, when."""
        where = {"sector": f"the {self.sector} sector", "index": f"index {self.index} members",
                 "market": "all listed A-shares", "symbols": ", ".join(self.symbols)}.get(self.universe or "", "")  # fmt: skip
        when = f"{self.start} to {self.end}" + (f" ({self.period})" if self.period else "")
        if self.intent == "rank":
            side = "top" if self.order == "desc" else "bottom"
            passing = ""
            if self.threshold is not None:
                passing = f" {'up' if self.order == 'desc' else 'down'} at least {self.threshold:g}%"
            count = f" {self.n}" if self.n else ""
            return f"{side}{count} of {where}{passing} by {self._metric_name()}, {when}"
        if self.intent == "screen":
            side = "" if not self.by else f", {'highest' if self.order == 'desc' else 'lowest'} {self.by} first"
            count = f" (top {self.n})" if self.n else ""
            rule = f" with {' and '.join(self.filters)}" if self.filters else ""
            return f"{where}{rule}{side}{count}, as of {self.end}"
        if self.intent == "compare":
            seasons = " during earnings seasons" if self.window == "earnings_seasons" else ""
            return f"compare {self.metric} of {', '.join(self.symbols)}{seasons}, {when}"
        if self.intent == "spikes":
            unit = {"x": "x the usual volume", "sigma": " standard deviations", "pct": "% in a day"}.get(
                self.threshold_unit or "", "")
            way = {"up": "rises", "down": "falls"}.get(self.direction, "moves")
            return f"unusual {self.metric} {way} in {where} (threshold {self.threshold:g}{unit}), {when}"
        if self.intent == "correlation":
            left, right = self.series()
            return f"correlation of daily returns of {left} and {right}, {when}"
        if self.intent == "measure":
            return f"{self._metric_name()} of {', '.join(self.symbols)}, {when}"
        shown = ", ".join([*self.symbols, *([self.commodity] if self.commodity else [])])
        return f"show {self.metric} of {shown}, {when}"

    def _metric_name(self) -> str:
        if self.metric == "beta":
            return f"beta against {self.benchmark or '000300.SH'}"
        return {"drawdown": "maximum drawdown", "sharpe": "Sharpe ratio"}.get(self.metric, self.metric)

    def series(self) -> list[str]:
        """A correlation's two series, as ``kind:key`` labels, in the plan's order."""
        out = [f"commodity {c}" for c in (self.commodity, self.commodity2) if c]
        out += [f"index {self.index}"] if self.index else []
        out += [f"the {s} sector" for s in (self.sector, self.sector2) if s]
        return out + list(self.symbols)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidRequestError(f"invalid query plan: {message}")


def _check_schema(data: dict[str, Any]) -> None:
    """The subset of JSON schema ``PLAN_SCHEMA`` uses: types, enums, patterns, bounds, no extra keys."""
    props = PLAN_SCHEMA["properties"]
    _check(isinstance(data, dict), "a plan is a JSON object")
    extra = sorted(set(data) - set(props))
    _check(not extra, f"unknown fields {extra}")
    for name in PLAN_SCHEMA["required"]:
        _check(data.get(name) is not None, f"{name} is required")
    for name, value in data.items():
        spec = props[name]
        if "enum" in spec:
            _check(value in spec["enum"], f"{name} must be one of {spec['enum']}, not {value!r}")
            continue
        kinds = spec.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if value is None:
            _check("null" in kinds, f"{name} must not be null")
            continue
        if "array" in kinds:
            _check(isinstance(value, list) and all(isinstance(v, str) for v in value), f"{name} must be a list of strings")
            _check(len(set(value)) == len(value), f"{name} has repeats")
            pattern = spec["items"]["pattern"]
            bad = [v for v in value if not re.match(pattern, v)]
            _check(not bad, f"{name} has malformed entries {bad}")
            continue
        if "integer" in kinds:
            _check(isinstance(value, int) and not isinstance(value, bool), f"{name} must be an integer")
        elif "number" in kinds:
            _check(isinstance(value, (int, float)) and not isinstance(value, bool), f"{name} must be a number")
        else:
            _check(isinstance(value, str), f"{name} must be a string")
        if "pattern" in spec:
            _check(re.match(spec["pattern"], value) is not None, f"{name} {value!r} is malformed")
        if "minimum" in spec:
            _check(spec["minimum"] <= value <= spec["maximum"], f"{name} out of range")
        if "exclusiveMinimum" in spec:
            _check(value > spec["exclusiveMinimum"], f"{name} must be positive")


def plan_from_dict(data: dict[str, Any]) -> QueryPlan:
    """A validated plan from JSON-like data; raises ``InvalidRequestError`` saying what is wrong."""
    _check_schema(data)
    known = {f.name for f in fields(QueryPlan)}
    values = {k: v for k, v in data.items() if k in known}
    values["symbols"] = tuple(values.get("symbols") or ())
    values["filters"] = tuple(values.get("filters") or ())
    if values.get("threshold") is not None:
        values["threshold"] = float(values["threshold"])
    plan = QueryPlan(**values)
    try:
        first, last = plan.first, plan.last
    except ValueError as exc:
        raise InvalidRequestError(f"invalid query plan: {exc}") from None
    _check(first <= last, f"start {plan.start} is after end {plan.end}")
    _check_intent(plan)
    return plan


def _check_intent(plan: QueryPlan) -> None:
    if plan.intent == "screen":
        _check(bool(plan.filters) or plan.by is not None, "a screen needs a filter or a field to rank by")
    _check(plan.intent == "screen" or (not plan.filters and plan.by is None), "filters and by are for screens")
    if plan.intent in ("rank", "spikes", "screen"):
        _check(plan.universe is not None, f"{plan.intent} needs a universe")
        _check(plan.universe != "sector" or bool(plan.sector), "universe 'sector' needs a sector")
        _check(plan.universe != "index" or bool(plan.index), "universe 'index' needs an index")
        least = 1 if plan.intent == "screen" else 2  # a screen of one stock shows its figures
        _check(plan.universe != "symbols" or len(plan.symbols) >= least,
               f"universe 'symbols' needs {'a symbol' if least == 1 else 'two symbols or more'}")
    if plan.intent == "rank":
        _check(plan.n is not None or plan.threshold is not None, "rank needs n or a threshold")
        _check(plan.metric != "price", "rank by return, volatility, volume, turnover, drawdown, sharpe or beta")
        _check(plan.threshold is None or (plan.metric == "return" and plan.threshold_unit == "pct"),
               "a ranking's threshold is a return in percent")
    if plan.intent == "spikes":
        _check(plan.metric in ("volume", "price"), "spikes are in volume or price")
        _check(plan.threshold is not None, "spikes need a threshold")
        unit = plan.threshold_unit
        _check(unit is None or (unit == "x") == (plan.metric == "volume"),
               "volume spikes are in multiples (x) of the usual volume, price moves in sigma or pct")
    if plan.intent == "compare":
        _check(len(plan.symbols) >= 2, "compare needs two securities or more")
    if plan.intent == "measure":
        _check(len(plan.symbols) >= 1, "measure needs a security")
        _check(plan.metric != "price", "measure return, volatility, volume, turnover, drawdown, sharpe or beta")
    if plan.intent == "correlation":
        _check(len(plan.series()) == 2, "correlation needs exactly two series (stocks, indices, sectors or commodities)")
    _check(plan.intent == "correlation" or (plan.sector2 is None and plan.commodity2 is None),
           "a second sector or commodity is for correlations")
    if plan.intent == "show":
        _check(bool(plan.symbols) or bool(plan.commodity), "show needs a security or a commodity")
    _check(plan.window == "period" or plan.intent == "compare", "earnings seasons apply to comparisons")
