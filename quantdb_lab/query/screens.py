"""Valuation and fundamental screens in a question: "PB below 1", "largest 50 by market cap" and their Chinese
forms (tests/fixtures/query/categories.json, category valuation). Words from ``vocabulary.json`` ``screens``; fields are ``lab.valuation`` / ``lab.fundamentals``
column names. Ratios (ROE, margins) are fractions: "15%" is 0.15, and a bare "15" is read as percent (said).
Runs before the out-of-scope step, so what it reads is no longer refused as "fundamentals".
"""

from __future__ import annotations

import re
from functools import lru_cache

from quantdb_lab.query.vocabulary import Vocabulary

VALUATION_FIELDS = frozenset({"pe_ttm", "pb", "ps_ttm", "total_mv", "float_mv"})


def _alt(phrases) -> str:
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))


@lru_cache(maxsize=4)
def _patterns(vocab: Vocabulary) -> tuple[dict[str, str], dict[str, str], list[re.Pattern]]:
    spec = vocab.data["screens"]
    fields = {p.lower(): key for key, langs in spec["fields"].items() for lang in ("en", "zh") for p in langs[lang]}
    words = {p: kind for kind in ("below", "above", "high", "low") for lang in ("en", "zh") for p in spec[kind][lang]}
    f = rf"(?<![a-z])(?P<f>{_alt(fields)})(?![a-z])"
    cmp_ = _alt([w for w, k in words.items() if k in ("below", "above")])
    high_low = [w for w, k in words.items() if k in ("high", "low")]
    en_order = _alt([w for w in high_low if w.isascii()])
    zh_order = _alt([w for w in high_low if not w.isascii()])
    units = _alt(spec["units"])
    patterns = [
        re.compile(rf"{f}\s*(?:(?:of|is|at)\s+)?(?P<c>{cmp_})\s*(?P<v>\d+(?:\.\d+)?)\s*(?P<u>{units})?"),
        re.compile(rf"(?<![a-z])(?P<o>{en_order})\s+(?:(?P<n>\d+)\s+)?(?:(?:stocks?|companies|shares|names)\s+)?"
                   rf"(?:by|on)\s+{f}"),
        re.compile(rf"(?<![a-z])(?P<o>{en_order})\s+{f}"),
        re.compile(rf"{f}\s*(?P<o>{zh_order})\s*\u7684?\s*(?:\u524d?(?P<n>{spec['zh_n']})\s*(?:[\u53ea\u4e2a\u5bb6\u652f])?)?"),
        re.compile(f),  # a bare field ("market cap of 600519"): a figure to show, read last
    ]
    return fields, words, patterns


def find_screens(work, vocab: Vocabulary) -> dict:
    """``{"filters": ["pb<1", ...], "by": field | None, "order": "desc"|"asc", "n": int | None, "notes": [...],
    "show": [field, ...]}`` from ``work.text``, blanking what it read; ``show``: fields named bare (a figure of
    named stocks: "market cap of 600519"), ``shown_words`` the words that named them."""
    fields, words, patterns = _patterns(vocab)
    spec = vocab.data["screens"]
    out: dict = {"filters": [], "by": None, "order": None, "n": None, "notes": [], "show": []}
    for pattern in patterns:
        for match in pattern.finditer(work.text):
            field = fields[match.group("f")]
            groups = match.groupdict()
            if "c" not in groups and "o" not in groups:  # the bare field
                if field not in out["show"]:
                    out["show"].append(field)
                out["shown_words"] = [*out.get("shown_words", []), match.group("f")]
            elif groups.get("c"):
                value = float(match.group("v"))
                unit = groups.get("u")
                if unit:
                    value *= spec["units"][unit]
                elif field in spec["ratios"]:
                    value /= 100
                    out["notes"].append(f"read {match.group('v')} as {match.group('v')}% ({field} is a ratio)")
                out["filters"].append(f"{field}{'<' if words[match.group('c')] == 'below' else '>'}{value:g}")
            else:
                if out["by"] is not None:
                    continue
                out["by"], out["order"] = field, "desc" if words[match.group("o")] == "high" else "asc"
                if groups.get("n"):
                    raw = match.group("n")
                    out["n"] = int(raw) if raw.isdigit() else vocab.zh_number(raw)
            work.blank(match.start(), match.end())
    return out
