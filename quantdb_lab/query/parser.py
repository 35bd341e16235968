"""The rule-based planner: a question in English or Chinese -> a ``QueryPlan``, or the reasons it cannot be one.

No network and no model: the question is matched against ``vocabulary.json`` (companies, indices, commodities,
sectors, intent and metric words) and the period rules of ``periods``. Every word must be accounted for:
a word that is neither recognised nor a known filler word makes the question a refusal that names it, so an
unknown company or sector is never silently dropped into a broader plan. Defaults the question did not state
(the period, N, the metric) are listed in ``assumptions`` and shown with the answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError, InvalidSymbolError
from quantdb_lab.query.periods import Period, PeriodError, PeriodParser
from quantdb_lab.query.plan import QueryPlan, plan_from_dict
from quantdb_lab.query.vocabulary import CJK, Vocabulary, vocabulary

MAX_LENGTH = 500
# ASCII look-arounds: Chinese characters count as \w, and two codes joined by a Chinese "and" are still two.
_CODE = re.compile(r"(?<![a-z0-9.])(?:(?P<pre>sh|sz|bj)\.?)?(?P<code>\d{6})(?:\.(?P<suf>sh|sz|bj|ss))?(?![a-z0-9])")
_HK = re.compile(r"(?<![a-z0-9.])(?P<code>\d{4,5})\.hk(?![a-z0-9])")
_NUMBER = re.compile(r"(?<![a-z0-9.])(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|fifty|hundred)(?![a-z0-9.])")
_WORD = re.compile(r"[a-z][a-z0-9'&-]*")
_PUNCT = re.compile(r"[\s,.;:!?()\"'/%+*=_\[\]{}<>|\\~`@#$^-]+")
INTENT_PRIORITY = ("correlation", "spikes", "compare", "rank", "show")
DEFAULT_PERIOD = {"rank": ("month", 1), "compare": ("year", 1), "spikes": ("session", 5),
                  "correlation": ("year", 1), "show": ("year", 1)}  # fmt: skip
DEFAULT_THRESHOLD = {"volume": 3.0, "price": 3.0}  # volume: x the prior 20-session median; price: sigmas


@dataclass
class Parsed:
    """What the parser made of a question: a plan, or problems and suggestions (never both)."""

    text: str
    plan: QueryPlan | None = None
    understood: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    unknown_symbols: list[str] = field(default_factory=list)
    language: str = "en"


class _Work:
    """The question in lower case with recognised spans blanked out, so leftovers are what is not understood."""

    def __init__(self, text: str) -> None:
        self.text = text

    def blank(self, start: int, end: int) -> None:
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]


class RuleParser:
    """``RuleParser(today=..., sessions_back=...)``; ``names`` maps extra phrases (the provider's security names,
    lower case) to canonical symbols."""

    def __init__(self, *, today: date, sessions_back: Callable[[int], date] | None = None,
                 names: dict[str, str] | None = None, vocab: Vocabulary | None = None) -> None:  # fmt: skip
        self.vocab = vocab or vocabulary()
        self.today = today
        self.sessions_back = sessions_back or _weekdays_back(today)
        self.periods = PeriodParser(self.vocab, today, self.sessions_back)
        self.entities = self.vocab.entities({k: f"company:{v}" for k, v in (names or {}).items()})

    def parse(self, text: str) -> Parsed:
        raw = unicodedata.normalize("NFKC", text or "").strip()
        out = Parsed(text=raw, language="zh" if CJK.search(raw) else "en")
        if not raw:
            out.problems.append("the question is empty")
        elif len(raw) > MAX_LENGTH:
            out.problems.append(f"the question is longer than {MAX_LENGTH} characters")
        if out.problems:
            return self._refuse(out, {})
        work = _Work(raw.lower())
        found = self._extract(work, out)
        leftovers = self._leftovers(work.text)
        if leftovers:
            out.problems.append("did not understand " + ", ".join(repr(w) for w in leftovers))
        if not out.problems:
            self._build(out, found)
        return self._refuse(out, found) if out.problems else out

    # -- extraction ------------------------------------------------------------------------------------------
    def _extract(self, work: _Work, out: Parsed) -> dict:
        found: dict = {"symbols": [], "indices": [], "commodities": [], "sectors": [], "period": None, "n": []}
        try:
            period, spans = self.periods.find(work.text)
        except PeriodError as exc:
            out.problems.append(str(exc))
            period, spans = None, []
        for lo, hi in spans:
            work.blank(lo, hi)
        if period is not None:
            found["period"] = period
            out.understood.append(f"period: {period.label} = {period.start} to {period.end}")
        where: dict[str, int] = {}
        for match in [*_CODE.finditer(work.text), *_HK.finditer(work.text)]:
            token = match.group(0)
            try:
                symbol = parse_symbol(token if not token.endswith(".hk") else token.upper())
            except InvalidSymbolError:
                out.unknown_symbols.append(token.upper())
                out.problems.append(f"{token!r} is not a valid security code")
                continue
            (found["indices"] if symbol.kind == "index" else found["symbols"]).append(symbol.canonical)
            where.setdefault(symbol.canonical, match.start())
            work.blank(match.start(), match.end())
        for match in self.entities.find(work.text):
            kind, _, key = match.key.partition(":")
            bucket = {"company": "symbols", "index": "indices", "commodity": "commodities", "sector": "sectors"}[kind]
            if key not in found[bucket]:
                found[bucket].append(key)
            where.setdefault(key, match.start)
            work.blank(match.start, match.end)
        for bucket in ("symbols", "indices"):  # in the order the question names them
            found[bucket] = sorted(dict.fromkeys(found[bucket]), key=lambda key: where[key])
        for label, bucket in (("securities", "symbols"), ("index", "indices"), ("commodity", "commodities"),
                              ("sector", "sectors")):  # fmt: skip
            if found[bucket]:
                out.understood.append(f"{label}: {', '.join(found[bucket])}")
        found["earnings"] = bool(self.vocab.earnings.find(work.text))
        for match in self.vocab.earnings.find(work.text):
            work.blank(match.start, match.end)
        if found["earnings"]:
            out.understood.append("window: earnings seasons")
        self._numbers(work, found)
        matches = {"intents": self.vocab.intents.find(work.text), "orders": self.vocab.orders.find(work.text),
                   "metrics": self.vocab.metrics.find(work.text)}  # fmt: skip
        for group in matches.values():
            for match in group:
                work.blank(match.start, match.end)
        found["intents"] = {m.key for m in matches["intents"]}
        found["orders"] = {m.key for m in matches["orders"]}
        found["metrics"] = [m.key for m in matches["metrics"]]
        found["metric_words"] = {m.phrase for m in matches["metrics"]}
        return found

    def _numbers(self, work: _Work, found: dict) -> None:
        for name in ("zh_n_top", "zh_n_count"):
            for match in self.vocab.patterns[name].finditer(work.text):
                value = self.vocab.zh_number(match.group("n"))
                if value is not None:
                    found["n"].append(value)
                    # keep the leading order character (front/back) for the order words: blank the number only
                    lo, hi = match.span("n")
                    work.blank(lo, match.end() if name == "zh_n_count" else hi)
                    if name == "zh_n_top":
                        work.blank(hi, match.end())
        for match in _NUMBER.finditer(work.text):
            word = match.group(1)
            value = int(word) if word.isdigit() else self.vocab.numbers_en.get(word)
            if value is not None:
                found["n"].append(value)
                work.blank(match.start(), match.end())

    def _leftovers(self, text: str) -> list[str]:
        words = []
        for chunk in _PUNCT.split(text):
            if not chunk:
                continue
            for word in _WORD.findall(chunk) if not CJK.search(chunk) else [chunk]:
                if word in self.vocab.stopwords_en:
                    continue
                if CJK.search(word):
                    for stop in self.vocab.stopwords_zh:
                        word = word.replace(stop, " ")
                    words.extend(part for part in word.split() if part)
                else:
                    words.append(word)
        return list(dict.fromkeys(words))

    # -- building the plan -------------------------------------------------------------------------------
    def _intent(self, found: dict) -> str | None:
        charted = "show" in found["intents"] and set(found["metrics"]) <= {"price"}
        if charted and "compare" in found["intents"]:  # "plot A vs B": a chart of both, not a table
            return "show"
        for intent in INTENT_PRIORITY:
            if intent in found["intents"]:
                if intent == "show" and ("rank" in found["intents"] or found["n"]):
                    return "rank"
                return intent
        securities = found["symbols"] + found["indices"]
        if len(securities) >= 2 and found["metrics"] and not found["sectors"]:
            return "compare"
        if (securities or found["commodities"]) and not found["sectors"] and found["period"] is not None:
            return "show"
        if found["n"] and (found["sectors"] or found["metrics"]):
            return "rank"
        return None

    def _build(self, out: Parsed, found: dict) -> None:
        intent = self._intent(found)
        if intent is None:
            out.problems.append("could not tell what to compute (a ranking, a comparison, spikes, a correlation "
                                "or a chart)")
            return
        out.understood.insert(0, f"intent: {intent}")
        period: Period | None = found["period"]
        if period is None:
            unit, n = DEFAULT_PERIOD[intent]
            start, end = self.periods.resolve("trailing", {"n": str(n), "unit": unit}, "")
            label = f"the last {n} {'trading days' if unit == 'session' else unit}" if n > 1 else f"the last {unit}"
            period = Period(start, end, label)
            out.assumptions.append(f"no period given: used {label} ({start} to {end})")
        data: dict = {"intent": intent, "start": period.start.isoformat(), "end": period.end.isoformat(),
                      "period": period.label}  # fmt: skip
        metric = self._metric(out, found, intent)
        if metric is None:
            return
        data["metric"] = metric
        builder = getattr(self, f"_build_{intent}")
        if builder(out, found, data) is False:
            return
        try:
            out.plan = plan_from_dict(data)
        except InvalidRequestError as exc:
            out.problems.append(exc.reason.removeprefix("invalid query plan: "))

    def _metric(self, out: Parsed, found: dict, intent: str) -> str | None:
        metrics = list(dict.fromkeys(found["metrics"]))
        if intent == "spikes":
            metrics = ["volume" if m in ("volume", "turnover") else "price" for m in metrics if m != "volatility"] or metrics
            metrics = [m if m in ("volume", "price") else "price" for m in metrics]
            metrics = list(dict.fromkeys(metrics))
        if intent in ("rank", "compare") and len(metrics) > 1 and "price" in metrics:
            metrics.remove("price")  # "price performance": the performance is what is ranked
        if intent == "show" and len(metrics) > 1 and "return" in metrics and "price" in metrics:
            metrics.remove("price")
        if len(metrics) > 1:
            out.problems.append(f"several measures named ({', '.join(metrics)}); ask for one")
            return None
        if metrics:
            return metrics[0]
        default = {"rank": "return", "compare": "return", "spikes": "volume", "correlation": "return", "show": "price"}[intent]
        if intent in ("rank", "compare", "spikes"):
            out.assumptions.append(f"no measure given: used {default}")
        return default

    def _universe(self, out: Parsed, found: dict, data: dict) -> bool:
        sectors, indices, symbols = found["sectors"], found["indices"], found["symbols"]
        if len(sectors) + len(indices) > 1:
            out.problems.append("name one sector or one index to rank within")
            return False
        if sectors:
            data.update(universe="sector", sector=sectors[0])
        elif indices:
            data.update(universe="index", index=indices[0])
        elif len(symbols) >= 2:
            data.update(universe="symbols", symbols=symbols)
        elif symbols:
            out.problems.append("ranking needs a group of stocks, not one; name a sector, an index or several")
            return False
        else:
            data["universe"] = "market"
        if found["commodities"]:
            out.problems.append("a commodity cannot be ranked with stocks")
            return False
        return True

    def _build_rank(self, out: Parsed, found: dict, data: dict) -> bool:
        if not self._universe(out, found, data):
            return False
        if len(set(found["n"])) > 1:
            out.problems.append(f"several numbers ({', '.join(map(str, found['n']))}); which N is meant?")
            return False
        data["n"] = found["n"][0] if found["n"] else 10
        if not found["n"]:
            out.assumptions.append("no N given: showing 10")
        falls = found["metrics"] and "return" in found["metrics"] and found["metric_words"] & _FALL_WORDS
        data["order"] = "asc" if "asc" in found["orders"] or falls else "desc"
        return True

    def _build_compare(self, out: Parsed, found: dict, data: dict) -> bool:
        securities = found["symbols"] + found["indices"]
        if found["sectors"] or found["commodities"]:
            out.problems.append("a comparison is between securities; for a sector ask for its top N instead")
            return False
        data["symbols"] = securities
        if found["earnings"]:
            data["window"] = "earnings_seasons"
        if len(securities) < 2:
            out.problems.append("name at least two securities to compare")
            return False
        return True

    def _build_spikes(self, out: Parsed, found: dict, data: dict) -> bool:
        if not self._universe(out, found, data):
            return False
        data["threshold"] = DEFAULT_THRESHOLD[data["metric"]]
        if found["n"]:
            data["n"] = found["n"][0]
        return True

    def _build_correlation(self, out: Parsed, found: dict, data: dict) -> bool:
        left = [("commodity", c) for c in found["commodities"]] + [("index", i) for i in found["indices"]]
        right = [("sector", s) for s in found["sectors"]] + [("symbols", s) for s in found["symbols"]]
        if not found["commodities"] and len(found["indices"]) == 2 and not right:
            left, right = left[:1], [("symbols", found["indices"][1])]
        if len(left) != 1 or len(right) != 1:
            out.problems.append("a correlation needs one commodity or index and one sector or security")
            return False
        data[left[0][0]] = left[0][1]
        kind, value = right[0]
        data.update({"sector": value} if kind == "sector" else {"symbols": [value]})
        return True

    def _build_show(self, out: Parsed, found: dict, data: dict) -> bool:
        if found["sectors"]:
            out.problems.append("a chart is of securities or a commodity; for a sector ask for its top N")
            return False
        if len(found["commodities"]) > 1:
            out.problems.append("show one commodity at a time")
            return False
        data["symbols"] = found["symbols"] + found["indices"]
        if found["commodities"]:
            data["commodity"] = found["commodities"][0]
        return True

    # -- refusals --------------------------------------------------------------------------------------
    def _refuse(self, out: Parsed, found: dict) -> Parsed:
        out.plan = None
        out.suggestions = suggest(found, self.vocab, language=out.language)
        return out


_FALL_WORDS = frozenset({"fell", "fall", "losers", "down the most"} | set(vocabulary().data["order"]["asc"]["zh"]))


def suggest(found: dict, vocab: Vocabulary, *, language: str) -> list[str]:
    """Close questions that would work, built from what was recognised, then the standard examples."""
    out: list[str] = []
    symbols = (found.get("symbols") or []) + (found.get("indices") or [])
    if found.get("sectors"):
        out.append(f"Top 10 stocks in the {vocab.sector_label(found['sectors'][0])} sector by return over the last month")
    if len(symbols) >= 2:
        out.append(f"Compare the volatility of {symbols[0]} and {symbols[1]} this year")
    elif symbols:
        out.append(f"Show {symbols[0]} over the last 6 months")
    if found.get("commodities"):
        sector = vocab.sector_label(found["sectors"][0]) if found.get("sectors") else "energy"
        out.append(f"Correlation between {found['commodities'][0]} and the {sector} sector over the past year")
    examples = vocab.data["examples"]
    pool = (examples["zh"] + examples["en"]) if language == "zh" else examples["en"]
    out.extend(e for e in pool if e not in out)
    return out[:5]


def _weekdays_back(today: date) -> Callable[[int], date]:
    """Without a calendar: the n-th latest weekday on or before today."""

    def back(n: int) -> date:
        day, seen = today, 0
        while True:
            if day.weekday() < 5:
                seen += 1
                if seen == n:
                    return day
            day -= timedelta(days=1)

    return back
