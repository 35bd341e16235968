"""What Labs made by ``Lab.using`` share: one store, provider, throttle, calendar, loaders and counters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quantdb_lab.config import default_cache_dir, default_provider_name, default_store, usage_log_enabled
from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import Clock, SystemClock
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.loader.bar_loader import BarLoader
from quantdb_lab.loader.dataset_loader import DatasetLoader
from quantdb_lab.loader.factors import FactorEvents
from quantdb_lab.loader.reference import ReferenceData
from quantdb_lab.loader.stats import Stats
from quantdb_lab.loader.tracking import Tracker
from quantdb_lab.loader.trade_calendar import lab_calendar
from quantdb_lab.providers.base import Provider
from quantdb_lab.providers.registry import resolve_provider, source_id
from quantdb_lab.store.base import SeriesBackend
from quantdb_lab.store.gate_verdicts import GateVerdicts
from quantdb_lab.store.select import open_store
from quantdb_lab.throttle import Throttle


@dataclass(frozen=True, slots=True)
class Engine:
    cache_dir: Path
    store: SeriesBackend  # the local SeriesStore, or a LayeredStore in front of a shared one
    provider: Provider
    clock: Clock
    calendar: TradingCalendar
    throttle: Throttle
    loader: BarLoader
    stats: Stats
    tracker: Tracker  # usage log, foreground activity, warm ledger (for quantdb_lab.prefetch)
    background: BarLoader  # warming loads: same store and throttle, counted apart from foreground stats
    datasets: DatasetLoader  # reads of every other registered dataset (lab.read)
    verdicts: GateVerdicts  # the series the quality gate refused, judged again when read warm
    reference: ReferenceData  # one per engine: its per-table locks make racing readers share one upstream call


def build_engine(
    cache_dir: str | Path | None,
    provider: str | Provider | None,
    *,
    clock: Clock | None,
    calendar: TradingCalendar | None,
    limits: dict | None,
    usage_log: bool | None,
    store: str | SeriesBackend | None,
) -> Engine:
    source = resolve_provider(provider if provider is not None else default_provider_name())
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir(synthetic=source.synthetic)
    namespace = source_id(source)
    backend = open_store(store if store is not None else default_store(), directory, source=namespace)
    if getattr(backend, "source", namespace) != namespace:
        raise InvalidRequestError(
            f"this store holds the data of source {backend.source!r}, not of provider {source.name!r} "
            f"(source {namespace!r}): open it with source={namespace!r}"
        )
    clock = clock or SystemClock()
    throttle = Throttle(
        backend.common / "throttle", clock=clock, limits=limits or getattr(source, "rate_limits", None)
    )
    stats = Stats()
    # XSHG as bundled, then the provider's trade dates (cached reference data) past its bound.
    calendar = calendar or lab_calendar(
        backend.base / "reference", source, clock=clock, call=throttle.call, stats=stats
    )
    reference = ReferenceData(backend.base / "reference", source, calendar=calendar, clock=clock, stats=stats,
                              call=throttle.call)  # fmt: skip
    events = FactorEvents(source, reference)  # dividend tables through the cache, for sources that need them
    loader = BarLoader(backend, source, calendar, clock, stats=stats, call=throttle.call, events=events)
    tracker = Tracker(backend.base, clock, usage_log=usage_log_enabled() if usage_log is None else usage_log)
    reference.on_served = tracker.table_served  # the warmer refreshes the tables a user reads (prefetch.tables)
    background = BarLoader(backend, source, calendar, clock, stats=Stats(), call=throttle.call, events=events)
    datasets = DatasetLoader(backend, source, calendar, clock, stats=stats, call=throttle.call)
    return Engine(directory, backend, source, clock, calendar, throttle, loader, stats, tracker, background, datasets,
                  GateVerdicts(backend.base), reference)
