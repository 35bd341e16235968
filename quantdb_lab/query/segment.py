"""What is left of a Chinese question once everything the parser knows has been taken out, as words (jieba).

The residue of a question (the Chinese "is there any ... stocks", "help me look at ... then") is segmented by
jieba with the vocabulary's Chinese words (filler words, sector words, company aliases: the financial user
dictionary) added, so that a filler is dropped as a word and never leaves a stray character behind (the
three-character "is there or not" is one word, not three characters, the middle one "not"). A word is harmless when it is a listed filler or when its part of speech cannot carry what a
plan is about: pronouns, prepositions, conjunctions, particles, modal and interjection words, adverbs,
classifiers, numerals and verbs (a verb that does matter, such as predict or buy, is caught earlier as out of
scope). Nouns, adjectives, idioms and unknown strings are not: they are named in the refusal.

jieba's dictionary loads once per process, on the first Chinese residue (about half a second).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

_HARMLESS_FLAGS = ("r", "p", "c", "u", "y", "e", "o", "d", "q", "m", "v", "f", "z", "h", "k")
_LOCK = threading.Lock()
_TOKENIZER = None
_WORDS: set[str] = set()


def _tokenizer(words: Iterable[str]):
    global _TOKENIZER
    with _LOCK:
        if _TOKENIZER is None:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            base = jieba.Tokenizer()
            base.initialize()
            _TOKENIZER = jieba.posseg.POSTokenizer(base)
        new = [w for w in words if w not in _WORDS]
        for word in new:
            _TOKENIZER.tokenizer.add_word(word, freq=100_000, tag="nz")
        _WORDS.update(new)
        return _TOKENIZER


def unknown_words(residue: str, *, fillers: frozenset[str], dictionary: Iterable[str] = ()) -> list[str]:
    """The pieces of ``residue`` (Chinese text, recognised spans already blanked) that hold a word neither a
    filler nor harmless: each space-separated piece that has one, less the fillers at its ends, as typed (so
    the refusal names the three-character "metaverse", not the two-character noun jieba finds inside it)."""
    tokenizer = _tokenizer(dictionary)
    out: list[str] = []
    for chunk in residue.split():
        pairs = [(p.word, p.flag) for p in tokenizer.lcut(chunk, HMM=False)]
        if all(word in fillers or flag.startswith(_HARMLESS_FLAGS) for word, flag in pairs):
            continue
        words = [word for word, _ in pairs]
        while words and words[0] in fillers:
            words.pop(0)
        while words and words[-1] in fillers:
            words.pop()
        out.append("".join(words))
    return list(dict.fromkeys(out))
