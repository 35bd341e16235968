"""Every small object read from the team store is checked before it is believed; a bad one is set aside.

A lease or a head is written by this library, but a bucket is shared: another tool, a hand edit, a version
of this library from the future or a half-broken proxy can leave bytes that are not JSON, a JSON list, or
``"expires_at": "soon"``. Trusting them broke a series for every user (StoreError, AttributeError,
ValueError). Instead:

* ``parse_lease`` / ``parse_head`` return the object as a dict when it has the shape this version writes, else
  None (never raise);
* ``quarantine`` copies the bad bytes to ``<namespace>/quarantine/<key>.<time>.bad`` (for a post-mortem) and
  removes the original with a conditional delete on the ETag that was read, so a good object written meanwhile
  by someone else is never removed; it warns once with ``CacheRepairedWarning``.

The caller then rebuilds: a lease is simply taken again, a head is rebuilt from the Delta log (the truth).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from typing import Any, Final

from quantdb_lab.errors import CacheRepairedWarning, StoreError, StoreUnavailableError
from quantdb_lab.store.shared.objects import Conflict, ObjectClient

#: A lease claiming to last longer than this is damaged (a holder renews every third of its ttl, minutes).
MAX_LEASE_SECONDS: Final = 24 * 3600.0


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_lease(raw: bytes, *, now: float | None = None) -> dict | None:
    """A lease body (``owner``, ``expires_at``, optional ``acquired_at``, ``holder``, ``series``) or None."""
    data = _json(raw)
    if not isinstance(data, dict) or not _number(data.get("expires_at")):
        return None
    if data["expires_at"] > (now if now is not None else time.time()) + MAX_LEASE_SECONDS:
        return None
    for name in ("owner", "holder", "series"):
        if name in data and not isinstance(data[name], str):
            return None
    if "acquired_at" in data and not _number(data["acquired_at"]):
        return None
    return data


def _safe_file(name: Any) -> bool:
    return isinstance(name, str) and bool(name) and not name.startswith("/") and ".." not in name.split("/")


def parse_head(raw: bytes, read_meta: Callable[[dict], Any]) -> dict | None:
    """A head (``version``, ``files``, ``meta``) whose meta ``read_meta`` accepts, or None."""
    data = _json(raw)
    if not isinstance(data, dict):
        return None
    version, files, meta = data.get("version"), data.get("files"), data.get("meta")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        return None
    if not isinstance(files, list) or not all(_safe_file(f) for f in files) or not isinstance(meta, dict):
        return None
    try:
        read_meta(meta)
    except Exception:  # noqa: BLE001 - any failure to read the metadata means a damaged head
        return None
    generation = meta.get("generation")
    if generation is not None and (not isinstance(generation, int) or isinstance(generation, bool)):
        return None
    return data


def aside_key(key: str) -> str:
    """Where a bad ``.../v1/leases/bars/X.json`` is kept: ``.../v1/quarantine/leases/bars/X.json.<time>.bad``."""
    parts = key.split("/")
    kinds = [i for i, part in enumerate(parts[:-1]) if part in ("leases", "heads")]
    if kinds:
        parts.insert(kinds[-1], "quarantine")
    else:
        parts.insert(len(parts) - 1, "quarantine")
    return "/".join(parts) + f".{time.time():.3f}.bad"


def quarantine(objects: ObjectClient, key: str, raw: bytes, etag: str, why: str) -> None:
    """Copy ``raw`` aside and delete ``key`` if it still holds what was read (ETag ``etag``)."""
    aside = aside_key(key)
    try:
        objects.put_bytes(aside, raw)
    except (StoreError, StoreUnavailableError):
        pass  # the copy is for a post-mortem only: the repair goes on without it
    try:
        objects.delete(key, if_match=etag)
    except Conflict:
        return  # someone replaced it meanwhile: theirs is not ours to remove
    warnings.warn(
        f"the team store's {key} was damaged ({why}); it was set aside under quarantine/ and is rebuilt",
        CacheRepairedWarning,
        stacklevel=4,
    )
