"""Which sources a view includes, and why: the rules in ``relevance.json`` (data, not code).

With ``include`` given, exactly those sources are used (``"news"``/``"sentiment"``, ``"macro"`` or a series key
such as ``"cpi"``, ``"commodities"`` or a main-contract code such as ``"SC0"``). With ``include=None``, the
``context`` rule (``"momentum"`` -> news sentiment, ``"index"`` -> macro, ...), the target's kind (an index ->
macro) and its sector (a commodity sector -> its commodities) each add sources; with none of them matching
the ``fallback`` rule applies. Every choice carries the reason that made it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from quantdb_lab.domain.sources import MACRO_SERIES
from quantdb_lab.errors import InvalidRequestError


@dataclass(frozen=True, slots=True)
class Sources:
    """What a view includes: news (with sentiment), macro series keys, commodity codes, and the reasons."""

    news: bool
    macro: tuple[str, ...]
    commodities: tuple[str, ...]
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        chosen = (["news"] if self.news else []) + list(self.macro) + list(self.commodities)
        return f"sources: {', '.join(chosen) or 'prices only'} ({'; '.join(self.reasons)})"


@cache
def rules() -> dict[str, Any]:
    text = resources.files("quantdb_lab.multimodal").joinpath("relevance.json").read_text("utf-8")
    return json.loads(text)


def commodities_of_sector(sector: str | None) -> tuple[str, ...]:
    return tuple(rules()["sector_commodities"].get(sector or "", ()))


def _explicit(include: Iterable[str], sector: str | None) -> Sources:
    table = rules()
    news, macro, commodities = False, [], []
    for item in include:
        key = item.strip()
        if key.lower() in ("news", "sentiment"):
            news = True
        elif key.lower() == "macro":
            macro += table["default_macro"]
        elif key.lower() in MACRO_SERIES:
            macro.append(key.lower())
        elif key.lower() in ("commodities", "commodity"):
            commodities += list(commodities_of_sector(sector) or table["default_commodities"])
        elif key[:-1].isalpha() and key[-1:] == "0":
            commodities.append(key.upper())
        else:
            raise InvalidRequestError(f"unknown source {item!r}: use news, macro, a macro series "
                                      f"{sorted(MACRO_SERIES)}, commodities or a main-contract code like SC0")  # fmt: skip
    return Sources(news, tuple(dict.fromkeys(macro)), tuple(dict.fromkeys(commodities)), ("include= names them",))


def choose(*, include: Iterable[str] | None, context: str | None, kind: str, sector: str | None) -> Sources:
    """The sources of a view of a target of ``kind`` (``stock``, ``index``, ``sector`` ...) in ``sector``."""
    if include is not None:
        return _explicit([include] if isinstance(include, str) else include, sector)
    table = rules()
    picked: list[tuple[str, str]] = []  # (source, why)
    if context is not None:
        rule = table["contexts"].get(context.lower())
        if rule is None:
            raise InvalidRequestError(f"unknown context {context!r}; choose one of {sorted(table['contexts'])}")
        picked += [(s, f"context {context!r}: {rule['why']}") for s in rule["sources"]]
    if kind in table["kinds"] and kind != "sector":
        rule = table["kinds"][kind]
        picked += [(s, f"kind {kind!r}: {rule['why']}") for s in rule["sources"]]
    codes = commodities_of_sector(sector)
    if codes:
        picked.append(("commodities", table["commodity_sector_why"].format(sector=sector, codes=", ".join(codes))))
    if not picked:
        picked = [(s, table["fallback"]["why"]) for s in table["fallback"]["sources"]]
    names = {s for s, _ in picked}
    reasons = tuple(dict.fromkeys(why for _, why in picked))
    news = "news" in names and kind != "sector"
    if "news" in names and not news:
        reasons += ("news is per company, so a sector view leaves it out",)
    return Sources(news=news, macro=tuple(table["default_macro"]) if "macro" in names else (),
                   commodities=(codes or tuple(table["default_commodities"])) if "commodities" in names else (),
                   reasons=reasons)  # fmt: skip
