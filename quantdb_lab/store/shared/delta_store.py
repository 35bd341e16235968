"""The shared store: one Delta Lake table per (dataset, symbol) on S3-compatible object storage.

Layout under ``s3://bucket/prefix/v2/<source>/`` (one namespace per data source, as in the local store)::

    tables/<dataset>/<symbol>/    a Delta table: Parquet data files and _delta_log/ (the truth)
    heads/<dataset>/<symbol>.json the latest commit's metadata and data files (a hint: one GET per cold read)
    leases/<dataset>/<symbol>.json who is filling the series now (see ``lease``)

Why Delta Lake (``deltalake``, the delta-rs binding) rather than a home-made format: its commit is an atomic
``If-None-Match`` put of the next log entry, so concurrent writers on plain S3 (and MinIO, R2) are safe without
DynamoDB or a server; a crash leaves the last committed version readable (an unfinished commit is invisible);
the tables are readable by polars, DuckDB and Spark as they are; and it is kept up by a large project.
Iceberg needs a catalog service, Lance and ArcticDB bring formats only their own readers open.

Coverage and freshness metadata (``SeriesMeta`` as JSON) ride in each commit's ``commitInfo``, so data and
metadata change in one atomic step and every researcher reads the same truth. Each write overwrites the series
(one data file per version; earlier files stay for time travel until ``vacuum``). A writer that finds its commit
beaten (``CommitFailedError``) re-reads the winner and commits the union of both (``store.merge``), so no
row is ever lost even if leases misbehave.

Reads: without the lease, ``read_meta`` is one GET of the head and ``read_stored`` one GET per data file (one).
Under the lease (the loader's fill path), metadata comes from the Delta log itself and a head left behind by a
crash between commit and head update is repaired.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import polars as pl

from quantdb_lab.config import memory_budget_bytes
from quantdb_lab.errors import StoreError, StoreUnavailableError
from quantdb_lab.store.housekeeping import clear_series, usage_by_dataset
from quantdb_lab.store.memory import MemoryLayer
from quantdb_lab.store.merge import merge_series
from quantdb_lab.store.series_store import SCHEMA_VERSION, SeriesKey, SeriesMeta, StoredFrame, source_name
from quantdb_lab.store.shared.config import SharedConfig, resolve_config
from quantdb_lab.store.shared.lease import Lease
from quantdb_lab.store.shared.objects import Conflict, ObjectClient
from quantdb_lab.store.shared.retry import Retrier, RetryPolicy
from quantdb_lab.store.shared.validate import parse_head, quarantine

_NAMESPACE = f"v{SCHEMA_VERSION}"
META_FIELD = "quantdb_lab.meta"
# Checkpoint every 20 commits so loading a table reads at most ~20 small log files.
TABLE_CONFIG = {"delta.checkpointInterval": "20"}
_COMMIT_TRIES = 5


def _safe(symbol: str) -> str:
    if not symbol or any(c in symbol for c in "/\\:?#*") or symbol.startswith("."):
        raise StoreError("refusing to store a series under an unsafe name", symbol=symbol)
    return symbol


class SharedStore:
    """Series on an object store, safe for many writers on many machines (see the module docstring)."""

    def __init__(self, config: SharedConfig, *, retry: RetryPolicy | None = None, lease_ttl: float = 60.0,
                 source: str = "default") -> None:  # fmt: skip
        self.config = config
        self.source = source_name(source)
        self.namespace = f"{_NAMESPACE}/{self.source}"
        self.retrier = Retrier(retry)
        self.objects = ObjectClient(config, self.retrier)
        self.lease_ttl = lease_ttl
        self._options = config.storage_options()
        self._held = threading.local()
        self._lock = threading.Lock()
        self._tables: dict[SeriesKey, Any] = {}  # DeltaTable loaded under the lease, reused by write
        self._heads: dict[SeriesKey, dict] = {}
        self._etags: dict[SeriesKey, tuple[int, str]] = {}  # (generation, ETag) of each head last read or put
        self._memory: MemoryLayer[StoredFrame] = MemoryLayer(memory_budget_bytes())
        self._probed = False

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> SharedStore:
        return cls(resolve_config(url), **kwargs)

    @property
    def url(self) -> str:
        return self.config.url

    # -- names -------------------------------------------------------------------------------------------
    def _table_uri(self, key: SeriesKey) -> str:
        return self.config.uri(self.namespace, "tables", key.dataset, _safe(key.symbol))

    def _head_key(self, key: SeriesKey) -> str:
        return self.config.key(self.namespace, "heads", key.dataset, f"{_safe(key.symbol)}.json")

    def _lease_key(self, key: SeriesKey) -> str:
        return self.config.key(self.namespace, "leases", key.dataset, f"{_safe(key.symbol)}.json")

    def holds(self, key: SeriesKey) -> bool:
        return key in getattr(self._held, "keys", ())

    # -- locking -----------------------------------------------------------------------------------------
    def check_conditional_writes(self) -> None:
        """Refuse a store that ignores ``If-None-Match``: leases and Delta commits would both be unsafe there."""
        if self._probed:
            return
        import uuid

        probe = self.config.key(self.namespace, "probe", uuid.uuid4().hex)
        self.objects.put_bytes(probe, b"1", if_absent=True)
        try:
            self.objects.put_bytes(probe, b"2", if_absent=True)
        except Conflict:
            self._probed = True
            return
        finally:
            self.objects.delete(probe)
        raise StoreUnavailableError(
            f"{self.url} ignores If-None-Match (conditional writes): concurrent writers would be unsafe",
            retryable=False,
        )

    @contextmanager
    def lock(self, key: SeriesKey, timeout: float = 600.0) -> Iterator[None]:
        self.check_conditional_writes()
        lease = Lease(self.objects, self._lease_key(key), ttl=self.lease_ttl, label=str(key))
        lease.acquire(timeout)
        held = getattr(self._held, "keys", None)
        if held is None:
            held = self._held.keys = set()
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            with self._lock:
                self._tables.pop(key, None)
            try:
                lease.release()
            except StoreUnavailableError:
                pass  # the store went away: the lease lapses after its ttl

    # -- reading -----------------------------------------------------------------------------------------
    def read_meta(self, key: SeriesKey) -> SeriesMeta | None:
        head = self._authoritative(key) if self.holds(key) else self._read_head(key)
        return SeriesMeta.from_json(head["meta"]) if head else None

    def _get_head(self, key: SeriesKey) -> tuple[dict, str] | None:
        """The stored head and its ETag; a damaged one is set aside (then None: there is no head)."""
        name = self._head_key(key)
        got = self.objects.get_bytes(name)
        if got is None:
            return None
        head = parse_head(got[0], SeriesMeta.from_json)
        if head is None:
            quarantine(self.objects, name, got[0], got[1], "not a head of this version")
            return None
        self._remember_etag(key, head, got[1])
        return head, got[1]

    def _remember_etag(self, key: SeriesKey, head: dict, etag: str) -> None:
        with self._lock:
            self._etags[key] = (int(head["meta"].get("generation", 0)), etag)

    def head_etags(self, dataset: str) -> dict[str, str]:
        """The ETag of every head of ``dataset`` by symbol, from a listing (one request per 1,000 series): a head
        whose ETag is the one recorded with a generation still names that generation (heads are never rewritten
        with the same bytes for another version)."""
        prefix = self.config.key(self.namespace, "heads", dataset) + "/"
        return {name[len(prefix) : -len(".json")]: etag for name, etag in self.objects.list_etags(prefix).items()
                if name.endswith(".json") and "/" not in name[len(prefix) :]}  # fmt: skip

    def head_etag(self, key: SeriesKey, generation: int) -> str | None:
        """The ETag of the head that names ``generation`` of the series (a GET unless a read or put here saw
        it); None when the head names another generation now."""
        with self._lock:
            known = self._etags.get(key)
        if known is None or known[0] != generation:
            got = self._get_head(key)
            if got is None:
                return None
            with self._lock:
                known = self._etags.get(key)
        return known[1] if known is not None and known[0] == generation else None

    def _read_head(self, key: SeriesKey) -> dict | None:
        name = self._head_key(key)
        got = self.objects.get_bytes(name)
        head = parse_head(got[0], SeriesMeta.from_json) if got is not None else None
        if got is not None and head is None:
            quarantine(self.objects, name, got[0], got[1], "not a head of this version")
            head = self._rebuild_head(key)
        elif head is not None:
            self._remember_etag(key, head, got[1])
        with self._lock:
            if head is None:
                self._heads.pop(key, None)
            else:
                self._heads[key] = head
        return head

    def _load(self, key: SeriesKey, version: int | None = None) -> Any | None:
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        try:
            return self.retrier.call(
                f"load {key}", lambda: DeltaTable(self._table_uri(key), version=version, storage_options=self._options)
            )
        except TableNotFoundError:
            return None

    def _head_of(self, key: SeriesKey, table: Any) -> dict:
        """The head (metadata and data files) of ``table``'s current version, from the Delta log."""
        commit = self.retrier.call(f"history {key}", lambda: table.history(1))[0]
        raw = commit.get(META_FIELD)
        if raw is None:
            raise StoreError("a commit without quantdb_lab metadata (written by another tool?)", dataset=key.dataset, symbol=key.symbol)
        actions = pl.DataFrame(table.get_add_actions(flatten=True))
        files = actions.get_column("path").to_list() if actions.height else []
        size = int(actions.get_column("size_bytes").sum()) if actions.height else 0
        meta = replace(SeriesMeta.from_json(json.loads(raw)), generation=table.version() + 1, bytes=size)
        return {"version": table.version(), "files": files, "meta": meta.to_json()}

    def _rebuild_head(self, key: SeriesKey) -> dict | None:
        """The head of the table's current version, from the Delta log, published again (None: no table)."""
        table = self._load(key)
        if table is None:
            return None
        head = self._head_of(key, table)
        self._publish_head(key, head)
        return head

    def _authoritative(self, key: SeriesKey) -> dict | None:
        table = self._load(key)
        with self._lock:
            self._tables[key] = table
        if table is None:
            return None
        head = self._head_of(key, table)
        self._publish_head(key, head)  # repairs a head left behind by a crash after a commit
        return head

    def _publish_head(self, key: SeriesKey, head: dict) -> None:
        """Move the head forward to ``head`` (never backward: a slower writer never hides a newer version)."""
        name = self._head_key(key)
        for _ in range(_COMMIT_TRIES):
            current = self._get_head(key)
            if current is not None and current[0]["version"] >= head["version"]:
                break
            try:
                if current is None:
                    etag = self.objects.put_json(name, head, if_absent=True)
                else:
                    etag = self.objects.put_json(name, head, if_match=current[1])
                self._remember_etag(key, head, etag)
                break
            except Conflict:
                continue
        with self._lock:
            self._heads[key] = head

    def read_frame(self, key: SeriesKey, meta: SeriesMeta) -> pl.DataFrame:
        return self.read_stored(key, meta).frame

    def read_stored(self, key: SeriesKey, meta: SeriesMeta) -> StoredFrame:
        cached = self._memory.get(key, meta.generation)
        if cached is not None:
            return cached
        with self._lock:
            head = self._heads.get(key)
        if head is None or head["meta"].get("generation") != meta.generation:
            head = self._read_head(key)
        try:
            if head is not None and head["meta"].get("generation") == meta.generation and head["files"]:
                frame = self._read_files(key, head["files"])
            else:  # an older version, or no data file: ask Delta for exactly that version
                table = self._load(key, version=meta.generation - 1)
                if table is None:
                    raise StoreError("the series is gone from the shared store", dataset=key.dataset, symbol=key.symbol)
                frame = pl.DataFrame(table.to_pyarrow_table())
        except (StoreError, StoreUnavailableError):
            raise
        except Exception as exc:
            raise StoreError(f"unreadable shared data ({type(exc).__name__})", dataset=key.dataset, symbol=key.symbol) from exc
        if frame.height != meta.rows:
            raise StoreError(f"shared data has {frame.height} rows where the metadata records {meta.rows}", dataset=key.dataset, symbol=key.symbol)
        stored = StoredFrame.of(frame.sort("date") if "date" in frame.columns else frame)
        self._memory.put(key, meta.generation, stored)
        return stored

    def preload(self, keys: Iterable[SeriesKey]) -> int:
        """Read many series into memory (one request per series; best effort, errors are left to reads);
        returns how many of them are in memory afterwards."""
        ready = 0
        for key in dict.fromkeys(keys):
            try:
                meta = self.read_meta(key)
                if meta is not None and meta.rows:
                    self.read_stored(key, meta)
                    ready += 1
            except (StoreError, StoreUnavailableError):
                continue
        return ready

    def _read_files(self, key: SeriesKey, files: list[str]) -> pl.DataFrame:
        base = self.config.key(self.namespace, "tables", key.dataset, key.symbol)
        frames = []
        for name in files:
            got = self.objects.get_bytes(f"{base}/{name}")
            if got is None:
                raise StoreError("a data file of the shared series is missing", dataset=key.dataset, symbol=key.symbol)
            frames.append(pl.read_parquet(io.BytesIO(got[0])))
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")

    # -- writing -----------------------------------------------------------------------------------------
    def write(self, key: SeriesKey, frame: pl.DataFrame, meta: SeriesMeta) -> SeriesMeta:
        return self.commit(key, frame, meta)[1]

    def commit(self, key: SeriesKey, frame: pl.DataFrame, meta: SeriesMeta) -> tuple[pl.DataFrame, SeriesMeta]:
        """Overwrite the series with ``frame`` and ``meta`` in one Delta commit; call under ``lock``.

        Returns what was committed: ``frame`` itself, or its union with a concurrent writer's commit.
        """
        from deltalake import CommitProperties, write_deltalake
        from deltalake.exceptions import CommitFailedError, DeltaError

        with self._lock:
            table = self._tables.get(key)
        if table is None:
            table = self._load(key)
        for _ in range(_COMMIT_TRIES):
            props = CommitProperties(custom_metadata={META_FIELD: json.dumps(replace(meta, rows=frame.height, bytes=0).to_json())})
            data = frame.to_arrow()
            try:
                if table is None:  # mode="error": creating over a table someone else just created fails, never overwrites
                    self.retrier.call(f"create {key}", lambda: write_deltalake(
                        self._table_uri(key), data, mode="error", configuration=TABLE_CONFIG,
                        storage_options=self._options, commit_properties=props))  # fmt: skip
                    table = self._load(key)
                else:
                    self.retrier.call(f"commit {key}", lambda: write_deltalake(
                        table, data, mode="overwrite", schema_mode="overwrite", commit_properties=props))  # fmt: skip
                break
            except (CommitFailedError, DeltaError) as exc:
                if isinstance(exc, DeltaError) and not isinstance(exc, CommitFailedError) and "exists" not in str(exc):
                    raise StoreError(f"could not commit to the shared store: {exc}", dataset=key.dataset, symbol=key.symbol) from exc
                # Another writer committed first: merge with what it wrote and commit the union.
                table = self._load(key)
                if table is not None:
                    theirs = self._head_of(key, table)
                    their_meta = SeriesMeta.from_json(theirs["meta"])
                    their_frame = self.read_frame(key, their_meta) if their_meta.rows else frame.clear()
                    frame, meta = merge_series(their_frame, their_meta, frame, meta)
        else:
            raise StoreError("gave up committing: too many concurrent writers", dataset=key.dataset, symbol=key.symbol)
        head = self._head_of(key, table)
        self._publish_head(key, head)
        stored = SeriesMeta.from_json(head["meta"])
        with self._lock:
            self._tables[key] = table
        self._memory.put(key, stored.generation, StoredFrame.of(frame))
        return frame, stored

    def drop(self, key: SeriesKey) -> None:
        """Delete the series from the shared store (its table and head); the team loses it too."""
        self.objects.delete(self._head_key(key))
        self.objects.delete_prefix(self.config.key(self.namespace, "tables", key.dataset, _safe(key.symbol)) + "/")
        with self._lock:
            self._heads.pop(key, None)
            self._tables.pop(key, None)
        self._memory.discard(key)

    # -- housekeeping ------------------------------------------------------------------------------------
    def keys(self) -> list[SeriesKey]:
        prefix = self.config.key(self.namespace, "heads") + "/"
        out = []
        for name in self.objects.list_keys(prefix):
            dataset, _, file = name[len(prefix) :].partition("/")
            if file.endswith(".json"):
                out.append(SeriesKey(dataset, file[: -len(".json")]))
        return out

    def clear(self, *, symbols: set[str] | None = None, dataset: str | None = None) -> int:
        return clear_series(self, symbols=symbols, dataset=dataset)

    def usage(self) -> dict[str, dict[str, int]]:
        """Series, rows and bytes of the latest versions per dataset (one GET per series: not for hot paths)."""
        return usage_by_dataset(self)

    def vacuum(self, *, retention_hours: int = 168) -> int:
        """Delete data files no version younger than ``retention_hours`` uses; returns how many went."""
        removed = 0
        for key in self.keys():
            table = self._load(key)
            if table is not None:
                with self.lock(key):
                    removed += len(table.vacuum(retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False))
        return removed

    def close(self) -> None:
        with self._lock:
            self._tables.clear()
        self._memory.clear()
