"""Kernels that open a new cache at the same moment: every one gets the catalog, none a "database is locked"."""

from __future__ import annotations

import threading

from quantdb_lab.store.catalog import Catalog


def test_catalogs_opened_at_once_on_a_new_cache_all_open(tmp_path):
    # While one connection switches a new database to WAL, SQLite answers another's switch with "database is
    # locked" at once, without its busy handler: seen as a kernel crashing on its first Lab() beside another.
    failures: list[str] = []
    for round_ in range(80):
        path = tmp_path / f"round{round_}" / "catalog.sqlite"
        path.parent.mkdir()
        start = threading.Barrier(4)

        def open_catalog() -> None:
            start.wait()
            try:
                Catalog(path).check()
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                failures.append(f"round {round_}: {exc!r}")

        threads = [threading.Thread(target=open_catalog) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
