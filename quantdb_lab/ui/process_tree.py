"""A server's process tree on Linux (``/proc``): its processes, their memory and CPU time, and waiting until the
tree is idle. What the dashboards' browser tests and benchmark measure a Voila server and its kernels by."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_bytes(pids: Iterable[int]) -> int:
    """The resident memory of ``pids`` together (a process gone meanwhile counts 0)."""
    total = 0
    for pid in pids:
        try:
            total += next(int(line.split()[1]) * 1024 for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if line.startswith("VmRSS:"))  # fmt: skip
        except (OSError, StopIteration):
            pass
    return total


def cpu_seconds(pids: Iterable[int]) -> float:
    """User and system CPU time of ``pids`` together."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_idle(roots: Iterable[int], *, below: float = 0.05, window: float = 1.0, timeout: float = 60.0) -> bool:
    """Until the trees under ``roots`` use less than ``below`` CPU seconds over ``window`` seconds (a pool
    refilled, kernels gone); False if they are still busy after ``timeout``."""
    roots = list(roots)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for root in roots for p in descendants(root)]
        before = cpu_seconds(pids)
        time.sleep(window)
        if cpu_seconds(pids) - before < below:
            return True
    return False
