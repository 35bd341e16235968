"""Two processes (spawned, like two Jupyter kernels) sharing one state directory share one rate limit and
one circuit breaker. Real clock, bounded: each test takes a few seconds at most.

Children report through JSON files; the bounds are worked out here from the limit and the measured span.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from datetime import datetime
from pathlib import Path

from quantdb_lab.errors import ProviderUnavailableError
from quantdb_lab.throttle import BreakerPolicy, RateLimit, RetryPolicy, Throttle

RATE, BURST = 20.0, 2
FAMILY = "shared"
RUN_SECONDS = 1.5
BREAKER = BreakerPolicy(failure_threshold=1, cooldown=600.0)


def _throttle(state_dir: str) -> Throttle:
    return Throttle(
        Path(state_dir),
        limits={
            FAMILY: RateLimit(per_second=RATE, burst=BURST),
            "a": RateLimit(100.0, 10),
            "b": RateLimit(100.0, 10),
        },
        breaker=BREAKER,
        retry=RetryPolicy(max_attempts=1),
    )


def _pull(state_dir: str, out: str, ready, go) -> None:  # runs in a child process
    throttle = _throttle(state_dir)
    ready.set()
    go.wait(30)
    begin = time.time()
    grants = []
    while time.time() - begin < RUN_SECONDS:
        with throttle.acquire(FAMILY):
            grants.append(time.time())
    Path(out).write_text(json.dumps({"begin": begin, "end": time.time(), "grants": grants}))


def _refused_at(throttle: Throttle, family: str) -> str | None:
    try:
        throttle.call(family, lambda: None)
    except ProviderUnavailableError as exc:
        assert exc.retryable is False
        return exc.retry_at.isoformat() if exc.retry_at else "no retry_at"
    return None


def _unavailable() -> None:
    raise ProviderUnavailableError("upstream refused", retryable=True)


def _see_and_trip(state_dir: str, out: str) -> None:  # runs in a child process
    throttle = _throttle(state_dir)
    seen = _refused_at(throttle, "a")
    try:
        throttle.call("b", _unavailable)
    except ProviderUnavailableError:
        pass
    Path(out).write_text(json.dumps({"a_refused_until": seen}))


def test_two_processes_share_one_rate_limit(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready = [ctx.Event(), ctx.Event()]
    go = ctx.Event()
    outs = [tmp_path / f"child{i}.json" for i in range(2)]
    children = [
        ctx.Process(target=_pull, args=(str(tmp_path / "state"), str(out), flag, go))
        for out, flag in zip(outs, ready)
    ]
    for child in children:
        child.start()
    try:
        deadline = time.monotonic() + 30
        while not all(flag.is_set() for flag in ready):  # fail fast if a child died while starting
            assert all(child.exitcode in (None, 0) for child in children) and time.monotonic() < deadline
            time.sleep(0.01)
        go.set()
        for child in children:
            child.join(30)
            assert child.exitcode == 0
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
    reports = [json.loads(out.read_text()) for out in outs]
    grants = [t for report in reports for t in report["grants"]]
    span = max(r["end"] for r in reports) - min(r["begin"] for r in reports)
    # One shared bucket admits at most burst + rate * span in the span; two private buckets would admit about
    # twice that, which this bound rejects.
    bound = BURST + RATE * span
    assert len(grants) <= bound + 1e-6
    assert len(grants) >= 0.6 * BURST + 0.6 * RATE * RUN_SECONDS  # the limiter did not starve them
    assert all(len(report["grants"]) >= 3 for report in reports)  # both took part: jittered waits are fair


def test_processes_see_each_others_open_breaker(tmp_path):
    state_dir = str(tmp_path / "state")
    parent = _throttle(state_dir)
    try:
        parent.call("a", _unavailable)
    except ProviderUnavailableError:
        pass
    (a_row,) = [r for r in parent.status() if r["host_family"] == "a"]
    assert a_row["breaker"] == "open"

    out = tmp_path / "child.json"
    child = multiprocessing.get_context("spawn").Process(target=_see_and_trip, args=(state_dir, str(out)))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    report = json.loads(out.read_text())
    # The child was refused until exactly when the parent's breaker will half-open.
    assert datetime.fromisoformat(report["a_refused_until"]) == a_row["open_until"]
    # And the parent now fails fast on the breaker the child opened.
    before = time.time()
    retry_at = _refused_at(parent, "b")
    assert retry_at is not None
    assert before < datetime.fromisoformat(retry_at).timestamp() <= before + BREAKER.cooldown
