"""What a provider serves, as data: ``provider.fetchers() -> {capability: Fetcher}``.

A capability is the name a dataset's registry record gives (``domain.datasets.Dataset.capability``): the loader
looks it up here instead of probing for optional methods. A provider without a capability simply has no entry,
and a read of that dataset says so (``fetchers_of``).

``Fetcher.fetch(symbol, start, end, **params)`` returns the dataset's canonical frame for sessions in
``[start, end]`` (``symbol`` is None for market-wide datasets); ``host_family(symbol)`` names the upstream host
family that serves the call, the unit of rate limiting and circuit breaking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import InvalidRequestError


@dataclass(frozen=True, slots=True)
class Fetcher:
    fetch: Callable[..., pl.DataFrame]
    host_family: Callable[[Symbol | None], str]


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
