"""``lab.checks``: data quality as a namespace over the Lab's core, thin calls into the pure ``quality`` package
with the Lab's calendar, cache and feedback store supplied (flat: ``lab.quality``, ``lab.feedback``, ...). The gate
of ``bars`` judges newly fetched rows through it by name (``lab.quality``)."""

from __future__ import annotations

import polars as pl

from quantdb_lab.domain.calendar import day_number, from_day_number
from quantdb_lab.domain.datasets import dataset as dataset_record
from quantdb_lab.domain.datasets import dataset_for_freq
from quantdb_lab.domain.dates import DateLike, parse_range
from quantdb_lab.domain.symbols import Symbol, parse_symbols
from quantdb_lab.errors import EmptyResultError, InvalidRequestError, QuantdbError
from quantdb_lab.lab.core import SymbolsLike
from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace
from quantdb_lab.lab.suggest import closest_word
from quantdb_lab.providers.fetchers import fetchers_of
from quantdb_lab.quality import (
    QualityParams,
    QualityReport,
    check_quality,
    decisions_frame,
)
from quantdb_lab.quality.datasets import check_dataset
from quantdb_lab.quality.issues import CHECKS
from quantdb_lab.quality.minutes import check_daily_agreement, check_minute_bars
from quantdb_lab.quality.units import revert
from quantdb_lab.store.feedback import FeedbackStore


@register_lab_namespace("checks", flat=("quality", "dataset_quality", "minute_quality", "feedback",
                                        "feedback_log", "unit_corrections", "as_received"))  # fmt: skip
class Checks(LabNamespace):
    """Quality reports on bars and on any dataset, and the decisions recorded on them (``lab.quality``)."""

    def quality(
        self,
        frame_or_symbols: pl.DataFrame | SymbolsLike,
        *,
        start: DateLike = None,
        end: DateLike = None,
        adjust: str = "",
        securities: pl.DataFrame | None = None,
        suspensions: pl.DataFrame | None = None,
        adjustment: pl.DataFrame | None = None,
        actions: pl.DataFrame | bool | None = None,
        threshold: float | None = None,
        params: QualityParams | None = None,
    ) -> QualityReport:
        """A quality report on a frame of bars, or on the unadjusted bars of symbols (loaded through the cache).

        Sessions come from the Lab's calendar, feedback from the cache directory (``feedback``); the threshold
        defaults to the mode's. See ``quantdb_lab.quality`` for the checks and the score. ``actions``: dividend
        tables to check ex-dates against (``quality.actions``): a frame, True (fetched through the cache), or
        None (the tables already cached, no upstream call).
        """
        if isinstance(frame_or_symbols, pl.DataFrame):
            frame = frame_or_symbols
        else:
            ungated = self.lab.using(self.lab.mode.with_(on_quality_fail="ignore"))
            frame = self._as_received(ungated.bars(frame_or_symbols, start=start, end=end, adjust=adjust))
        if securities is None and self.lab.mode.as_of is not None:  # ST limits as known that day, never fetched here
            securities = self.lab.pit.known_securities()
        sessions = None
        if frame.height and frame["date"].null_count() < frame.height:
            sessions = self.lab.calendar.session_days(frame["date"].min(), frame["date"].max())
        return check_quality(
            frame, sessions_list=sessions, securities=securities, suspensions=suspensions, adjustment=adjustment,
            actions=self._action_tables(frame, actions),
            decisions=FeedbackStore(self.lab.cache_dir).read(), params=params,
            threshold=self.lab.mode.quality_threshold if threshold is None else threshold,
        )  # fmt: skip

    def dataset_quality(self, dataset: str, symbol: str | Symbol | None = None, *, start: DateLike = None,
                        end: DateLike = None) -> pl.DataFrame:  # fmt: skip
        """Issues of any registered dataset's rows, read through the cache (``quality.datasets``): sessions the
        upstream forgot before they were captured (``lost_session``), rows off the calendar, twins, and the
        checks its columns allow. An ``ISSUES`` frame (empty: nothing found)."""
        record = dataset_record(dataset)
        parsed = parse_symbols(symbol)[0] if symbol is not None else None
        try:
            frame = self.lab.read(dataset, parsed, start=start, end=end)
            (origin,) = frame.quantdb.provenance.series
            first, last = origin.start, origin.end
        except EmptyResultError:
            frame = pl.DataFrame(schema=record.schema)
            first, last = parse_range(start, end)
        loader = self.lab.dataset_loader
        lost = loader.lost.days(loader.key(record, parsed))
        lo = day_number(first) if first is not None else (int(lost.min()) if len(lost) else 0)
        hi = day_number(last) if last is not None else (int(lost.max()) if len(lost) else 0)
        sessions = self.lab.calendar.session_days(from_day_number(lo), from_day_number(max(lo, hi)))
        key = parsed.canonical if parsed is not None else "market"
        return check_dataset(frame, record, symbol=key, sessions=sessions, lost=lost[(lost >= lo) & (lost <= hi)])

    def minute_quality(self, symbols: SymbolsLike, *, start: DateLike = None, end: DateLike = None,
                       freq: str = "1min", daily: bool = True) -> pl.DataFrame:  # fmt: skip
        """Issues of the symbols' minute bars (``quality.minutes``), read through the cache like ``bars(freq=...)``:
        off-grid or broken bars, short sessions, estimated opens, and (``daily=True``) the daily bar derived
        from the minutes against the daily series (OHLC exact, volume within the auction bars)."""
        record = dataset_for_freq(freq)
        if record is None:
            raise InvalidRequestError(f"freq must be a minute frequency (e.g. '1min'), not {freq!r}")
        minutes = self.lab.bars(symbols, start=start, end=end, freq=freq)
        found = [check_minute_bars(minutes, record.bar_minutes or 1)]
        if daily and minutes.height:
            days = minutes["time"].dt.date()
            bars = self.lab.using(self.lab.mode.with_(on_quality_fail="ignore")).bars(
                minutes["symbol"].unique().to_list(), start=days.min(), end=days.max(), adjust="")
            found.append(check_daily_agreement(minutes, bars))
        return pl.concat(found).sort("symbol", "date", "check")

    def unit_corrections(self, symbols: SymbolsLike) -> pl.DataFrame:
        """The volume-unit corrections made to the daily bars of ``symbols`` as they entered the cache: one row
        per corrected day (``symbol`` and ``quality.units.CORRECTIONS``: volume and turnover as received, the
        volume stored, the factor), empty when none. Never calls the upstream."""
        units = self.engine.loader.units
        tables = [units.corrections(s.canonical).select(pl.lit(s.canonical).alias("symbol"), pl.all())
                  for s in parse_symbols(symbols)]  # fmt: skip
        return pl.concat(tables).sort("symbol", "date")

    def as_received(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (daily bars as ``lab.bars`` serves them) with the rows whose volume unit was corrected at
        ingest put back as the upstream sent them (``quality.units.revert``); other rows unchanged."""
        return self._as_received(frame)

    def _as_received(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows whose volume unit was corrected at ingest, put back as received: the report lists them."""
        units = self.engine.loader.units
        parts = []
        for (symbol,), part in frame.group_by("symbol", maintain_order=True):
            fixes = units.corrections(str(symbol))
            parts.append(revert(part, fixes) if fixes.height else part)
        return pl.concat(parts) if len(parts) > 1 else (parts[0] if parts else frame)

    def _action_tables(self, frame: pl.DataFrame, actions: pl.DataFrame | bool | None) -> pl.DataFrame | None:
        if isinstance(actions, pl.DataFrame) or actions is False or not frame.height:
            return actions if isinstance(actions, pl.DataFrame) else None
        if "corporate_actions" not in fetchers_of(self.lab.provider):
            return None
        reference = self.lab.reference
        tables = []
        for text in frame["symbol"].unique().to_list():
            try:
                (symbol,) = parse_symbols(text)
            except QuantdbError:
                continue  # a spelling the report repairs (e.g. a code that lost its zeros): no table for it
            table = reference.corporate_actions(symbol) if actions else reference.stored_corporate_actions(symbol)
            if table is not None:
                tables.append(table)
        return pl.concat(tables) if tables else None

    def feedback(self, symbol: str | Symbol, check: str, date: DateLike = None, *, verdict: str = "false_positive",
                 note: str = "") -> pl.DataFrame:  # fmt: skip
        """Record a decision on a quality issue (``date=None``: every date of that check for the symbol);
        later reports respect it and widen thresholds it shows too tight. Returns all decisions."""
        (parsed,) = parse_symbols(symbol)
        if check not in CHECKS:
            raise InvalidRequestError(f"check must be one a quality report emits, not {check!r}"
                                      f"{closest_word(check, CHECKS)}; the checks: {', '.join(sorted(CHECKS))}")  # fmt: skip
        day = parse_range(date, date)[0] if date is not None else None
        FeedbackStore(self.lab.cache_dir).record(parsed.canonical, check, day, verdict, note=note, at=self.lab.clock.now())
        return self.feedback_log()

    def feedback_log(self) -> pl.DataFrame:
        """Every recorded decision: symbol, date, check, verdict, note."""
        return decisions_frame(FeedbackStore(self.lab.cache_dir).read())
