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
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import uuid

from quantdb_lab.errors import StoreError, StoreUnavailableError
from quantdb_lab.store.shared.objects import Conflict, ObjectClient


class Lease:
    def __init__(self, objects: ObjectClient, key: str, *, ttl: float = 60.0, label: str = "") -> None:
        self.objects = objects
        self.key = key
        self.ttl = ttl
        self.label = label
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.etag: str | None = None
        self.lost = False  # renewal found it taken over: the holder ran past its time to live
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _body(self) -> dict:
        now = time.time()
        return {"owner": self.owner, "series": self.label, "acquired_at": now, "expires_at": now + self.ttl}

    def acquire(self, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        pause = 0.02
        while True:
            try:
                self.etag = self.objects.put_json(self.key, self._body(), if_absent=True)
                break
            except Conflict:
                pass
            current = self.objects.get_json(self.key)
            if current is None:
                continue  # released between our put and our get: try again at once
            held, etag = current
            if float(held.get("expires_at", 0)) < time.time():
                try:  # the holder crashed (or stalled past ttl): take it over, atomically
                    self.etag = self.objects.put_json(self.key, self._body(), if_match=etag)
                    break
                except Conflict:
                    continue
            if time.monotonic() > deadline:
                raise StoreError(f"timed out waiting for the shared lease held by {held.get('owner')}", symbol=self.label)
            time.sleep(random.uniform(pause / 2, pause))
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
