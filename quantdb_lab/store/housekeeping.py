"""Clearing and sizing a store by walking its keys: the same for every backend (local, shared)."""

from __future__ import annotations

from typing import Any


def clear_series(store: Any, *, symbols: set[str] | None, dataset: str | None) -> int:
    """Drop every series of ``store`` matching the filters (all when none is given), each under its lock."""
    removed = 0
    for key in store.keys():
        if (symbols is None or key.symbol in symbols) and (dataset is None or key.dataset == dataset):
            with store.lock(key):
                store.drop(key)
            removed += 1
    return removed


def usage_by_dataset(store: Any) -> dict[str, dict[str, int]]:
    """Series, rows and bytes per dataset, from each series' metadata."""
    totals: dict[str, dict[str, int]] = {}
    for key in store.keys():
        meta = store.read_meta(key)
        if meta is None:
            continue
        entry = totals.setdefault(key.dataset, {"series": 0, "rows": 0, "bytes": 0})
        entry["series"] += 1
        entry["rows"] += meta.rows
        entry["bytes"] += meta.bytes
    return totals
