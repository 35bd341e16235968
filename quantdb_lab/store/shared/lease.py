"""A lease per series on the shared bucket: the cross-machine version of the local per-key file lock.

The lease is a small JSON object created with ``If-None-Match: *``, so exactly one writer gets it. It names its
owner and an expiry; the holder renews it (``If-Match`` on the ETag it holds) every third of its time to live,
so a long upstream fetch keeps it, and a crashed holder's lease lapses after ``ttl`` seconds and is taken over
(again with ``If-Match``, so two waiters never both take it). Release is a conditional delete: a holder whose
lease lapsed and was taken never deletes its successor's.

A lease only saves upstream calls (the second writer waits, then finds the series filled). Correctness does not
rest on it: the Delta commit itself is a conditional put, and a writer that lost its lease and commits second
merges with the first commit instead of overwriting it (see ``delta_store``). Expiry uses wall clocks, so
machines whose clocks disagree by more than ``ttl`` may take a live lease early; that costs a duplicate fetch,
never rows.

The lease names its holder (host, pid, start time; ``domain.holders``): a lease left by a process on this
machine that no longer exists is taken over at once, not after its ``ttl``. A lease object that is not a
lease (not JSON, a list, ``"expires_at": "soon"``) is set aside (``validate.quarantine``) and taken afresh.
The wait for a live holder is bounded by ``timeout`` and the open deadline (``domain.deadlines``), says whom
it waits for once it lasts (``WaitWarning``), and ends in ``StoreUnavailableError``: the caller then fills its
local cache alone, as when the store is down.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
import warnings
from typing import Final

from quantdb_lab.domain.deadlines import current_deadline, remaining
from quantdb_lab.domain.holders import Holder, current_holder, is_dead
from quantdb_lab.errors import StoreError, StoreUnavailableError, WaitWarning
from quantdb_lab.store.shared.objects import Conflict, ObjectClient
from quantdb_lab.store.shared.validate import parse_lease, quarantine

WAIT_NOTICE: Final = 2.0  # seconds of waiting for another holder's lease before a WaitWarning says so


class Lease:
    def __init__(self, objects: ObjectClient, key: str, *, ttl: float = 60.0, label: str = "") -> None:
        self.objects = objects
        self.key = key
        self.ttl = ttl
        self.label = label
        self.holder = current_holder()
        self.owner = f"{self.holder.host.partition('#')[0]}:{self.holder.pid}:{uuid.uuid4().hex[:12]}"
        self.etag: str | None = None
        self.lost = False  # renewal found it taken over: the holder ran past its time to live
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _body(self) -> dict:
        now = time.time()
        return {"owner": self.owner, "holder": str(self.holder), "series": self.label, "acquired_at": now,
                "expires_at": now + self.ttl}  # fmt: skip

    def acquire(self, timeout: float = 600.0) -> None:
        started = time.monotonic()
        budget = remaining(timeout)
        pause = 0.02
        noticed = False
        while True:
            try:
                self.etag = self.objects.put_json(self.key, self._body(), if_absent=True)
                break
            except Conflict:
                pass
            current = self.objects.get_bytes(self.key)
            if current is None:
                continue  # released between our put and our get: try again at once
            raw, etag = current
            held = parse_lease(raw)
            if held is None:
                quarantine(self.objects, self.key, raw, etag, "not a lease")
                continue
            holder = Holder.parse(held.get("holder"))
            if held["expires_at"] < time.time() or is_dead(holder):
                try:  # the holder crashed (or stalled past ttl): take it over, atomically
                    self.etag = self.objects.put_json(self.key, self._body(), if_match=etag)
                    break
                except Conflict:
                    continue
            waited = time.monotonic() - started
            who = holder.describe() if holder is not None else str(held.get("owner", "an unknown holder"))
            if waited > budget:
                scope = current_deadline()
                bound = scope.describe() if scope is not None and budget < timeout else f"{timeout:g} s"
                raise StoreUnavailableError(
                    f"waited {waited:.0f} s ({bound}) for the team store's lease on {self.label}, held by {who}",
                    retryable=True, symbol=self.label,
                )  # fmt: skip
            if not noticed and waited >= WAIT_NOTICE:
                noticed = True
                left = min(budget - waited, held["expires_at"] - time.time())
                warnings.warn(f"waiting {waited:.0f} s for the team store's lease on {self.label}, held by {who}; "
                              f"at most {max(left, 0):.0f} s more", WaitWarning, stacklevel=5)  # fmt: skip
            time.sleep(min(random.uniform(pause / 2, pause), max(budget - waited, 0.001)))
            pause = min(pause * 1.5, 0.5)
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name=f"lease-{self.label}", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self.etag = self.objects.put_json(self.key, self._body(), if_match=self.etag)
            except Conflict:
                self.lost = True
                return
            except (StoreUnavailableError, StoreError):
                continue  # try again next period; the lease lapses only after ttl

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        if self.etag is None or self.lost:
            return
        try:
            self.objects.delete(self.key, if_match=self.etag)
        except Conflict:
            pass  # it lapsed and was taken over: it is no longer ours to delete
        finally:
            self.etag = None
