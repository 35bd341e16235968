"""Namespaces that front the layers above the Lab (questions, multi-modal views, real time). Each upper layer is
imported inside its method, on first use: it imports the Lab, so the Lab must not import it at module level (see
the import-linter contract in pyproject.toml)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from quantdb_lab.domain.dates import DateLike
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.lab.core import SymbolsLike
from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace


@register_lab_namespace("research", flat=("ask", "view"))
class Research(LabNamespace):
    """Questions in plain language and multi-modal views (``lab.ask``, ``lab.view``)."""

    def ask(self, text: str, **options: Any) -> Any:
        """Answer a question in plain English or Chinese (``quantdb_lab.query.ask``): plan, data, insights, chart."""
        from quantdb_lab.query import ask  # the query layer sits above the Lab: imported on use only

        return ask(self.lab, text, **options)

    def view(self, symbol_or_sector: str | Symbol, *, start: DateLike = None, end: DateLike = None,
             include: Sequence[str] | None = None, context: str | None = None) -> pl.DataFrame:  # fmt: skip
        """Prices plus news sentiment, macro series and commodities on the trading-day timeline, without
        look-ahead (``quantdb_lab.multimodal``; ``multimodal.view_sources(lab, ...)`` says which sources and why,
        ``multimodal.build_view`` also returns them with the column descriptions)."""
        from quantdb_lab.multimodal import build_view  # the multimodal layer sits above the Lab: imported on use

        return build_view(self.lab, symbol_or_sector, start=start, end=end, include=include, context=context).frame


@register_lab_namespace("realtime", flat=("quotes", "watch"))
class Realtime(LabNamespace):
    """Quote snapshots and watchers (``lab.quotes``, ``lab.watch``)."""

    def quotes(self, symbols: SymbolsLike | None = None) -> pl.DataFrame:
        """The latest quote snapshot of ``symbols`` (None: the whole market), fresh to the trading mode's minute,
        never fetched outside trading hours (``quantdb_lab.realtime``)."""
        from quantdb_lab.realtime import quotes  # the realtime layer sits above the Lab: imported on use only

        return quotes(self.lab, symbols)

    def watch(self, symbols: SymbolsLike | None, *, interval: float | None = None, **options: Any) -> Any:
        """A started ``quantdb_lab.realtime.Watcher`` publishing typed events on its bus (``.subscribe``)."""
        from quantdb_lab.realtime import watch  # the realtime layer sits above the Lab: imported on use only

        return watch(self.lab, symbols, interval=interval, **options)
