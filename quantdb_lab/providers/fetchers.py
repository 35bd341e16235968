"""What a provider serves, as data: ``provider.fetchers() -> {capability: Fetcher}``.

A capability is the name a dataset's registry record gives (``domain.datasets.Dataset.capability``): the loader
looks it up here instead of probing for optional methods. A provider without a capability simply has no entry,
and a read of that dataset says so (``fetchers_of``).

``Fetcher.fetch(symbol, start, end, **params)`` returns the dataset's canonical frame for sessions in
``[start, end]`` (``symbol`` is None for market-wide datasets); ``host_family(symbol)`` names the upstream host
family that serves the call, the unit of rate limiting and circuit breaking.

A dataset served by several upstreams (daily bars) also lists them: ``provider.bar_sources(symbol)`` gives the
``SourceFetcher`` of each, in order of preference, each with its ``domain.upstreams.Upstream`` record and its own
host family; the loader fails over from one to the next (``loader.failover``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.domain.upstreams import Upstream
from quantdb_lab.errors import InvalidRequestError


@dataclass(frozen=True, slots=True)
class Fetcher:
    fetch: Callable[..., pl.DataFrame]
    host_family: Callable[[Symbol | None], str]


@dataclass(frozen=True, slots=True)
class SourceFetcher:
    """One upstream of a multi-source dataset: ``fetch(symbol, start, end)`` -> canonical unadjusted ``BARS``."""

    upstream: Upstream
    fetch: Callable[..., pl.DataFrame]

    @property
    def name(self) -> str:
        return self.upstream.name

    @property
    def host_family(self) -> str:
        return self.upstream.host_family


# capability -> the provider method listing its sources for a symbol (a capability absent here has one source)
SOURCE_LISTS: dict[str, str] = {"daily_bars": "bar_sources"}


def sources_for(provider: Any, capability: str, symbol: Symbol | None) -> tuple[SourceFetcher, ...]:
    """The provider's sources of ``capability`` for ``symbol`` in order of preference (empty: one source, the
    capability's ``Fetcher``). Both ``lab.bars`` and ``lab.read`` fail over between them (``loader.failover``)."""
    method = SOURCE_LISTS.get(capability)
    listed = getattr(provider, method, None) if method is not None and symbol is not None else None
    return tuple(listed(symbol)) if callable(listed) else ()


def sources_of(provider: Any, symbol: Symbol) -> tuple[SourceFetcher, ...]:
    """The provider's daily-bar sources for ``symbol`` in order of preference (empty: one source, the
    provider's ``fetch_daily_bars`` under ``host_family``)."""
    return sources_for(provider, "daily_bars", symbol)


def fetchers_of(provider: Any) -> dict[str, Fetcher]:
    """The provider's capabilities. A provider written to the bare ``Provider`` protocol (no ``fetchers()``)
    serves the protocol's own three: daily bars, trade dates and the security master."""
    if callable(getattr(provider, "fetchers", None)):
        return dict(provider.fetchers())
    family = provider.host_family
    return {"daily_bars": Fetcher(provider.fetch_daily_bars, family),
            "trade_dates": Fetcher(provider.fetch_trade_dates, lambda _symbol=None: "exchange"),
            "securities": Fetcher(provider.fetch_securities, lambda _symbol=None: "exchange")}  # fmt: skip


def fetcher_for(provider: Any, capability: str, *, dataset: str) -> Fetcher:
    """The fetcher of ``capability``, or InvalidRequestError saying the provider does not serve the dataset."""
    table = fetchers_of(provider)
    if capability not in table:
        raise InvalidRequestError(f"provider {provider.name!r} does not serve {dataset} (no {capability!r} fetcher; it "
                                  f"serves {', '.join(sorted(table)) or 'only daily bars'})", dataset=dataset)  # fmt: skip
    return table[capability]
