"""The team store's cross-sectional layout: a compacted local store's segments, published for many readers.

Layout under ``s3://bucket/prefix/v2/<source>/segments/<dataset>/``::

    <period>.<seq>.parquet    the same files as the local store's segments (date, symbol order), never rewritten
    manifest.json             which files make up the dataset now: period, seq, file, rows, CRC-32, first and
                              last day of each, and when it was published

Published only from a store whose compaction backlog is empty (the segments then hold every stored row), so a
reader of the manifest's files gets the whole dataset as of ``published_at``: DuckDB, Spark or polars over S3
need nothing of quantdb_lab (``read_parquet`` of the manifest's files). Files are put if absent, the manifest is
written after them (a reader never sees a manifest naming a file not yet there), and files named neither by the
new manifest nor by the one before it are deleted (a reader still on the previous manifest keeps its files).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from quantdb_lab.errors import StoreError

if TYPE_CHECKING:
    from quantdb_lab.store.series_store import SeriesStore
    from quantdb_lab.store.shared.delta_store import SharedStore


def manifest_key(shared: SharedStore, dataset: str) -> str:
    return shared.config.key(shared.namespace, "segments", dataset, "manifest.json")


def publish_segments(shared: SharedStore, local: SeriesStore, dataset: str = "bars") -> dict:
    """Put the local store's live segments of ``dataset`` and their manifest in the team store."""
    if local.source != shared.source:
        raise StoreError(f"segments of source {local.source!r} cannot be published under {shared.source!r}")
    if local.catalog.backlog(dataset):
        return {"dataset": dataset, "published": 0, "skipped": "compact first: the segments do not hold every row"}
    segments = local.catalog.snapshot(dataset, []).segments
    prefix = shared.config.key(shared.namespace, "segments", dataset) + "/"
    present = set(shared.objects.list_keys(prefix))
    put = 0
    for seg in segments:
        key = shared.config.key(shared.namespace, seg.file)
        if key not in present:
            shared.objects.put_bytes(key, (local.base / seg.file).read_bytes(), if_absent=True)
            put += 1
    previous = shared.objects.get_bytes(manifest_key(shared, dataset))
    kept = {f["file"] for f in json.loads(previous[0])["segments"]} if previous else set()
    manifest = {"layout": 2, "source": shared.source, "dataset": dataset, "published_at": time.time(),
                "segments": [{"period": s.period, "seq": s.seq, "file": s.file, "rows": s.rows, "crc": s.crc,
                              "first_day": s.first_day, "last_day": s.last_day} for s in segments]}  # fmt: skip
    shared.objects.put_json(manifest_key(shared, dataset), manifest)
    live = {s.file for s in segments} | kept
    removed = 0
    for key in present:
        name = key[len(shared.config.key(shared.namespace)) + 1 :]
        if key.endswith(".parquet") and name not in live:
            shared.objects.delete(key)
            removed += 1
    return {"dataset": dataset, "published": put, "segments": len(segments), "removed": removed}


def published_files(shared: SharedStore, dataset: str = "bars") -> list[str]:
    """``s3://`` URIs of the files the current manifest names (empty when nothing was published)."""
    got = shared.objects.get_bytes(manifest_key(shared, dataset))
    if got is None:
        return []
    return [shared.config.uri(shared.namespace, f["file"]) for f in json.loads(got[0])["segments"]]
