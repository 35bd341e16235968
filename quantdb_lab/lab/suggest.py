"""A "did you mean" for symbols a batch could not use: near-miss codes and names from the stored security master.

Only the master already on disk is consulted (with akshare's industries it costs about 90 Eastmoney calls, which
a typo must never trigger); without one, the suggestion comes from the other symbols of the same request.
Matching is rapidfuzz's (a well-kept C++ matcher): codes by edit distance, names by a weighted ratio.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

_CODE_CUTOFF = 80.0
_NAME_CUTOFF = 70.0


def did_you_mean(text: str, securities: pl.DataFrame | None, others: Iterable[str] = ()) -> str:
    """A `` (did you mean 600519.SH <name>?)`` suffix, or "" when nothing is near enough."""
    from rapidfuzz import fuzz, process

    query = str(text).strip().upper()
    if not query:
        return ""
    candidates: dict[str, str] = {}
    if securities is not None and securities.height and {"symbol", "name"} <= set(securities.columns):
        for symbol, name in securities.select("symbol", "name").iter_rows():
            candidates[symbol] = f"{symbol} {name}".strip() if name else symbol
    for symbol in others:
        candidates.setdefault(symbol, symbol)
    if not candidates:
        return ""
    symbols = list(candidates)
    codes = [s.split(".")[0] for s in symbols]
    bare = query.split(".")[0].removeprefix("SH").removeprefix("SZ").removeprefix("BJ")
    best = process.extractOne(bare, codes, scorer=fuzz.ratio, score_cutoff=_CODE_CUTOFF)
    if best is None and securities is not None and "name" in securities.columns:
        names = [candidates[s].partition(" ")[2] for s in symbols]
        best = process.extractOne(str(text).strip(), names, scorer=fuzz.WRatio, score_cutoff=_NAME_CUTOFF)
    if best is None:
        return ""
    match = candidates[symbols[best[2]]]
    return "" if match.split(" ")[0] == query else f" (did you mean {match}?)"


def closest_word(text: str, words: Iterable[str]) -> str:
    """A `` (did you mean <word>?)`` suffix for a misspelt name among ``words``, or ""."""
    from rapidfuzz import fuzz, process

    best = process.extractOne(str(text), list(words), scorer=fuzz.ratio, score_cutoff=_NAME_CUTOFF)
    return f" (did you mean {best[0]}?)" if best is not None else ""
