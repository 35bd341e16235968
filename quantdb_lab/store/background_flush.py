"""One daemon thread per process that flushes buffered writers (the usage log, the warm ledger) every few
seconds and once more at interpreter exit.

Why a thread rather than a write per read: a warm read costs tens of microseconds, a locked append about a
millisecond. Writers buffer in memory and this thread pays for the I/O off the caller's path.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from typing import Final, Protocol

FLUSH_SECONDS: Final = 2.0


class Flushable(Protocol):
    def flush(self) -> None: ...


_writers: weakref.WeakSet = weakref.WeakSet()
_lock = threading.Lock()
_wake = threading.Event()
_started_in: int | None = None  # pid that owns the thread: a forked child must start its own


def register(writer: Flushable) -> None:
    """Flush ``writer`` periodically and at exit (held weakly: a dropped writer is simply forgotten)."""
    global _started_in
    with _lock:
        _writers.add(writer)
        if _started_in == os.getpid():
            return
        first = _started_in is None
        _started_in = os.getpid()
    if first:
        atexit.register(flush_all)
    threading.Thread(target=_run, name="quantdb-lab-flush", daemon=True).start()


def flush_all() -> None:
    for writer in list(_writers):
        try:
            writer.flush()
        except Exception:  # noqa: BLE001 - a failed flush keeps its lines buffered; it must not kill the thread
            pass


def _run() -> None:
    while True:
        _wake.wait(FLUSH_SECONDS)
        _wake.clear()
        flush_all()
