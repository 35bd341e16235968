"""Declining a question: what was recognised as outside daily market data, and what can be answered instead.

``refuse`` turns a parse that produced no plan into an answer a person can act on: when the question was
recognised as a prediction, an intraday or order-book request, a trade, or a question about fundamentals, the
problem says so (not "did not understand"), and the first suggestions are the daily-data questions closest to
it, about the same securities or sector. Every suggestion is itself a question the parser plans.
"""

from __future__ import annotations

from typing import Any

from quantdb_lab.query.vocabulary import Vocabulary

KINDS = ("trading", "intraday", "prediction", "fundamentals")
WHY = {
    "prediction": "it asks about the future ({words}); the cache holds what has happened (daily bars), so it cannot "
                  "forecast, but it can show the history, its volatility and drawdowns",
    "intraday": "it asks for intraday or order-book data ({words}); this answers from daily bars (open, high, low, "
                "close, volume, turnover per session), not ticks, minute bars or quotes",
    "trading": "it asks to trade ({words}); this only reads market data and places no orders",
    "fundamentals": "it asks about fundamentals or flows ({words}) in a form not supported; screens of a group "
                    "on PE, PB, PS, market cap, ROE, EPS or margins are (\"banks with PB below 1\", \"largest 50 "
                    "by market cap\") and figures of named stocks (\"market cap of 600519\"); fund flows and "
                    "dividends are not",
}


def refuse(out: Any, found: dict, vocab: Vocabulary) -> Any:
    """``out`` (a ``Parsed``) declined: plan None, the recognised kind, problems and suggestions."""
    out.plan = None
    recognised = found.get("out_of_scope") or []
    kinds = [kind for kind, _ in recognised]
    kind = next((k for k in KINDS if k in kinds), None)
    if kind is not None:
        out.refusal = kind
        words = ", ".join(repr(w) for k, w in recognised if k == kind and "future" not in w)
        reason = WHY[kind].format(words=words or "a date after today")
        out.problems = [p for p in out.problems if not p.startswith(("did not understand", "could not tell"))]
        out.problems.insert(0, f"not answerable from daily market data: {reason}")
    out.suggestions = suggest(found, vocab, language=out.language, kind=kind)
    return out


def _sector_word(vocab: Vocabulary, key: str) -> str:
    return vocab.sectors[key]["en"][0]


def suggest(found: dict, vocab: Vocabulary, *, language: str, kind: str | None = None) -> list[str]:
    """Close questions that would work, built from what was recognised, then the standard examples."""
    out: list[str] = []
    symbols = (found.get("symbols") or []) + (found.get("indices") or [])
    sectors = found.get("sectors") or []
    if symbols:
        first = symbols[0]
        out.append(f"Show {first} over the last 6 months")
        if kind in ("prediction", "intraday", "trading"):
            out.append(f"What was the maximum drawdown of {first} over the past year")
        if len(symbols) >= 2:
            out.append(f"Compare the volatility of {symbols[0]} and {symbols[1]} this year")
    if sectors:
        out.append(f"Top 10 {_sector_word(vocab, sectors[0])} stocks by return over the last month")
    if kind == "fundamentals":
        where = f"{_sector_word(vocab, sectors[0])} stocks" if sectors else "stocks"
        out.append(f"Top 10 {where} by market cap")
    if kind == "prediction" and not symbols and not sectors:
        out.append("Top 10 stocks by return over the last month")
    if found.get("commodities"):
        sector = _sector_word(vocab, sectors[0]) if sectors else "energy"
        out.append(f"Correlation between {found['commodities'][0]} and the {sector} sector over the past year")
    examples = vocab.data["examples"]
    pool = (examples["zh"] + examples["en"]) if language == "zh" else examples["en"]
    out.extend(e for e in pool if e not in out)
    return out[:5]
