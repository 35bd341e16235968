"""The Lab's core: construction, modes, validated requests, ``bars`` through the cache, stats and clearing.

The feature groups (point in time, quality, portfolio, warming, market scans, synthesis, questions, views, real
time) are namespaces beside this module, one job each, registered on this core (``namespace``); the core reaches
one only by name (``bars`` judges what it fetched with ``self.quality``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import Clock
from quantdb_lab.domain.datasets import Dataset, dataset_for_freq, datasets
from quantdb_lab.domain.datasets import dataset as dataset_record
from quantdb_lab.domain.dates import DateLike, parse_range
from quantdb_lab.domain.modes import ContextMode, resolve_mode
from quantdb_lab.domain.resample import FREQS, resample
from quantdb_lab.domain.symbols import Symbol, parse_symbols
from quantdb_lab.errors import EmptyResultError, InvalidRequestError, InvalidSymbolError, SymbolsSkippedWarning
from quantdb_lab.lab.engine import Engine, build_engine
from quantdb_lab.lab.gating import minutes_to_judge, remember, to_judge
from quantdb_lab.lab.suggest import did_you_mean
from quantdb_lab.loader.batch import load_batch
from quantdb_lab.loader.dataset_loader import DatasetLoader
from quantdb_lab.loader.gapfill import GapFiller
from quantdb_lab.loader.plan import ADJUSTMENTS, BarRequest, LoadPlan
from quantdb_lab.loader.provenance import ResultProvenance, bind
from quantdb_lab.loader.reference import ReferenceData
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.providers.base import Provider
from quantdb_lab.quality.gate import enforce
from quantdb_lab.quality.minutes import minute_report
from quantdb_lab.quality.report import QualityReport
from quantdb_lab.store.base import SeriesBackend
from quantdb_lab.throttle import Throttle

SymbolsLike = str | Symbol | Sequence[str | Symbol]


def _symbol_items(symbols: object) -> list[str | Symbol]:
    """The items of a symbols argument, each a str or a Symbol (InvalidRequestError naming the argument)."""
    if isinstance(symbols, (bytes, bytearray)) or not isinstance(symbols, Sequence | set | frozenset | dict):
        try:
            items = list(symbols)  # an iterator, a polars/pandas Series
        except TypeError:
            raise InvalidRequestError(f"symbols must be a symbol or a list of symbols, not {type(symbols).__name__}") from None
    else:
        items = list(symbols)
    if not items:
        raise InvalidSymbolError("no symbols given")
    bad = [item for item in items if not isinstance(item, (str, Symbol))]
    if bad:
        raise InvalidRequestError(f"symbols must be strings or Symbols; got {type(bad[0]).__name__} {bad[0]!r:.40}")
    return items


class ForegroundLoader:
    """The engine's loader as the user's own reads see it: each load marks foreground activity (a background
    warmer pauses) and is recorded in the usage log. Portfolio workers load through it too."""

    def __init__(self, engine: Engine, *, batch: int = 1) -> None:
        self._engine = engine
        self.batch = batch  # symbols asked in the same call: the warmer tells a cross-section from a watchlist

    def load(self, request: BarRequest, mode: ContextMode) -> tuple[pl.DataFrame, Provenance]:
        engine = self._engine
        with engine.tracker.activity:
            frame, origin = engine.loader.load(request, mode)
        engine.tracker.served(request, origin, mode, batch=self.batch)
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
        first, last, chosen = self._request_shape(start, end, adjust)
        (parsed,) = parse_symbols(symbol)
        return BarRequest(parsed, first, last, chosen)

    def _request_shape(self, start: DateLike, end: DateLike, adjust: str | None) -> tuple[date | None, date | None, str]:
        """The validated range and adjustment of a request, shared by every symbol of one call."""
        first, last = parse_range(start, end)
        chosen = self._mode.price_adjust if adjust is None else adjust
        if chosen not in ADJUSTMENTS:
            raise InvalidRequestError(
                f"adjust must be one of '', 'qfq', 'hfq' (or None for the mode's default), not {adjust!r}"
            )
        return first, last, chosen

    def bars(
        self,
        symbols: SymbolsLike,
        *,
        start: DateLike = None,
        end: DateLike = None,
        adjust: str | None = None,
        freq: str = "daily",
        strict: bool = False,
    ) -> pl.DataFrame:
        """Daily (or weekly/monthly, derived) bars for one symbol or a list, as one long polars frame.

        ``start``/``end`` are inclusive, ``None`` is open. ``adjust`` is ``""``, ``"qfq"``, ``"hfq"`` or None for
        the mode's default. Columns: ``symbol date open high low close volume amount turnover pct_change change``
        (units in ``quantdb_lab.domain.schema``). Provenance: ``frame.quantdb.provenance``
        (``loader.provenance.ResultProvenance``: each series, what was left out, the warnings).

        One symbol: its rows by date, or a typed error. A list: the rows of every symbol that has some, in
        (date, symbol) order; a symbol that is malformed, empty in the range, unknown or failed is left out and
        named, with why and a "did you mean" where one is near, in one ``SymbolsSkippedWarning``
        (``strict=True`` raises the first such error instead; nothing at all raises ``EmptyResultError``).
        """
        minute = dataset_for_freq(freq) if isinstance(freq, str) else None
        if minute is not None:
            return self._minute_bars(minute, symbols, start=start, end=end, adjust=adjust, strict=strict)
        if freq not in FREQS:
            served = FREQS + tuple(d.freq for d in datasets().values() if d.freq)
            raise InvalidRequestError(f"freq must be one of {served}, not {freq!r}")
        said: list[str] = []
        skipped: dict[str, str] = {}
        if isinstance(symbols, (str, Symbol)):
            frame, origin = self.load(self.request(symbols, start=start, end=end, adjust=adjust))
            origins = [origin]
        else:
            frame, origins, skipped = self._bars_of_many(symbols, start=start, end=end, adjust=adjust, strict=strict,
                                                         said=said)  # fmt: skip
        if self._mode.on_quality_fail != "ignore" and frame.height:
            said += self._judge(frame, origins)
        reports = ()
        if freq == "daily" and self._mode.gap_policy != "keep":  # weekly/monthly aggregate the real days only
            first, last = parse_range(start, end)
            frame, reports = self.gap_filler().apply_policy(frame, start=first, end=last, adjust=adjust)
        return bind(resample(frame, freq), ResultProvenance("bars", tuple(origins), skipped, tuple(said), reports))

    def _judge(self, frame: pl.DataFrame, origins: list[Provenance]) -> list[str]:
        """The gate on the series this read fetched and on those it once refused (``lab.gating``). Judged when
        new bars enter the cache, not on every warm read (a report costs milliseconds); a refused series is
        judged again on each read of its refused rows until a pass (or feedback) clears it."""
        report = self.judged_report(frame, origins)
        return self._gate(report, stacklevel=5) if report is not None else []

    def judged_report(self, frame: pl.DataFrame, origins: Sequence[Provenance],
                      minute: Dataset | None = None) -> QualityReport | None:  # fmt: skip
        """The quality report on what the gate judges in ``frame`` (daily bars, or ``minute``'s bars): the series
        the read fetched and those refused before in its range, with the verdicts remembered; None when there is
        nothing to judge. The caller enforces the mode (``bars`` raises or warns, ``portfolio`` leaves out)."""
        if minute is None:
            verdicts, day = self._engine.verdicts, pl.col("date")
            symbols = to_judge(frame, origins, verdicts, day)
            if not symbols:
                return None
            judged = frame if len(symbols) == len(origins) else frame.filter(pl.col("symbol").is_in(list(symbols)))
            report = self.quality(judged)
        else:
            verdicts, day = self._engine.verdicts.of(minute.name), pl.col("time").dt.date()
            judged = minutes_to_judge(frame, origins, to_judge(frame, origins, verdicts, day))
            if not judged.height:
                return None
            report = minute_report(judged, minute.bar_minutes or 1, self._mode.quality_threshold)
        remember(verdicts, judged, report, self._mode.name, day)
        return report

    def _gate(self, report: QualityReport, stacklevel: int = 4) -> list[str]:
        """The mode's quality gate on a report of newly fetched rows: raises, or the warning's text ([] passed)."""
        message = enforce(report, on_fail=self._mode.on_quality_fail, mode=self._mode.name, stacklevel=stacklevel)
        return [message] if message else []

    def _minute_bars(self, dataset: Dataset, symbols: SymbolsLike, *, start: DateLike, end: DateLike,
                     adjust: str | None, strict: bool) -> pl.DataFrame:  # fmt: skip
        """``bars(freq="1min")`` and the other minute lengths: ``read(dataset)`` for each symbol (docs/minute-bars.md).
        Minute bars are unadjusted; a symbol with none is left out with a warning (``strict`` raises). Sessions
        fetched by this call pass the mode's quality gate (``quality.minutes``), as daily bars do."""
        if adjust not in (None, ""):
            raise InvalidRequestError(f"minute bars are served unadjusted only, not adjust={adjust!r}")
        items = [symbols] if isinstance(symbols, (str, Symbol)) else list(dict.fromkeys(_symbol_items(symbols)))
        frames, origins, skipped, said = [], [], {}, []
        for item in items:
            try:
                frame, origin = self._read(dataset, item, start, end)
            except (InvalidSymbolError, EmptyResultError) as exc:
                if strict or isinstance(symbols, (str, Symbol)):
                    raise
                skipped[str(item)] = exc.reason
                continue
            frames.append(frame)
            origins.append(origin)
        if not frames:
            raise EmptyResultError(f"none of the symbols has {dataset.title} to serve ({skipped})")
        if skipped:
            said.append(f"{len(skipped)} symbols left out: {skipped}")
            warnings.warn(SymbolsSkippedWarning(said[-1], skipped), stacklevel=3)
        frame = frames[0] if len(frames) == 1 else pl.concat(frames).sort("time", "symbol")
        if self._mode.on_quality_fail != "ignore":  # fetched sessions and refused ones, as daily bars are judged
            report = self.judged_report(frame, origins, dataset)
            if report is not None:
                said += self._gate(report, 5)
        return bind(frame, ResultProvenance(dataset.name, tuple(origins), skipped, tuple(said)))

    def _bars_of_many(self, symbols: SymbolsLike, *, start: DateLike, end: DateLike, adjust: str | None,
                      strict: bool, said: list[str]) -> tuple[pl.DataFrame, list[Provenance], dict[str, str]]:  # fmt: skip
        items = _symbol_items(symbols)
        requests: dict[BarRequest, None] = {}
        skipped: dict[str, str] = {}
        first, last, chosen = self._request_shape(start, end, adjust)
        for item in items:
            try:
                (parsed,) = parse_symbols(item)
                requests[BarRequest(parsed, first, last, chosen)] = None
            except InvalidSymbolError as exc:
                if strict:
                    raise
                skipped[str(item)] = f"invalid: {exc.reason}"
        engine = self._engine
        foreground = ForegroundLoader(engine, batch=len(requests))
        with engine.tracker.activity:
            result = load_batch(engine.loader, list(requests), self._mode, strict=strict,
                                load=lambda r: foreground.load(r, self._mode),
                                on_served=lambda pairs: engine.tracker.served_many(pairs, self._mode, batch=len(requests)))  # fmt: skip
        skipped.update(result.skipped)
        if skipped:
            known = [p.symbol for p in result.provenance]
            master = self._stored_securities()
            skipped = {name: why + did_you_mean(name, master, known) for name, why in skipped.items()}
        if result.frame.is_empty():
            detail = "; ".join(f"{name}: {why}" for name, why in skipped.items())
            raise EmptyResultError(f"none of the {len(items)} symbols has bars to serve ({detail})",
                                   start=parse_range(start, end)[0], end=parse_range(start, end)[1])  # fmt: skip
        if skipped:
            listed = "; ".join(f"{name} ({why})" for name, why in skipped.items())
            said.append(f"{len(skipped)} of {len(items)} symbols left out: {listed}")
            warnings.warn(SymbolsSkippedWarning(said[-1], skipped), stacklevel=3)
        return result.frame, list(result.provenance), skipped

    def _stored_securities(self) -> pl.DataFrame | None:
        try:
            return self.reference.stored_securities()
        except Exception:  # noqa: BLE001 - a suggestion must never turn a warning into an error
            return None

    def gap_filler(self) -> GapFiller:
        """Gap filling over this Lab's cache: series and references loaded through it (no gap policy applied),
        the sector reference's security master through the cache and throttle. Used by the gap policy of
        ``bars`` and by ``lab.synthesize``."""
        def load(symbol: Symbol, start: DateLike, end: DateLike, adjust: str | None) -> pl.DataFrame:
            frame, origin = self.load(self.request(symbol, start=start, end=end, adjust=adjust))
            return bind(frame, ResultProvenance("bars", (origin,)))

        return GapFiller(load, self.calendar, self.provider, self._mode, securities=lambda: self.reference.securities(),
                         stored_securities=lambda: self.reference.stored_securities())  # fmt: skip

    @property
    def reference(self) -> ReferenceData:
        """Security master, index constituents and commodity series through the cache (fresh for a session)."""
        return self._engine.reference

    def read(self, dataset: str, symbol: str | Symbol | None = None, *, start: DateLike = None,
             end: DateLike = None) -> pl.DataFrame:  # fmt: skip
        """Rows of any registered dataset (``quantdb_lab.domain.datasets``) through the cache: one symbol's for a
        per-symbol dataset, the market's for a per-date list. Provenance: ``frame.quantdb.provenance``."""
        record = dataset_record(dataset)
        frame, origin = self._read(record, symbol, start, end)
        return bind(frame, ResultProvenance(record.name, (origin,)))

    def _read(self, record: Dataset, symbol: str | Symbol | None, start: DateLike,
              end: DateLike) -> tuple[pl.DataFrame, Provenance]:  # fmt: skip
        first, last = parse_range(start, end)
        parsed = parse_symbols(symbol)[0] if symbol is not None else None
        engine = self._engine
        with engine.tracker.activity:
            frame, origin = engine.datasets.read(record, parsed, first, last, self._mode)
        engine.tracker.read_served(record.name, origin, self._mode)
        return frame, origin

    @property
    def dataset_loader(self) -> DatasetLoader:
        """The loader behind ``read`` (plans, single captures, lost sessions): what the collector drives."""
        return self._engine.datasets

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
            **self._housekeeping(),
            "throttle": self._engine.throttle.status(),
            "warming": self._engine.tracker.ledger.summary(),
            "collection": self._engine.datasets.lost.collection_status(
                [record for record in datasets().values() if record.forgets]),
        }

    def source_issues(self) -> pl.DataFrame:
        """Where two upstream sources disagreed on the same sessions (``quality.issues.ISSUES`` rows, check
        ``source_mismatch``, naming both sources), as met by this Lab's fetches; such rows were never mixed."""
        from quantdb_lab.quality.issues import empty_issues

        found = list(self._engine.stats.source_issues)
        return pl.concat(found) if found else empty_issues()

    def clear(self, symbols: SymbolsLike | None = None, *, dataset: str | None = None) -> int:
        """Remove cached series (all, or those of ``symbols``); returns how many series were removed."""
        wanted = None if symbols is None else {s.canonical for s in parse_symbols(symbols)}
        return self._engine.store.clear(symbols=wanted, dataset=dataset)

    def _housekeeping(self) -> dict[str, Any]:
        """What a crash left behind (files ``clear --stale`` would remove) and the compaction backlog."""
        from quantdb_lab.store.repair import stale_files

        local = getattr(self._engine.store, "local", self._engine.store)
        if not hasattr(local, "catalog"):
            return {}
        stale = stale_files(local)
        return {"stale_files": len(stale), "stale_bytes": sum(p.stat().st_size for p in stale if p.exists()),
                "compaction_backlog": local.catalog.backlog("bars")}  # fmt: skip

    def compact(self, dataset: str = "bars") -> dict:
        """Bring the store's cross-sectional segments up to date: whole-market reads then touch a few large files
        (multi-symbol loads that wrote many series do this themselves). Returns what was done."""
        store = self._engine.store
        if not hasattr(store, "compact"):
            return {"dataset": dataset, "skipped": "this store has no cross-sectional segments"}
        return store.compact(dataset, wait=60.0)

    def clear_stale(self) -> dict[str, int]:
        """Remove what crashes leave behind in this source's namespace (``store.repair.clean_stale``)."""
        from quantdb_lab.store.repair import clean_stale

        local = getattr(self._engine.store, "local", self._engine.store)
        local._catalog_call(lambda catalog: catalog.check(thorough=True))  # a damaged catalog is rebuilt here
        return clean_stale(local)

    def clear_legacy(self) -> list[str]:
        """Delete older cache layouts that were set aside (never read)."""
        local = getattr(self._engine.store, "local", self._engine.store)
        return local.clear_other_versions()

    def __repr__(self) -> str:
        return f"Lab(cache_dir={str(self.cache_dir)!r}, provider={self.provider.name!r}, mode={self._mode.name!r})"
