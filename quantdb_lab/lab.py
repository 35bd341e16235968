"""The public entry point: a Lab is a cache directory, a provider, a mode and a clock.

>>> import quantdb_lab as ql
>>> lab = ql.Lab(provider="simulated")                       # doctest: +SKIP
>>> lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="qfq")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from quantdb_lab.config import default_cache_dir, default_provider_name
from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import Clock, SystemClock
from quantdb_lab.domain.dates import DateLike, parse_range
from quantdb_lab.domain.modes import ContextMode, resolve_mode
from quantdb_lab.domain.symbols import Symbol, parse_symbols
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.loader.bar_loader import BarLoader
from quantdb_lab.loader.plan import ADJUSTMENTS, BarRequest, LoadPlan
from quantdb_lab.loader.resample import FREQS, resample
from quantdb_lab.loader.stats import Provenance, Stats
from quantdb_lab.providers.base import Provider
from quantdb_lab.providers.registry import resolve_provider
from quantdb_lab.store.series_store import SeriesStore
from quantdb_lab.throttle import Throttle

SymbolsLike = str | Symbol | Sequence[str | Symbol]


@dataclass(frozen=True, slots=True)
class _Engine:
    """What Labs made by ``using`` share: one store, provider, throttle, calendar and set of counters."""

    cache_dir: Path
    store: SeriesStore
    provider: Provider
    clock: Clock
    calendar: TradingCalendar
    throttle: Throttle
    loader: BarLoader
    stats: Stats


class Lab:
    """A cache of Chinese market data in front of a provider (akshare by default).

    Parameters
    ----------
    cache_dir:
        Where Parquet frames and the index live; default ``$QUANTDB_LAB_CACHE_DIR`` or the user cache dir.
    provider:
        ``"akshare"`` (default, or ``$QUANTDB_LAB_PROVIDER``), ``"simulated"``, ``"replay:<dir>"`` or an object
        implementing :class:`quantdb_lab.providers.base.Provider`.
    mode:
        ``"research"`` (default), ``"trading"``, ``"backtesting"`` or a :class:`ContextMode`.
    clock, calendar, limits:
        Injectable for tests and replays; ``limits`` maps host families to ``RateLimit``.
    """

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        provider: str | Provider | None = None,
        mode: str | ContextMode = "research",
        *,
        clock: Clock | None = None,
        calendar: TradingCalendar | None = None,
        limits: dict | None = None,
        _engine: _Engine | None = None,
    ) -> None:
        self._mode = resolve_mode(mode)
        if _engine is not None:
            self._engine = _engine
            self.last_provenance: list[Provenance] = []
            return
        directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        store = SeriesStore(directory)
        source = resolve_provider(provider if provider is not None else default_provider_name())
        clock = clock or SystemClock()
        calendar = calendar or TradingCalendar.xshg()
        throttle = Throttle(store.base / "throttle", clock=clock, limits=limits or getattr(source, "rate_limits", None))
        stats = Stats()
        loader = BarLoader(store, source, calendar, clock, stats=stats, call=throttle.call)
        self._engine = _Engine(directory, store, source, clock, calendar, throttle, loader, stats)
        self.last_provenance = []

    # -- modes -------------------------------------------------------------------------------------------
    @property
    def mode(self) -> ContextMode:
        return self._mode

    def using(self, mode: str | ContextMode) -> Lab:
        """A Lab in another mode over the same cache, provider and counters (this one is unchanged)."""
        return Lab(mode=mode, _engine=self._engine)

    @property
    def provider(self) -> Provider:
        return self._engine.provider

    @property
    def cache_dir(self) -> Path:
        return self._engine.cache_dir

    @property
    def clock(self) -> Clock:
        return self._engine.clock

    @property
    def calendar(self) -> TradingCalendar:
        return self._engine.calendar

    @property
    def throttle(self) -> Throttle:
        return self._engine.throttle

    # -- data --------------------------------------------------------------------------------------------
    def request(self, symbol: str | Symbol, *, start: DateLike = None, end: DateLike = None, adjust: str | None = None) -> BarRequest:
        """Validate one request (raises typed errors for bad input); used by ``bars`` and the portfolio engine."""
        first, last = parse_range(start, end)
        chosen = self._mode.price_adjust if adjust is None else adjust
        if chosen not in ADJUSTMENTS:
            raise InvalidRequestError(f"adjust must be one of '', 'qfq', 'hfq' (or None for the mode's default), not {adjust!r}")
        (parsed,) = parse_symbols(symbol)
        return BarRequest(parsed, first, last, chosen)

    def bars(
        self,
        symbols: SymbolsLike,
        *,
        start: DateLike = None,
        end: DateLike = None,
        adjust: str | None = None,
        freq: str = "daily",
    ) -> pl.DataFrame:
        """Daily (or weekly/monthly, derived) bars for one symbol or a list, as one long polars frame.

        ``start``/``end`` are inclusive, ``None`` is open. ``adjust`` is ``""``, ``"qfq"``, ``"hfq"`` or None for
        the mode's default. Columns: ``symbol date open high low close volume amount turnover pct_change change``
        (units in ``quantdb_lab.domain.schema``). Provenance of each series is in ``lab.last_provenance``.
        """
        if freq not in FREQS:
            raise InvalidRequestError(f"freq must be one of {FREQS}, not {freq!r}")
        parsed = parse_symbols(symbols)
        frames, provenance = [], []
        for symbol in parsed:
            frame, origin = self.load(self.request(symbol, start=start, end=end, adjust=adjust))
            frames.append(frame)
            provenance.append(origin)
        self.last_provenance = provenance
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
        return resample(frame, freq)

    def load(self, request: BarRequest) -> tuple[pl.DataFrame, Provenance]:
        """One validated request through the cache: the frame and where it came from."""
        return self._engine.loader.load(request, self._mode)

    def plan(self, symbol: str | Symbol, *, start: DateLike = None, end: DateLike = None, adjust: str | None = None) -> LoadPlan:
        """What ``bars`` would fetch for this request, without fetching (a dry run)."""
        return self._engine.loader.plan(self.request(symbol, start=start, end=end, adjust=adjust), self._mode)

    # -- housekeeping ------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Hits, misses, upstream calls by function, rows fetched, bytes on disk, limiter and breaker state."""
        usage = self._engine.store.usage()
        return {
            **self._engine.stats.snapshot(),
            "mode": self._mode.name,
            "provider": self._engine.provider.name,
            "cache_dir": str(self._engine.cache_dir),
            "series": sum(v["series"] for v in usage.values()),
            "rows_on_disk": sum(v["rows"] for v in usage.values()),
            "bytes_on_disk": sum(v["bytes"] for v in usage.values()),
            "by_dataset": usage,
            "throttle": self._engine.throttle.status(),
        }

    def clear(self, symbols: SymbolsLike | None = None, *, dataset: str | None = None) -> int:
        """Remove cached series (all, or those of ``symbols``); returns how many series were removed."""
        wanted = None if symbols is None else {s.canonical for s in parse_symbols(symbols)}
        return self._engine.store.clear(symbols=wanted, dataset=dataset)

    def __repr__(self) -> str:
        return f"Lab(cache_dir={str(self.cache_dir)!r}, provider={self.provider.name!r}, mode={self._mode.name!r})"


_default_lab: Lab | None = None


def default_lab() -> Lab:
    """The Lab behind module-level ``quantdb_lab.bars``: created on first use with the defaults."""
    global _default_lab
    if _default_lab is None:
        _default_lab = Lab()
    return _default_lab


def bars(symbols: SymbolsLike, *, start: DateLike = None, end: DateLike = None, adjust: str | None = None, freq: str = "daily") -> pl.DataFrame:
    """``default_lab().bars(...)``."""
    return default_lab().bars(symbols, start=start, end=end, adjust=adjust, freq=freq)
