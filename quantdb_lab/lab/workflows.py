"""Lab methods for many-symbol work: the portfolio fetch and predictive warming."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import polars as pl

from quantdb_lab.domain.dates import DateLike
from quantdb_lab.lab.core import ForegroundLoader, LabCore, SymbolsLike
from quantdb_lab.loader.batch import compact_if_many
from quantdb_lab.loader.plan import BarRequest
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.loader.tracking import Tracker
from quantdb_lab.providers.fetchers import sources_of
from quantdb_lab.portfolio import PortfolioFetcher, PortfolioProgress, PortfolioResult, spec_from


class PortfolioMixin(LabCore):
    def portfolio(
        self,
        symbols: SymbolsLike | Mapping[str, float],
        *,
        start: DateLike = None,
        end: DateLike = None,
        adjust: str | None = None,
        weights: Mapping[str, float] | None = None,
        progress: bool | Callable[[PortfolioProgress], Any] | None = None,
        concurrency: int | Mapping[str, int] | None = None,
        retry_rounds: int = 2,
        on_interrupt: str = "raise",
    ) -> PortfolioResult:
        """Bars of many symbols at the pace the upstream allows; failures are reported, never raised.

        ``symbols``: a list, or a mapping of symbol to weight (or pass ``weights=``). Cache hits are served at
        once; misses are fetched concurrently (``concurrency`` threads per host family, default the throttle's
        ``max_concurrency``) under the throttle's rate limit, retries and breaker, then failed-but-retryable
        symbols get ``retry_rounds`` more passes. ``progress``: None/True a tqdm bar after one second, False
        none, or a callable receiving ``PortfolioProgress``. On Ctrl-C, ``on_interrupt="raise"`` raises
        ``PortfolioInterrupted`` (its ``.result`` keeps what was fetched), ``"return"`` returns that result.
        """
        spec = spec_from(symbols, weights)
        requests = [self.request(symbol, start=start, end=end, adjust=adjust) for symbol in spec.symbols]
        fetcher = PortfolioFetcher(
            ForegroundLoader(self._engine),  # logged as usage, and a background warmer yields to it
            self._mode,
            host_family=self._engine.provider.host_family,
            clock=self._engine.clock,
            throttle=self._engine.throttle,
            retry_rounds=retry_rounds,
            sources=partial(sources_of, self._engine.provider),  # cold symbols spread over their sources
        )
        result = fetcher.fetch(
            requests, weights=spec.weights, progress=progress, concurrency=concurrency, on_interrupt=on_interrupt
        )
        self.last_provenance = list(result.provenance.values())
        compact_if_many(self._engine.store, result.counts.get("fetched", 0))
        return result


class WarmingMixin(LabCore):
    def load_in_background(
        self, request: BarRequest, *, confidence: float | None = None, reason: str = ""
    ) -> tuple[pl.DataFrame, Provenance]:
        """A warming load (``quantdb_lab.prefetch``): not logged as usage, not foreground, counted apart; upstream
        errors raise instead of serving stale data, and what it fetched is recorded to measure later use."""
        mode = (
            self._mode if self._mode.on_provider_error == "raise" else self._mode.with_(on_provider_error="raise")
        )
        frame, origin = self._engine.background.load(request, mode)
        self._engine.tracker.warmed(request, origin, confidence=confidence, reason=reason)
        return frame, origin

    @property
    def tracking(self) -> Tracker:
        """Usage log, foreground activity and warm ledger of this cache (read by ``quantdb_lab.prefetch``)."""
        return self._engine.tracker

    def usage(self) -> pl.DataFrame:
        """The usage log: one row per distinct request per day and kernel (``Lab(usage_log=False)`` or
        ``QUANTDB_LAB_USAGE_LOG=0`` stops recording)."""
        return self._engine.tracker.usage_frame()

    def warm(self, *, threshold: float = 0.7, progress: bool = True, max_calls: int | None = None) -> Any:
        """Load the predicted next requests now, once, in the foreground (``quantdb_lab.prefetch.warm``)."""
        from quantdb_lab.prefetch import warm  # the prefetch layer sits above the Lab: imported on use only

        return warm(self, threshold=threshold, progress=progress, max_calls=max_calls)
