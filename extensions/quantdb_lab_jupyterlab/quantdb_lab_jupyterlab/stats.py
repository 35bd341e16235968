"""The JSON the panel shows: cache statistics from quantdb_lab's public API, and where the dashboards are.

Each dashboard's ``path`` is where the panel opens it from, relative to the server root (None until its copy is
made: ``copies.materialize`` on the first click, through ``POST /quantdb-lab/dashboards/<name>``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from quantdb_lab.ui import cache_report
from quantdb_lab.ui.dashboard_lab import dashboard_lab
from quantdb_lab.ui.dashboards import present
from quantdb_lab_jupyterlab.copies import location


@lru_cache(maxsize=1)
def _lab():
    # One Lab for the server: the on-disk numbers and the throttle are shared by every kernel on the cache.
    return dashboard_lab()


def panel_stats(root_dir: str | Path) -> dict[str, Any]:
    stats = _lab().stats()
    root = Path(root_dir)
    return {
        "summary": cache_report.summary(stats),
        "datasets": cache_report.dataset_rows(stats),
        "collection": cache_report.collection_rows(stats),
        "throttle": cache_report.throttle_rows(stats),
        "cache_dir": stats["cache_dir"],
        "dashboards": [
            {"name": d.name, "title": d.title, "description": d.description, "path": location(d, root)}
            for d in present()
        ],
    }
