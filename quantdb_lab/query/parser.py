"""The rule-based planner: a question in English or Chinese -> a ``QueryPlan``, or the reasons it cannot be one.

No network and no model. In order, each step blanking what it recognised:

1. what daily market data cannot answer (predictions, intraday and order-book data, trading, fundamentals:
   ``vocabulary.json`` ``out_of_scope``) is noted, so the refusal says what was recognised and offers what can be
   answered instead;
2. the period (``periods``), thresholds ("3x", "more than 5%", the Chinese forms) and "in a single day";
3. security codes, then names: the security master's and the curated aliases (``names.NameIndex``, one
   Aho-Corasick pass), indices, commodities and sector words (``taxonomy.json``);
4. N, the measure, the intent and order words.

What is left must be filler: English words in the stop list; Chinese words that jieba (``segment``) finds to be
fillers or of a harmless part of speech. A word within one edit of a known word or name, or read as pinyin
(``gzmt``), is taken as that and the question parsed again, saying so in ``assumptions``. Anything else is
named in the refusal, so an unknown company or sector is never silently dropped into a broader plan.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from rapidfuzz import process
from rapidfuzz.distance import OSA

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidSymbolError
from quantdb_lab.query.builder import build
from quantdb_lab.query.names import Guess, NameIndex, name_index
from quantdb_lab.query.periods import PeriodError, PeriodParser, iso_dates
from quantdb_lab.query.refusals import refuse
from quantdb_lab.query.screens import find_screens
from quantdb_lab.query.segment import unknown_words
from quantdb_lab.query.vocabulary import CJK, Vocabulary, vocabulary

MAX_LENGTH = 500
# ASCII look-arounds: Chinese characters count as \w, and two codes joined by a Chinese "and" are still two.
_CODE = re.compile(r"(?<![a-z0-9.])(?:(?P<pre>sh|sz|bj)\.?)?(?P<code>\d{6})(?:\.(?P<suf>sh|sz|bj|ss))?(?![a-z0-9])")
_HK = re.compile(r"(?<![a-z0-9.])(?P<code>\d{4,5})\.hk(?![a-z0-9])")
_NUMBER = re.compile(r"(?<![a-z0-9.])(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|fifty|hundred)(?![a-z0-9.])")
_WORD = re.compile(r"[a-z][a-z0-9'&-]*")
_PUNCT = re.compile(r"[\s,.;:!?()\"'/%+*=_\[\]{}<>|\\~`@#$^\u3000-\u303f\uff01-\uff0f\uff1a-\uff1f-]+")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_CONTRACTIONS = [(re.compile(p), r) for p, r in ((r"(?<=[a-z0-9])'s\b", ""), (r"n't\b", " not"), (r"'m\b", " am"),
                                                  (r"'re\b", " are"), (r"'ve\b", " have"), (r"'d\b", " would"),
                                                  (r"'ll\b", " will"))]
_BUCKETS = {"company": "symbols", "index": "indices", "commodity": "commodities", "sector": "sectors"}


@dataclass
class Parsed:
    """What the parser made of a question: a plan, or problems and suggestions (never both). ``refusal`` names
    the kind of question recognised as outside daily market data (prediction, intraday, trading, fundamentals)."""

    text: str
    plan: object | None = None
    understood: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    unknown_symbols: list[str] = field(default_factory=list)
    language: str = "en"
    refusal: str | None = None


class _Work:
    """The question in lower case with recognised spans blanked out, so leftovers are what is not understood."""

    def __init__(self, text: str) -> None:
        self.text = text

    def blank(self, start: int, end: int) -> None:
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]


class RuleParser:
    """``RuleParser(today=..., sessions_back=...)``; ``names`` maps extra phrases (the provider's security names)
    to canonical symbols, or ``index`` is a ready ``NameIndex`` of the security master."""

    def __init__(self, *, today: date, sessions_back: Callable[[int], date] | None = None,
                 names: dict[str, str] | None = None, vocab: Vocabulary | None = None,
                 index: NameIndex | None = None) -> None:  # fmt: skip
        self.vocab = vocab or vocabulary()
        self.today = today
        self.sessions_back = sessions_back or _weekdays_back(today)
        self.periods = PeriodParser(self.vocab, today, self.sessions_back)
        if index is None:
            listed = sorted((symbol, name) for name, symbol in (names or {}).items())
            index = name_index(listed, self.vocab.companies)
        self.names = index

    def parse(self, text: str) -> Parsed:
        raw = unicodedata.normalize("NFKC", text or "").strip()
        out = Parsed(text=raw, language="zh" if CJK.search(raw) else "en")
        if not raw:
            out.problems.append("the question is empty")
        elif len(raw) > MAX_LENGTH:
            out.problems.append(f"the question is longer than {MAX_LENGTH} characters")
        if out.problems:
            return refuse(out, {}, self.vocab)
        lowered = _CJK_GAP.sub("", raw.lower().replace("\u2019", "'"))
        for pattern, replacement in _CONTRACTIONS:
            lowered = pattern.sub(replacement, lowered)
        lowered = iso_dates(lowered, self.today)
        out, found, leftovers = self._once(lowered, out)
        used = lowered
        guesses = self._guesses(leftovers, lowered) if leftovers and not found["out_of_scope"] else []
        if guesses:
            corrected = lowered
            for guess in guesses:
                corrected = corrected.replace(guess.typed, f" {guess.phrase} ", 1)
            again, found2, left2 = self._once(corrected, Parsed(text=raw, language=out.language))
            if len(left2) < len(leftovers):
                out, found, leftovers, used = again, found2, left2, corrected
                for guess in guesses:
                    symbol = guess.symbol
                    out.assumptions.insert(0, f"read {guess.typed!r} as {guess.phrase!r}"
                                              + (f" ({symbol})" if symbol else "") + f" ({guess.how})")
        if not found["out_of_scope"] and (leftovers or not self._plans(out, found)):
            out, found, leftovers = self._homophones(used, out, found, leftovers)
        if found["out_of_scope"]:
            return refuse(out, found, self.vocab)
        if leftovers:
            out.problems.append("did not understand " + ", ".join(repr(w) for w in leftovers))
        if not out.problems:
            build(out, found, self.vocab, self.periods)
        return refuse(out, found, self.vocab) if out.problems else out

    # -- one pass ------------------------------------------------------------------------------------------
    def _once(self, text: str, out: Parsed) -> tuple[Parsed, dict, list[str]]:
        work = _Work(text)
        found = self._extract(work, out)
        found["residue"] = work.text
        return out, found, self._leftovers(work.text)

    def _plans(self, out: Parsed, found: dict) -> bool:
        """Whether ``found`` builds a plan (tried on a copy: ``out`` is left as it is)."""
        trial = Parsed(text=out.text, language=out.language, problems=list(out.problems))
        if not trial.problems:
            build(trial, found, self.vocab, self.periods)
        return trial.plan is not None

    def _homophones(self, text: str, out: Parsed, found: dict, leftovers: list[str]):
        """Chinese keywords typed with a wrong character of the same sound: windows of the question's Chinese
        runs that touch what was not understood and sound like one keyword are read as it, if the question
        then plans. Returns the (possibly) new parse."""
        sounds = self.vocab.homophones
        if not sounds or not CJK.search(found["residue"]):
            return out, found, leftovers
        from pypinyin import lazy_pinyin

        residue = found["residue"]
        corrected, changes, taken = text, [], set()
        for run in _CJK_RUN.finditer(text):
            for size in (4, 3, 2):
                for lo in range(run.start(), run.end() - size + 1):
                    hi = lo + size
                    if taken & set(range(lo, hi)) or not any(not residue[i].isspace() for i in range(lo, hi)):
                        continue
                    window = text[lo:hi]
                    word = sounds.get(" ".join(lazy_pinyin(window)))
                    if word and word != window:
                        changes.append((lo, hi, window, word))
                        taken |= set(range(lo, hi))
        if not changes:
            return out, found, leftovers
        for lo, hi, _, word in sorted(changes, reverse=True):
            corrected = corrected[:lo] + word + corrected[hi:]
        again, found2, left2 = self._once(corrected, Parsed(text=out.text, language=out.language))
        if left2 or found2["out_of_scope"] or not self._plans(again, found2):
            return out, found, leftovers
        again.assumptions = [f"read {w!r} as {k!r} (same sound)" for _, _, w, k in changes] + out.assumptions
        return again, found2, left2

    def _extract(self, work: _Work, out: Parsed) -> dict:
        vocab = self.vocab
        found: dict = {"symbols": [], "indices": [], "commodities": [], "sectors": [], "period": None, "n": [],
                       "threshold": None, "single_day": False, "out_of_scope": []}  # fmt: skip
        found["screen"] = find_screens(work, vocab)  # before the fundamentals refusal words and thresholds
        for match in vocab.out_of_scope.find(work.text):
            found["out_of_scope"].append((match.key, match.phrase))
            work.blank(match.start, match.end)
        for match in vocab.single_day.find(work.text):
            found["single_day"] = True
            work.blank(match.start, match.end)
        self._thresholds(work, found)
        try:
            period, spans = self.periods.find(work.text)
        except PeriodError as exc:
            if "future" in str(exc):
                found["out_of_scope"].append(("prediction", str(exc)))
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
        names = [(m, "company", m.key) for m in self.names.matcher.all(work.text)]
        others = [(m, *m.key.split(":", 1)) for m in vocab.entities.all(work.text)]
        for match, kind, key in _longest(names + others):
            bucket = _BUCKETS[kind]
            if key not in found[bucket]:
                found[bucket].append(key)
            where.setdefault(key, match.start)
            work.blank(match.start, match.end)
        for bucket in ("symbols", "indices", "commodities", "sectors"):  # in the order the question names them
            found[bucket] = sorted(dict.fromkeys(found[bucket]), key=lambda key: where.get(key, 0))
        for label, bucket in (("securities", "symbols"), ("index", "indices"), ("commodity", "commodities"),
                              ("sector", "sectors")):  # fmt: skip
            if found[bucket]:
                out.understood.append(f"{label}: {', '.join(found[bucket])}")
        found["sector_word"] = bool(vocab.sector_words.find(work.text))  # "which sector", without one named
        found["earnings"] = False
        for match in vocab.earnings.find(work.text):
            found["earnings"] = True
            work.blank(match.start, match.end)
        if found["earnings"]:
            out.understood.append("window: earnings seasons")
        screen = found["screen"]
        if screen["show"] and not (screen["filters"] or screen["by"] or found["symbols"]):
            # a figure of no stock named: still the fundamentals question it was before figures were read
            found["out_of_scope"] += [("fundamentals", word) for word in screen["shown_words"]]
        self._numbers(work, found)
        groups = {"metrics": vocab.metrics, "intents": vocab.intents, "orders": vocab.orders,
                  "directions": vocab.directions}  # fmt: skip
        # one selection over all keyword kinds: "max drawdown" is a measure, not "max" plus a stray word; a
        # phrase listed under two kinds (volume-up words are an intent and a measure) counts for both
        tagged = [(match, name) for name, matcher in groups.items() for match in matcher.all(work.text)]
        kept = _keywords(tagged)
        for match, _ in kept:
            work.blank(match.start, match.end)
        found["metrics"] = [m.key for m, name in kept if name == "metrics"]
        found["metric_words"] = {m.phrase for m, name in kept if name == "metrics"}
        for name in ("intents", "orders", "directions"):
            found[name] = {m.key for m, kind in kept if kind == name}
        return found

    def _thresholds(self, work: _Work, found: dict) -> None:
        for language, pattern in self.vocab.thresholds.items():
            for match in pattern.finditer(work.text):
                raw = match.group("v")
                value = float(raw) if raw[0].isdigit() else self.vocab.zh_number(raw)
                if not value:
                    continue
                unit = self.vocab.threshold_units[re.sub(r"\s+", " ", match.group("unit")).strip()]
                if unit == "x" and language == "en" and not match.group("cmp") and not re.search(r"\d\s*x", match.group(0)):
                    continue
                found["threshold"] = (float(value), unit)
                work.blank(match.start(), match.end())

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
        words: list[str] = []
        chinese: list[str] = []
        for chunk in _PUNCT.split(text):
            if not chunk:
                continue
            if CJK.search(chunk):
                latin = _WORD.findall(chunk)
                words += [w for w in latin if w not in self.vocab.stopwords_en]
                chinese.append(re.sub(r"[a-z0-9]+", " ", chunk))
            else:
                words += [w for w in _WORD.findall(chunk) if w not in self.vocab.stopwords_en]
        if chinese:
            dictionary = self.vocab.chinese_words
            words += unknown_words(" ".join(chinese), fillers=self.vocab.stopwords_zh, dictionary=dictionary)
        return list(dict.fromkeys(words))

    # -- second chances ----------------------------------------------------------------------------------
    def _guesses(self, leftovers: list[str], text: str) -> list[Guess]:
        out: list[Guess] = []
        for word in leftovers:
            guess = self._guess(word, text)
            if guess is not None:
                out.append(guess)
        return out

    def _guess(self, word: str, text: str) -> Guess | None:
        if CJK.search(word):
            # the whole run of Chinese text around the word: a typo can leave part of a name recognised as a
            # shorter alias (the short form of a bank, say) and only the rest unknown
            runs = [m.group(0) for m in _CJK_RUN.finditer(text) if word in m.group(0)]
            for run in [word, *runs]:
                guess = self.names.near(run)
                if guess is not None:
                    return guess
            return None
        pinyin = self.names.pinyin(word) if 3 <= len(word) <= 24 else None
        if isinstance(pinyin, Guess):
            return pinyin
        if len(word) >= 4:
            found = process.extract(word, self.vocab.english_words, scorer=OSA.distance, score_cutoff=1, limit=3)
            close = [f for f in found if f[1] == 1]
            if len({f[0] for f in close}) == 1:
                return Guess(word, close[0][0], "", "one edit")
            near = self.names.near(word)
            if near is not None:
                return near
        return None


def _keywords(tagged: list) -> list:
    """Longest-first selection of (match, kind) pairs; matches on exactly the same span all survive."""
    chosen, taken = [], {}
    for match, kind in sorted(tagged, key=lambda t: (t[0].start, -(t[0].end - t[0].start))):
        span = (match.start, match.end)
        clash = [s for s in taken if s[0] < span[1] and span[0] < s[1]]
        if clash and clash != [span]:
            continue
        taken[span] = True
        chosen.append((match, kind))
    return sorted(chosen, key=lambda t: t[0].start)


def _longest(matches: list) -> list:
    """Non-overlapping (match, kind, key) triples, longest first, in text order."""
    chosen, taken = [], set()
    for item in sorted(matches, key=lambda t: (t[0].start, -(t[0].end - t[0].start))):
        span = set(range(item[0].start, item[0].end))
        if span & taken:
            continue
        taken |= span
        chosen.append(item)
    return sorted(chosen, key=lambda t: t[0].start)


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
