"""Security names as people type them, over the whole security master: built once per master, then reused.

``NameIndex`` holds, for one master (the Lab's ``lab.reference.securities()``) plus the vocabulary's curated
aliases (abbreviations such as the two-character short forms of big banks, English names, former names):

* every name normalised (NFKC, so full-width letters become ASCII; lower case; padding spaces removed, as the
  exchanges' lists pad three-character names) and its variants without status prefixes (ST, *ST, XD, XR, DR,
  N, C) or an A-share class suffix;
* an Aho-Corasick matcher over all of them (``lexicon.PhraseMatcher``), so finding names in a question costs
  the same with 5,000 names as with 50;
* pinyin initials and full pinyin of every Chinese name (pypinyin), as Chinese stock apps accept them
  (``gzmt``), built on first use;
* fuzzy lookups within one edit (rapidfuzz): Chinese names of four characters or more (three for curated
  aliases), English aliases of five letters or more (a transposition counts as one edit).

``name_index(frame, aliases)`` caches one index per master content (a hash of its symbol and name columns).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from quantdb_lab.query.lexicon import CJK, PhraseMatcher

_PREFIX = re.compile(r"^(?:\*st|s\*st|st|sst|xd|xr|dr|n|c)(?=[\u4e00-\u9fff])")
_CLASS = re.compile(r"(?<=[\u4e00-\u9fff])a$")
_MAX_CACHED = 4


_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+|\s+(?=[\u4e00-\u9fff])")


def normalise(name: str) -> str:
    """NFKC, lower case, no spaces next to a Chinese character (padding), single spaces between words."""
    text = unicodedata.normalize("NFKC", str(name)).lower().strip()
    return re.sub(r"\s+", " ", _GAP.sub("", text))


def variants(name: str) -> set[str]:
    """The normalised name and its forms without a status prefix and without the A-share class letter."""
    base = normalise(name)
    out = {base}
    bare = _PREFIX.sub("", base)
    out.add(bare)
    out.add(_CLASS.sub("", bare))
    return {v for v in out if len(v) >= 2}


@dataclass(frozen=True, slots=True)
class Guess:
    """A name read from something that was not one exactly: what was typed, what it was read as, and why."""

    typed: str
    phrase: str
    symbol: str
    how: str  # "pinyin initials", "pinyin", "one edit"


class NameIndex:
    """Names -> canonical symbols for one security master plus curated aliases."""

    def __init__(self, listed: list[tuple[str, str]], aliases: Mapping[str, str]) -> None:
        self.curated = {normalise(k): v for k, v in aliases.items()}
        phrases: dict[str, str] = {}
        ambiguous: set[str] = set()
        for symbol, name in listed:
            for form in variants(name):
                if form in phrases and phrases[form] != symbol:
                    ambiguous.add(form)
                phrases.setdefault(form, symbol)
        for form in ambiguous:  # two listed names shorten to the same form: only the exact full names count
            phrases.pop(form, None)
        for symbol, name in listed:
            phrases[normalise(name)] = symbol
        phrases.update(self.curated)  # curated aliases win
        self.phrases = phrases
        self.matcher = PhraseMatcher(phrases)
        self.listed_names = {symbol: normalise(name) for symbol, name in listed}

    # -- pinyin ------------------------------------------------------------------------------------------
    @cached_property
    def _pinyin(self) -> tuple[dict[str, set[str]], dict[str, tuple[str, str]]]:
        from pypinyin import Style, lazy_pinyin  # its dictionaries load on first use only

        spoken: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        for phrase, symbol in self.phrases.items():
            if not CJK.search(phrase) or len(phrase) < 3:
                continue
            for style, how in ((Style.FIRST_LETTER, "pinyin initials"), (Style.NORMAL, "pinyin")):
                key = "".join(lazy_pinyin(phrase, style=style))
                key = re.sub(r"[^a-z0-9]", "", key)
                if len(key) >= 3:
                    spoken.setdefault(key, set()).add(symbol)
                    names.setdefault(f"{key}|{symbol}", (phrase, how))
        return spoken, names

    def pinyin(self, token: str) -> Guess | list[str] | None:
        """A token read as pinyin initials or full pinyin: the guess, the candidates if several, or None."""
        spoken, names = self._pinyin
        symbols = spoken.get(token)
        if not symbols:
            return None
        if len(symbols) > 1:
            curated = {s for s in symbols if s in self.curated.values()}
            if len(curated) != 1:
                return sorted(symbols)
            symbols = curated
        (symbol,) = symbols
        phrase, how = names[f"{token}|{symbol}"]
        return Guess(token, phrase, symbol, how)

    # -- one edit ----------------------------------------------------------------------------------------
    @cached_property
    def _fuzzy_pool(self) -> tuple[list[str], list[str]]:
        chinese = [p for p in self.phrases if CJK.search(p) and (len(p) >= 4 or (len(p) == 3 and p in self.curated))]
        latin = [p for p in self.curated if not CJK.search(p) and len(p) >= 5]
        return chinese, latin

    def near(self, text: str) -> Guess | None:
        """A name within one edit of ``text`` (a Chinese run or an English word or two), or None."""
        chinese, latin = self._fuzzy_pool
        if CJK.search(text):
            best = None
            for size in (4, 5, 3, 6):
                for start in range(max(0, len(text) - size) + 1):
                    window = text[start: start + size]
                    if len(window) < 3:
                        continue
                    found = process.extractOne(window, chinese, scorer=Levenshtein.distance, score_cutoff=1)
                    if found and found[1] == 1 and window[0] == found[0][0] and (best is None or found[1] < best[1]):
                        best = (window, found[1], found[0])
                if best:
                    break
            if best is None:
                return None
            window, _, phrase = best
            return Guess(window, phrase, self.phrases[phrase], "one edit")
        if len(text) < 5:
            return None
        found = process.extractOne(text, latin, scorer=OSA.distance, score_cutoff=1)
        if not found or found[1] != 1:
            return None
        return Guess(text, found[0], self.phrases[found[0]], "one edit")


_CACHE: dict[str, NameIndex] = {}


def master_digest(listed: list[tuple[str, str]], aliases: Mapping[str, str]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for symbol, name in listed:
        digest.update(f"{symbol}\x1f{name}\x1e".encode())
    for phrase, symbol in sorted(aliases.items()):
        digest.update(f"{phrase}\x1f{symbol}\x1d".encode())
    return digest.hexdigest()


def name_index(listed: list[tuple[str, str]], aliases: Mapping[str, str]) -> NameIndex:
    """The index of this master's (symbol, name) pairs and these aliases, built once per content."""
    key = master_digest(listed, aliases)
    index = _CACHE.get(key)
    if index is None:
        if len(_CACHE) >= _MAX_CACHED:
            _CACHE.pop(next(iter(_CACHE)))
        index = _CACHE[key] = NameIndex(listed, aliases)
    return index
