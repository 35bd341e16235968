"""The JSON the panel shows: cache statistics from quantdb_lab's public API, and where the dashboards are."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from quantdb_lab.ui import cache_report
from quantdb_lab.ui.dashboard_lab import dashboard_lab
from quantdb_lab.ui.dashboards import notebooks_dir, present


@lru_cache(maxsize=1)
def _lab():
    # One Lab for the server: the on-disk numbers and the throttle are shared by every kernel on the cache.
    return dashboard_lab()


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def panel_stats(root_dir: str | Path) -> dict[str, Any]:
    stats = _lab().stats()
    where = notebooks_dir()
    return {
        "summary": cache_report.summary(stats),
        "datasets": cache_report.dataset_rows(stats),
        "throttle": cache_report.throttle_rows(stats),
        "cache_dir": stats["cache_dir"],
        "dashboards": [
            {"name": d.name, "title": d.title, "description": d.description, "path": _relative(d.path(where), Path(root_dir))}
            for d in present(where)
        ],
    }
