"""Symbols: one canonical form for every way researchers write a security.

Accepted spellings (case-insensitive, surrounding blanks ignored)::

    600519  sh600519  SH600519  600519.SH  600519.XSHG  sh.600519     -> 600519.SH   (stock)
    000001  sz000001  000001.SZ                                    -> 000001.SZ   (Ping An Bank, stock)
    sh000001  000001.SH                                            -> 000001.SH   (SSE Composite, index)
    399001  sz399001  399001.SZ                                    -> 399001.SZ   (SZSE Component, index)
    000300.SH  sh000300  csi000300                                 -> 000300.SH   (CSI 300, index)
    510300  510300.SH                                              -> 510300.SH   (ETF)
    830799  bj830799  830799.BJ                                    -> 830799.BJ   (Beijing stock)
    00700  hk00700  00700.HK  0700.HK                              -> 00700.HK    (Hong Kong)

A bare six-digit code is read as the listed security its prefix implies (6 -> Shanghai, 0/2/3 -> Shenzhen,
4/8/92 -> Beijing, 5 -> Shanghai fund, 15/16/18 -> Shenzhen fund). Shanghai codes starting with 000 and
Shenzhen codes starting with 399 are indices, so ``000001.SH`` (SSE Composite) and ``000001.SZ`` (Ping An
Bank) never collide: the exchange suffix always decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from quantdb_lab.errors import InvalidSymbolError

Exchange = Literal["SH", "SZ", "BJ", "HK"]
Kind = Literal["stock", "index", "etf"]

_SUFFIX_ALIASES = {"SH": "SH", "SS": "SH", "XSHG": "SH", "SZ": "SZ", "XSHE": "SZ", "BJ": "BJ", "HK": "HK"}
_PREFIX_ALIASES = {"SH": "SH", "SZ": "SZ", "BJ": "BJ", "HK": "HK", "CSI": "SH"}

_SUFFIXED = re.compile(r"^(?P<code>\d{4,6})\.(?P<ex>[A-Z]{2,4})$")
_PREFIXED = re.compile(r"^(?P<ex>SH|SZ|BJ|HK|CSI)\.?(?P<code>\d{4,6})$")
_BARE = re.compile(r"^\d{4,6}$")


@dataclass(frozen=True, slots=True)
class Symbol:
    """A parsed security: ``code`` as the exchange writes it, the ``exchange`` and what ``kind`` it is."""

    code: str
    exchange: Exchange
    kind: Kind

    @property
    def canonical(self) -> str:
        return f"{self.code}.{self.exchange}"

    @property
    def board(self) -> str:
        """Listing board, which sets the daily price limit (see the quality checks)."""
        if self.exchange == "HK":
            return "hk"
        if self.kind != "stock":
            return self.kind
        if self.exchange == "BJ":
            return "beijing"
        if self.code.startswith("688") or self.code.startswith("689"):
            return "star"
        if self.code.startswith("30"):
            return "chinext"
        return "main"

    def __str__(self) -> str:
        return self.canonical


def _kind_of(code: str, exchange: str) -> Kind:
    if exchange == "HK":
        return "stock"
    if exchange == "SH":
        if code.startswith("000") or code.startswith("95"):
            return "index"
        if code.startswith("5"):
            return "etf"
        if code.startswith("6") or code.startswith("9"):
            return "stock"
    if exchange == "SZ":
        if code.startswith("399"):
            return "index"
        if code[:2] in {"15", "16", "18"}:
            return "etf"
        if code[0] in "0123":
            return "stock"
    if exchange == "BJ" and code[0] in "489":
        return "stock"
    raise InvalidSymbolError(f"code {code} is not a known {exchange} security range", symbol=f"{code}.{exchange}")


def _exchange_of_bare(code: str) -> Exchange:
    if code.startswith("6") or code.startswith("5") or code.startswith("9") and not code.startswith("92"):
        return "SH"
    if code.startswith("92") or code[0] in "48":
        return "BJ"
    if code[0] in "0123":
        return "SZ"
    raise InvalidSymbolError(f"cannot tell the exchange of bare code {code}", symbol=code)


def _check_code(code: str, exchange: str, raw: str) -> str:
    if exchange == "HK":
        if len(code) > 5:
            raise InvalidSymbolError("Hong Kong codes have at most five digits", symbol=raw)
        return code.zfill(5)
    if len(code) != 6:
        raise InvalidSymbolError("mainland codes have exactly six digits (leading zeros matter)", symbol=raw)
    return code


@lru_cache(maxsize=65536)
def parse_symbol(text: str) -> Symbol:
    """Parse any accepted spelling into a :class:`Symbol`; raise :class:`InvalidSymbolError` otherwise."""
    if not isinstance(text, str):
        raise InvalidSymbolError(f"a symbol must be a string, not {type(text).__name__}", symbol=repr(text))
    raw = text
    cleaned = text.strip().upper()
    if match := _SUFFIXED.match(cleaned):
        exchange = _SUFFIX_ALIASES.get(match["ex"])
        if exchange is None:
            raise InvalidSymbolError(f"unknown exchange suffix .{match['ex']}", symbol=raw)
        code = _check_code(match["code"], exchange, raw)
    elif match := _PREFIXED.match(cleaned):
        exchange = _PREFIX_ALIASES[match["ex"]]
        code = _check_code(match["code"], exchange, raw)
        if match["ex"] == "CSI":
            return Symbol(code, "SH", "index")
    elif _BARE.match(cleaned):
        if len(cleaned) == 5:
            return Symbol(cleaned, "HK", "stock")
        if len(cleaned) != 6:
            raise InvalidSymbolError("a bare code must have six digits (or five for Hong Kong)", symbol=raw)
        exchange = _exchange_of_bare(cleaned)
        code = cleaned
    else:
        raise InvalidSymbolError(
            "not a symbol; write e.g. 600519, sh600519, 600519.SH or 00700.HK", symbol=raw
        )
    return Symbol(code, exchange, _kind_of(code, exchange))  # type: ignore[arg-type]


def parse_symbols(symbols: str | Symbol | list[str | Symbol] | tuple[str | Symbol, ...]) -> list[Symbol]:
    """Parse one symbol or a list, keeping order and dropping repeats."""
    items = [symbols] if isinstance(symbols, (str, Symbol)) else list(symbols)
    if not items:
        raise InvalidSymbolError("no symbols given")
    seen: dict[Symbol, None] = {}
    for item in items:
        seen[item if isinstance(item, Symbol) else parse_symbol(item)] = None
    return list(seen)


_COMMODITY = re.compile(r"[A-Z]{1,3}\d{0,4}")  # a futures product and its contract: SC0, RB0, IF2406, CU2409


def parse_commodity_code(text: str) -> str:
    """A futures main-contract or contract code, upper-cased; anything else (and anything that could name a
    path) is refused before it reaches the cache or the upstream."""
    code = str(text).strip().upper()
    if not _COMMODITY.fullmatch(code):
        shown = code if len(code) <= 20 else f"{code[:20]}... ({len(code)} characters)"
        raise InvalidSymbolError(f"not a commodity code: {shown!r}; write a product and contract such as SC0, "
                                 "RB0 or IF2406")  # fmt: skip
    return code
