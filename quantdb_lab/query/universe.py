"""Which securities a plan is about, from the Lab's cached security master and index constituents.

Sector keys (``"solar"``) become the provider's own industry names through the taxonomy (``sectors``): the
key's industries present in the master, or its nearest parent's when there are none, which the answer then
says. Nothing here fetches bars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError, InvalidSymbolError, QuantdbError
from quantdb_lab.query.names import NameIndex, name_index
from quantdb_lab.query.sectors import taxonomy
from quantdb_lab.query.vocabulary import vocabulary


@dataclass
class Universe:
    symbols: list[str]
    label: str
    notes: list[str] = field(default_factory=list)


class Resolver:
    """Security master lookups for one question (``lab.securities()`` is cached on disk and in memory)."""

    def __init__(self, lab) -> None:
        self.lab = lab
        self._securities: pl.DataFrame | None = None

    @property
    def securities(self) -> pl.DataFrame:
        if self._securities is None:
            self._securities = self.lab.securities()
        return self._securities

    def names(self) -> dict[str, str]:
        """Lower-case security name -> symbol, for the parser (stocks only; names of two characters or more)."""
        return _names(self.securities)

    def name_index(self) -> NameIndex:
        """The parser's index of this master's names plus the curated aliases (built once per master content)."""
        return name_index(_listed(self.securities), vocabulary().companies)

    def name_of(self, symbol: str) -> str:
        return _name_map(self.securities).get(symbol, symbol)

    def unknown(self, symbols: list[str] | tuple[str, ...]) -> list[str]:
        """Stocks the provider does not list (indices are checked when their bars are loaded)."""
        listed = set(self.securities["symbol"].to_list())
        return [s for s in symbols if parse_symbol(s).kind == "stock" and s not in listed]

    def industries(self, key: str) -> tuple[list[str], list[str]]:
        """The provider's industries for a sector key, and notes (a broader sector used, say)."""
        tax = taxonomy()
        if key not in tax:
            raise InvalidRequestError(f"unknown sector {key!r}; known: {tax.keys()}")
        present = [str(i) for i in self.securities["industry"].drop_nulls().unique().to_list()]
        found = tax.members(key, present)
        label = tax.label(key)
        if found is None:
            known = ", ".join(sorted(present)[:30])
            raise InvalidRequestError(f"the provider ({self.lab.provider.name}) has no industry for {label!r}; "
                                      f"its industries include: {known}")  # fmt: skip
        if found.broader:
            note = (f"the provider has no {label} industry; used the broader {tax.label(found.key)} sector "
                    f"({', '.join(found.industries)})")
            return found.industries, [note]
        return found.industries, []

    def universe(self, plan) -> Universe:
        end = plan.last
        stocks = self._stocks(end)
        if plan.universe == "sector":
            industries, notes = self.industries(plan.sector)
            members = stocks.filter(pl.col("industry").is_in(industries))["symbol"].to_list()
            shown = ", ".join(industries[:6]) + (f" and {len(industries) - 6} more" if len(industries) > 6 else "")
            label = f"the {taxonomy().label(plan.sector)} sector ({shown})"
            return Universe(members, label, notes)
        if plan.universe == "index":
            try:
                members = set(self.lab.index_members(plan.index))
            except QuantdbError as exc:
                raise InvalidRequestError(f"cannot list the members of index {plan.index}: {exc}") from exc
            listed = [s for s in stocks["symbol"].to_list() if s in members]
            return Universe(listed, f"members of {plan.index}", [])
        if plan.universe == "symbols":
            return Universe(list(plan.symbols), ", ".join(plan.symbols), [])
        return Universe(stocks["symbol"].to_list(), "all listed A-shares", [])

    def _stocks(self, end: date) -> pl.DataFrame:
        frame = self.securities
        kinds = [_kind(s) for s in frame["symbol"].to_list()]
        frame = frame.with_columns(pl.Series("kind", kinds)).filter(pl.col("kind") == "stock")
        return frame.filter(pl.col("list_date").is_null() | (pl.col("list_date") <= end))


def _kind(symbol: str) -> str:
    try:
        parsed = parse_symbol(symbol)
    except InvalidSymbolError:
        return "unknown"
    return "hk" if parsed.exchange == "HK" else parsed.kind


_CACHE: dict[int, tuple[pl.DataFrame, dict[str, str], dict[str, str]]] = {}  # per security-master frame


def _maps(frame: pl.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    # The Lab hands back the same frame object while the stored master is unchanged: key on its identity.
    hit = _CACHE.get(id(frame))
    if hit is not None and hit[0] is frame:
        return hit[1], hit[2]
    names: dict[str, str] = {}
    for symbol, name in frame.select("symbol", "name").iter_rows():
        if name and len(name) >= 2 and _kind(symbol) == "stock":
            names.setdefault(name.lower(), symbol)
    by_symbol = dict(frame.select("symbol", "name").iter_rows())
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[id(frame)] = (frame, names, by_symbol)
    return names, by_symbol


def _names(frame: pl.DataFrame) -> dict[str, str]:
    return _maps(frame)[0]


_LISTED: dict[int, tuple[pl.DataFrame, list[tuple[str, str]]]] = {}


def _listed(frame: pl.DataFrame) -> list[tuple[str, str]]:
    """(symbol, name) of the master's stocks (A and H shares), in symbol order."""
    hit = _LISTED.get(id(frame))
    if hit is not None and hit[0] is frame:
        return hit[1]
    rows = sorted((s, n) for s, n in frame.select("symbol", "name").iter_rows() if n and _kind(s) in ("stock", "hk"))
    if len(_LISTED) > 8:
        _LISTED.clear()
    _LISTED[id(frame)] = (frame, rows)
    return rows


def _name_map(frame: pl.DataFrame) -> dict[str, str]:
    return _maps(frame)[1]
