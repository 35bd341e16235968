"""Many symbols in one read: planned in one pass, read as one frame, degraded per symbol.

* Planning: the catalog returns the metadata of every requested series in one query, and a series whose
  coverage already holds every session of the range needs no plan at all (a numpy test per series); only the
  others go through ``plan_load`` and fetch, one by one, under the throttle.
* Reading: when many series are warm and the store can serve cross-sections, they are read together from its
  segments (``store.market``), in (date, symbol) order; otherwise each series comes from the in-memory copy or
  its own file, and the frames are put in the same order.
* Failure: a symbol that is empty in the range, unknown to the upstream or failed to fetch is left out and
  named in ``BatchResult.skipped`` with why (the Lab turns that into one typed warning); with ``strict`` the
  first such error is raised instead.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.domain.schema import BARS
from quantdb_lab.errors import (
    EmptyResultError,
    ProviderError,
    QuantdbError,
    SyntheticDataWarning,
)
from quantdb_lab.loader.market_adjust import adjust_cross_section, events_frame
from quantdb_lab.loader.plan import BarRequest, LoadPlan, plan_load
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.store.records import SeriesMeta

#: at least this many warm series of one request shape are read as one cross-section (fewer: one by one)
MARKET_READ_MIN = 32
ORDER = ("date", "symbol")


@dataclass
class BatchResult:
    frame: pl.DataFrame
    provenance: list[Provenance] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # symbol -> why it is not in the frame
    errors: dict[str, QuantdbError] = field(default_factory=dict)


Load = Callable[[BarRequest], tuple[pl.DataFrame, Provenance]]
Served = Callable[[list[tuple[BarRequest, Provenance]]], None]


def load_batch(loader, requests: Sequence[BarRequest], mode: ContextMode, *, load: Load,  # noqa: ANN001
               strict: bool = False, on_served: Served | None = None) -> BatchResult:  # fmt: skip
    """Load ``requests`` (``load`` is the foreground single-series load, which reports its own use);
    ``on_served`` hears of the series each cross-section served, once per cross-section."""
    result = BatchResult(pl.DataFrame())
    frames: list[pl.DataFrame] = []
    served: set[BarRequest] = set()
    with _collector_paused(len(requests) >= MARKET_READ_MIN):
        for group, frame, provenance in _cross_sections(loader, requests, mode):
            frames.append(frame)
            pairs = []
            for request in group:
                origin = provenance.get(request.symbol.canonical)
                if origin is None:
                    continue  # no rows in the range: the single load below says why (and raises or skips)
                loader.stats.record(origin)
                served.add(request)
                result.provenance.append(origin)
                pairs.append((request, origin))
            if on_served is not None and pairs:
                on_served(pairs)
    rest = [r for r in requests if r not in served]
    if len(rest) > 1:
        loader.preload(rest)  # cached frames off disk in one batch (a team store first pulls what it lacks)
    for request in rest:
        try:
            frame, origin = load(request)
        except (EmptyResultError, ProviderError) as exc:
            _skip(result, request, exc, strict)
            continue
        frames.append(frame)
        result.provenance.append(origin)
    compact_if_many(loader.store, sum(not p.from_cache for p in result.provenance))
    frames = [f for f in frames if f.height]
    if len(frames) == 1 and not rest:
        result.frame = frames[0]  # one cross-section: already in (date, symbol) order
    elif frames:
        frame = pl.concat(frames, how="vertical_relaxed")
        result.frame = frame if _is_ordered(frame) else frame.sort(*ORDER)
    return result


@contextmanager
def _collector_paused(pause: bool) -> Iterator[None]:
    """Python's cyclic collector off while cross-sections build their bookkeeping. The thousands of metadata
    and provenance objects of a whole-market read make it run a full collection over the whole heap (a kernel's
    own data included) in the middle of the read: 50-70 ms of a 0.7 s read. Back on after; nothing is skipped,
    what it would have found is found at its next run."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _market_read(loader, group: list[BarRequest], plan: LoadPlan, metas: dict[str, SeriesMeta]):  # noqa: ANN001, ANN202
    """The group's rows from the store's cross-section, adjusted in one pass, with each symbol's provenance;
    None when the store cannot serve cross-sections (the single loads then serve the group). A series whose
    factor events were never derived (None) is left to its single load."""
    if not hasattr(loader.store, "read_market"):
        return None
    adjust = plan.request.adjust
    if adjust:
        group = [r for r in group if metas.get(r.symbol.canonical) is not None
                 and metas[r.symbol.canonical].events is not None]  # fmt: skip
    symbols = [r.symbol.canonical for r in group]
    market = loader.store.read_market("bars", symbols, start=plan.start, end=plan.end)
    frame = market.frame
    if market.damaged:  # left to the single loads, which repair each damaged series
        frame = frame.filter(~pl.col("symbol").is_in(list(market.damaged)))
    if frame.is_empty():
        return frame, {}
    if adjust:
        sids = {s: e.sid for s, e in market.snapshot.entries.items()} if market.snapshot is not None else None
        events = events_frame({s: metas[s] for s in symbols}, sids)
        frame = adjust_cross_section(frame, events, adjust, reference=plan.reference)
    counts = {s: n for s, n in market.rows.items() if s not in market.damaged}
    synthetic = loader.provider.synthetic
    units = loader.units.notes_many({s: metas[s] for s in counts if s in metas}, plan.start, plan.end)  # listed
    provenance = {}
    for request in group:
        rows = counts.get(request.symbol.canonical)
        if not rows:
            continue
        origin = Provenance(symbol=request.symbol.canonical, adjust=request.adjust, start=plan.start, end=plan.end,
                            rows=rows, from_cache=True, upstream_calls=0, fetched=(), synthetic=synthetic,
                            source=getattr(loader.store, "source", ""),
                            notes=(*plan.notes, *units.get(request.symbol.canonical, ())))  # fmt: skip
        provenance[request.symbol.canonical] = origin
    if synthetic:
        warnings.warn(f"{loader.provider.name} data is synthetic, not the market's", SyntheticDataWarning, stacklevel=4)
    return frame.select([c for c in BARS if c in frame.columns]), provenance


@dataclass(frozen=True, slots=True)
class _Remembered:
    """A cross-section kept in the store's bounded memory, valid while the catalog's version is the same."""

    requests: list[BarRequest]
    frame: pl.DataFrame
    provenance: dict[str, Provenance]


def compact_if_many(store, fetched: int, dataset: str = "bars") -> None:  # noqa: ANN001
    """After a load that wrote many series, bring the cross-sectional segments up to date (skipped when another
    process is compacting, or the store has none): the next whole-market read then touches a few large files."""
    from quantdb_lab.store.compaction import AUTO_COMPACT_SERIES, AUTO_COMPACT_SHARE

    local = getattr(store, "local", store)
    if fetched < AUTO_COMPACT_SERIES or not hasattr(local, "catalog"):
        return
    backlog = local.catalog.backlog(dataset)
    total = local.usage().get(dataset, {}).get("series", 0)
    if backlog >= AUTO_COMPACT_SERIES and backlog >= AUTO_COMPACT_SHARE * total:
        store.compact(dataset)


def _skip(result: BatchResult, request: BarRequest, exc: QuantdbError, strict: bool) -> None:
    if strict:
        raise exc
    symbol = request.symbol.canonical
    result.errors[symbol] = exc
    kind = "empty" if isinstance(exc, EmptyResultError) else "failed"
    result.skipped[symbol] = f"{kind}: {exc.reason}"


def _is_ordered(frame: pl.DataFrame) -> bool:
    """Sorted by date, and by symbol within a date (cheap: two passes over the keys)."""
    if frame.height < 2:
        return True
    if not frame["date"].is_sorted():
        return False
    same_day = (frame["date"] == frame["date"].shift(1)).fill_null(False)
    later = frame["symbol"] > frame["symbol"].shift(1)
    return bool((~same_day | later.fill_null(True)).all())


def _cross_sections(loader, requests: Sequence[BarRequest], mode: ContextMode):  # noqa: ANN001, ANN202
    """For each shape (range, adjustment) of at least MARKET_READ_MIN requests: the warm ones (every needed
    series covers every needed session: no fetch, no per-series plan), their rows as one cross-section and
    their provenance. A shape read before, with nothing stored changed since, comes from the store's bounded
    memory (a notebook cell run again)."""
    store = loader.store
    if len(requests) < MARKET_READ_MIN or not all(hasattr(store, m) for m in ("read_metas", "read_market", "version")):
        return
    now = loader.clock.now()
    shapes: dict[tuple, list[BarRequest]] = {}
    for request in requests:
        shapes.setdefault((request.start, request.end, request.adjust), []).append(request)
    for group in shapes.values():
        if len(group) < MARKET_READ_MIN:
            continue
        probe = plan_load(group[0], mode, {}, loader.calendar, now)  # the effective range of this shape
        if probe.provisional is not None:
            continue  # the open session's bar has its own freshness: the planner decides per series
        key = ("cross-section", probe.request.adjust, probe.start, probe.end, probe.reference, hash(tuple(group)))
        version = hash(store.version())
        remembered = store.memory.get(key, version)
        if remembered is not None:
            yield remembered.requests, remembered.frame, remembered.provenance
            continue
        # the segments decode in a thread while the series' metadata is read and judged here
        ahead = store.preload_market("bars", start=probe.start, end=probe.end) if hasattr(store, "preload_market") else None
        metas = {need.key.dataset: store.read_metas(need.key.dataset, [r.symbol.canonical for r in group])
                 for need in probe.needs}  # fmt: skip
        sessions = {need.key.dataset: loader.calendar.session_days(need.start, need.end) for need in probe.needs}
        warm = [r for r in group if all(_covers(metas[n.key.dataset].get(r.symbol.canonical), sessions[n.key.dataset])
                                        for n in probe.needs)]  # fmt: skip
        if ahead is not None:
            ahead.result()  # never two decodes of one segment at once
        if len(warm) < MARKET_READ_MIN:
            continue
        read = _market_read(loader, warm, probe, metas.get("bars", {}))
        if read is None:
            continue
        store.memory.put(key, version, _Remembered(warm, *read))
        yield warm, *read


def _covers(meta: SeriesMeta | None, sessions: np.ndarray) -> bool:
    """Whether ``meta``'s coverage holds every one of ``sessions`` (day numbers, ascending)."""
    if meta is None or not meta.coverage:
        return False
    if not len(sessions):
        return True
    coverage = meta.coverage
    i = int(np.searchsorted(coverage.starts, sessions[0], side="right")) - 1
    if i >= 0 and coverage.ends[i] >= sessions[-1]:
        return True  # one interval holds the whole range
    return bool(np.all(coverage.covered(sessions)))
