"""The cache warmer: loads the predicted next requests ahead of time, politely.

* Value first, within a daily call budget (``prefetch.value``, ``prefetch.budget``): each prediction's score is
  updated by the outcomes of its rule (``prefetch.outcomes``, settled at the start of each pass), priced in
  calls, and warmed best value per call first while its expected value covers its cost and the day's budget
  (shared by every process on the cache directory) has room.
* Same limits as the foreground: every call goes through the Lab's throttle (rate limit, breaker, retries).
  On top, it asks at low priority: it calls only when the family's bucket keeps a token for a foreground
  request and a concurrency slot is free, and it never probes a breaker that is not closed.
* Yields at once: before each call it waits until no foreground load of this kernel has run for ``quiet``
  seconds. A foreground request that arrives mid-call waits for that one call at most.
* One warmer per cache directory (a file lock held for the warmer's life; a second one raises
  ``WarmerBusyError``), whether in this kernel, another one, or cron.
* Stops cleanly: ``stop()`` (and an atexit hook) lets the call in flight finish, then releases the lock.
* ``collect=True``: after each pass, the collector (``prefetch.collector``) captures the closed sessions of the
  followed forgetful datasets, with the same politeness (each call waits its turn) and the same call budget.
"""

from __future__ import annotations

import atexit
import json
import os
import tempfile
import threading
import time
import warnings
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import filelock
import polars as pl

from quantdb_lab.errors import ProviderUnavailableError, QuantdbError, SyntheticDataWarning, WarmerBusyError
from quantdb_lab.lab import Lab
from quantdb_lab.loader.plan import BarRequest
from quantdb_lab.loader.tracking import BARS_DATASET, TABLE_DATASET
from quantdb_lab.prefetch.budget import CallBudget
from quantdb_lab.prefetch.outcomes import Outcomes
from quantdb_lab.prefetch.collector import Collector
from quantdb_lab.prefetch.peers import peers_from_provider, peers_moment
from quantdb_lab.prefetch.predict import Peers, Prediction, latest_closed, predict
from quantdb_lab.prefetch.tables import table_predictions
from quantdb_lab.prefetch.value import Valued, choose

THRESHOLD: Final = 0.7
LOCK_NAME: Final = "warmer.lock"
STATE_NAME: Final = "warmer.json"
POLL: Final = 0.02  # seconds between checks while yielding: a foreground burst is met within this

_running: weakref.WeakSet = weakref.WeakSet()


@dataclass
class WarmReport:
    predictions: int = 0  # chosen: expected value above cost, within the budget
    warmed: int = 0  # series loads that fetched something (a universe counts each member)
    already_warm: int = 0
    calls: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    yielded: int = 0  # predictions that waited for the foreground or the rate limit first
    stopped: bool = False  # ended early: stop(), the call budget or a wait that ran out
    seconds: float = 0.0
    below_cost: int = 0  # predictions not worth their calls
    over_budget: int = 0  # worth it, but no room left in today's budget
    budget: int = 0  # the daily call budget
    spent_today: int = 0  # warming calls spent today, this pass included (all processes)
    collected: str | None = None  # with collect=True: the collector's summary (captured / present / forgotten)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".warmer.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, default=str)
    os.replace(tmp, path)


class Warmer:
    def __init__(
        self,
        lab: Lab,
        *,
        threshold: float = THRESHOLD,
        peers: Peers | None | str = "auto",
        max_calls: int | None = None,
        daily_calls: int | None = None,
        reserve: float = 1.0,
        quiet: float = 0.25,
        max_wait: float = 60.0,
        collect: bool = False,
    ) -> None:
        self.lab = lab
        self.collect = collect
        self.threshold = threshold
        self.max_calls = max_calls
        self.reserve = reserve  # tokens left in the bucket for foreground requests
        self.quiet = quiet
        self.max_wait = max_wait  # per prediction, waiting for the foreground or the limiter
        self._peers = peers
        directory = lab.tracking.ledger.directory
        directory.mkdir(parents=True, exist_ok=True)
        self._state_path = directory / STATE_NAME
        self.budget = CallBudget(directory, daily_calls)  # default: QUANTDB_LAB_WARM_BUDGET or 200 a day
        self.outcomes = Outcomes(directory)
        self._lock = filelock.FileLock(str(directory / LOCK_NAME), timeout=0, thread_local=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state: dict[str, Any] = {"phase": "idle", "current": None, "done": 0, "total": 0, "calls": 0}
        self.last_report: WarmReport | None = None
        self._pass_id = ""

    # -- public ------------------------------------------------------------------------------------------
    def predictions(self, log: pl.DataFrame | None = None) -> list[Prediction]:
        """Every prediction for now, above and below the threshold, from ``log`` (default: the usage log, every
        dataset: ``lab.tracking.usage_frame(every_dataset=True)``)."""
        now = self.lab.clock.now()
        peers = peers_from_provider(self.lab.provider, peers_moment(self.lab.mode, now)) if self._peers == "auto" else self._peers
        if log is None:  # read once: the daily-bar requests feed ``predict``, the reads of tables the table rule
            log = self.lab.tracking.usage_frame(every_dataset=True)
        bars = log.filter(pl.col("dataset") == BARS_DATASET) if "dataset" in log.columns else log
        return predict(bars, self.lab.calendar, now, peers=peers) + table_predictions(log, self.lab.calendar, now)

    def plan(self, log: pl.DataFrame | None = None) -> list[Valued]:
        """Every prediction valued and priced, in the order warming spends the budget, ``chosen`` or not."""
        lab = self.lab
        valued = []
        for prediction in self.predictions(log):
            parts = self._cold_parts(prediction)
            probability = self.outcomes.probability(prediction.kind, prediction.confidence)
            valued.append(Valued(prediction, probability, sum(n for _, n in parts), parts=tuple(parts)))
        first = next((target for v in valued for target, _ in v.parts if not isinstance(target, str)), None)
        family = lab.provider.host_family(first.symbol) if first is not None else None
        rate = lab.throttle.limit_for(family).per_second if family else None
        day = lab.clock.now().date()
        return choose(valued, threshold=self.threshold, remaining=self.budget.remaining(day),
                      per_day=self.budget.per_day, per_second=rate)  # fmt: skip

    def learn(self) -> dict[str, tuple[str, float]]:
        """Settle past predictions from the warm ledger into the per-rule outcomes; returns those settled now."""
        target = latest_closed(self.lab.calendar, self.lab.clock.now())
        if target is None:
            return {}
        return self.outcomes.update(self.lab.tracking.ledger.entries(), target)

    def _cold_parts(self, prediction: Prediction) -> list[tuple[BarRequest | str, int]]:
        """What warming ``prediction`` would still fetch, with its calls: the requests of its series that are not
        warm, or for a table (``prefetch.tables``) its stored name while it is stale (one refresh)."""
        lab = self.lab
        if prediction.dataset == TABLE_DATASET:
            return [] if lab.reference.is_fresh(prediction.symbol) else [(prediction.symbol, 1)]
        parts = []
        for symbol in prediction.symbols:
            try:
                request = lab.request(symbol, start=prediction.start, end=prediction.end, adjust=prediction.adjust)
                plan = lab.plan(request.symbol, start=request.start, end=request.end, adjust=request.adjust)
            except QuantdbError:
                continue
            if not plan.is_warm:
                parts.append((request, len(plan.fetches)))
        return parts

    def run_once(self, *, progress: bool = False) -> WarmReport:
        """One pass in the calling thread (``lab.warm()``, ``quantdb-lab warm``)."""
        self._acquire()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntheticDataWarning)  # once per pass is enough: said by bars()
                return self._pass(progress=progress)
        finally:
            self._release()

    def start(self, *, interval: float = 60.0) -> Warmer:
        """Warm in a daemon thread: a pass now, then after each new request or every ``interval`` seconds."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._acquire()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(interval,), name="quantdb-lab-warmer", daemon=True)
        _running.add(self)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the call in flight (if any) and release the cache directory."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        _running.discard(self)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> dict[str, Any]:
        report = asdict(self.last_report) if self.last_report else None
        return {**self._state, "running": self.running, "threshold": self.threshold, "last_report": report}

    # -- internals ---------------------------------------------------------------------------------------
    def _acquire(self) -> None:
        if self.running:  # the lock is re-entrant for its holder: refuse a second pass of this warmer here
            raise WarmerBusyError("this warmer is already running in the background")
        try:
            self._lock.acquire()
        except filelock.Timeout:
            holder = read_state(self.lab).get("pid")
            raise WarmerBusyError(
                f"another warmer (pid {holder}) is running on this cache directory; stop it first or let it finish"
            ) from None
        self._set(phase="starting", pid=os.getpid(), started_at=self.lab.clock.now().isoformat(timespec="seconds"))

    def _release(self) -> None:
        self._set(phase="stopped", current=None)
        self._lock.release(force=True)

    def _set(self, **changes: Any) -> None:
        self._state.update(changes, updated_at=self.lab.clock.now().isoformat(timespec="seconds"))
        try:
            _write_json(self._state_path, {**self._state, "pid": os.getpid()})
        except OSError:
            pass  # the state file is for dashboards only; warming goes on without it

    def _loop(self, interval: float) -> None:
        requested = self.lab.tracking.activity.requested
        try:
            while not self._stop.is_set():
                requested.clear()
                if not self._wait_quiet():
                    break
                try:
                    self._pass()
                except QuantdbError as exc:  # e.g. the usage log unreadable: try again next round
                    self._set(phase="error", error=str(exc))
                self._set(phase="idle", current=None)
                deadline = time.monotonic() + interval
                while not self._stop.is_set() and not requested.is_set() and time.monotonic() < deadline:
                    self._stop.wait(0.1)
        finally:
            self._release()

    def _pass(self, *, progress: bool = False) -> WarmReport:
        started = time.monotonic()
        report = WarmReport()
        self._pass_id = f"{os.getpid()}-{time.time_ns()}"
        self._set(phase="predicting")
        try:
            self.learn()
        except QuantdbError:
            pass  # the outcomes file is unwritable: score with what was learned so far
        plan = self.plan()
        chosen = [v for v in plan if v.chosen]
        report.predictions = len(chosen)
        report.below_cost = sum(v.why_not == "expected value below cost" for v in plan)
        report.over_budget = sum(v.why_not.startswith("needs ") or v.why_not.endswith("budget") for v in plan)
        report.budget = self.budget.per_day
        report.already_warm = sum(v.why_not == "already warm" and v.probability >= self.threshold for v in plan)
        self._set(phase="warming", done=0, total=len(chosen), calls=0)
        broken: set[str] = set()  # families whose breaker is not closed: no background probes
        bar = _progress(len(chosen)) if progress else None
        try:
            for done, prediction in enumerate(chosen):
                if report.stopped or self._stop.is_set() or (self.max_calls is not None and report.calls >= self.max_calls):
                    report.stopped = True
                    break
                self._set(current=prediction.prediction.symbol, done=done, calls=report.calls)
                self._warm_one(prediction, report, broken)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        if self.collect and not report.stopped and not self._stop.is_set():
            self._collect(report)
        try:
            self.lab.tracking.ledger.flush()  # let other kernels and dashboards see what was warmed
        except QuantdbError:
            pass  # kept in memory and retried by the background flush
        report.seconds = time.monotonic() - started
        report.spent_today = self.budget.spent(self.lab.clock.now().date())
        self.last_report = report
        self._set(done=report.predictions if not report.stopped else self._state["done"], calls=report.calls)
        return report

    def _collect(self, report: WarmReport) -> None:
        """The collector's pass, each call waiting its turn like a warming call, within what is left of the budget."""
        self._set(phase="collecting")
        budget = None if self.max_calls is None else max(self.max_calls - report.calls, 0)
        collected = Collector(self.lab, max_calls=budget, before_call=lambda family: self._wait_turn(family) is not None,
                              stop=self._stop).run()  # fmt: skip
        report.calls += collected.calls
        report.stopped = report.stopped or collected.stopped
        report.collected = collected.summary()

    def _warm_one(self, valued: Valued, report: WarmReport, broken: set[str]) -> None:
        """Fetch the parts of one prediction still cold, one call at a time, never past the day's budget. A part
        is a series' request, or a table's stored name (``prefetch.tables``)."""
        lab, prediction = self.lab, valued.prediction
        pred = f"{self._pass_id}-{prediction.kind}"  # one outcome per rule and pass: its loads rise and fall together
        calls = 0
        for target, estimate in valued.parts:
            table = isinstance(target, str)
            family = lab.reference.host_family(target) if table else lab.provider.host_family(target.symbol)
            if family in broken:
                continue
            day = lab.clock.now().date()
            capped = self.max_calls is not None and report.calls + calls + estimate > self.max_calls
            if capped or self.budget.remaining(day) < estimate:
                report.stopped = True
                break
            try:
                if self._is_warm(target):
                    report.already_warm += 1
                    continue
                if not self._take_turn(family, report):
                    break
                made = self._fetch(target, valued, pred)
                calls += made
                report.warmed += int(made > 0)
                self.budget.spend(day, made)
            except ProviderUnavailableError as exc:
                broken.add(family)
                report.failed.append((target if table else target.symbol.canonical, str(exc)))
            except QuantdbError as exc:  # the call may have reached the host: counted against the budget
                self.budget.spend(day, estimate)
                report.failed.append((target if table else target.symbol.canonical, str(exc)))
        report.calls += calls

    def _is_warm(self, target: BarRequest | str) -> bool:
        if isinstance(target, str):
            return self.lab.reference.is_fresh(target)
        return self.lab.plan(target.symbol, start=target.start, end=target.end, adjust=target.adjust).is_warm

    def _fetch(self, target: BarRequest | str, valued: Valued, pred: str) -> int:
        """Load one part in the background; the upstream calls it made."""
        prediction = valued.prediction
        if isinstance(target, str):
            if not self.lab.reference.refresh(target):
                return 0  # a foreground read refreshed it meanwhile
            self.lab.tracking.table_warmed(target, confidence=valued.probability, reason=prediction.reason,
                                           kind=prediction.kind, pred=pred)  # fmt: skip
            return 1
        _, origin = self.lab.load_in_background(target, confidence=valued.probability, reason=prediction.reason,
                                                kind=prediction.kind, pred=pred)  # fmt: skip
        return origin.upstream_calls

    def _take_turn(self, family: str, report: WarmReport) -> bool:
        """Wait for a warming call's turn (``_wait_turn``); False, and the pass stopped, if it never came."""
        waited = self._wait_turn(family)
        if waited is None:
            report.stopped = True
            return False
        report.yielded += int(waited)
        self._set(phase="warming")
        return True

    def _wait_quiet(self) -> bool:
        """Before predicting (CPU work that competes with the kernel), wait for a pause in foreground reads."""
        activity = self.lab.tracking.activity
        while activity.busy(self.quiet):
            if self._state.get("phase") != "yielding to a foreground request":
                self._set(phase="yielding to a foreground request")
            if self._stop.wait(POLL):
                return False
        return True

    def _wait_turn(self, family: str) -> bool | None:
        """Wait until no foreground load ran for ``quiet`` s and the limiter has a token to spare.

        True if it had to wait, False if not, None if stopped or ``max_wait`` ran out. Raises
        ProviderUnavailableError if the family's breaker is not closed.
        """
        activity = self.lab.tracking.activity
        deadline = time.monotonic() + self.max_wait
        waited = False
        while True:
            if self._stop.is_set() or time.monotonic() > deadline:
                return None
            if activity.busy(self.quiet):
                self._set(phase="yielding to a foreground request")
            elif not self._spare(family):
                self._set(phase="waiting for the rate limit")
            else:
                return waited
            waited = True
            self._stop.wait(POLL)

    def _spare(self, family: str) -> bool:
        throttle = self.lab.throttle
        limit = throttle.limit_for(family)
        row = next((r for r in throttle.status() if r["host_family"] == family), None)
        if row is None:
            return True
        if row["breaker"] != "closed":
            raise ProviderUnavailableError(f"breaker of {family!r} is {row['breaker']}: warming leaves probes to you")
        if limit.max_concurrency is not None and row["in_flight"] >= limit.max_concurrency:
            return False
        return row["tokens"] >= min(1.0 + self.reserve, float(limit.burst))


def _progress(total: int):
    from tqdm.auto import tqdm  # deferred: a notebook bar pulls in ipywidgets

    return tqdm(total=total, desc="warming the cache", unit="series")


def read_state(lab: Lab) -> dict[str, Any]:
    """The last state a warmer on this cache directory wrote (any process), with ``alive`` checked by pid."""
    path = lab.tracking.ledger.directory / STATE_NAME
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"phase": "never run", "alive": False}
    pid = state.get("pid")
    alive = False
    if isinstance(pid, int) and state.get("phase") != "stopped":
        try:
            os.kill(pid, 0)
            alive = True
        except OSError:
            alive = False
    return {**state, "alive": alive}


def warm(lab: Lab, *, threshold: float = THRESHOLD, progress: bool = True, max_calls: int | None = None,
         daily_calls: int | None = None) -> WarmReport:  # fmt: skip
    """Warm once, in the foreground, with a progress bar; raises ``WarmerBusyError`` if a warmer runs."""
    return Warmer(lab, threshold=threshold, max_calls=max_calls, daily_calls=daily_calls).run_once(progress=progress)


@atexit.register
def _stop_all() -> None:
    for warmer in list(_running):
        warmer.stop(timeout=2.0)
