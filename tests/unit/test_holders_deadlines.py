"""domain.holders (who holds a permit, alive or not) and domain.deadlines (one budget through the layers)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest

from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.domain.deadlines import current_deadline, deadline, remaining
from quantdb_lab.domain.holders import Holder, current_holder, is_dead, this_host


def test_a_holder_reads_back_from_its_text():
    me = current_holder()
    assert Holder.parse(str(me)) == Holder(me.host, os.getpid(), pytest.approx(me.started, abs=0.01))
    assert me.describe().startswith(f"pid {os.getpid()} on host ")
    for junk in (None, 3, "", "x", "host/notapid/1.0", "/1/2", ["h", 1, 2]):
        assert Holder.parse(junk) is None


def test_only_a_gone_process_on_this_host_is_dead():
    me = current_holder()
    assert not is_dead(me)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert is_dead(Holder(this_host(), child.pid, me.started))  # exited (or its pid reused by a younger one)
    assert is_dead(Holder(me.host, os.getpid(), me.started - 3600))  # this pid, but an earlier process's
    assert not is_dead(Holder("another-machine", child.pid, 0.0))  # elsewhere: only the lease expiry decides
    assert not is_dead(None)


def test_deadlines_nest_to_the_tighter_and_close_with_their_scope():
    clock = FixedClock(datetime(2025, 1, 2, 10, 0))
    assert current_deadline() is None and remaining(7.0) == 7.0
    with deadline(10.0, clock=clock, what="outer") as outer:
        clock.advance(4.0)
        assert remaining(30.0) == pytest.approx(6.0)
        with deadline(60.0, clock=clock) as inner:  # cannot extend the outer budget
            assert inner is outer
        with deadline(1.0, clock=clock, what="inner") as inner:
            assert remaining(30.0) == pytest.approx(1.0) and inner.describe() == "the 1 s budget of inner"
        with deadline(None, clock=clock) as same:
            assert same is outer
        clock.advance(10.0)
        assert outer.expired and remaining(5.0) == 0.0
    assert current_deadline() is None


def test_a_scope_on_another_clock_keeps_the_tighter_outer_bound():
    real, fixed = FixedClock(datetime(2025, 1, 2, 10, 0)), FixedClock(datetime(2025, 1, 2, 10, 0))
    with deadline(4.0, clock=real, what="the user's"):
        with deadline(20.0, clock=fixed, what="a load") as inner:  # a FixedClock never moves by itself
            real.advance(3.0)
            assert remaining(60.0) == pytest.approx(1.0) and inner.describe() == "the 4 s budget of the user's"
