"""The parser's vocabulary: ``vocabulary.json`` (package data) loaded once, with phrase matchers built from it.

The words live in JSON because they are data (and Chinese: the house rule keeps CJK text out of ``*.py``
outside the akshare adapter). English phrases match on word boundaries, Chinese ones anywhere; longer phrases
are tried first so "crude oil prices" wins over "oil".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase found in the text: which entry it stands for, and where."""

    key: str
    phrase: str
    start: int
    end: int


class PhraseMatcher:
    """Longest-first, non-overlapping matching of many phrases, each mapped to a key."""

    def __init__(self, phrases: dict[str, str]) -> None:
        self.phrases = phrases
        ordered = sorted(phrases, key=len, reverse=True)
        parts = [re.escape(p) if CJK.search(p) else rf"(?<![a-z0-9]){re.escape(p)}(?![a-z0-9])" for p in ordered]
        self._regex = re.compile("|".join(f"({part})" for part in parts)) if parts else None
        self._ordered = ordered

    def find(self, text: str) -> list[Match]:
        if self._regex is None:
            return []
        out = []
        for found in self._regex.finditer(text):
            phrase = self._ordered[found.lastindex - 1]  # type: ignore[operator]
            out.append(Match(self.phrases[phrase], phrase, found.start(), found.end()))
        return out


def _phrases(entries: dict[str, Any]) -> dict[str, str]:
    """``{key: {"en": [...], "zh": [...]}}`` -> ``{phrase: key}`` (lower case)."""
    out: dict[str, str] = {}
    for key, entry in entries.items():
        for language in ("en", "zh"):
            for phrase in entry.get(language, []):
                out.setdefault(phrase.lower(), key)
    return out


class Vocabulary:
    """Everything the parser looks words up in."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.stopwords_en = frozenset(data["stopwords"]["en"])
        self.stopwords_zh = tuple(sorted(data["stopwords"]["zh"], key=len, reverse=True))
        self.intents = PhraseMatcher(_phrases(data["intents"]))
        self.orders = PhraseMatcher(_phrases(data["order"]))
        self.metrics = PhraseMatcher(_phrases(data["metrics"]))
        self.earnings = PhraseMatcher({p.lower(): "earnings_seasons" for lang in ("en", "zh")
                                       for p in data["earnings"][lang]})  # fmt: skip
        self.sectors = data["sectors"]
        self.commodities = data["commodities"]
        self.entity_phrases = {
            **{p: f"company:{k}" for p, k in _phrases(data["companies"]).items()},
            **{p: f"index:{k}" for p, k in _phrases(data["indices"]).items()},
            **{p: f"commodity:{k}" for p, k in _phrases(data["commodities"]).items()},
            **{p: f"sector:{k}" for p, k in _phrases(data["sectors"]).items()},
        }
        self.numbers_en = data["numbers"]["en"]
        self.zh_digits = data["numbers"]["zh_digits"]
        self.zh_ten = data["numbers"]["zh_ten"]
        self.zh_hundred = data["numbers"]["zh_hundred"]
        self.patterns = {k: re.compile(v) for k, v in data["patterns"].items() if isinstance(v, str)}
        self.zh_named = PhraseMatcher(data["patterns"]["zh_named"])
        self.units = data["units"]

    def entities(self, extra: dict[str, str] | None = None) -> PhraseMatcher:
        """A matcher over companies, indices, commodities and sectors, plus ``extra`` phrases (e.g. the
        provider's own security names) mapped to ``company:<symbol>``."""
        return PhraseMatcher({**(extra or {}), **self.entity_phrases})

    def zh_number(self, text: str) -> int | None:
        """Digits or Chinese numerals (ten, fifteen, twenty, three, one hundred) -> int; None if not a number."""
        if text.isdigit():
            return int(text)
        if not text:
            return None
        if text == self.zh_hundred or text.endswith(self.zh_hundred):
            head = text[: -len(self.zh_hundred)]
            return 100 * (self.zh_digits.get(head, 1) if head else 1)
        if self.zh_ten in text:
            tens, _, ones = text.partition(self.zh_ten)
            value = 10 * self.zh_digits.get(tens, 1 if not tens else -1000)
            value += self.zh_digits.get(ones, 0 if not ones else -1000)
            return value if value > 0 else None
        return self.zh_digits.get(text)

    def sector_label(self, key: str) -> str:
        return key.replace("_", " ")


@cache
def vocabulary() -> Vocabulary:
    """The packaged vocabulary, loaded once per process."""
    text = resources.files("quantdb_lab.query").joinpath("vocabulary.json").read_text(encoding="utf-8")
    return Vocabulary(json.loads(text))
