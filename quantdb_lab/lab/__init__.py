"""The public entry point: a Lab is a cache directory, a provider, a mode and a clock.

>>> import quantdb_lab as ql
>>> lab = ql.Lab(provider="simulated")                       # doctest: +SKIP
>>> lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="qfq")   # doctest: +SKIP

``Lab`` is one core (``core``: construction, modes, ``bars``, ``read``, reference data, stats) and the feature
groups registered over it like polars' frame namespaces (``namespace``): ``lab.pit`` point in time,
``lab.corporate`` corporate actions, ``lab.research`` questions and views, ``lab.realtime`` quotes,
``lab.synthesis`` gap filling, ``lab.checks`` quality, ``lab.portfolios`` the portfolio fetch, ``lab.warming``
warming and collection, ``lab.market`` scans, panels and universes; each also as flat methods
(``lab.securities``, ``lab.quality``, ``lab.portfolio``, ``lab.scan`` ...). No feature group is a mixin: a group
reaches another by name through the Lab (``self.lab.pit``), never through a shared ``self``.
"""

from __future__ import annotations

import polars as pl

from quantdb_lab.domain.dates import DateLike
from quantdb_lab.lab import (  # noqa: F401 - each registers its namespace
    actions, checks, market, pit, portfolios, research, synthesis, warming,
)
from quantdb_lab.lab.core import LabCore, SymbolsLike
from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace

__all__ = ["Lab", "LabNamespace", "bars", "default_lab", "register_lab_namespace", "SymbolsLike"]


class Lab(LabCore):
    __doc__ = LabCore.__doc__


_default_lab: Lab | None = None


def default_lab() -> Lab:
    """The Lab behind module-level ``quantdb_lab.bars``: created on first use with the defaults."""
    global _default_lab
    if _default_lab is None:
        _default_lab = Lab()
    return _default_lab


def bars(
    symbols: SymbolsLike,
    *,
    start: DateLike = None,
    end: DateLike = None,
    adjust: str | None = None,
    freq: str = "daily",
) -> pl.DataFrame:
    """``default_lab().bars(...)``."""
    return default_lab().bars(symbols, start=start, end=end, adjust=adjust, freq=freq)
