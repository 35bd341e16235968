"""The latest snapshot on disk: an uncompressed Arrow IPC file written atomically, read memory-mapped.

Writers write a temporary file next to the target and ``os.replace`` it, so a reader (another kernel, the
dashboard) sees the old file or the new one, never half of one; a reader that has mapped the old file keeps a
valid mapping after the replace. Uncompressed, so it is read memory-mapped without a copy: polars 2 dropped ``read_ipc(memory_map=True)``, so
the file is mapped with ``pyarrow.memory_map`` and handed to polars zero-copy (``pl.from_arrow``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from pathlib import Path

import polars as pl
import pyarrow as pa

from quantdb_lab.errors import StoreError


def write_snapshot(path: Path, frame: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.write_ipc(temporary, compression="uncompressed")
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise StoreError(f"cannot write the quote snapshot {path.name}: {exc}", dataset="quotes") from exc


_SEEN: dict[str, tuple[tuple[int, int, int], pl.DataFrame]] = {}
_SEEN_LOCK = threading.Lock()


def read_snapshot(path: Path) -> pl.DataFrame | None:
    """The snapshot at ``path``, memory-mapped; None when there is none (or it is unreadable).

    The frame last read from a path is reused while the file's (inode, mtime, size) are unchanged: a replace by
    any writer changes the inode, so a poll that finds nothing new costs one ``stat``.
    """
    try:
        info = os.stat(path)
    except OSError:
        return None
    signature = (info.st_ino, info.st_mtime_ns, info.st_size)
    with _SEEN_LOCK:
        seen = _SEEN.get(str(path))
    if seen is not None and seen[0] == signature:
        return seen[1]
    try:
        with pa.memory_map(str(path), "r") as source:
            table = pa.ipc.open_file(source).read_all()
    except (FileNotFoundError, OSError, pa.ArrowInvalid):
        return None
    frame = pl.from_arrow(table)
    frame = frame if isinstance(frame, pl.DataFrame) else frame.to_frame()
    with _SEEN_LOCK:
        _SEEN[str(path)] = (signature, frame)
    return frame
