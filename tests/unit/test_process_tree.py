"""The process-tree measurements the dashboards' browser tests and benchmark rely on (Linux /proc)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from quantdb_lab.ui.process_tree import cmdline, cpu_seconds, descendants, rss_bytes, wait_idle

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")


def test_a_tree_holds_its_children_their_memory_and_whether_they_are_busy():
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        tree = descendants(os.getpid())
        assert {os.getpid(), idle.pid, busy.pid} <= set(tree)
        assert "time.sleep(30)" in cmdline(idle.pid)
        assert rss_bytes([idle.pid]) > 1_000_000 and rss_bytes([idle.pid, busy.pid]) > rss_bytes([idle.pid])
        assert wait_idle([idle.pid], timeout=5) is True
        assert wait_idle([busy.pid], window=0.5, timeout=2) is False  # a spinning process never goes idle
        assert cpu_seconds([busy.pid]) > 0.1
    finally:
        for process in (idle, busy):
            process.kill()
            process.wait()
    assert rss_bytes([idle.pid]) == 0 and idle.pid not in descendants(os.getpid())
