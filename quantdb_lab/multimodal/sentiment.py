"""Offline headline sentiment: a financial lexicon (``lexicon.json``, Chinese and English) and one rule.

The rule: find sentiment words (Chinese longest-first as substrings, English as lower-case words or phrases of
up to three words); each counts +1 (positive) or -1 (negative), flipped when a negator
(Chinese "not", "not yet"; English not, no ...)
comes shortly before it (within ``ZH_WINDOW`` characters / ``EN_WINDOW`` words; a negator flips only the next
sentiment word). The score is the mean of the counts, in [-1, 1]; 0 when no word matches (neutral).

Measured on ``tests/fixtures/sentiment/headlines.jsonl`` (200 hand-labelled headlines, half positive, 130
Chinese and 70 English) by ``tests/unit/test_sentiment.py``; see the README for the accuracy. The lexicon was
written alongside that set, so the figure is in-sample: expect less on other text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Final

import polars as pl

ZH_WINDOW: Final = 5
EN_WINDOW: Final = 3
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


@dataclass(frozen=True, slots=True)
class Lexicon:
    zh: dict[str, int]  # term -> +1 / -1 / 0 (0: negator)
    en: dict[tuple[str, ...], int]
    zh_longest: int
    en_longest: int


@cache
def lexicon() -> Lexicon:
    text = resources.files("quantdb_lab.multimodal").joinpath("lexicon.json").read_text("utf-8")
    data = json.loads(text)
    zh = {w: 1 for w in data["zh_positive"]} | {w: -1 for w in data["zh_negative"]} | {w: 0 for w in data["zh_negators"]}
    en = ({tuple(w.split()): 1 for w in data["en_positive"]} | {tuple(w.split()): -1 for w in data["en_negative"]}
          | {tuple(w.split()): 0 for w in data["en_negators"]})  # fmt: skip
    return Lexicon(zh, en, max(map(len, zh)), max(map(len, en)))


def _hits(tokens: Sequence, table: dict, longest: int, window: int, key: Callable[[Sequence], Hashable]) -> list[int]:
    """Polarities of the longest lexicon entries found left to right; a negator flips the next hit within
    ``window`` tokens. Chinese is matched over characters, English over words."""
    hits, i, negate_until = [], 0, -1
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            polarity = table.get(key(tokens[i : i + size]))
            if polarity is not None:
                break
        else:
            i += 1
            continue
        if polarity == 0:
            negate_until = i + size + window
        else:
            hits.append(-polarity if i < negate_until else polarity)
            negate_until = -1
        i += size
    return hits


def _zh_hits(text: str, lex: Lexicon) -> list[int]:
    return _hits(text, lex.zh, lex.zh_longest, ZH_WINDOW, str)


def _en_hits(text: str, lex: Lexicon) -> list[int]:
    return _hits(_WORD.findall(text.lower()), lex.en, lex.en_longest, EN_WINDOW, tuple)


@lru_cache(maxsize=65536)
def score(text: str | None) -> float:
    """Sentiment of one headline in [-1, 1] (0: no sentiment word found)."""
    if not text:
        return 0.0
    lex = lexicon()
    hits = _zh_hits(text, lex) + _en_hits(text, lex)
    return sum(hits) / len(hits) if hits else 0.0


def label(text: str | None) -> str:
    """``"positive"``, ``"negative"`` or ``"neutral"``."""
    value = score(text)
    return "positive" if value > 0 else "negative" if value < 0 else "neutral"


def score_frame(news: pl.DataFrame, column: str = "title") -> pl.DataFrame:
    """``news`` with a ``sentiment`` column (Float64, [-1, 1]) scored from ``column``."""
    values = [score(t) for t in news[column].to_list()]
    return news.with_columns(pl.Series("sentiment", values, dtype=pl.Float64))
