"""Run a validated plan through the Lab: bars from (and into) the cache, measures, the answer's table.

One function per intent returns an ``Outcome``: the table shown to the user (``data``), the series a chart
needs (``series``) and the facts the insights are written from (``facts``). Bars of many symbols go through
``lab.portfolio`` (concurrent on a cold cache, with progress; failures reported, not raised).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import EmptyResultError, InvalidRequestError
from quantdb_lab.loader.factors import can_adjust
from quantdb_lab.query import cost, metrics
from quantdb_lab.query.cost import DEFAULT_MAX_CALLS
from quantdb_lab.query.plan import QueryPlan
from quantdb_lab.query.screens import VALUATION_FIELDS
from quantdb_lab.query.seasons import DESCRIPTION, earnings_seasons
from quantdb_lab.query.universe import Resolver
from quantdb_lab.query.vocabulary import vocabulary

BASELINE_SESSIONS = {"volume": metrics.VOLUME_BASELINE, "price": metrics.PRICE_BASELINE}


@dataclass
class Outcome:
    data: pl.DataFrame
    series: pl.DataFrame | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _series_notes(provenance: dict) -> list[str]:
    """What the series' provenance says (rows corrected at ingest, a provisional bar), each note once, prefixed
    by the series it is about."""
    about: dict[str, list[str]] = {}
    for symbol, origin in provenance.items():
        for note in origin.notes:
            about.setdefault(note, []).append(symbol)
    return [f"{_which(symbols, len(provenance))}: {note}" for note, symbols in about.items()]


def _which(symbols: list[str], total: int) -> str:
    if len(symbols) <= 5:
        return ", ".join(symbols)
    every = "all " if len(symbols) == total else ""
    return f"{every}{len(symbols)} series ({', '.join(symbols[:3])}, ...)"


class Executor:
    def __init__(self, lab, resolver: Resolver, *, progress: Any = False, max_calls: int | None = DEFAULT_MAX_CALLS) -> None:
        self.lab = lab
        self.resolver = resolver
        self.progress = progress
        self.max_calls = max_calls
        self.cost_notes: list[str] = []

    def run(self, plan: QueryPlan) -> Outcome:
        return getattr(self, f"_{plan.intent}")(plan)

    # -- loading -----------------------------------------------------------------------------------------
    def bars(self, symbols: list[str], start: date, end: date, adjust: str) -> tuple[pl.DataFrame, list[str]]:
        if not symbols:
            raise InvalidRequestError("no securities to load")
        if adjust and not all(can_adjust(self.lab.provider, parse_symbol(s)) for s in symbols):
            # a source without adjustment factors (a recorded set with neither reference prices nor dividend
            # tables) refuses qfq/hfq: answer on the prices as traded, and say so
            self.cost_notes.append(f"unadjusted prices: {self.lab.provider.name} has no adjustment factors here")
            adjust = ""
        note = cost.check(self.lab, symbols, start, end, adjust, self.max_calls)  # before anything is spent
        if note:
            self.cost_notes.append(note)
        result = self.lab.portfolio(symbols, start=start, end=end, adjust=adjust, progress=self.progress)
        self.cost_notes += [n for n in (*result.notes, *_series_notes(result.provenance)) if n not in self.cost_notes]
        failed = [s for s in result.failed if s in symbols]
        frame = result.frame
        if frame.is_empty():
            raise EmptyResultError("no bars for any of the securities in the period", start=start, end=end)
        return frame, failed

    def _named(self, frame: pl.DataFrame) -> pl.DataFrame:
        names = [self.resolver.name_of(s) for s in frame["symbol"].to_list()]
        return frame.with_columns(pl.Series("name", names, dtype=pl.String))

    def benchmark(self, plan: QueryPlan) -> pl.DataFrame | None:
        """The benchmark's daily returns (``date``, ``bench``) for a beta, else None."""
        if plan.metric != "beta":
            return None
        frame, _ = self.bars([plan.benchmark or "000300.SH"], plan.first, plan.last, "")
        return metrics.daily_returns(frame, "bench")

    def _failed_note(self, failed: list[str]) -> list[str]:
        if not failed:
            return []
        shown = ", ".join(failed[:8]) + (" ..." if len(failed) > 8 else "")
        return [f"{len(failed)} securities had no bars or failed to load and were left out: {shown}"]

    # -- intents -----------------------------------------------------------------------------------------
    def _rank(self, plan: QueryPlan) -> Outcome:
        universe = self.resolver.universe(plan)
        frame, failed = self.bars(universe.symbols, plan.first, plan.last, plan.adjust)
        table = metrics.period_metric(frame, plan.metric, self.benchmark(plan))
        if plan.threshold is not None:  # "up more than 20%": the members whose period return passes it
            bound = plan.threshold / 100.0
            table = table.filter(pl.col("value") >= bound if plan.order == "desc" else pl.col("value") <= -bound)
        top = self._named(metrics.ranked(table, descending=plan.order == "desc", n=plan.n or 500))
        usable = table.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
        facts = {"universe": universe.label, "members": len(universe.symbols), "ranked": usable.height,
                 "median": usable["value"].median() if usable.height else None,
                 "rising": int((usable["return"] > 0).sum()) if usable.height else 0}  # fmt: skip
        data = top.select("rank", "symbol", "name", "value", "return", "bars", "first_date", "last_date")
        return Outcome(data, series=None, facts=facts, notes=universe.notes + self._failed_note(failed))

    def _measure(self, plan: QueryPlan) -> Outcome:
        return self._compare(plan)

    def _compare(self, plan: QueryPlan) -> Outcome:
        symbols = list(plan.symbols)
        frame, failed = self.bars(symbols, plan.first, plan.last, plan.adjust)
        notes = self._failed_note(failed)
        bench = self.benchmark(plan)
        if plan.window == "earnings_seasons":
            seasons = earnings_seasons(plan.first, plan.last)
            if not seasons:
                raise InvalidRequestError(f"no earnings season between {plan.start} and {plan.end} ({DESCRIPTION})")
            parts = [metrics.window_metric(frame, plan.metric, [(s.start, s.end)], bench).with_columns(
                pl.lit(s.label).alias("window")) for s in seasons]  # fmt: skip
            spans = [(s.start, s.end) for s in seasons]
            parts.append(metrics.window_metric(frame, plan.metric, spans, bench).with_columns(
                pl.lit("all seasons").alias("window")))  # fmt: skip
            table = pl.concat([p for p in parts if p.height])
            notes.append(f"earnings seasons are the {DESCRIPTION}; each company's own report dates are not used")
        else:
            table = metrics.window_metric(frame, plan.metric, [(plan.first, plan.last)], bench).with_columns(
                pl.lit(plan.period or "period").alias("window"))  # fmt: skip
        position = {symbol: i for i, symbol in enumerate(symbols)}  # rows in the order the question named them
        windows = {w: i for i, w in enumerate(table["window"].unique(maintain_order=True).to_list())}
        table = table.sort(pl.col("window").replace_strict(windows),
                           pl.col("symbol").replace_strict(position, default=len(symbols)))
        table = self._named(table).select("window", "symbol", "name", "value", "return", "bars", "first_date",
                                          "last_date")  # fmt: skip
        series = frame.sort("symbol", "date").with_columns(
            (pl.col("close") / pl.col("close").first().over("symbol")).alias("normalised")
        ).select("symbol", "date", "close", "normalised")
        return Outcome(table, series=series, facts={"order": symbols}, notes=notes)

    def _spikes(self, plan: QueryPlan) -> Outcome:
        universe = self.resolver.universe(plan)
        baseline = BASELINE_SESSIONS[plan.metric]
        # twice the baseline in sessions: a stock suspended for a while still has its prior bars to compare with
        earlier = self.lab.calendar.sessions(plan.first - timedelta(days=5 * baseline), plan.first)
        lead = earlier[-2 * baseline - 1] if len(earlier) > 2 * baseline else plan.first - timedelta(days=4 * baseline)
        frame, failed = self.bars(universe.symbols, lead, plan.last, plan.adjust)
        threshold = plan.threshold or 3.0
        if plan.metric == "volume":
            found = metrics.volume_spikes(frame, start=plan.first, end=plan.last, threshold=threshold)
            if plan.direction != "any":
                found = found.filter(pl.col("daily_return") > 0 if plan.direction == "up" else pl.col("daily_return") < 0)
        elif plan.threshold_unit == "pct":
            found = metrics.percent_moves(frame, start=plan.first, end=plan.last, threshold=threshold,
                                          direction=plan.direction)  # fmt: skip
        else:
            found = metrics.price_moves(frame, start=plan.first, end=plan.last, threshold=threshold,
                                        direction=plan.direction)  # fmt: skip
        if plan.n:
            found = found.head(plan.n)
        data = self._named(found)
        columns = ["symbol", "name", "date", *[c for c in data.columns if c not in ("symbol", "name", "date")]]
        facts = {"universe": universe.label, "members": len(universe.symbols),
                 "days": frame.filter(pl.col("date").is_between(plan.first, plan.last))["date"].n_unique()}  # fmt: skip
        return Outcome(data.select(columns), series=None, facts=facts, notes=universe.notes + self._failed_note(failed))

    def _series(self, kind: str, key: str, plan: QueryPlan, name: str) -> tuple[pl.DataFrame, str, list[str]]:
        """One correlation series as daily returns (``date``, ``name``), its label and notes."""
        if kind == "commodity":
            frame = self.lab.reference.commodity_daily(key, start=plan.first, end=plan.last)
            if frame.is_empty():
                raise EmptyResultError(f"no data for {key}", start=plan.first, end=plan.last)
            return metrics.daily_returns(frame, name), vocabulary().commodities.get(key, {}).get("name", key), []
        if kind == "sector":
            universe = self.resolver.universe(QueryPlan(**{**plan.to_dict(), "symbols": (), "universe": "sector",
                                                           "sector": key, "sector2": None, "commodity2": None,
                                                           "intent": "rank", "n": 1}))  # fmt: skip
            frame, failed = self.bars(universe.symbols, plan.first, plan.last, plan.adjust)
            label = f"{universe.label}, {len(universe.symbols)} stocks equal-weighted"
            return metrics.equal_weight_returns(frame, name), label, universe.notes + self._failed_note(failed)
        adjust = "" if parse_symbol(key).kind == "index" else plan.adjust
        frame, _ = self.bars([key], plan.first, plan.last, adjust)
        return metrics.daily_returns(frame, name), f"{self.resolver.name_of(key)} ({key})", []

    def _correlation(self, plan: QueryPlan) -> Outcome:
        kinds = [("commodity", plan.commodity), ("commodity", plan.commodity2), ("index", plan.index),
                 ("sector", plan.sector), ("sector", plan.sector2), *[("symbol", s) for s in plan.symbols]]
        (lk, lkey), (rk, rkey) = [(k, v) for k, v in kinds if v]
        left, left_label, notes = self._series(lk, lkey, plan, "left")
        right, right_label, more = self._series(rk, rkey, plan, "right")
        notes += more
        joined, corr, beta = metrics.correlation(left, right, "left", "right")
        if corr is None:
            raise EmptyResultError("fewer than 20 common trading days: not enough for a correlation",
                                   start=plan.first, end=plan.last)  # fmt: skip
        data = joined.select("date", pl.col("left").alias("left_return"), pl.col("right").alias("right_return"),
                             "rolling_corr")  # fmt: skip
        facts = {"left": left_label, "right": right_label, "corr": corr, "beta": beta, "days": joined.height,
                 "left_total": float((1 + joined["left"]).product() - 1),
                 "right_total": float((1 + joined["right"]).product() - 1)}  # fmt: skip
        return Outcome(data, series=joined, facts=facts, notes=notes)

    def _show(self, plan: QueryPlan) -> Outcome:
        parts, notes = [], []
        if plan.symbols:
            frame, failed = self.bars(list(plan.symbols), plan.first, plan.last, plan.adjust)
            parts.append(frame.select("symbol", "date", "open", "high", "low", "close", "volume", "turnover"))
            notes += self._failed_note(failed)
        if plan.commodity:
            bars = self.lab.reference.commodity_daily(plan.commodity, start=plan.first, end=plan.last)
            if bars.is_empty():
                raise EmptyResultError(f"no data for {plan.commodity}", start=plan.first, end=plan.last)
            parts.append(bars.select("symbol", "date", "open", "high", "low", "close", "volume",
                                     pl.lit(None, pl.Float64).alias("turnover")))  # fmt: skip
        frame = pl.concat(parts).sort("symbol", "date")
        frame = frame.with_columns((pl.col("close") / pl.col("close").first().over("symbol")).alias("normalised"))
        summary = self._named(metrics.period_metric(frame, "volatility"))
        facts = {"summary": summary, "order": [*plan.symbols, *([plan.commodity] if plan.commodity else [])]}
        return Outcome(frame, series=frame, facts=facts, notes=notes)

    def _screen(self, plan: QueryPlan) -> Outcome:
        """Valuation at the period's last session (``lab.valuation``); fundamentals of the latest report period
        ending by the period's end, as announced by the Lab's as_of (``lab.fundamentals``); then filter, rank."""
        universe = self.resolver.universe(plan)
        cutoff = self.lab.mode.as_of
        end = min(plan.last, cutoff) if cutoff is not None else plan.last
        rules = [(f, op, float(v)) for f, op, v in (_rule(r) for r in plan.filters)]
        wanted = list(dict.fromkeys([f for f, _, _ in rules] + ([plan.by] if plan.by else [])))
        table = pl.DataFrame({"symbol": universe.symbols}, schema={"symbol": pl.String})
        notes = list(universe.notes)
        if end < plan.last:
            notes.append(f"a backtesting Lab: screened as of its cutoff {end}, with only what was known by then")
        valued = [f for f in wanted if f in VALUATION_FIELDS]
        if not universe.symbols:
            raise EmptyResultError(f"no stocks in {universe.label}", start=plan.first, end=plan.last)
        if valued:
            first = end - timedelta(days=14)
            note = cost.check(self.lab, universe.symbols, first, end, "", self.max_calls)  # before anything is spent
            if note:
                self.cost_notes.append(note)
            frame = self.lab.valuation(universe.symbols, start=first, end=end)
            last = frame.sort("symbol", "date").group_by("symbol", maintain_order=True).last()
            table = table.join(last.select("symbol", pl.col("date").alias("valued_on"), *valued), on="symbol", how="left")
            notes.append(f"valuation (PE and PS trailing twelve months, market cap in CNY) at the last session on or "
                         f"before {end}, from raw closes and the reports announced by then")  # fmt: skip
        reported = [f for f in wanted if f not in VALUATION_FIELDS]
        if reported:
            known = self.lab.fundamentals(universe.symbols, reported, history=True)
            latest = known.filter(pl.col("report_period") <= end).sort("symbol", "report_period")
            latest = latest.group_by("symbol", maintain_order=True).last()
            table = table.join(latest.select("symbol", "report_period", *reported), on="symbol", how="left")
            known_on = cutoff or "today"
            notes.append(f"{', '.join(reported)}: each stock's latest report period ending by {end}, as announced "
                         f"by {known_on} (year-to-date figures, not annualised)")  # fmt: skip
        for name, op, value in rules:
            table = table.filter(pl.col(name) < value if op == "<" else pl.col(name) > value)
        key = plan.by or rules[0][0]  # a filter alone: its field, the most passing first
        descending = plan.order == "desc" if plan.by else rules[0][1] == ">"
        table = table.filter(pl.col(key).is_not_null() & pl.col(key).is_not_nan()).sort(key, descending=descending)
        passed = table.height
        if plan.n:
            table = table.head(plan.n)
        table = self._named(table.with_columns(pl.col(key).alias("value"))).with_row_index("rank", offset=1)
        table = table.select("rank", "symbol", "name", "value", *[c for c in table.columns
                                                               if c not in ("rank", "symbol", "name", "value")])
        facts = {"universe": universe.label, "members": len(universe.symbols), "passed": passed, "field": key,
                 "as_of": end, "descending": descending}  # fmt: skip
        return Outcome(table, series=None, facts=facts, notes=notes)


def _rule(text: str) -> tuple[str, str, str]:
    op = "<" if "<" in text else ">"
    field_name, value = text.split(op)
    return field_name, op, value
