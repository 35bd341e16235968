"""The public entry point: a Lab is a cache directory, a provider, a mode and a clock.

>>> import quantdb_lab as ql
>>> lab = ql.Lab(provider="simulated")                       # doctest: +SKIP
>>> lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="qfq")   # doctest: +SKIP

``Lab`` is assembled from one core (``core``: construction, modes, ``bars``, ``read``, reference data, stats),
namespaces over it registered like polars' frame namespaces (``namespace``: ``lab.pit`` point in time,
``lab.corporate`` corporate actions, ``lab.research`` questions and views, ``lab.realtime`` quotes, ``lab.synthesis`` gap filling; each
also as flat methods, ``lab.securities`` ...) and mixins not converted yet (``analysis``: quality;
``workflows``: portfolio and warming; ``market``: scans, panels and universes).
"""

from __future__ import annotations

import polars as pl

from quantdb_lab.domain.dates import DateLike
from quantdb_lab.lab import actions, pit, research, synthesis  # noqa: F401 - registers their namespaces
from quantdb_lab.lab.analysis import QualityMixin
from quantdb_lab.lab.core import LabCore, SymbolsLike
from quantdb_lab.lab.market import MarketMixin
from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace
from quantdb_lab.lab.workflows import PortfolioMixin, WarmingMixin

__all__ = ["Lab", "LabNamespace", "bars", "default_lab", "register_lab_namespace", "SymbolsLike"]


class Lab(QualityMixin, PortfolioMixin, WarmingMixin, MarketMixin, LabCore):
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
