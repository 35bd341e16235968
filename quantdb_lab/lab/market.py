"""``lab.market``: the whole market as a namespace over the Lab's core: lazy scans of the cache, research panels,
and what a read would fetch (flat: ``lab.scan``, ``lab.missing``, ``lab.panel``, ``lab.universe_members``).

``scan`` never calls the upstream: it is a polars LazyFrame over what is stored (projection and predicate
pushdown into the segment files), for aggregates over years of the whole market; ``missing`` says what a read of
the same range would fetch. ``panel`` reads a universe (an index, a sector, a list, or the whole market) through
the cache, fetching what is missing, in long or wide form.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from quantdb_lab.domain.calendar import FIRST_SESSION, day_number
from quantdb_lab.domain.datasets import datasets
from quantdb_lab.domain.dates import DateLike, parse_range
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.domain.valuation import VALUATION
from quantdb_lab.errors import CorrectedDataWarning, InvalidRequestError
from quantdb_lab.lab.core import SymbolsLike, _symbol_items
from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace
from quantdb_lab.loader.plan import ADJUSTMENTS
from quantdb_lab.loader.units import listed_days, unjudged
from quantdb_lab.store.segments import SID

SHAPES = ("long", "wide")
VALUATION_FIELDS = tuple(name for name in VALUATION if name not in ("date", "symbol", "close"))  # panel() reads them


@register_lab_namespace("market", flat=("scan", "missing", "panel", "universe_members"))
class Market(LabNamespace):
    """Scans of the cache, what a read would fetch, research panels and universes (``lab.scan``, ``lab.panel``)."""

    def scan(self, dataset: str = "bars", symbols: SymbolsLike | None = None, *, start: DateLike = None,
             end: DateLike = None, adjust: str = "") -> pl.LazyFrame:  # fmt: skip
        """A LazyFrame over the cached rows of ``dataset`` (all cached series, or ``symbols``) in
        ``[start, end]``: nothing is fetched; ``lab.missing(...)`` lists what a read would fetch. Each file the
        scan can touch is checked against its checksum when the scan is built."""
        if adjust not in ADJUSTMENTS:
            raise InvalidRequestError(f"adjust must be one of '', 'qfq', 'hfq', not {adjust!r}")
        first, last = parse_range(start, end)
        store = getattr(self.engine.store, "local", self.engine.store)
        if not hasattr(store, "catalog"):
            raise InvalidRequestError("this store cannot be scanned (no local catalog)")
        from quantdb_lab.store.market import scan_market

        wanted = None if symbols is None else [s.canonical for s in self._symbols(symbols)]
        lazy = scan_market(store, dataset, wanted, start=first, end=last)
        lazy = self._adjust_lazy(lazy, store, dataset, wanted, adjust, last) if adjust else lazy
        record = datasets().get(dataset)
        if record is not None and record.volume_units:
            self._say_corrections(store, dataset, wanted, first, last)
        return lazy.select(pl.exclude(SID))  # the series number is the store's join key, not a field

    def _say_corrections(self, store, dataset: str, symbols, first, last) -> None:  # noqa: ANN001
        """A scan has no provenance: rows it can serve whose volume was corrected at ingest are said in one
        ``CorrectedDataWarning`` (``loader.units``), never served silently."""
        metas = store.read_metas(dataset, symbols)
        found = self.engine.loader.units.corrected_many(metas, first or FIRST_SESSION, last or date.max)
        short = unjudged(metas)
        if found or short:
            days = {s: listed_days(rows) for s, rows in found.items()}
            listed = "; ".join(f"{s}: {v}" for s, v in list(days.items())[:5])
            more = f" and {len(days) - 5} more series" if len(days) > 5 else ""
            said = [f"rows whose volume came in another unit and was corrected as it entered the cache ({listed}{more}); "
                    "lab.bars(...).quantdb.provenance lists them, quality.units.revert gives them back as received"] if days else []
            if short:
                said.append(f"{len(short)} series too short for their volume units to be judged yet (e.g. {short[:3]})")
            warnings.warn(CorrectedDataWarning("this scan serves " + "; and ".join(said), days), stacklevel=3)

    def _adjust_lazy(self, lazy: pl.LazyFrame, store, dataset: str, symbols, adjust: str, end):  # noqa: ANN001, ANN202
        """qfq (anchored at the latest session, or ``as_of``, as bars() does) or hfq from the series' stored factor
        events; a scan of series whose events were never derived says so rather than guess."""
        from quantdb_lab.loader.market_adjust import adjust_cross_section, events_frame
        from quantdb_lab.loader.read_plan import effective_range

        metas = store.read_metas(dataset, symbols)
        reference = effective_range(None, end, self.lab.mode, self.lab.calendar, self.lab.clock.now()).latest
        first, last = day_number(FIRST_SESSION), day_number(self.lab.calendar.previous_session(reference + timedelta(days=1)))
        # a scan never fetches: hfq needs each series from its listing, qfq each series up to R
        short = sorted(s for s, m in metas.items() if m.events is None or not m.coverage
                       or (adjust == "hfq" and m.coverage.first > first) or (adjust == "qfq" and m.coverage.last < last))  # fmt: skip
        if short:
            need = "from its listing" if adjust == "hfq" else f"up to {reference.isoformat()}"
            raise InvalidRequestError(f"an {adjust} scan needs each series cached {need}; {len(short)} are not (e.g. "
                                      f"{short[:3]}): read them once with lab.bars(..., adjust={adjust!r})")  # fmt: skip
        return adjust_cross_section(lazy.sort("date", "symbol"), events_frame(metas), adjust, reference=reference)

    def missing(self, symbols: SymbolsLike, *, start: DateLike = None, end: DateLike = None,
                adjust: str | None = None) -> pl.DataFrame:  # fmt: skip
        """What ``bars`` would fetch for these symbols and range: one row per planned upstream call."""
        rows = []
        for item in _symbol_items([symbols] if isinstance(symbols, (str, Symbol)) else symbols):
            plan = self.lab.plan(item, start=start, end=end, adjust=adjust)
            rows += [{"symbol": plan.request.symbol.canonical, "dataset": f.key.dataset, "start": f.start,
                      "end": f.end} for f in plan.fetches]  # fmt: skip
        return pl.DataFrame(rows, schema={"symbol": pl.String, "dataset": pl.String, "start": pl.Date, "end": pl.Date})

    def panel(self, universe: str | SymbolsLike, fields: Sequence[str] = ("close",), *, start: DateLike = None,
              end: DateLike = None, adjust: str | None = None, shape: str = "long") -> pl.DataFrame:  # fmt: skip
        """Fields of every member of ``universe`` over ``[start, end]`` for factor research.

        ``universe``: an index (``"000300.SH"``: its constituents), a sector or industry name as the security
        master spells it, ``"market"`` (every listed A-share), or a list of symbols. ``fields``: bar columns and
        the valuation panel's (``pe_ttm``, ``pb``, ``ps_ttm``, ``total_mv``, ..., point in time as
        ``lab.valuation`` gives them). ``shape="long"`` gives ``date symbol <fields>``; ``"wide"`` (one field)
        gives a date column and one column per symbol."""
        if shape not in SHAPES:
            raise InvalidRequestError(f"shape must be one of {SHAPES}, not {shape!r}")
        fields = [fields] if isinstance(fields, str) else list(fields)
        if shape == "wide" and len(fields) != 1:
            raise InvalidRequestError("a wide panel holds one field: pass fields=['close'] (or another one)")
        members = self.universe_members(universe)
        frame = self.lab.bars(members, start=start, end=end, adjust=adjust)
        unknown = [f for f in fields if f not in frame.columns and f not in VALUATION_FIELDS]
        if unknown:
            raise InvalidRequestError(f"unknown fields {unknown}; bars have {', '.join(frame.columns)}; the "
                                      f"valuation panel has {', '.join(VALUATION_FIELDS)}")  # fmt: skip
        valued = [f for f in fields if f not in frame.columns]
        if valued and not frame.is_empty():  # point in time, as lab.valuation values each session
            values = self.lab.pit.valuation(frame["symbol"].unique().sort().to_list(), start=frame["date"].min(),
                                            end=frame["date"].max()).select("date", "symbol", *valued)  # fmt: skip
            frame = frame.join(values, on=["date", "symbol"], how="left")
        long = frame.select("date", "symbol", *fields)
        if shape == "long":
            return long
        return long.pivot(on="symbol", index="date", values=fields[0]).sort("date")

    def universe_members(self, universe: str | SymbolsLike) -> list[str]:
        """The symbols of ``universe`` (see ``panel``), from the cached reference data; in a Lab with an ``as_of``
        mode, the market, index and industry as they were that day (``lab.securities``, ``lab.universe``)."""
        if not isinstance(universe, str):
            return [s.canonical for s in self._symbols(universe)]
        text = universe.strip()
        if text.lower() == "market":
            master = self.lab.pit.securities()
            return master.filter(pl.col("board").is_in(["main", "chinext", "star", "beijing"]))["symbol"].to_list()
        try:
            symbol = parse_symbol(text)
        except InvalidRequestError:
            symbol = None
        if symbol is not None and symbol.kind == "index":
            return self.lab.pit.index_members(symbol)
        if symbol is not None:
            return [symbol.canonical]
        master = self.lab.pit.securities()
        members = master.filter(pl.col("industry") == text)["symbol"].to_list()
        if not members:
            industries = sorted(v for v in master["industry"].unique().to_list() if v)
            raise InvalidRequestError(f"{text!r} is neither an index, a symbol, 'market' nor an industry of the "
                                      f"security master ({len(industries)} industries, e.g. {industries[:5]})")  # fmt: skip
        return members

    def _symbols(self, symbols: SymbolsLike) -> list[Symbol]:
        items = [symbols] if isinstance(symbols, (str, Symbol)) else _symbol_items(symbols)
        return [item if isinstance(item, Symbol) else parse_symbol(item) for item in items]
