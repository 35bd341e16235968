"""The parser's vocabulary: ``vocabulary.json`` and the sector taxonomy (package data), loaded once, with the
phrase matchers built from them.

The words live in JSON because they are data (and Chinese: the house rule keeps CJK text out of ``*.py``
outside the akshare adapter). Phrases are found by Aho-Corasick automata (``lexicon``): English ones on word
boundaries and in their plural and singular forms, Chinese ones anywhere; longer phrases win.
"""

from __future__ import annotations

import json
import re
from functools import cache, cached_property
from importlib import resources
from typing import Any

from quantdb_lab.query.lexicon import CJK, Match, PhraseMatcher, english_forms, phrase_map
from quantdb_lab.query.sectors import Taxonomy, taxonomy

__all__ = ["CJK", "Match", "PhraseMatcher", "Vocabulary", "vocabulary"]
_WORDS = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")


class Vocabulary:
    """Everything the parser looks words up in."""

    def __init__(self, data: dict[str, Any], sectors: Taxonomy) -> None:
        self.data = data
        self.taxonomy = sectors
        self.sectors = sectors.sectors
        self.stopwords_en = frozenset(data["stopwords"]["en"])
        self.stopwords_zh = frozenset(data["stopwords"]["zh"])
        self.intents = PhraseMatcher(phrase_map(data["intents"]))
        self.orders = PhraseMatcher(phrase_map(data["order"]))
        self.metrics = PhraseMatcher(phrase_map(data["metrics"]))
        self.directions = PhraseMatcher(phrase_map(data["directions"], forms=False))
        self.out_of_scope = PhraseMatcher(phrase_map(data["out_of_scope"], forms=False))
        self.single_day = PhraseMatcher({p.lower(): "single_day" for lang in ("en", "zh") for p in data["single_day"][lang]})
        self.earnings = PhraseMatcher({p.lower(): "earnings_seasons" for lang in ("en", "zh")
                                       for p in data["earnings"][lang]})  # fmt: skip
        self.sector_words = PhraseMatcher(phrase_map({"sector": data["sector_words"]}, forms=False))
        self.commodities = data["commodities"]
        self.companies = phrase_map(data["companies"], forms=False)  # alias -> symbol
        self.entities = PhraseMatcher({
            **{p: f"index:{k}" for p, k in phrase_map(data["indices"]).items()},
            **{p: f"commodity:{k}" for p, k in phrase_map(data["commodities"]).items()},
            **{p: f"sector:{k}" for p, k in phrase_map(sectors.phrases()).items()},
        })  # fmt: skip
        self.numbers_en = data["numbers"]["en"]
        self.zh_digits = data["numbers"]["zh_digits"]
        self.zh_ten = data["numbers"]["zh_ten"]
        self.zh_hundred = data["numbers"]["zh_hundred"]
        self.patterns = {k: re.compile(v) for k, v in data["patterns"].items() if isinstance(v, str)}
        self.zh_named = PhraseMatcher(data["patterns"]["zh_named"])
        self.units = data["units"]
        self.thresholds = {lang: re.compile(data["thresholds"][lang]) for lang in ("en", "zh")}
        self.threshold_units = data["thresholds"]["units"]

    @cached_property
    def english_words(self) -> list[str]:
        """Every English word the vocabulary knows, in every form (the candidates of a one-edit correction)."""
        words: set[str] = set()
        sources = [self.intents, self.orders, self.metrics, self.entities, self.earnings, self.single_day]
        phrases = [p for matcher in sources for p in matcher.phrases] + list(self.companies)
        for phrase in phrases:
            if not CJK.search(phrase):
                for word in _WORDS.findall(phrase):
                    words |= english_forms(word)
        return sorted(w for w in words if len(w) >= 4)

    @cached_property
    def chinese_words(self) -> list[str]:
        """The Chinese words of the vocabulary: jieba's user dictionary."""
        sources = [self.intents, self.orders, self.metrics, self.entities, self.earnings, self.single_day,
                   self.out_of_scope, self.directions]  # fmt: skip
        words = {p for matcher in sources for p in matcher.phrases if CJK.search(p)}
        words |= {p for p in self.companies if CJK.search(p)} | {w for w in self.stopwords_zh if CJK.search(w)}
        return sorted(words)

    @cached_property
    def homophones(self) -> dict[str, str]:
        """Toneless pinyin -> the one Chinese keyword that sounds so (two to four characters): a homophone typed
        by a pinyin input method (the wrong character of the same sound) is read as the keyword."""
        from pypinyin import lazy_pinyin  # its dictionaries load on first use only

        sounds: dict[str, set[str]] = {}
        for word in self.chinese_words:
            if 2 <= len(word) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in word):
                sounds.setdefault(" ".join(lazy_pinyin(word)), set()).add(word)
        return {sound: next(iter(words)) for sound, words in sounds.items() if len(words) == 1}

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
        return self.taxonomy.label(key)


@cache
def vocabulary() -> Vocabulary:
    """The packaged vocabulary, loaded once per process."""
    text = resources.files("quantdb_lab.query").joinpath("vocabulary.json").read_text(encoding="utf-8")
    return Vocabulary(json.loads(text), taxonomy())
