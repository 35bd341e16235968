"""Repairs: the catalog rebuilt from the files, and the files nothing references any more cleared away.

The catalog is a cache of what the files say: every series file carries its metadata in its footer. A damaged
catalog (SQLite says so on open or in use) is set aside and rebuilt from those footers, with one warning; each
file is decoded and checked against its footer before it is taken back. Rebuilt series are marked never
compacted, so their rows come from their own files until the next compaction rebuilds the segments: the
segments' consistency with the series is never assumed.

``clean_stale`` removes what crashes leave behind: temporary files, series files of older generations,
superseded segments, old lock files no process holds, and catalogs set aside long ago.
"""

from __future__ import annotations

import sqlite3
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import filelock

from quantdb_lab.errors import CacheRepairedWarning
from quantdb_lab.store.catalog import DIRTY_ALL, Catalog, Entry
from quantdb_lab.store.frame_files import TEMP_SUFFIX, FrameFileError, file_crc, read_footer, read_verified
from quantdb_lab.store.records import SeriesMeta

if TYPE_CHECKING:
    from quantdb_lab.store.series_store import SeriesStore

SET_ASIDE = "damaged"


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite's error means a damaged database (rebuild it), not a busy one (wait or report)."""
    text = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError):
        return any(word in text for word in ("malformed", "not a database", "no such table", "layout"))
    return True


def _series_files(frames: Path) -> dict[tuple[str, str], tuple[int, Path]]:
    """The newest file of each (dataset, symbol) under ``frames/`` (names are ``<symbol>.<generation>.parquet``)."""
    newest: dict[tuple[str, str], tuple[int, Path]] = {}
    for path in frames.glob("*/*.parquet"):
        symbol, _, rest = path.name[: -len(".parquet")].rpartition(".")
        if not symbol or not rest.isdigit():
            continue
        key, generation = (path.parent.name, symbol), int(rest)
        if key not in newest or generation > newest[key][0]:
            newest[key] = (generation, path)
    return newest


def rebuild_catalog(store: SeriesStore, *, reason: str) -> Catalog:
    """Set the damaged catalog aside and build a new one from the series files' footers; warns once."""
    from quantdb_lab.store.series_store import verify_series

    path = store.catalog_path
    marker = store.base / "locks" / "catalog-rebuilt"
    asked = time.time()
    with filelock.FileLock(str(store.base / "locks" / "catalog-rebuild.lock"), timeout=120):
        if marker.exists() and marker.stat().st_mtime >= asked:  # another kernel rebuilt it while this one waited
            return Catalog(path)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            if old.exists():
                old.rename(path.with_name(f"{path.stem}.{SET_ASIDE}-{stamp}{path.suffix}{suffix}"))
        catalog = Catalog(path)
        taken, refused, top = 0, 0, 0
        for (dataset, symbol), (generation, file) in sorted(_series_files(store.base / "frames").items()):
            top = max(top, generation)
            try:
                footer = read_footer(file)
                meta = SeriesMeta.from_json(footer["meta"])
                if footer.get("symbol") != symbol or footer.get("dataset") != dataset or meta.generation != generation:
                    raise FrameFileError("the footer does not name this series")
                crc = file_crc(file)
                frame = read_verified(file, crc)
                verify_series(frame, meta, dataset)
            except (FrameFileError, KeyError, TypeError, ValueError):
                refused += 1
                continue
            with catalog.transaction() as con:
                catalog.put(con, dataset, symbol, Entry(meta, file.name, frame.height, crc, file.stat().st_size, DIRTY_ALL))
            taken += 1
        with catalog.transaction() as con:
            con.execute("UPDATE info SET value=? WHERE key='generation'", (str(top),))
        marker.touch()
    warnings.warn(
        f"the cache catalog at {path} could not be used ({reason}); it was set aside and rebuilt from the files: "
        f"{taken} series recovered, {refused} unreadable (fetched again when asked for)",
        CacheRepairedWarning,
        stacklevel=4,
    )
    return catalog


def stale_files(store: SeriesStore, *, older_than: float = 600.0) -> list[Path]:
    """Files under the namespace that nothing references and no writer can still be using."""
    limit = time.time() - older_than
    referenced = {store.base / name for name in store.catalog.referenced_files()}
    out = []
    for path in store.base.rglob("*"):
        if not path.is_file():
            continue
        try:
            old = path.stat().st_mtime < limit
        except FileNotFoundError:
            continue
        name = path.name
        if name.endswith(TEMP_SUFFIX) and old:
            out.append(path)
        elif path.suffix == ".parquet" and path.parent.parent.name in ("frames", "segments") and old and path not in referenced:
            out.append(path)
        elif f".{SET_ASIDE}-" in name and path.stat().st_mtime < time.time() - 86400:
            out.append(path)
    return out


def clean_stale(store: SeriesStore, *, older_than: float = 600.0, lock_age: float = 3600.0) -> dict[str, int]:
    """Remove stale files and old free lock files; returns counts and bytes freed."""
    removed = freed = 0
    for path in stale_files(store, older_than=older_than):
        try:
            freed += path.stat().st_size
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
    locks = 0
    limit = time.time() - lock_age
    for path in (store.base / "locks").glob("*.lock"):
        try:
            if path.stat().st_mtime >= limit:
                continue
            lock = filelock.FileLock(str(path), timeout=0)
            with lock:  # nobody holds it now; an old lock file is only clutter
                path.unlink(missing_ok=True)
            locks += 1
        except (filelock.Timeout, OSError):
            continue
    return {"files": removed, "bytes": freed, "locks": locks}


def warn_repaired(what: str, *, stacklevel: int = 3) -> None:
    """One CacheRepairedWarning: what was found damaged and what was done about it."""
    warnings.warn(what, CacheRepairedWarning, stacklevel=stacklevel)
