"""Throttle faults: kernels killed while holding a permit, a damaged state database, permits held by the living.

Holders are real processes (``kill -9`` of a child holding a permit), the state is the real SQLite file.
Bounds are the issue's: a dead holder frees its slot at once, not after the 300 s lease.
"""

from __future__ import annotations

import json
import random
import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path

import pytest

from quantdb_lab.domain.clock import SystemClock
from quantdb_lab.domain.deadlines import deadline
from quantdb_lab.domain.holders import current_holder
from quantdb_lab.errors import CacheRepairedWarning, ProviderUnavailableError, WaitWarning
from quantdb_lab.throttle import RateLimit, Throttle
from quantdb_lab.throttle.backends import DB_NAME

FAMILY = "eastmoney_push2his"  # one call in flight by default, a 300 s lease
REPO = Path(__file__).resolve().parents[2]

_HOLD = """
import sys, time
from datetime import datetime
from pathlib import Path
from quantdb_lab.throttle import Throttle
throttle = Throttle(Path(sys.argv[1]))
with throttle.acquire(sys.argv[2]):
    print("held", flush=True)
    time.sleep(600)
"""


def hold_permit(state_dir: Path, family: str = FAMILY) -> subprocess.Popen:
    """A child process (a kernel) that takes one permit and keeps it; returns once it holds it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-c", _HOLD, str(state_dir), family], stdout=subprocess.PIPE,
                             text=True, env=env, cwd=REPO)  # fmt: skip
    assert child.stdout.readline().strip() == "held"
    return child


def kill_hard(child: subprocess.Popen) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)


def test_a_kernel_killed_holding_a_permit_frees_it_at_once(tmp_path, fault):
    child = hold_permit(tmp_path)
    kill_hard(child)
    fault.inject()
    throttle = Throttle(tmp_path)
    with fault.wait("permit") as waited:
        with throttle.acquire(FAMILY, timeout=5.0):
            pass
    assert waited["seconds"] < 1.0
    assert throttle.status()[0]["in_flight"] == 0


def test_a_permit_whose_pid_was_reused_is_freed(tmp_path, fault):
    """A lease recorded for this host and pid 1 (alive, but started long before the time recorded)."""
    throttle = Throttle(tmp_path)
    me = current_holder()
    with throttle.acquire(FAMILY):
        pass
    with sqlite3.connect(tmp_path / DB_NAME) as conn:
        (text,) = conn.execute("SELECT state FROM family_state").fetchone()
        state = json.loads(text)
        state["leases"] = {"ghost": time.time() + 300}
        state["holders"] = {"ghost": f"{me.host}/1/{time.time() - 5:.2f}"}
        conn.execute("UPDATE family_state SET state = ?", (json.dumps(state),))
    fault.inject()
    with fault.wait("permit") as waited:
        with throttle.acquire(FAMILY, timeout=5.0):
            pass
    assert waited["seconds"] < 1.0


def test_a_permit_held_by_a_live_kernel_is_waited_for_with_a_warning_and_a_deadline(tmp_path, fault):
    child = hold_permit(tmp_path)
    try:
        throttle = Throttle(tmp_path)
        fault.inject()
        with fault.wait("permit") as waited, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with deadline(3.0, clock=SystemClock(), what="a test read"):
                with pytest.raises(ProviderUnavailableError) as error:
                    with throttle.acquire(FAMILY):
                        pass  # pragma: no cover
        assert 2.5 < waited["seconds"] < 4.0  # the total deadline, not the 300 s lease
        assert "3 s budget" in str(error.value) and FAMILY in str(error.value)
        notices = [str(w.message) for w in caught if issubclass(w.category, WaitWarning)]
        assert len(notices) == 1 and f"pid {child.pid}" in notices[0] and FAMILY in notices[0]
    finally:
        kill_hard(child)


def _garble(path: Path) -> None:
    path.write_bytes(b"this is not an SQLite database, it is garbage " * 200)


def test_a_damaged_state_database_is_rebuilt_with_a_warning(tmp_path, fault):
    tmp_path.mkdir(exist_ok=True)
    _garble(tmp_path / DB_NAME)
    fault.inject()
    with pytest.warns(CacheRepairedWarning, match="throttle"):
        throttle = Throttle(tmp_path)
    throttle.call(FAMILY, lambda: None)
    assert throttle.status()[0]["calls"] == 1


def test_a_state_database_damaged_while_open_is_rebuilt_with_a_warning(tmp_path, fault):
    throttle = Throttle(tmp_path, limits={FAMILY: RateLimit(per_second=100.0, burst=10, max_concurrency=1)})
    throttle.call(FAMILY, lambda: None)
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / (DB_NAME + suffix)).unlink(missing_ok=True)
    _garble(tmp_path / DB_NAME)
    fault.inject()
    with pytest.warns(CacheRepairedWarning, match="throttle"):
        assert throttle.call(FAMILY, lambda: 42) == 42
    other = Throttle(tmp_path)  # another kernel opening the rebuilt database shares its state
    assert other.status()[0]["calls"] == 1


def test_garbage_state_rows_start_afresh_without_an_error(tmp_path, fault):
    throttle = Throttle(tmp_path)
    throttle.call(FAMILY, lambda: None)
    garbage = ['{"version": 1, "leases": [1, 2]}', '{"version": 1, "tat": "soon"}', "[]", '{"version": 1, "holders": 3}']
    for text in garbage:
        with sqlite3.connect(tmp_path / DB_NAME) as conn:
            conn.execute("UPDATE family_state SET state = ?", (text,))
        fault.inject()
        with throttle.acquire(FAMILY, timeout=5.0):
            pass
        assert throttle.status()[0]["in_flight"] == 0


def test_retries_of_a_failing_upstream_stop_at_the_deadline(fault):
    """A flaky upstream and a generous retry policy: the call's budget, not the attempts, ends it."""
    from quantdb_lab.domain.clock import FixedClock
    from quantdb_lab.throttle import BreakerPolicy, RetryPolicy

    clock = FixedClock(datetime(2025, 3, 3, 10, 0))
    throttle = Throttle(clock=clock, retry=RetryPolicy(max_attempts=50, base_delay=2.0, max_delay=4.0),
                        breaker=BreakerPolicy(failure_threshold=100),
                        limits={FAMILY: RateLimit(per_second=100.0, burst=10)}, rng=random.Random(3))  # fmt: skip
    attempts = []

    def flaky() -> None:
        attempts.append(clock.monotonic())
        fault.inject()
        raise ProviderUnavailableError("reset by peer", retryable=True)

    with deadline(10.0, clock=clock, what="one read"), pytest.raises(ProviderUnavailableError) as error:
        throttle.call(FAMILY, flaky)
    assert clock.monotonic() <= 10.0 and 2 <= len(attempts) < 50
    assert any("10 s budget of one read" in note for note in error.value.__notes__)
