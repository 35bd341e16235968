"""Gap synthesis through the cache: load context and a reference series, fill with ``quantdb_lab.synthesis``.

This is the I/O half of gap synthesis (the Lab's ``synthesize`` and the ``gap_policy`` of ``bars``); the
statistics are in the pure ``synthesis`` package. Nothing here writes: synthetic rows exist only in the frames
returned, never in the store.

Reference series, when the caller gives none, each where it can be had, else the series alone: the
security's board index through the cache (ChiNext stocks: 399006.SZ, every other A-share: the CSI 300
000300.SH), the equal weight of up to ``SECTOR_MEMBERS`` other stocks of its industry (from the security
master as stored, never refreshed for this: akshare's costs about 90 calls; a member that cannot be loaded is
skipped; its open is the members' mean overnight move, for the fill's use of the right anchor's open), and a
small-cap index (the CSI 1000 000852.SH, else the CSI 500 000905.SH). The small-cap index is there because
the CSI 300 explains little of most A-shares' days: on 172 real series it explains a median 13% of a stock's
daily variance against 19% for the CSI 1000, and nothing at all in years when large and small caps part
(2021); the two together, one loading each, carry the market for a large or a small company
(``benchmarks/bench_synthesis.py`` measures each). They are loaded only for series that have gaps. Known
suspensions come from the provider when it can tell them (``fetch_suspensions(symbol)``, or a simulated
market's ``suspensions``); otherwise every missing session counts as a gap.

Refusal is per gap: a refused gap stays missing and a ``QualityWarning`` (``.report``: every gap's report)
names it and its cause; the series' other gaps are filled.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import InvalidRequestError, QualityWarning, QuantdbError, SyntheticDataWarning
from quantdb_lab.providers.base import Provider
from quantdb_lab.synthesis import FillReport, Synthesis, SynthesisConfig, fill_gaps, find_gaps, refusals_text

#: ``load(symbol, start, end, adjust)``: one series through the cache, without any gap policy.
LoadFn = Callable[[Symbol, date | None, date | None, str | None], pl.DataFrame]
SECTOR_MEMBERS = 10
MIN_SECTOR_MEMBERS = 3
SECTOR_TRIES = 2 * SECTOR_MEMBERS  # members tried at most (delisted or failing ones are skipped)
SMALL_CAP_INDICES = ("000852.SH", "000905.SH")  # the first that loads joins the default references
#: what ``reference=`` accepts: a frame (``date``, ``close``), a symbol, ``"sector"``, ``"none"``, a list of
#: frames/symbols/``"sector"`` (one loading each), or None for the security's index and sector
ReferenceSpec = pl.DataFrame | str | list | tuple | None


@dataclass(frozen=True, slots=True)
class GapFiller:
    load: LoadFn
    calendar: TradingCalendar
    provider: Provider
    mode: ContextMode
    #: the cached security master (the Lab passes ``lab.reference.securities``: throttled, cached on disk);
    #: None falls back to asking the provider directly, uncached
    securities: Callable[[], pl.DataFrame] | None = None
    #: the security master as stored, however old, or None (``lab.reference.stored_securities``): the default
    #: reference uses only this, so filling a gap never triggers the master's costly refresh
    stored_securities: Callable[[], pl.DataFrame | None] | None = None

    # -- inputs ------------------------------------------------------------------------------------------
    def suspensions(self, symbol: str) -> list[tuple[date, date]]:
        finder = getattr(self.provider, "fetch_suspensions", None)
        if finder is None:  # the simulated provider knows its market's suspension schedule
            finder = getattr(getattr(self.provider, "market", None), "suspensions", None)
        if finder is None:
            return []
        try:
            return [(first, last) for first, last in finder(symbol)]
        except QuantdbError:
            return []

    def reference(
        self, symbol: Symbol, reference: ReferenceSpec, start: date | None, end: date | None
    ) -> tuple[list[pl.DataFrame], str]:
        """The reference frames (one loading each in the model) and a label saying what they are."""
        if reference is None:
            return self._default(symbol, start, end)
        if isinstance(reference, str | pl.DataFrame):
            reference = [reference]
        if not isinstance(reference, list | tuple) or not reference:
            raise InvalidRequestError("reference must be a frame, a symbol, 'sector', 'none', a list of those, or None")
        frames, labels = [], []
        for item in reference:
            if isinstance(item, pl.DataFrame):
                frame, label = item, "given frame"
            elif item == "none":
                frame, label = None, "none"
            elif item == "sector":
                frame, label = self._sector(symbol, start, end, self._master)
            elif isinstance(item, str):
                frame, label = self.load(parse_symbol(item), start, end, ""), item
            else:
                raise InvalidRequestError(f"reference items must be frames, symbols or 'sector', not {item!r}")
            frames += [frame] if frame is not None else []
            labels.append(label)
        return frames, " + ".join(labels)

    def _default(self, symbol: Symbol, start: date | None, end: date | None) -> tuple[list[pl.DataFrame], str]:
        """The security's board index, its sector and a small-cap index, each where it can be had: together
        they explain more of a stock's day than any one (the holdout benchmark measures it)."""
        if symbol.kind != "stock":
            return [], "none (not a stock)"
        index = "399006.SZ" if symbol.board == "chinext" else "000300.SH"
        frames, labels = [], []
        loaded = self._index(index, start, end)
        frames += [loaded] if loaded is not None else []
        labels.append(index if loaded is not None else f"no {index}")
        stored = self.stored_securities() if self.stored_securities is not None else None
        if stored is None:
            sector, label = None, "no sector (security master not cached: lab.reference.securities() fetches it)"
        else:
            sector, label = self._sector(symbol, start, end, lambda: stored)
        frames += [sector] if sector is not None else []
        labels.append(label)
        for small in SMALL_CAP_INDICES:
            loaded = self._index(small, start, end)
            if loaded is not None:
                frames.append(loaded)
                labels.append(small)
                break
        else:
            labels.append("no small-cap index")
        return frames, " + ".join(labels)

    def _index(self, index: str, start: date | None, end: date | None) -> pl.DataFrame | None:
        try:
            frame = self.load(parse_symbol(index), start, end, "")
        except QuantdbError:
            return None
        return frame if frame.height else None

    def _master(self) -> pl.DataFrame:
        return self.securities() if self.securities is not None else self.provider.fetch_securities()

    def _sector(
        self, symbol: Symbol, start: date | None, end: date | None, master_of: Callable[[], pl.DataFrame]
    ) -> tuple[pl.DataFrame | None, str]:
        try:
            master = master_of()
        except QuantdbError:
            return None, "no sector (security master unavailable)"
        industry = master.filter(pl.col("symbol") == symbol.canonical)["industry"]
        if industry.is_empty() or industry[0] is None:
            return None, "no sector (industry unknown)"
        members = sorted(s for s in master.filter(pl.col("industry") == industry[0])["symbol"].to_list()
                         if s != symbol.canonical and not s.endswith(".HK"))  # fmt: skip
        frames = []
        for member in members[:SECTOR_TRIES]:
            try:  # hfq: returns free of ex-date jumps, one upstream call per member
                frame = self.load(parse_symbol(member), start, end, "hfq").select("date", "open", "close")
            except QuantdbError:
                continue  # delisted, not yet listed or failing: the sector does without it
            if frame.height:
                frames.append(frame)
            if len(frames) == SECTOR_MEMBERS:
                break
        if len(frames) < MIN_SECTOR_MEMBERS:
            return None, f"no sector (fewer than {MIN_SECTOR_MEMBERS} members could be loaded)"
        return equal_weight(frames), f"sector {industry[0]} ({len(frames)} members, equal weight)"

    # -- synthesis ---------------------------------------------------------------------------------------
    def fill(
        self,
        frame: pl.DataFrame,
        *,
        reference: ReferenceSpec,
        config: SynthesisConfig,
        keep: tuple[date | None, date | None] = (None, None),
    ) -> tuple[pl.DataFrame, list[Synthesis]]:
        """Fill every symbol of ``frame``, then keep rows in ``keep`` (inclusive). A refused gap stays missing
        (a QualityWarning names it and its cause); the other gaps are filled."""
        parts = frame.partition_by("symbol", maintain_order=True) if "symbol" in frame.columns else [frame]
        out, results = [], []
        for part in parts:
            if part.is_empty():
                continue
            symbol = parse_symbol(part["symbol"][0]) if "symbol" in part.columns else None
            first, last = part["date"].min(), part["date"].max()
            sessions = self.calendar.sessions(first, last)
            suspensions = self.suspensions(symbol.canonical) if symbol else ()
            if not find_gaps(part["date"], sessions, suspensions=suspensions, fill_suspensions=config.fill_suspensions):
                refs, label = [], "none needed (no gaps)"  # references cost loads: only for series with gaps
            elif symbol is not None:
                refs, label = self.reference(symbol, reference, first, last)
            elif isinstance(reference, pl.DataFrame):
                refs, label = [reference], "given frame"
            elif isinstance(reference, str) and reference not in ("none", "sector"):
                refs, label = [self.load(parse_symbol(reference), first, last, "")], reference
            else:
                refs, label = [], "none (no symbol to find an index or sector for)"
            result = fill_gaps(part, sessions, reference=refs or None, config=config, suspensions=suspensions)
            notes = (f"reference: {label}",)
            reports = tuple(replace(r, notes=(*r.notes, *notes)) for r in result.reports)
            result = Synthesis(result.frame, reports, result.gaps)
            if result.refused:
                name = f"{symbol.canonical}: " if symbol else ""
                warnings.warn(QualityWarning(name + refusals_text(reports), report=reports), stacklevel=4)
            out.append(_between(result.frame, *keep))
            results.append(result)
        filled = pl.concat(out, how="vertical") if out else frame
        synthetic = int(filled["is_synthetic"].sum()) if "is_synthetic" in filled.columns else 0
        if synthetic:
            warnings.warn(f"{synthetic} synthetic row(s) (is_synthetic=True) fill missing sessions; they are "
                          "estimates, not market data", SyntheticDataWarning, stacklevel=4)  # fmt: skip
        return filled, results

    def padded(self, symbol: Symbol, start: date | None, end: date | None, adjust: str | None, context: int) -> pl.DataFrame:
        """The series with ``context`` sessions of margin on each side (clipped at as_of), through the cache."""
        pad = timedelta(days=math.ceil(context * 7 / 5) + 15)  # sessions to calendar days, holidays included
        lo = None if start is None else start - pad
        hi = None if end is None else end + pad
        if hi is not None and self.mode.as_of is not None:
            hi = min(hi, self.mode.as_of)  # never read past the point-in-time cutoff to fill a gap
        return self.load(symbol, lo, hi, adjust)

    def apply_policy(self, frame: pl.DataFrame, *, start: date | None, end: date | None,
                     adjust: str | None) -> tuple[pl.DataFrame, tuple[FillReport, ...]]:  # fmt: skip
        """``bars`` under the mode's ``gap_policy`` ("flag" or "synthesize"), and the per-gap reports of what was
        synthesized; real rows are left as they are."""
        if frame.is_empty() or self.mode.gap_policy == "keep":
            return frame, ()
        if self.mode.gap_policy == "flag":
            return pl.concat([self._flag(part) for part in frame.partition_by("symbol", maintain_order=True)]), ()
        config = SynthesisConfig(min_score=self.mode.synthesis_threshold, max_gap=self.mode.max_gap_sessions)
        parts = []
        for part in frame.partition_by("symbol", maintain_order=True):
            symbol = parse_symbol(part["symbol"][0])
            context = self.padded(symbol, start, end, adjust, config.context)
            lo, hi = part["date"].min(), part["date"].max()
            # Real rows are exactly those bars() returned; the padded load only adds context around them.
            parts.append(pl.concat([context.filter(~pl.col("date").is_between(lo, hi)), part]).sort("date"))
        filled, results = self.fill(pl.concat(parts), reference=None, config=config,
                                    keep=(frame["date"].min(), frame["date"].max()))  # fmt: skip
        return filled, tuple(r for result in results for r in result.reports)

    def _flag(self, part: pl.DataFrame) -> pl.DataFrame:
        symbol = part["symbol"][0]
        first, last = part["date"].min(), part["date"].max()
        gaps = find_gaps(part["date"], self.calendar.sessions(first, last), suspensions=self.suspensions(symbol))
        days = [d for gap in gaps for d in gap.sessions]
        real = part.with_columns(pl.lit(False).alias("is_gap"))
        if not days:
            return real
        empty = pl.DataFrame({"symbol": [symbol] * len(days), "date": days}, schema={"symbol": pl.String, "date": pl.Date})
        holes = empty.join(real.clear(), on=["symbol", "date"], how="left").with_columns(pl.lit(True).alias("is_gap"))
        return pl.concat([real, holes.select(real.columns)]).sort("date")


def equal_weight(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """An equal-weight index (base 1.0) from member bars: the close moves by the mean daily log return of the
    members that traded, the open by the mean overnight log move (open over the previous close) of those with
    an open, from the previous close (null where no member has one)."""
    parts = []
    for i, f in enumerate(frames):
        f = f.sort("date")
        night = (pl.col("open") / pl.col("close").shift(1)).log() if "open" in f.columns else pl.lit(None, pl.Float64)
        parts.append(f.select("date", pl.col("close").log().diff().alias(f"r{i}"),
                              pl.when(night.is_finite()).then(night).alias(f"n{i}")))  # fmt: skip
    joined = parts[0]
    for other in parts[1:]:
        joined = joined.join(other, on="date", how="full", coalesce=True)
    mean = joined.sort("date").select(
        "date", pl.mean_horizontal(pl.col("^r\\d+$")).fill_null(0.0).alias("r"), pl.mean_horizontal(pl.col("^n\\d+$")).alias("n")
    )
    close = pl.col("r").cum_sum().exp()
    return mean.select("date", (close.shift(1) * pl.col("n").exp()).alias("open"), close.alias("close"))


def _between(frame: pl.DataFrame, lo: date | None, hi: date | None) -> pl.DataFrame:
    if lo is not None:
        frame = frame.filter(pl.col("date") >= lo)
    if hi is not None:
        frame = frame.filter(pl.col("date") <= hi)
    return frame

