"""The one-time move of an older cache layout out of the way.

The v1 layout keyed series by dataset and symbol only: a simulated Lab and an akshare Lab on one directory
shared the same files, so a v1 cache may hold fake rows that would be served as real. Nothing in it says which
source wrote what, so it cannot be migrated truthfully: it is renamed to ``v1-set-aside`` (never read), with one
warning that says where it is and how to delete it (``quantdb-lab clear --legacy``).
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path

from quantdb_lab.errors import LegacyCacheWarning

CURRENT = "v2"
SET_ASIDE = "set-aside"


def _legacy_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [child for child in root.iterdir()
            if child.is_dir() and child.name.startswith("v") and child.name[1:].isdigit() and child.name != CURRENT]  # fmt: skip


def set_aside_legacy(root: Path) -> list[Path]:
    """Rename every older layout folder under ``root`` to ``<name>-set-aside``; returns the new paths."""
    moved = []
    for child in _legacy_dirs(root):
        target = root / f"{child.name}-{SET_ASIDE}"
        if target.exists():
            target = root / f"{child.name}-{SET_ASIDE}-{int(time.time())}"
        try:
            child.rename(target)
        except FileNotFoundError:
            continue  # another kernel moved it first (and warned)
        moved.append(target)
        warnings.warn(
            f"an older quantdb_lab cache ({child.name}, keyed without the data's source) was set aside at {target} "
            "and is not read: it could hold simulated rows that would pass as real. Data is fetched again as needed; "
            "delete it with `quantdb-lab clear --legacy`.",
            LegacyCacheWarning,
            stacklevel=4,
        )
    return moved


def remove_legacy(root: Path) -> list[str]:
    """Delete set-aside and older layout folders; returns their names."""
    removed = []
    for child in sorted(root.iterdir()) if root.is_dir() else []:
        old_layout = child in _legacy_dirs(root)
        if child.is_dir() and (old_layout or SET_ASIDE in child.name):
            shutil.rmtree(child)
            removed.append(child.name)
    return removed
