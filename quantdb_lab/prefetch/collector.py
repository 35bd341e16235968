"""The collector: capture every closed session of the datasets the user follows before the upstream drops it.

Generic over the registry (``domain.datasets``): it collects every dataset whose upstream forgets
(``Dataset.upstream_sessions`` set), whatever its fetch unit, per symbol or market-wide; a dataset joins by its
registry entry alone. What is followed comes from the usage log (``loader.tracking``: ``lab.read`` records each
dataset and symbol read), or from the caller (``datasets=``, ``symbols=``).

For each followed series it plans, with the one planner (``loader.read_plan``), the sessions from ``since``
(default: the first session the user read, or the upstream's oldest kept one) to the latest *closed* session:

* sessions already stored are **present** (never fetched again);
* sessions the upstream still keeps are **captured**, one planned fetch at a time, each written to the store
  before the next is made, under the series' lock and the shared rate limit (``Throttle.call``): a collection
  killed at any point loses nothing, and a second run fetches only what the first did not write;
* sessions older than the upstream keeps are **forgotten**: recorded once in the series' catalog entry
  (``SeriesMeta.lost``) as a gap that can never be filled, never asked for, said by reads and quality.

``before_call(host_family)`` (the background warmer's politeness: yield to the foreground, keep a token spare)
may return False to stop; ``max_calls`` bounds a pass. ``quantdb-lab collect`` runs one pass from cron after
the close; ``Warmer(lab, collect=True)`` runs one after each warming pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from quantdb_lab.domain.calendar import from_day_number
from quantdb_lab.domain.datasets import Dataset, dataset, datasets
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import InvalidRequestError, ProviderUnavailableError, QuantdbError
from quantdb_lab.lab import Lab
from quantdb_lab.prefetch.predict import latest_closed
from quantdb_lab.providers.fetchers import fetcher_for

REPORT_SCHEMA = {"dataset": pl.String(), "symbol": pl.String(), "captured": pl.Int64(), "present": pl.Int64(),
                 "forgotten": pl.Int64(), "calls": pl.Int64(), "error": pl.String()}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Target:
    """One series to collect: a dataset, a symbol (None: market-wide), from which session."""

    dataset: Dataset
    symbol: Symbol | None
    since: date | None = None


@dataclass
class CollectReport:
    rows: list[dict] = field(default_factory=list)  # one per target, REPORT_SCHEMA
    calls: int = 0
    stopped: bool = False  # ended early: max_calls, before_call said stop, or interrupted
    interrupted: bool = False  # by KeyboardInterrupt (Ctrl-C, a kill the process turned into one)
    session: date | None = None  # the latest closed session collected up to
    seconds: float = 0.0

    @property
    def captured(self) -> int:
        return sum(row["captured"] for row in self.rows)

    @property
    def present(self) -> int:
        return sum(row["present"] for row in self.rows)

    @property
    def forgotten(self) -> int:
        return sum(row["forgotten"] for row in self.rows)

    @property
    def failed(self) -> list[tuple[str, str, str]]:
        return [(row["dataset"], row["symbol"], row["error"]) for row in self.rows if row["error"]]

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema=REPORT_SCHEMA)

    def summary(self) -> str:
        text = (f"up to {self.session}: {self.captured} session(s) captured, {self.present} already present, "
                f"{self.forgotten} forgotten by the upstream, {self.calls} call(s) in {self.seconds:.1f} s")  # fmt: skip
        if self.failed:
            text += f"; {len(self.failed)} series failed"
        return text + ("; stopped early" if self.stopped else "")


def collectable() -> list[Dataset]:
    """Every registered dataset whose upstream forgets (what only a cache that captured it in time has)."""
    return [record for record in datasets().values() if record.forgets]


def followed(lab: Lab) -> list[Target]:
    """What the usage log says the user follows: each forgetful dataset read, per symbol read (market-wide
    ones once), from the first session read, but no earlier than the oldest session the upstream still kept the
    day it was first read (what came before could never have been captured: it is not a lost gap)."""
    log = lab.tracking.usage_frame(every_dataset=True)
    names = {record.name for record in collectable()}
    log = log.filter(pl.col("dataset").is_in(list(names)))
    if log.is_empty():
        return []
    firsts = log.group_by("dataset", "symbol").agg(pl.col("first").min(), pl.col("ts").min()).sort("dataset", "symbol")
    targets = []
    for name, symbol, first, ts in firsts.iter_rows():
        record = dataset(name)
        parsed = parse_symbol(symbol) if record.per_symbol else None
        since = date.fromisoformat(first) if first else None
        seen = lab.calendar.previous_session(date.fromisoformat(ts[:10]) + timedelta(days=1)) if ts else None
        if seen is not None:
            kept = _oldest_kept(lab, record, seen)
            since = kept if since is None else max(since, kept)
        targets.append(Target(record, parsed, since))
    return targets


def targets_for(names: Sequence[str] | None, symbols: Sequence[str] | None, since: date | None,
                lab: Lab) -> list[Target]:  # fmt: skip
    """The targets of explicit options: ``names`` (default: every forgetful dataset followed, else all) over
    ``symbols`` (default: the symbols followed per dataset); market-wide datasets ignore ``symbols``."""
    if names is None and symbols is None:
        found = followed(lab)
        return [Target(t.dataset, t.symbol, since or t.since) for t in found]
    records = [dataset(name) for name in names] if names else collectable()
    for record in records:
        if not record.forgets:
            raise InvalidRequestError(f"{record.name}: its upstream keeps all history; nothing to collect "
                                      "before it expires (read it with lab.read)", dataset=record.name)  # fmt: skip
    follows = followed(lab)
    targets: list[Target] = []
    for record in records:
        if not record.per_symbol:
            targets.append(Target(record, None, since))
            continue
        wanted = symbols or [str(t.symbol) for t in follows if t.dataset is record and t.symbol is not None]
        targets.extend(Target(record, parse_symbol(s), since) for s in dict.fromkeys(wanted))
    return targets


class Collector:
    def __init__(self, lab: Lab, targets: Iterable[Target] | None = None, *, max_calls: int | None = None,
                 before_call: Callable[[str], bool] | None = None, stop: threading.Event | None = None) -> None:  # fmt: skip
        self.lab = lab
        self.targets = list(targets) if targets is not None else followed(lab)
        self.max_calls = max_calls
        self.before_call = before_call
        self.stop = stop

    def run(self) -> CollectReport:
        started = time.monotonic()
        lab = self.lab
        report = CollectReport(session=latest_closed(lab.calendar, lab.clock.now()))
        try:
            for target in self.targets:
                if report.stopped:
                    break
                self._collect(target, report)
        except KeyboardInterrupt:  # what was written stays written: the next run starts from there
            report.stopped = report.interrupted = True
        report.seconds = time.monotonic() - started
        return report

    def _collect(self, target: Target, report: CollectReport) -> None:
        lab, record = self.lab, target.dataset
        loader = lab.dataset_loader
        row = {"dataset": record.name, "symbol": target.symbol.canonical if target.symbol else "market",
               "captured": 0, "present": 0, "forgotten": 0, "calls": 0, "error": None}  # fmt: skip
        report.rows.append(row)  # filled in as it goes: an interrupted series still reports what it captured
        last = report.session
        if last is None:
            return
        try:
            start = target.since or _oldest_kept(lab, record, last)
            if start > last:
                return
            plan = loader.plan(record, target.symbol, start, last, lab.mode)
            sessions = lab.calendar.session_days(plan.range.start, plan.range.end)
            row["present"] = present = _covered(lab, plan.key, sessions)
            row["forgotten"] = sum(len(lab.calendar.session_days(a, b)) for a, b in plan.forgotten)
            loader.lost.record(record, plan.key, plan.forgotten)
            family = fetcher_for(lab.provider, record.capability, dataset=record.name).host_family(target.symbol)
            try:
                for fetch in plan.fetches:
                    if (self.max_calls is not None and report.calls >= self.max_calls) or (
                            self.stop is not None and self.stop.is_set()):
                        report.stopped = True
                        break
                    if self.before_call is not None and not self.before_call(family):
                        report.stopped = True
                        break
                    calls = loader.capture(record, target.symbol, fetch)
                    report.calls += calls
                    row["calls"] += calls
            finally:  # counted from the store, whatever the fetch unit: sessions newly covered
                row["captured"] = _covered(lab, plan.key, sessions) - present
        except ProviderUnavailableError as exc:
            row["error"] = str(exc)
            if not exc.retryable:
                report.stopped = True
        except QuantdbError as exc:
            row["error"] = str(exc)


def _covered(lab: Lab, key, sessions) -> int:  # noqa: ANN001
    meta = lab.dataset_loader.store.read_meta(key)
    return int(meta.coverage.covered(sessions).sum()) if meta is not None and len(sessions) else 0


def _oldest_kept(lab: Lab, record: Dataset, last: date) -> date:
    """The oldest session the upstream still keeps (a target with no ``since`` collects what is left)."""
    keep = record.upstream_sessions or 1
    window = lab.calendar.session_days(date.fromordinal(last.toordinal() - 2 * keep - 30), last)
    return from_day_number(int(window[-keep]) if len(window) >= keep else int(window[0]))


def collect(lab: Lab, datasets: Sequence[str] | None = None, symbols: Sequence[str] | None = None, *,
            since: date | None = None, max_calls: int | None = None) -> CollectReport:  # fmt: skip
    """One collection pass in the calling thread (``lab.collect()``, ``quantdb-lab collect``)."""
    return Collector(lab, targets_for(datasets, symbols, since, lab), max_calls=max_calls).run()


__all__ = ["CollectReport", "Collector", "Target", "collect", "collectable", "followed", "targets_for"]
