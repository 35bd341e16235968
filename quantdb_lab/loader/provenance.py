"""A result's provenance, bound to the polars frame the Lab returned: ``frame.quantdb.provenance``.

Each read (``lab.bars``, ``lab.read``, ``lab.synthesize``, a portfolio's ``result.frame``) returns a frame and
binds a :class:`ResultProvenance` to that very object, so two results read one after the other each keep their
own (``lab.last_provenance``, overwritten by the next call, is gone). The binding is a weak mapping keyed by the
frame's identity: polars frames accept weak references but are not hashable, so the mapping is ``id(frame)`` to
(weak reference, provenance) with a finalizer that drops the entry when the frame is collected; it never keeps a
frame alive. A frame derived from a result (``filter``, ``with_columns``, ``join``) is a new object and carries
none (``None``): its rows are no longer the read's. The accessor is a polars namespace
(``pl.api.register_dataframe_namespace``), registered when this module is imported (``quantdb_lab.lab`` does).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from quantdb_lab.loader.stats import Provenance

NAMESPACE = "quantdb"


@dataclass(frozen=True, slots=True)
class ResultProvenance:
    """Where the rows of one result came from.

    ``series``: one :class:`~quantdb_lab.loader.stats.Provenance` per series read (symbol, adjustment, range,
    rows, cache or upstream, calls, fetched spans, stale, provisional, synthetic, source, notes).
    ``skipped``: symbols a many-symbol read left out, and why. ``warnings``: what the read warned about (symbols
    left out, the quality gate). ``synthesis``: per-gap reports when rows were synthesized (``lab.synthesize``,
    a gap policy that fills)."""

    dataset: str
    series: tuple[Provenance, ...] = ()
    skipped: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    synthesis: tuple[Any, ...] = ()  # synthesis.FillReport

    @property
    def adjust(self) -> str:
        """The adjustment of the series ("" unadjusted, "qfq", "hfq"; "mixed" if they differ)."""
        found = {p.adjust for p in self.series}
        return found.pop() if len(found) == 1 else ("mixed" if found else "")

    @property
    def sources(self) -> tuple[str, ...]:
        """The store namespaces (data identities, e.g. "akshare") the rows came from."""
        return tuple(dict.fromkeys(p.source for p in self.series if p.source))

    @property
    def synthetic(self) -> bool:
        """Some rows are not the market's: a simulated provider, or synthesized gaps."""
        return any(p.synthetic for p in self.series) or any(getattr(r, "accepted", False) for r in self.synthesis)

    @property
    def stale(self) -> bool:
        return any(p.stale for p in self.series)

    @property
    def partial(self) -> bool:
        """Less than asked: symbols left out, or a series served stale because the upstream failed."""
        return bool(self.skipped) or self.stale

    @property
    def from_cache(self) -> bool:
        """Every series was served without an upstream call."""
        return all(p.from_cache for p in self.series)

    @property
    def upstream_calls(self) -> int:
        return sum(p.upstream_calls for p in self.series)

    @property
    def fetched(self) -> tuple[tuple[str, str, date, date], ...]:
        """(symbol, dataset, first, last) of each span fetched from the upstream; the rest came from the cache."""
        return tuple((p.symbol, name, first, last) for p in self.series for name, first, last in p.fetched)

    def frame(self) -> pl.DataFrame:
        """One row per series: symbol, adjust, first, last, rows, from_cache, upstream_calls, stale, synthetic,
        provisional, source, notes."""
        rows = [{"symbol": p.symbol, "adjust": p.adjust, "first": p.start, "last": p.end, "rows": p.rows,
                 "from_cache": p.from_cache, "upstream_calls": p.upstream_calls, "stale": p.stale,
                 "synthetic": p.synthetic, "provisional": p.provisional, "source": p.source,
                 "notes": "; ".join(p.notes)} for p in self.series]  # fmt: skip
        schema = {"symbol": pl.String, "adjust": pl.String, "first": pl.Date, "last": pl.Date, "rows": pl.Int64,
                  "from_cache": pl.Boolean, "upstream_calls": pl.Int64, "stale": pl.Boolean, "synthetic": pl.Boolean,
                  "provisional": pl.Date, "source": pl.String, "notes": pl.String}  # fmt: skip
        return pl.DataFrame(rows, schema=schema)

    def with_(self, **changes: Any) -> ResultProvenance:
        from dataclasses import replace

        return replace(self, **changes)

    def __repr__(self) -> str:
        cached = sum(p.from_cache for p in self.series)
        flags = [name for name in ("synthetic", "partial", "stale") if getattr(self, name)]
        return (f"ResultProvenance({self.dataset}, {len(self.series)} series, {cached} from cache, "
                f"{self.upstream_calls} upstream calls{', ' if flags else ''}{', '.join(flags)})")  # fmt: skip


_lock = threading.Lock()
_bound: dict[int, tuple[weakref.ref, ResultProvenance]] = {}


def _forget(key: int) -> None:
    with _lock:
        _bound.pop(key, None)


def provenance_of(frame: pl.DataFrame) -> ResultProvenance | None:
    """The provenance bound to this frame object, or None (a frame the Lab did not return)."""
    with _lock:
        entry = _bound.get(id(frame))
    return entry[1] if entry is not None and entry[0]() is frame else None


def bind(frame: pl.DataFrame, provenance: ResultProvenance) -> pl.DataFrame:
    """``frame`` with ``provenance`` bound to it. A frame that already carries another read's provenance (an
    object shared by two results) is first shallow-copied (``clone``: the columns are shared, not copied), so
    the earlier result keeps its own."""
    current = provenance_of(frame)
    if current is provenance:
        return frame
    if current is not None:
        frame = frame.clone()
    key = id(frame)
    with _lock:
        _bound[key] = (weakref.ref(frame), provenance)
    weakref.finalize(frame, _forget, key)
    return frame


def bound() -> int:
    """How many live frames carry a provenance (for tests of the binding)."""
    with _lock:
        return len(_bound)


def series_of(frames: Iterable[pl.DataFrame]) -> tuple[Provenance, ...]:
    """The series provenance of several results, in order (frames without one add nothing)."""
    return tuple(p for frame in frames if (found := provenance_of(frame)) is not None for p in found.series)


@pl.api.register_dataframe_namespace(NAMESPACE)
class QuantdbFrame:
    """``frame.quantdb``: what quantdb_lab knows about a frame it returned."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame

    @property
    def provenance(self) -> ResultProvenance | None:
        """The read this frame is the result of (None: not a frame a Lab returned, or derived from one)."""
        return provenance_of(self._frame)
