"""Sector keys on real taxonomies (``taxonomy.json``, package data): words, parents and member industries.

A plan names a sector by key (``"solar"``), the same on every provider. A provider's security master gives
each stock one industry name, from whichever taxonomy that provider uses: Eastmoney industry boards on
akshare, Shenwan or Tushare industries on stored real masters, ten English sectors on the simulated market.
``members`` lists, for a key, the industries of a master that belong to it; when the master has none, the
key's parent is tried (solar -> new energy -> power equipment -> industrials), and the answer says which
broader sector was used. Industry names are compared without Shenwan's roman-numeral level suffix.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_SUFFIX = re.compile(r"(?:[\u2160-\u216f]+|\s*(?:iii|iv|ii))$", re.IGNORECASE)


def industry_key(name: str) -> str:
    """An industry name as compared: NFKC, lower case, no spaces, no level suffix (white liquor II -> ...)."""
    text = unicodedata.normalize("NFKC", str(name)).lower().replace(" ", "")
    return _SUFFIX.sub("", text)


@dataclass(frozen=True, slots=True)
class Membership:
    key: str  # the key whose industries were used (the asked one, or a parent)
    industries: list[str]  # the master's own industry names
    broader: bool  # True when a parent stood in for the key


class Taxonomy:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.sectors: dict[str, dict[str, Any]] = data["sectors"]

    def __contains__(self, key: object) -> bool:
        return key in self.sectors

    def keys(self) -> list[str]:
        return sorted(self.sectors)

    def label(self, key: str) -> str:
        entry = self.sectors.get(key)
        return entry["label"] if entry else key.replace("_", " ")

    def parents(self, key: str) -> list[str]:
        """``key`` and its ancestors, nearest first."""
        chain, seen = [], set()
        while key and key in self.sectors and key not in seen:
            chain.append(key)
            seen.add(key)
            key = self.sectors[key]["parent"]
        return chain

    def phrases(self) -> dict[str, dict[str, list[str]]]:
        return {key: {"en": entry["en"], "zh": entry["zh"]} for key, entry in self.sectors.items()}

    def members(self, key: str, industries: list[str]) -> Membership | None:
        """The master's industries for ``key`` (or its nearest parent that has some); None if none at all."""
        present: dict[str, list[str]] = {}
        for name in industries:
            present.setdefault(industry_key(name), []).append(name)
        for depth, candidate in enumerate(self.parents(key)):
            wanted = {industry_key(n) for n in self.sectors[candidate]["industries"]}
            found = sorted({name for k in wanted if k in present for name in present[k]})
            if found:
                return Membership(candidate, found, broader=depth > 0)
        return None


@cache
def taxonomy() -> Taxonomy:
    text = resources.files("quantdb_lab.query").joinpath("taxonomy.json").read_text(encoding="utf-8")
    return Taxonomy(json.loads(text))
