"""The Lab's core: construction, modes, validated requests, ``bars`` through the cache, stats and clearing.

The feature methods (portfolio, quality, synthesis, warming, questions, views, real time) live in the
mixins beside this module, one job each; ``quantdb_lab.lab.Lab`` puts them together.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import Clock
from quantdb_lab.domain.dates import DateLike, parse_range
from quantdb_lab.domain.modes import ContextMode, resolve_mode
from quantdb_lab.domain.resample import FREQS, resample
from quantdb_lab.domain.symbols import Symbol, parse_symbols
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.lab.engine import Engine, build_engine
from quantdb_lab.loader.plan import ADJUSTMENTS, BarRequest, LoadPlan
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.providers.base import Provider
from quantdb_lab.quality.gate import enforce
from quantdb_lab.store.base import SeriesBackend
from quantdb_lab.throttle import Throttle

SymbolsLike = str | Symbol | Sequence[str | Symbol]


class ForegroundLoader:
    """The engine's loader as the user's own reads see it: each load marks foreground activity (a background
    warmer pauses) and is recorded in the usage log. Portfolio workers load through it too."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def load(self, request: BarRequest, mode: ContextMode) -> tuple[pl.DataFrame, Provenance]:
        engine = self._engine
        with engine.tracker.activity:
            frame, origin = engine.loader.load(request, mode)
        engine.tracker.served(request, origin, mode)
        return frame, origin

    def plan(self, request: BarRequest, mode: ContextMode) -> LoadPlan:
        return self._engine.loader.plan(request, mode)

    def preload(self, requests: Sequence[BarRequest]) -> int:
        return self._engine.loader.preload(requests)


class LabCore:
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
    store:
        ``None`` (``$QUANTDB_LAB_STORE``, else ``"local"``): the cache directory alone. ``"s3://bucket/prefix"``:
        a team store on S3-compatible storage with ``cache_dir`` as its local read-through layer
        (``pip install 'quantdb_lab[team]'``; see docs/team-store.md).
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
        usage_log: bool | None = None,
        store: str | SeriesBackend | None = None,
        _engine: Engine | None = None,
    ) -> None:
        self._mode = resolve_mode(mode)
        self._engine = _engine or build_engine(
            cache_dir, provider, clock=clock, calendar=calendar, limits=limits, usage_log=usage_log, store=store
        )
        self.last_provenance: list[Provenance] = []

    # -- modes -------------------------------------------------------------------------------------------
    @property
    def mode(self) -> ContextMode:
        return self._mode

    def using(self, mode: str | ContextMode) -> LabCore:
        """A Lab in another mode over the same cache, provider and counters (this one is unchanged)."""
        return type(self)(mode=mode, _engine=self._engine)

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
    def request(
        self, symbol: str | Symbol, *, start: DateLike = None, end: DateLike = None, adjust: str | None = None
    ) -> BarRequest:
        """Validate one request (raises typed errors for bad input); used by ``bars`` and the portfolio engine."""
        first, last = parse_range(start, end)
        chosen = self._mode.price_adjust if adjust is None else adjust
        if chosen not in ADJUSTMENTS:
            raise InvalidRequestError(
                f"adjust must be one of '', 'qfq', 'hfq' (or None for the mode's default), not {adjust!r}"
            )
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
        requests = [self.request(symbol, start=start, end=end, adjust=adjust) for symbol in parse_symbols(symbols)]
        if len(requests) > 1:  # cached frames off disk in one batch (a team store first pulls what it lacks)
            self._engine.loader.preload(requests)
        frames, provenance = [], []
        for request in requests:
            frame, origin = self.load(request)
            frames.append(frame)
            provenance.append(origin)
        self.last_provenance = provenance
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
        fetched = {p.symbol for p in provenance if not p.from_cache}
        if self._mode.on_quality_fail != "ignore" and fetched:
            # Judged when new bars enter the cache, not on every warm read (a report costs milliseconds).
            judged = frame if len(fetched) == len(provenance) else frame.filter(pl.col("symbol").is_in(fetched))
            enforce(self.quality(judged), on_fail=self._mode.on_quality_fail, mode=self._mode.name, stacklevel=3)
        if freq == "daily" and self._mode.gap_policy != "keep":  # weekly/monthly aggregate the real days only
            first, last = parse_range(start, end)
            frame = self._gap_filler().apply_policy(frame, start=first, end=last, adjust=adjust)
        return resample(frame, freq)

    def load(self, request: BarRequest) -> tuple[pl.DataFrame, Provenance]:
        """One validated request through the cache: the frame and where it came from."""
        return ForegroundLoader(self._engine).load(request, self._mode)

    def plan(
        self, symbol: str | Symbol, *, start: DateLike = None, end: DateLike = None, adjust: str | None = None
    ) -> LoadPlan:
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
            "store": getattr(self._engine.store, "url", "local"),
            "series": sum(v["series"] for v in usage.values()),
            "rows_on_disk": sum(v["rows"] for v in usage.values()),
            "bytes_on_disk": sum(v["bytes"] for v in usage.values()),
            "by_dataset": usage,
            "throttle": self._engine.throttle.status(),
            "warming": self._engine.tracker.ledger.summary(),
        }

    def clear(self, symbols: SymbolsLike | None = None, *, dataset: str | None = None) -> int:
        """Remove cached series (all, or those of ``symbols``); returns how many series were removed."""
        wanted = None if symbols is None else {s.canonical for s in parse_symbols(symbols)}
        return self._engine.store.clear(symbols=wanted, dataset=dataset)

    def __repr__(self) -> str:
        return f"Lab(cache_dir={str(self.cache_dir)!r}, provider={self.provider.name!r}, mode={self._mode.name!r})"
