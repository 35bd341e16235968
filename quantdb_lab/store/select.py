"""Which backend a Lab uses: the local directory (default) or ``s3://bucket/prefix`` behind a local layer."""

from __future__ import annotations

from pathlib import Path

from quantdb_lab.errors import StoreError
from quantdb_lab.store.base import SeriesBackend
from quantdb_lab.store.series_store import SeriesStore

LOCAL_NAMES = ("", "local")


def open_store(store: str | SeriesBackend | None, cache_dir: Path, *, source: str) -> SeriesBackend:
    """``None``/``"local"``: the cache directory alone. ``"s3://bucket/prefix"``: the shared store, with the
    cache directory as its read-through layer. A ready backend object is used as it is. ``source`` is the
    namespace of everything stored (the provider's data identity)."""
    if store is not None and not isinstance(store, str):
        return store
    name = (store or "").strip()
    if name.lower() in LOCAL_NAMES:
        return SeriesStore(cache_dir, source=source)
    if name.startswith("s3://"):
        try:  # deltalake and boto3 (the team extra) are imported here or when the store is set up
            from quantdb_lab.store.layered import LayeredStore
            from quantdb_lab.store.shared import SharedStore

            shared = SharedStore.from_url(name, source=source)
        except ImportError as exc:  # optional dependencies fail on first use, with the fix in the message
            raise StoreError(f"a shared store needs the team extra: pip install 'quantdb_lab[team]' ({exc})") from exc
        return LayeredStore(SeriesStore(cache_dir, source=source), shared)
    raise StoreError(f"unknown store {store!r}: use 'local' or 's3://bucket/prefix'")
