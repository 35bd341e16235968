"""``lab.portfolios``: the portfolio fetch (many symbols at the pace the upstream allows) as a namespace over the
Lab's core (flat: ``lab.portfolio``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import polars as pl

from quantdb_lab.domain.datasets import Dataset, dataset_for_freq
from quantdb_lab.domain.datasets import dataset as dataset_record
from quantdb_lab.domain.dates import DateLike
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.errors import EmptyResultError, InvalidRequestError, QualityGateError, QuantdbError
from quantdb_lab.lab.core import ForegroundLoader, SymbolsLike
from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace
from quantdb_lab.loader.batch import compact_if_many
from quantdb_lab.loader.factors import prefetch_market_tables
from quantdb_lab.loader.plan import BarRequest
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.quality.gate import enforce
from quantdb_lab.providers.fetchers import fetcher_for, sources_of
from quantdb_lab.portfolio import PortfolioFetcher, PortfolioProgress, PortfolioResult, spec_from


def chosen_adjust(requests: Sequence[BarRequest]) -> bool:
    """Whether the requests ask for adjusted prices (qfq or hfq: factors needed)."""
    return bool(requests) and requests[0].adjust in ("qfq", "hfq")


class DatasetSource:
    """A registered dataset as the portfolio fetch's source: each request read through the dataset loader."""

    def __init__(self, loader: Any, dataset: Dataset) -> None:
        self.loader = loader
        self.dataset = dataset

    def load(self, request: BarRequest, mode: ContextMode) -> tuple[pl.DataFrame, Provenance]:
        return self.loader.read(self.dataset, request.symbol, request.start, request.end, mode)

    def plan(self, request: BarRequest, mode: ContextMode) -> Any:
        return self.loader.plan(self.dataset, request.symbol, request.start, request.end, mode)

    def preload(self, requests: Any) -> int:
        return 0


@register_lab_namespace("portfolios", flat=("portfolio",))
class Portfolios(LabNamespace):
    """Bars (or minute bars, and event lists) of many symbols at once (``lab.portfolio``)."""

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
        events: Sequence[str] = (),
        freq: str = "daily",
    ) -> PortfolioResult:
        """Bars of many symbols at the pace the upstream allows; failures are reported, never raised.

        ``symbols``: a list, or a mapping of symbol to weight (or pass ``weights=``). Cache hits are served at
        once; misses are fetched concurrently (``concurrency`` threads per host family, default the throttle's
        ``max_concurrency``) under the throttle's rate limit, retries and breaker, then failed-but-retryable
        symbols get ``retry_rounds`` more passes. ``progress``: None/True a tqdm bar after one second, False
        none, or a callable receiving ``PortfolioProgress``. On Ctrl-C, ``on_interrupt="raise"`` raises
        ``PortfolioInterrupted`` (its ``.result`` keeps what was fetched), ``"return"`` returns that result.
        ``events``: registered event lists (``"limit_up_pool"``, ``"dragon_tiger"``) read through the cache over
        the same range; ``result.events[name]`` holds the rows of the portfolio's symbols (a list that could not be
        read is in ``result.event_errors``).
        ``freq="1min"`` (or another minute length) fetches minute bars the same way (unadjusted).
        """
        spec = spec_from(symbols, weights)
        minute = dataset_for_freq(freq)
        if minute is not None and adjust not in (None, ""):
            raise InvalidRequestError(f"minute bars are served unadjusted only, not adjust={adjust!r}")
        chosen = "" if minute is not None else adjust
        requests = [self.lab.request(symbol, start=start, end=end, adjust=chosen) for symbol in spec.symbols]
        source = (ForegroundLoader(self.engine, batch=len(requests)) if minute is None
                  else DatasetSource(self.engine.datasets, minute))  # fmt: skip
        family = (self.engine.provider.host_family if minute is None
                  else fetcher_for(self.engine.provider, minute.capability, dataset=minute.name).host_family)  # fmt: skip
        if minute is None and chosen_adjust(requests) and requests[0].start is not None:
            # one table per reporting period for the whole portfolio, not two calls per symbol
            prefetch_market_tables(self.engine.provider, self.lab.reference, [r.symbol for r in requests],
                                   requests[0].start, requests[0].end or self.engine.clock.now().date())  # fmt: skip
        fetcher = PortfolioFetcher(
            source,  # daily bars: logged as usage, and a background warmer yields to it
            self.lab.mode,
            host_family=family,
            clock=self.engine.clock,
            throttle=self.engine.throttle,
            retry_rounds=retry_rounds,
            # daily bars: cold symbols spread over their upstream sources (portfolio.spread)
            sources=partial(sources_of, self.engine.provider) if minute is None else None,
        )
        result = fetcher.fetch(
            requests, weights=spec.weights, progress=progress, concurrency=concurrency, on_interrupt=on_interrupt
        )
        compact_if_many(self.engine.store, result.counts.get("fetched", 0))
        result.dataset = minute.name if minute is not None else "bars"
        self._gate(result, minute)
        result.events, result.event_errors = self._portfolio_events(events, result.symbols, start, end)
        return result

    def _gate(self, result: PortfolioResult, minute: Dataset | None) -> None:
        """The mode's quality gate, as ``lab.bars`` applies it, on the rows the portfolio fetched and on series it
        refused before: where the mode raises, a failing symbol is left out as failed (a portfolio reports,
        never raises); where it warns, its rows stay and the frame's provenance says so."""
        mode = self.lab.mode
        frames = [result.frames[s] for s in result.symbols if s in result.frames and result.frames[s].height]
        if mode.on_quality_fail == "ignore" or not frames:
            return
        origins = [result.provenance[s] for s in result.symbols if s in result.provenance and s in result.frames]
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical_relaxed")
        report = self.lab.judged_report(frame, origins, minute)
        if report is None or report.passed:
            return
        try:
            message = enforce(report, on_fail=mode.on_quality_fail, mode=mode.name, stacklevel=4)
        except QualityGateError as refusal:
            result.refuse(report.failing, refusal)
            return
        result.notes.append(message)

    def _portfolio_events(self, names: Sequence[str], symbols: Sequence[str], start: DateLike,
                          end: DateLike) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:  # fmt: skip
        """The portfolio's rows of each event list: market-wide lists read once, per-symbol ones per symbol."""
        found: dict[str, pl.DataFrame] = {}
        errors: dict[str, str] = {}
        for name in names:
            record = dataset_record(name)
            try:
                if record.per_symbol:
                    parts = [self.lab.read(name, symbol, start=start, end=end) for symbol in symbols]
                    found[name] = pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema=record.schema)
                else:
                    frame = self.lab.read(name, start=start, end=end)
                    found[name] = frame.filter(pl.col("symbol").is_in(list(symbols)))
            except EmptyResultError:
                found[name] = pl.DataFrame(schema=record.schema)
            except QuantdbError as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
        return found, errors
