"""Small JSON state files shared by processes (the budget, the learned outcomes): read, and read-modify-write
under a file lock with an atomic replace. JSON only: nothing here is ever unpickled or evaluated."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import filelock

from quantdb_lab.errors import StoreError


def read_json(path: Path, version: int) -> dict[str, Any]:
    """The file's content, or ``{}`` when absent, unreadable or of another layout (never misread)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == version else {}


def update_json(path: Path, version: int, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Apply ``change`` to the current content under the file's lock and write the result atomically."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(path) + ".lock", timeout=30):
            data = {**change(read_json(path, version)), "version": version}
            fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, separators=(",", ":"), default=str)
            os.replace(tmp, path)
    except (OSError, filelock.Timeout) as exc:
        raise StoreError(f"cannot write {path.name}: {exc}") from exc
    return data
