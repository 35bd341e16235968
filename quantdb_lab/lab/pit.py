"""Lab methods for point-in-time research: the market, index members and fundamentals as they were known.

Each takes ``as_of`` (default: the mode's ``as_of``, so a backtesting Lab sees its own day everywhere a universe
is chosen) and reads registered datasets through the cache (``lab.read``); see docs/point-in-time.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from quantdb_lab.domain.datasets import dataset as dataset_record
from quantdb_lab.domain.dates import DateLike, parse_date
from quantdb_lab.domain.fundamentals import DERIVED, indicators, panel_as_of, pit_heads, vintage
from quantdb_lab.domain.master import securities_as_of
from quantdb_lab.domain.releases import FIGURES, preliminary as preliminary_figures
from quantdb_lab.domain.pit import SECURITY_EVENTS, STATEMENT_FIELDS
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.domain.valuation import valuation_heads, valuation_panel
from quantdb_lab.errors import (
    EmptyResultError,
    InvalidRequestError,
    LookAheadError,
    PartialDataWarning,
    PointInTimeUnavailableError,
)
from quantdb_lab.lab.core import SymbolsLike
from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace
from quantdb_lab.providers.fetchers import fetchers_of


@register_lab_namespace("pit", flat=("securities", "index_members", "known_securities", "universe", "fundamentals",
                                     "valuation"))  # fmt: skip
class PointInTime(LabNamespace):
    """The market, index members and fundamentals as they were known (``lab.securities``, ``lab.universe``, ...)."""

    def _as_of(self, as_of: DateLike) -> date | None:
        day = parse_date(as_of) if as_of is not None else self.lab.mode.as_of
        if day is not None and self.lab.mode.as_of is not None and day > self.lab.mode.as_of:
            raise LookAheadError(f"as_of {day.isoformat()} is past the mode's cutoff {self.lab.mode.as_of.isoformat()}",
                                 mode=self.lab.mode.name)  # fmt: skip
        return day

    def securities(self, as_of: DateLike = None) -> pl.DataFrame:
        """The security master. Today's list (symbol, name, industry, board, list_date), cached until the next
        close; with ``as_of`` (or in a Lab with an ``as_of`` mode) the market as it was that day, delisted stocks
        included, with that day's names and ST status (``is_st``, ``st_since``)."""
        current = self.lab.reference.securities()
        day = self._as_of(as_of)
        if day is None:
            return current
        if "security_events" not in fetchers_of(self.lab.provider):
            warnings.warn(PartialDataWarning(
                f"provider {self.lab.provider.name!r} serves no listing history: the market of {day.isoformat()} is "
                "today's list less later listings, without the stocks delisted since (survivorship bias)"), stacklevel=2)
            return securities_as_of(current, pl.DataFrame(schema=SECURITY_EVENTS), day)
        # every event up to the mode's cutoff (today's in research): one fetch serves every later as_of
        events = self.lab.read("security_events", end=self.lab.mode.as_of)
        board = self._market("st_board", None, day) if "st_board" in fetchers_of(self.lab.provider) else None
        return securities_as_of(current, events, day, st_board=board)

    def index_members(self, index: str | Symbol) -> list[str]:
        """The index's constituents where a universe is chosen: today's list, or in a Lab with an ``as_of`` mode
        the list captured on or before that day (``universe``)."""
        if self.lab.mode.as_of is not None:
            return self.universe(index)
        return self.lab.reference.index_members(index)

    def known_securities(self) -> pl.DataFrame | None:
        """The security master as of the mode's ``as_of`` from what is stored, without an upstream call (None when
        the list or its events were never fetched): for checks that must not fetch (quality's ST limits)."""
        day = self.lab.mode.as_of
        current = self.lab.reference.stored_securities()
        if day is None or current is None:
            return current
        events = self._stored("security_events")
        if events is None:
            return None
        return securities_as_of(current, events, day, st_board=self._stored("st_board"))

    def _stored(self, dataset: str) -> pl.DataFrame | None:
        """A market-wide dataset's stored rows, without an upstream call (None when never fetched)."""
        store = self.engine.store
        key = self.engine.datasets.key(dataset_record(dataset), None)
        meta = store.read_meta(key)
        return store.read_frame(key, meta) if meta is not None and meta.rows else None

    def universe(self, index: str | Symbol, as_of: DateLike = None) -> list[str]:
        """The constituents of ``index`` as captured on the latest snapshot on or before ``as_of`` (default: the
        mode's, else today's list, captured now). PointInTimeUnavailableError before the first snapshot: the
        upstream serves only today's list, so history starts when a list was first stored."""
        symbol = index if isinstance(index, Symbol) else parse_symbol(index)
        if symbol.kind != "index":
            raise InvalidRequestError(f"{symbol.canonical} is not an index")
        day = self._as_of(as_of)
        try:
            frame = self.lab.read("index_snapshots", symbol, end=day)
        except EmptyResultError as exc:
            if day is None:
                raise
            raise PointInTimeUnavailableError(
                f"no constituent list of {symbol.canonical} was captured on or before {day.isoformat()}; the "
                "upstream serves only today's list, so earlier membership is unknown (not back-filled)",
                symbol=symbol.canonical, dataset="index_snapshots", end=day) from exc  # fmt: skip
        last = frame["date"].max()
        return sorted(frame.filter(pl.col("date") == last)["member"].to_list())

    def fundamentals(self, symbols: SymbolsLike, fields: Sequence[str] | None = None, *, as_of: DateLike = None,
                     start: DateLike = None, end: DateLike = None, history: bool = False,
                     preliminary: bool = False) -> pl.DataFrame:  # fmt: skip
        """Financial statements and the indicators derived from them, point in time (qlib's PIT semantics).

        Default: one row per symbol, its latest report as known on ``as_of`` (default: the mode's, else today):
        every figure announced on or before it, restatements only from the day they were known. ``history=True``:
        every report period as known then. ``start``/``end``: a daily panel, each session's row holding the
        latest figures announced on or before that session. ``fields``: statement fields
        (``domain.pit.STATEMENT_FIELDS``) and indicators (``domain.fundamentals.DERIVED``); default all.
        ``preliminary=True`` (latest report only): where a results-table headline, an express report or a forecast
        of a later period was announced by ``as_of`` (``earnings_releases``, ``earnings_forecasts``), that row
        instead, its figures only (EPS, revenue, parent net profit, BPS, ROE, growth; the rest null); ``source``
        says where each row comes from (``statement``, ``report``, ``express``, ``forecast``)."""
        wanted = _fields(fields)
        items = [symbols] if isinstance(symbols, (str, Symbol)) else list(symbols)
        day = self._as_of(as_of)
        if start is not None or end is not None:
            last = self._as_of(end) or self.lab.calendar.state(self.lab.clock.now()).latest
            first = parse_date(start) if start is not None else last
            heads = self._statements(items, last, derive=pit_heads)
            sessions = self.lab.calendar.sessions(first, last)
            panel = panel_as_of(heads, sessions).sort("date", "symbol")
            return panel.select("date", "symbol", "report_period", "known_at", *wanted)
        if preliminary and (history or start is not None or end is not None):
            raise InvalidRequestError("preliminary=True gives the latest figures per symbol: not with history or a range")
        statements = self._statements(items, day)
        known = indicators(vintage(statements, day, ordered=True))  # the store keeps each series by known_at
        if not history:
            known = known.sort("symbol", "report_period").group_by("symbol", maintain_order=True).last()
        known = known.select("symbol", "report_period", "announcement_date", "known_at", *wanted)
        return self._with_preliminary(known, statements, day, wanted) if preliminary else known

    def _with_preliminary(self, known: pl.DataFrame, statements: pl.DataFrame, day: date | None,
                          wanted: list[str]) -> pl.DataFrame:  # fmt: skip
        """``known`` (latest statements) with each symbol that has a later preliminary figure by ``day`` given it."""
        cutoff = day or self.lab.calendar.state(self.lab.clock.now()).latest
        symbols = known["symbol"].unique().to_list()
        since = cutoff - RELEASE_WINDOW  # a later period's figures are at most this old
        frames = [self._market(name, since, cutoff).filter(pl.col("symbol").is_in(symbols))
                  for name in ("earnings_releases", "earnings_forecasts")]  # fmt: skip
        ahead = preliminary_figures(statements, *frames, cutoff)
        rows = ahead.select("symbol", "report_period", pl.col("known_at").alias("announcement_date"), "known_at",
                            *(_release_field(name) for name in wanted), pl.col("kind").alias("source"))  # fmt: skip
        base = known.filter(~pl.col("symbol").is_in(ahead["symbol"].to_list())).with_columns(
            pl.lit("statement").alias("source"))
        return pl.concat([base, rows.cast(base.schema)]).sort("symbol")  # type: ignore[arg-type]

    def _market(self, dataset: str, start: date | None, end: date | None) -> pl.DataFrame:
        """A market-wide point-in-time dataset's rows of ``[start, end]`` (empty when it has none)."""
        try:
            return self.lab.read(dataset, start=start, end=end)
        except EmptyResultError:
            return pl.DataFrame(schema=dataset_record(dataset).schema)

    def valuation(self, universe: str | SymbolsLike, *, start: DateLike = None, end: DateLike = None) -> pl.DataFrame:
        """PE (TTM), PB, PS (TTM), total and float market cap per session (``domain.valuation.VALUATION``) of a
        universe (as ``panel`` takes it; in an ``as_of`` Lab the universe of that day), from raw closes, the
        share capital and figures announced by each session, and each session's free float."""
        last = self._as_of(end) or self.lab.calendar.state(self.lab.clock.now()).latest
        first = parse_date(start) if start is not None else last
        members = self.lab.universe_members(universe)
        if isinstance(universe, str):  # a named universe: only what had listed by the range's end
            master = self.securities()
            listed = set(master.filter(pl.col("list_date").is_null() | (pl.col("list_date") <= last))["symbol"].to_list())
            members = [s for s in members if s in listed]
        bars = self.lab.bars(members, start=first, end=last, adjust="")
        heads = self._statements(bars["symbol"].unique().sort().to_list(), last, derive=valuation_heads)
        return valuation_panel(bars, heads)

    def _statements(self, symbols: list, end: date | None, derive=None) -> pl.DataFrame:  # noqa: ANN001
        """The stored statements of ``symbols`` known by ``end`` (the mode's ``as_of`` cut applied), or what
        ``derive`` makes of them: one cross-section, remembered while nothing stored changes (``read_many``)."""
        parsed = [item if isinstance(item, Symbol) else parse_symbol(item) for item in symbols]
        frame = self.engine.datasets.read_many(dataset_record("financials"), parsed, None, end, self.lab.mode,
                                               derive=derive)  # fmt: skip
        if frame.is_empty():
            raise EmptyResultError("no financial statements for these symbols in this range", end=end)
        return frame


RELEASE_WINDOW = timedelta(days=200)
_FROM_RELEASE = {"eps": "basic_eps"}  # a derived field a release states itself


def _release_field(name: str) -> pl.Expr:
    source = _FROM_RELEASE.get(name, name)
    return (pl.col(source) if source in FIGURES else pl.lit(None, pl.Float64)).alias(name)


def _fields(fields: Sequence[str] | None) -> list[str]:
    known = [*STATEMENT_FIELDS, *DERIVED]
    if fields is None:
        return known
    wanted = [fields] if isinstance(fields, str) else list(fields)
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise InvalidRequestError(f"unknown fundamentals fields {unknown}; known: {', '.join(known)}")
    return wanted
