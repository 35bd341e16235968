"""Many phrases found at once: an Aho-Corasick automaton (pyahocorasick) mapping each phrase to a key.

One pass over the question finds every occurrence of every phrase, however many there are (the whole security
master's 5,000-odd names included), in time linear in the question's length. Matches are then chosen leftmost
first and longest at each position, without overlaps (as a regex alternation would: "crude oil prices" over
"oil", "new energy stocks" is "new energy" then "stocks"); a phrase in Latin letters
or digits must stand as a word of its own ("ai" is not found in "chain"), a Chinese phrase anywhere.

``english_forms`` gives the word forms a phrase is also matched in (plural and singular of its last word).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ahocorasick

CJK = re.compile(r"[\u4e00-\u9fff]")
_WORDISH = re.compile(r"[a-z0-9]")


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase found in the text: which entry it stands for, and where."""

    key: str
    phrase: str
    start: int
    end: int


class PhraseMatcher:
    """Longest-first, non-overlapping matching of many phrases (lower case), each mapped to a key."""

    def __init__(self, phrases: Mapping[str, str]) -> None:
        self.phrases = dict(phrases)
        self._automaton = ahocorasick.Automaton()
        for phrase, key in self.phrases.items():
            if phrase:
                self._automaton.add_word(phrase, (phrase, key))
        self._empty = not self.phrases
        if not self._empty:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self.phrases)

    def all(self, text: str) -> list[Match]:
        """Every occurrence that respects word boundaries, overlapping ones included."""
        if self._empty:
            return []
        out = []
        for end, (phrase, key) in self._automaton.iter(text):
            start = end - len(phrase) + 1
            if _WORDISH.match(phrase[0]) and start > 0 and _WORDISH.match(text[start - 1]):
                continue
            if _WORDISH.match(phrase[-1]) and end + 1 < len(text) and _WORDISH.match(text[end + 1]):
                continue
            out.append(Match(key, phrase, start, end + 1))
        return out

    def find(self, text: str) -> list[Match]:
        """Non-overlapping matches, leftmost first and longest at each position, in text order."""
        chosen: list[Match] = []
        taken = bytearray(len(text))
        for match in sorted(self.all(text), key=lambda m: (m.start, -(m.end - m.start))):
            if any(taken[match.start: match.end]):
                continue
            taken[match.start: match.end] = b"\x01" * (match.end - match.start)
            chosen.append(match)
        return sorted(chosen, key=lambda m: m.start)


_ES = ("s", "x", "z", "ch", "sh")


def english_forms(phrase: str) -> set[str]:
    """``phrase`` and the plural or singular of its last word: brokerage/brokerages, company/companies."""
    forms = {phrase}
    if CJK.search(phrase) or not phrase[-1:].isalpha():
        return forms
    head, _, last = phrase.rpartition(" ")
    prefix = f"{head} " if head else ""
    if len(last) <= 2:
        return forms
    if last.endswith("ies") and len(last) > 4:
        forms.add(prefix + last[:-3] + "y")
    elif last.endswith("es") and last[:-2].endswith(_ES):
        forms.add(prefix + last[:-2])
    elif last.endswith("s") and not last.endswith("ss"):
        forms.add(prefix + last[:-1])
    else:
        if last.endswith("y") and last[-2:-1] not in "aeiou":
            forms.add(prefix + last[:-1] + "ies")
        elif last.endswith(_ES):
            forms.add(prefix + last + "es")
        else:
            forms.add(prefix + last + "s")
    return forms


def phrase_map(entries: Mapping[str, Mapping[str, Iterable[str]]], *, forms: bool = True) -> dict[str, str]:
    """``{key: {"en": [...], "zh": [...]}}`` -> ``{phrase: key}`` in lower case, English word forms added
    (a form never displaces a phrase listed as such for another key)."""
    listed: dict[str, str] = {}
    for key, entry in entries.items():
        for language in ("en", "zh"):
            for phrase in entry.get(language, []):
                listed.setdefault(phrase.lower(), key)
    out = dict(listed)
    if forms:
        for phrase, key in listed.items():
            for form in english_forms(phrase):
                out.setdefault(form, key)
    return out
