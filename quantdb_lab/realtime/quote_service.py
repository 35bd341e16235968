"""``lab.quotes``: live snapshots through a freshness cache shared by threads and kernels.

* Fresh (younger than ``max_age``, default the trading mode's ``cache_duration``): served from the latest
  snapshot file without any upstream call. A whole-market snapshot also serves any watchlist it covers.
* Stale while a session trades: one caller per cache directory (a file lock, double-checked) fetches, through
  the Lab's throttle (shared by every kernel on the cache directory), one throttled call per provider batch
  (``provider.quote_batches``: akshare asks per symbol for a short watchlist, once for the whole market).
* Outside trading hours (and over lunch): never an upstream call; the last snapshot is served as it is, its
  ``as_of`` column saying when it was taken. With no snapshot at all, an empty frame and a
  ``MarketClosedWarning`` saying when the next session opens and that ``realtime.replay`` runs one now (never
  an exception: a notebook's Run All goes on). ``closed()`` is that state in one line, for a watcher.

Returned frames have the ``domain.quotes.QUOTES`` columns plus ``as_of`` (when fetched) and ``stale`` (True only
when a refresh failed and the mode serves stale data; a ``StaleDataWarning`` says so).
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from filelock import FileLock

from quantdb_lab.domain.clock import to_exchange_time
from quantdb_lab.domain.modes import TRADING
from quantdb_lab.domain.quotes import QUOTE_TIME, QUOTES, conform_quotes
from quantdb_lab.domain.symbols import Symbol, parse_symbols
from quantdb_lab.errors import (
    EmptyResultError,
    InvalidRequestError,
    MarketClosedWarning,
    ProviderError,
    StaleDataWarning,
)
from quantdb_lab.realtime.session import closed_note, next_open, trading_now
from quantdb_lab.realtime.snapshot_file import read_snapshot, write_snapshot

ALL: str = "all"
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(path), threading.Lock())


def snapshot_key(symbols: list[Symbol] | None) -> str:
    if symbols is None:
        return ALL
    names = ",".join(sorted({s.canonical for s in symbols}))
    return "w" + hashlib.sha1(names.encode()).hexdigest()[:16]


class QuoteService:
    """Quotes of one Lab (its provider, throttle, clock, calendar and cache directory)."""

    def __init__(self, lab: Any, *, max_age: timedelta | None = None) -> None:
        provider = lab.provider
        if not callable(getattr(provider, "fetch_quotes", None)):
            raise InvalidRequestError(f"the provider {provider.name!r} has no live quotes (fetch_quotes)")
        self.lab = lab
        self.directory = Path(lab.cache_dir) / "realtime"
        self.max_age = max_age if max_age is not None else min(lab.mode.cache_duration, TRADING.cache_duration)
        self.serve_stale = lab.mode.on_provider_error == "serve_stale"
        self.upstream_calls = 0  # throttled provider calls made by this service

    def path(self, key: str) -> Path:
        return self.directory / f"latest-{key}.arrow"

    def get(self, symbols: Any = None, *, warn: bool = True) -> pl.DataFrame:
        """The snapshot of ``symbols`` (None: the whole market); see the module docstring. ``warn=False``: no
        MarketClosedWarning for an empty night-time answer (a watcher reports ``closed()`` instead)."""
        wanted = None if symbols is None else parse_symbols(symbols)
        now = to_exchange_time(self.lab.clock.now())
        cached = self._cached(wanted)
        if cached is not None and (self._fresh(cached, now) or not trading_now(self.lab.calendar, now)):
            return _mark(cached, stale=False)
        if not trading_now(self.lab.calendar, now):
            if warn:
                warnings.warn(closed_note(self.lab.calendar, now), MarketClosedWarning, stacklevel=3)
            return _mark(conform_quotes(pl.DataFrame()).with_columns(pl.lit(None, QUOTE_TIME).alias("as_of")),
                         stale=False)  # fmt: skip
        key = snapshot_key(wanted)
        path = self.path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        with _thread_lock(path), FileLock(str(self.directory / f".{key}.lock")):
            cached = self._cached(wanted)  # another thread or kernel may have fetched while we waited
            if cached is not None and self._fresh(cached, now):
                return _mark(cached, stale=False)
            try:
                frame = self._fetch(wanted)
            except ProviderError:
                if cached is None or not self.serve_stale:
                    raise
                warnings.warn(f"live quotes could not be refreshed; serving the snapshot as of "
                              f"{cached['as_of'][0]}", StaleDataWarning, stacklevel=3)  # fmt: skip
                return _mark(cached, stale=True)
            stored = frame.with_columns(pl.lit(now).cast(QUOTE_TIME).alias("as_of"))
            write_snapshot(path, stored)
        return _mark(stored, stale=False)

    def closed(self, symbols: Any = None) -> tuple[str, datetime] | None:
        """None while a session trades; otherwise (one line: closed, when it opens, what snapshot is shown; when
        the next session opens)."""
        now = to_exchange_time(self.lab.clock.now())
        if trading_now(self.lab.calendar, now):
            return None
        cached = self._cached(None if symbols is None else parse_symbols(symbols))
        as_of = cached["as_of"][0] if cached is not None and cached.height else None
        return closed_note(self.lab.calendar, now, as_of=as_of), next_open(self.lab.calendar, now)

    # -- helpers ------------------------------------------------------------------------------------
    def _fetch(self, wanted: list[Symbol] | None) -> pl.DataFrame:
        provider, throttle = self.lab.provider, self.lab.throttle
        family = provider.quotes_host_family()
        frames = []
        for batch in provider.quote_batches(wanted):
            frames.append(throttle.call(family, provider.fetch_quotes, batch))
            self.upstream_calls += 1
        frame = conform_quotes(pl.concat(frames, how="vertical")) if frames else conform_quotes(pl.DataFrame())
        if frame.is_empty():
            raise EmptyResultError("the upstream returned no quotes", dataset="quotes")
        return frame

    def _cached(self, wanted: list[Symbol] | None) -> pl.DataFrame | None:
        whole = read_snapshot(self.path(ALL))
        if wanted is None:
            return whole
        names = [s.canonical for s in wanted]
        own = read_snapshot(self.path(snapshot_key(wanted)))
        candidates = [f for f in (whole, own) if f is not None]
        candidates.sort(key=lambda f: f["as_of"][0] if f.height else datetime.min, reverse=True)
        for frame in candidates:
            subset = frame.filter(pl.col("symbol").is_in(names))
            if subset.height and set(subset["symbol"].to_list()) >= set(names) - _missing(frame, names):
                return subset
        return None

    def _fresh(self, frame: pl.DataFrame, now: datetime) -> bool:
        return bool(frame.height) and now - frame["as_of"][0] < self.max_age


def _missing(frame: pl.DataFrame, names: list[str]) -> set[str]:
    """Asked-for symbols the upstream itself did not list in its own snapshot (unknown, delisted)."""
    return set() if frame.height == 0 else set(names) - set(frame["symbol"].to_list())


def _mark(frame: pl.DataFrame, *, stale: bool) -> pl.DataFrame:
    return frame.select(*QUOTES, "as_of").with_columns(pl.lit(stale).alias("stale"))
