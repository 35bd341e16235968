"""What a portfolio is as input: symbols, optionally with weights, from a list, a mapping or pasted text.

Pure parsing, shared by ``lab.portfolio``, the ``%%qdb`` cell magic, the fetch widget and the CLI, so all four
accept the same text::

    600519 0.4          # one symbol per line, an optional weight after it
    000001.SZ, 0.35
    sh000300            # no weight: the portfolio is then equal-weighted
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import InvalidRequestError, InvalidSymbolError

_SEPARATORS = re.compile(r"[\s,;]+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")


@dataclass(frozen=True, slots=True)
class PortfolioSpec:
    """Canonical symbols in the order given (repeats dropped) and their weights, or None for equal weights."""

    symbols: tuple[str, ...]
    weights: Mapping[str, float] | None = None


def _weight(text: str, line: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
    except ValueError:
        raise InvalidRequestError(f"a weight must be a number like 0.4 or 40%, not {text!r} (line {line!r})") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidRequestError(f"a weight must be a finite number >= 0, not {text!r} (line {line!r})")
    return value


def _mapped_weight(symbol: object, value: object) -> float:
    """A weight given in a mapping: a number, or text such as "40%"; None, lists and the like are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidRequestError(f"the weight of {symbol} must be a number, not {type(value).__name__} {value!r}")
    return _weight(str(value), f"{symbol}: {value}")


def parse_portfolio_text(text: str) -> PortfolioSpec:
    """Parse pasted text: symbols separated by commas, spaces or newlines; a number after a symbol is its
    weight (``0.4`` or ``40%``); ``#`` starts a comment. Either every symbol has a weight or none does.
    All bad symbols are reported at once.
    """
    pairs: list[tuple[str, float | None]] = []
    for line in text.splitlines():
        body = line.split("#", 1)[0]
        tokens = [t for t in _SEPARATORS.split(body) if t]
        for token in tokens:
            if _is_weight(token) and pairs and pairs[-1][1] is None:
                pairs[-1] = (pairs[-1][0], _weight(token, line.strip()))
            else:
                pairs.append((token, None))
    return build_spec(pairs)


def _is_weight(token: str) -> bool:
    # Codes are 5 (HK) or 6 digits: a bare number that long is a symbol; "1", "0.4", "40%" and "1e-1" are weights.
    return bool(_NUMBER.match(token)) and not (token.isdigit() and len(token) >= 5)


def spec_from(symbols: str | Symbol | Sequence[str | Symbol] | Mapping[str, float], weights: Mapping[str, float] | None = None) -> PortfolioSpec:
    """A spec from what ``lab.portfolio`` accepts: one symbol, a list, or a mapping of symbol to weight."""
    if isinstance(symbols, Mapping):
        if weights is not None:
            raise InvalidRequestError("give weights either as a mapping of symbols or as weights=, not both")
        pairs = [(s, _mapped_weight(s, w)) for s, w in symbols.items()]
        return build_spec(pairs)
    items: Iterable[str | Symbol] = [symbols] if isinstance(symbols, (str, Symbol)) else list(symbols)
    spec = build_spec([(item, None) for item in items])
    if weights is None:
        return spec
    canonical = {_canonical_or_raise([key])[0]: _mapped_weight(key, value) for key, value in weights.items()}
    missing = [s for s in spec.symbols if s not in canonical]
    extra = [s for s in canonical if s not in spec.symbols]
    if missing or extra:
        raise InvalidRequestError(f"weights must name exactly the portfolio's symbols; missing {missing}, extra {extra}")
    return PortfolioSpec(spec.symbols, {s: canonical[s] for s in spec.symbols})


def _canonical_or_raise(items: Sequence[str | Symbol]) -> list[str]:
    out, bad = [], []
    for item in items:
        try:
            out.append(item.canonical if isinstance(item, Symbol) else parse_symbol(str(item)).canonical)
        except InvalidSymbolError:
            bad.append(str(item))
    if bad:
        raise InvalidSymbolError(f"{len(bad)} unrecognised symbol(s): {', '.join(bad)}")
    return out


def build_spec(pairs: Sequence[tuple[str | Symbol, float | None]]) -> PortfolioSpec:
    if not pairs:
        raise InvalidSymbolError("no symbols given")
    canonical = _canonical_or_raise([s for s, _ in pairs])
    weighted = [w is not None for _, w in pairs]
    if any(weighted) and not all(weighted):
        unweighted = [c for c, (_, w) in zip(canonical, pairs) if w is None]
        raise InvalidRequestError(f"give a weight for every symbol or for none; no weight for {', '.join(unweighted)}")
    weights: dict[str, float] = {}
    order: dict[str, None] = {}
    for symbol, (_, weight) in zip(canonical, pairs):
        if symbol in order:
            if weight is not None:
                raise InvalidRequestError(f"{symbol} is listed twice with weights; give it once")
            continue
        order[symbol] = None
        if weight is not None:
            weights[symbol] = weight
    if weights and sum(weights.values()) <= 0:
        raise InvalidRequestError("the weights sum to zero")
    return PortfolioSpec(tuple(order), weights or None)
