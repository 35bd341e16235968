"""``lab.actions``: a security's corporate actions (dividends, bonus and transfer shares, rights issues) through
the Lab's reference cache, point in time: in a mode with ``as_of`` only what was announced by then is shown
(with its ex-date, even when that was still ahead)."""

from __future__ import annotations

import polars as pl

from quantdb_lab.domain.actions import visible_actions
from quantdb_lab.domain.dates import DateLike, parse_range
from quantdb_lab.domain.symbols import Symbol, parse_symbols
from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace


@register_lab_namespace("corporate", flat=("actions",))
class CorporateActions(LabNamespace):
    """Corporate actions through the reference cache (``lab.actions``)."""

    def actions(self, symbol: str | Symbol, *, start: DateLike = None, end: DateLike = None) -> pl.DataFrame:
        """The dividend table of ``symbol`` (``domain.actions.ACTIONS``: announcement, record and ex-dates, cash,
        bonus and transfer shares per share, rights ratio and price, source), cached until the next close.

        ``start``/``end`` select by ex-date (plans not yet implemented, with a null ex-date, are kept when no
        range is given). The factors the Lab adjusts prices with are checked against this table by
        ``lab.quality`` (``factor_mismatch``)."""
        (parsed,) = parse_symbols(symbol)
        table = visible_actions(self.lab.reference.corporate_actions(parsed), self.lab.mode.as_of)
        first, last = parse_range(start, end)
        if first is not None:
            table = table.filter(pl.col("ex_date") >= first)
        if last is not None:
            table = table.filter(pl.col("ex_date") <= last)
        return table
