"""The team store's cross-sectional layout: a compacted local store's segments, published for many readers.

Layout under ``s3://bucket/prefix/v2/<source>/segments/<dataset>/``::

    <period>.<seq>.parquet    the same files as the local store's segments (date, symbol order), never rewritten
    metas.<crc>.json          each published series' SeriesMeta (coverage, factor events, sources, unit
                              corrections), the Delta generation its rows are and the ETag of the head that
                              named that generation, its columns, and its rows per segment (JSON, never pickle)
    manifest.json             which files make up the dataset now: period, seq, file, rows, CRC-32, first and
                              last day of each, the metas file and its CRC-32, and when it was published

The metas file is what lets a new member's cold whole-market read install the segments' rows as warm local
series (``store.shared.cold_market``): a series is in it only when the publisher's local copy is exactly a
Delta generation (synced, not changed locally since) and the head naming that generation was seen.

Published only from a store whose compaction backlog is empty (the segments then hold every stored row), so a
reader of the manifest's files gets the whole dataset as of ``published_at``: DuckDB, Spark or polars over S3
need nothing of quantdb_lab (``read_parquet`` of the manifest's files). Files are put if absent, the manifest is
written after them (a reader never sees a manifest naming a file not yet there), and files named neither by the
new manifest nor by the one before it are deleted (a reader still on the previous manifest keeps its files).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from quantdb_lab.errors import StoreError, StoreUnavailableError
from quantdb_lab.store.checksum import crc32
from quantdb_lab.store.records import SeriesKey

if TYPE_CHECKING:
    from quantdb_lab.store.series_store import SeriesStore
    from quantdb_lab.store.shared.delta_store import SharedStore


def manifest_key(shared: SharedStore, dataset: str) -> str:
    return shared.config.key(shared.namespace, "segments", dataset, "manifest.json")


def publish_segments(shared: SharedStore, local: SeriesStore, dataset: str = "bars", *,
                     synced: Callable[[SeriesKey, int], int | None] | None = None) -> dict:  # fmt: skip
    """Put the local store's live segments of ``dataset`` and their manifest in the team store. ``synced(key,
    local_generation)`` is the Delta generation the local copy is, or None (then the series is not in the
    metas file and a new member pulls it on its own)."""
    if local.source != shared.source:
        raise StoreError(f"segments of source {local.source!r} cannot be published under {shared.source!r}")
    if local.catalog.backlog(dataset):
        return {"dataset": dataset, "published": 0, "skipped": "compact first: the segments do not hold every row"}
    snap = local.catalog.snapshot(dataset)
    segments = snap.segments
    prefix = shared.config.key(shared.namespace, "segments", dataset) + "/"
    present = set(shared.objects.list_keys(prefix))
    put = 0
    for seg in segments:
        key = shared.config.key(shared.namespace, seg.file)
        if key not in present:
            shared.objects.put_bytes(key, (local.base / seg.file).read_bytes(), if_absent=True)
            put += 1
    got = shared.objects.get_bytes(manifest_key(shared, dataset))
    previous = json.loads(got[0]) if got else {"segments": []}
    kept = {f["file"] for f in previous["segments"]} | ({previous["metas"]["file"]} if previous.get("metas") else set())
    manifest = {"layout": 2, "source": shared.source, "dataset": dataset, "published_at": time.time(),
                "segments": [{"period": s.period, "seq": s.seq, "file": s.file, "rows": s.rows, "crc": s.crc,
                              "first_day": s.first_day, "last_day": s.last_day} for s in segments]}  # fmt: skip
    metas = _metas(shared, local, dataset, snap, synced) if synced is not None else None
    if metas is not None:
        body = json.dumps(metas, sort_keys=True, separators=(",", ":")).encode()
        crc = crc32(body)
        name = f"segments/{dataset}/metas.{crc:08x}.json"
        key = shared.config.key(shared.namespace, name)
        if key not in present:
            shared.objects.put_bytes(key, body)
        manifest["metas"] = {"file": name, "crc": crc, "series": len(metas["series"])}
    shared.objects.put_json(manifest_key(shared, dataset), manifest)
    live = {s.file for s in segments} | kept | ({manifest["metas"]["file"]} if metas is not None else set())
    removed = 0
    for key in present:
        name = key[len(shared.config.key(shared.namespace)) + 1 :]
        if key.endswith((".parquet", ".json")) and name not in live and key != manifest_key(shared, dataset):
            shared.objects.delete(key)
            removed += 1
    return {"dataset": dataset, "published": put, "segments": len(segments), "removed": removed,
            "series": len(metas["series"]) if metas is not None else 0}  # fmt: skip


def _metas(shared: SharedStore, local: SeriesStore, dataset: str, snap, synced) -> dict:  # noqa: ANN001
    """What a new member needs to serve the segments' rows as warm series (see the module docstring)."""
    from concurrent.futures import ThreadPoolExecutor

    per_segment = {seg.file: seg.symbol_rows() for seg in snap.segments}
    wanted = {}
    for symbol, entry in snap.entries.items():
        generation = synced(SeriesKey(dataset, symbol), entry.meta.generation)
        if generation is not None and entry.rows and entry.dirty_from is None:
            wanted[symbol] = (entry, generation)

    def etag(item: tuple[str, tuple]) -> str | None:
        symbol, (_, generation) = item
        try:
            return shared.head_etag(SeriesKey(dataset, symbol), generation)
        except (StoreError, StoreUnavailableError):
            return None

    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="quantdb-publish") as pool:
        etags = dict(zip(wanted, pool.map(etag, wanted.items())))
    schemas: list[list[str]] = []
    series = {}
    for symbol, (entry, generation) in wanted.items():
        if etags[symbol] is None:
            continue  # the head names another generation now: a new member pulls this one on its own
        try:
            columns = pq.read_schema(local.file_of(SeriesKey(dataset, symbol), entry)).names
        except (OSError, ValueError):
            continue
        if columns not in schemas:
            schemas.append(columns)
        rows = {f: n[symbol] for f, n in per_segment.items() if symbol in n}
        if sum(rows.values()) != entry.rows:
            continue  # the segments do not hold exactly this series' rows
        series[symbol] = {"generation": generation, "etag": etags[symbol], "meta": entry.meta.to_json(),
                          "schema": schemas.index(columns), "rows": rows}  # fmt: skip
    return {"layout": 1, "dataset": dataset, "schemas": schemas, "series": series}


def published_files(shared: SharedStore, dataset: str = "bars") -> list[str]:
    """``s3://`` URIs of the files the current manifest names (empty when nothing was published)."""
    got = shared.objects.get_bytes(manifest_key(shared, dataset))
    if got is None:
        return []
    return [shared.config.uri(shared.namespace, f["file"]) for f in json.loads(got[0])["segments"]]
