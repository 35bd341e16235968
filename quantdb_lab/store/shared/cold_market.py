"""A new member's cold whole-market read, from the team store's published cross-section (``shared.publish``).

Pulling series one by one costs two GETs each (head, data file): 5,000 symbols are ~10,000 requests. The
manifest's few large files hold the same rows, so when a read finds many series missing locally
(``MANIFEST_READ_MIN``, the loader's cross-section threshold) this module makes instead::

    GET manifest.json, GET metas.<crc>.json, LIST heads/<dataset>/ (1 per 1,000 series), GET each segment file

and installs the rows as warm local series. What keeps it from ever serving a wrong frame:

* **Delta is the truth, the manifest a hint.** The metas file records, per series, the Delta generation its
  rows are and the ETag of the head that named it. A series is installed only when the listed head still has
  that ETag (heads only move forward, so the same ETag is the same generation); a series committed after the
  publish has another ETag and is pulled on its own, at its newer generation. The generation is recorded as
  synced, so the loader's locked path (``LayeredStore._sync``, which reads the Delta log) merges anything
  newer exactly as after a per-series pull.
* **Every byte verified.** Each file's CRC-32 against the manifest, the metas file's against the manifest,
  then each series' rows against its recorded row count, first and last day and strictly increasing dates
  (``verify_series``). A missing or damaged file: a ``CacheRepairedWarning`` and per-series pulls for all.
* **Atomic installs, many kernels.** Each series is taken under the local store's per-series lock (skipped if
  another kernel holds it: that kernel is filling it); the files are written under new generation names and
  made visible in one catalog transaction (``SeriesStore.install``), so a process killed mid-install leaves
  unreferenced files only; a series another kernel stored meanwhile is left as it stored it.

How the rows are installed, and why: as **per-series files plus catalog entries**, split from the segment
frames, not by adopting the segment files as local segments. The local store's invariant is that a series' own
file is its truth and segments a copy (single-series reads, repairs, the catalog rebuild from footers all read
the series file), so per-series files are needed anyway; and the published segments carry the publisher's
series numbers (``__sid``) and may hold series this member may not install (changed since, or already local),
so adopting them would mean rewriting them, which is a compaction. The cost of the split is the local writes
the per-series pulls make too (measured in benchmarks/bench_shared_store.py: the requests, not the writes,
dominate); the series are installed out of date in the segments (``DIRTY_ALL``), so a later load that wrote
many series, or ``lab.compact()``, builds this member's own segments from them.
"""

from __future__ import annotations

import io
import json
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import TYPE_CHECKING

import polars as pl

from quantdb_lab.errors import CacheRepairedWarning, StoreError
from quantdb_lab.store.checksum import crc32
from quantdb_lab.store.records import SeriesKey, SeriesMeta
from quantdb_lab.store.segments import SID
from quantdb_lab.store.shared.publish import manifest_key

if TYPE_CHECKING:
    from quantdb_lab.store.layered import LayeredStore

#: at least this many series missing locally are read through the manifest (the loader's MARKET_READ_MIN)
MANIFEST_READ_MIN = 32
_LOCKS_AT_ONCE = 256  # per-series locks held at a time while installing (file descriptors)


def _damaged(dataset: str, what: str) -> None:
    warnings.warn(f"{dataset}: the published cross-section cannot be used ({what}); the series are pulled one "
                  "by one", CacheRepairedWarning, stacklevel=5)  # fmt: skip


def install_published(layered: LayeredStore, keys: list[SeriesKey]) -> set[SeriesKey]:
    """Install what the published cross-section holds of ``keys`` (series the local layer lacks) into the
    local layer; returns the keys installed (the others are left to per-series pulls)."""
    by_dataset: dict[str, list[str]] = {}
    for key in keys:
        by_dataset.setdefault(key.dataset, []).append(key.symbol)
    installed: set[SeriesKey] = set()
    for dataset, symbols in by_dataset.items():
        if len(symbols) >= MANIFEST_READ_MIN:
            installed |= {SeriesKey(dataset, s) for s in _install_dataset(layered, dataset, symbols)}
    return installed


def _install_dataset(layered: LayeredStore, dataset: str, symbols: list[str]) -> list[str]:
    shared = layered.shared
    got = shared.objects.get_bytes(manifest_key(shared, dataset))
    if got is None:
        return []
    try:
        manifest = json.loads(got[0])
        ref = manifest.get("metas")
    except (ValueError, AttributeError):
        _damaged(dataset, "the manifest is not JSON")
        return []
    if not ref or manifest.get("source") != shared.source:
        return []  # published before metas were: nothing to install from
    body = shared.objects.get_bytes(shared.config.key(shared.namespace, ref["file"]))
    if body is None or crc32(body[0]) != ref["crc"]:
        _damaged(dataset, f"{ref['file']} is {'missing' if body is None else 'damaged'}")
        return []
    etags = shared.head_etags(dataset)
    try:
        metas = json.loads(body[0])
        fresh = {s: metas["series"][s] for s in symbols
                 if s in metas["series"] and etags.get(s) == metas["series"][s]["etag"]}  # fmt: skip
        needed = [seg for seg in manifest["segments"] if any(seg["file"] in info["rows"] for info in fresh.values())]
    except (ValueError, KeyError, TypeError) as exc:
        _damaged(dataset, f"{ref['file']} is not a metas file of this layout ({type(exc).__name__})")
        return []
    if 2 * len(fresh) <= len(needed):
        return []  # mostly changed since: per-series pulls cost fewer requests than the files

    def fetch(seg: dict) -> bytes | None:
        got = shared.objects.get_bytes(shared.config.key(shared.namespace, seg["file"]))
        return got[0] if got is not None and crc32(got[0]) == seg["crc"] else None

    with ThreadPoolExecutor(max_workers=min(8, len(needed) or 1), thread_name_prefix="quantdb-segments") as pool:
        blobs = list(pool.map(fetch, needed))
    bad = [seg["file"] for seg, blob in zip(needed, blobs) if blob is None]
    if bad:
        _damaged(dataset, f"{', '.join(bad)} missing or failing its CRC-32")
        return []
    try:
        wanted = pl.Series("symbol", list(fresh), pl.String)
        frames = [pl.read_parquet(io.BytesIO(blob)).filter(pl.col("symbol").is_in(wanted.implode())) for blob in blobs]
    except Exception as exc:  # noqa: BLE001 - an undecodable file passed its CRC: the publisher wrote it so
        _damaged(dataset, f"a segment is undecodable ({type(exc).__name__})")
        return []
    frame = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    parts = frame.drop(SID, strict=False).partition_by("symbol", as_dict=True, maintain_order=True)
    items = []
    for symbol, info in fresh.items():
        part = parts.get((symbol,))
        columns = metas["schemas"][info["schema"]]
        if part is None or part.height != sum(info["rows"].values()) or not set(columns) <= set(part.columns):
            continue
        try:
            meta = SeriesMeta.from_json(info["meta"])
        except (ValueError, KeyError, TypeError):
            continue  # pulled on its own
        items.append((symbol, part.select(columns), meta, int(info["generation"])))
    return _install(layered, dataset, items)


def _install(layered: LayeredStore, dataset: str, items: list[tuple[str, pl.DataFrame, SeriesMeta, int]]) -> list[str]:
    from quantdb_lab.store.frame_files import FrameFileError
    from quantdb_lab.store.series_store import verify_series

    local, done = layered.local, []
    for start in range(0, len(items), _LOCKS_AT_ONCE):
        chunk, ready = items[start : start + _LOCKS_AT_ONCE], []
        with ExitStack() as stack:
            for symbol, frame, meta, generation in chunk:
                key = SeriesKey(dataset, symbol)
                try:
                    stack.enter_context(local.lock(key, timeout=0))
                except StoreError:
                    continue  # another kernel here is filling it
                try:
                    verify_series(frame, meta, dataset)
                except FrameFileError:
                    continue  # not the rows the metas describe: pulled on its own
                ready.append((symbol, frame, meta, generation))
            present = local.read_metas(dataset, [s for s, *_ in ready])
            ready = [item for item in ready if item[0] not in present]
            stored = local.install(dataset, [(s, f, m) for s, f, m, _ in ready])
            for symbol, _, _, generation in ready:
                if symbol in stored:
                    layered.remember_sync(SeriesKey(dataset, symbol), generation, stored[symbol].generation)
            done += list(stored)
    return done
