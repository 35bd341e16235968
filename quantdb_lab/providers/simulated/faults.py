"""Fault injection for SimulatedProvider: what a flaky, banned or changed upstream looks like to the loader.

All fields can be changed while a provider is in use (``provider.faults.down = True``). Checks run in this
order, after the call is counted and its latency slept:

* ``down``: every call raises ``ProviderUnavailableError(retryable=True)``, as Eastmoney's IP ban does
  (the connection is dropped: RemoteDisconnected).
* ``permanent_symbols``: bars of these symbols always raise ``ProviderUnavailableError(retryable=False)``
  (an upstream that refuses the code outright). Not ``EmptyResultError``: an empty answer is a frame, per
  the Provider protocol, and "no bars" is not a failure.
* ``fail_n_times(symbol, n)``: the next ``n`` bar calls of ``symbol`` raise a retryable error.
* ``transient_rate``: each call fails (retryable) with this probability, decided by a hash of
  ``(seed, symbol or method, attempt number)``: deterministic, and a retry is a fresh draw, so retries
  eventually succeed.
* ``schema_drift``: the call raises ``ProviderSchemaError`` naming the columns received (``amount`` is
  missing), which is what a real provider's transform step raises when upstream columns change.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field

from quantdb_lab.domain.schema import BAR_COLUMNS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import ProviderSchemaError, ProviderUnavailableError


@dataclass
class Faults:
    transient_rate: float = 0.0
    permanent_symbols: set[str] = field(default_factory=set)
    down: bool = False
    schema_drift: bool = False
    seed: int = 0
    _forced: dict[str, int] = field(default_factory=dict, repr=False)
    _attempts: dict[str, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def fail_n_times(self, symbol: str, n: int) -> None:
        """Make the next ``n`` bar calls of ``symbol`` raise a retryable ProviderUnavailableError."""
        with self._lock:
            self._forced[parse_symbol(symbol).canonical] = n

    def clear(self) -> None:
        """Back to a healthy upstream."""
        with self._lock:
            self.transient_rate, self.down, self.schema_drift = 0.0, False, False
            self.permanent_symbols = set()
            self._forced.clear()
            self._attempts.clear()

    def check(self, method: str, *, dataset: str, symbol: str | None = None) -> None:
        """Raise the fault that applies to this call, if any."""
        context = {"dataset": dataset, "symbol": symbol}
        if self.down:
            raise ProviderUnavailableError(
                "simulated outage: RemoteDisconnected('Remote end closed connection without response')",
                retryable=True, **context,
            )  # fmt: skip
        if symbol is not None and symbol in {parse_symbol(s).canonical for s in self.permanent_symbols}:
            raise ProviderUnavailableError(
                "simulated permanent refusal of this symbol", retryable=False, **context
            )
        key = symbol if symbol is not None else method
        with self._lock:
            forced = self._forced.get(key, 0) if symbol is not None else 0
            if forced > 0:
                self._forced[key] = forced - 1
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
        if forced > 0:
            raise ProviderUnavailableError("simulated failure (fail_n_times)", retryable=True, **context)
        if self.transient_rate > 0.0:
            draw = zlib.crc32(f"{self.seed}:{key}:{attempt}".encode()) / 2**32
            if draw < self.transient_rate:
                raise ProviderUnavailableError(
                    "simulated transient failure: ConnectionError('Connection reset by peer')",
                    retryable=True, **context,
                )  # fmt: skip
        if self.schema_drift:
            received = [name for name in BAR_COLUMNS if name != "amount"] + ["unexpected_column"]
            raise ProviderSchemaError(
                "simulated schema drift: the upstream changed its columns", columns=received, **context
            )
