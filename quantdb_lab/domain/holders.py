"""Who holds a permit or a lease, and whether that process still exists.

A holder is written as ``host/pid/started`` where ``host`` names the machine and, on Linux, its process
namespace (two containers with one hostname do not share pids), ``pid`` the process and ``started`` its start
time (a pid reused after a crash belongs to another process). A holder on this host whose process is gone, or
whose pid now belongs to a younger process, is dead: what it holds can be taken at once instead of after its
lease runs out. A holder on another host is never judged dead here: only its lease's expiry frees it.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass
from typing import Final

import psutil

#: Start times agree to within this many seconds (psutil rounds; /proc counts clock ticks).
_START_TOLERANCE: Final = 1.0


@functools.cache
def this_host() -> str:
    name = socket.gethostname() or "localhost"
    try:  # "pid:[4026531836]": differs between containers that share a hostname
        namespace = os.readlink("/proc/self/ns/pid").partition("[")[2].rstrip("]")
    except OSError:
        namespace = ""
    return f"{name}#{namespace}" if namespace else name


@dataclass(frozen=True, slots=True)
class Holder:
    host: str
    pid: int
    started: float

    def __str__(self) -> str:
        return f"{self.host}/{self.pid}/{self.started:.2f}"

    def describe(self) -> str:
        """For messages: ``pid 1234 on host lab-7``."""
        return f"pid {self.pid} on host {self.host.partition('#')[0]}"

    @classmethod
    def parse(cls, text: object) -> Holder | None:
        """The holder written as ``str(holder)``, or None for anything else (an older or damaged record)."""
        if not isinstance(text, str):
            return None
        host, _, rest = text.rpartition("/")
        host, _, pid = host.rpartition("/")
        try:
            return cls(host, int(pid), float(rest)) if host else None
        except ValueError:
            return None


@functools.cache
def _me(pid: int) -> Holder:
    return Holder(this_host(), pid, psutil.Process(pid).create_time())


def current_holder() -> Holder:
    """This process (recomputed after a fork: the child is another holder)."""
    return _me(os.getpid())


def is_dead(holder: Holder | None) -> bool:
    """True when ``holder`` ran on this host and its process no longer exists (or its pid was reused)."""
    if holder is None or holder.host != this_host():
        return False
    if holder.pid == os.getpid():
        return abs(current_holder().started - holder.started) > _START_TOLERANCE
    try:
        started = psutil.Process(holder.pid).create_time()
    except psutil.NoSuchProcess:
        return True
    except (psutil.AccessDenied, OSError):
        return False  # it exists; we may not look at it
    if abs(started - holder.started) > _START_TOLERANCE:
        return True
    try:
        return psutil.Process(holder.pid).status() == psutil.STATUS_ZOMBIE  # killed, not yet reaped
    except psutil.Error:
        return True
