"""Every error and warning quantdb_lab raises, in one tree.

::

    QuantdbError
    ├── InvalidRequestError (also ValueError)
    │   ├── InvalidSymbolError
    │   └── InvalidDateRangeError
    ├── ProviderError
    │   ├── ProviderUnavailableError      .retryable, .retry_at, .kind ("unreachable", "ban", "timeout"), .host
    │   ├── ProviderSchemaError
    │   └── EmptyResultError
    ├── StoreError
    │   └── StoreUnavailableError        the shared object store failed after retries (.retryable)
    ├── LookAheadError
    ├── WarmerBusyError                 another cache warmer holds this cache directory
    └── QualityGateError

    KeyboardInterrupt
    └── PortfolioInterrupted             .result (what was fetched before the interrupt)

    QuantdbWarning (UserWarning)
    ├── StaleDataWarning
    │   └── StoreUnavailableWarning      the shared store is down: the local cache was served or kept
    ├── SchemaDriftWarning
    ├── SyntheticDataWarning
    ├── CalendarBoundsWarning
    ├── CacheRepairedWarning         a damaged cache file or catalog was found, set aside and repaired
    ├── LegacyCacheWarning           an older cache without provenance was set aside, not read
    ├── PartialDataWarning           the upstream's answer was short; the missing sessions are asked again
    ├── SymbolsSkippedWarning        a batch left out symbols that were empty, unknown or failed (.skipped)
    ├── WaitWarning                  a call waits on a permit or lease another process holds
    ├── MarketClosedWarning          no quote snapshot yet and no session trading: when the next one opens
    └── QualityWarning                .report

Errors carry structured fields (``symbol``, ``dataset``, ``start``, ``end``, ``mode``) and build their message
from them, so a notebook user sees what was asked and a program can react to the fields.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

__all__ = [
    "QuantdbError",
    "InvalidRequestError",
    "InvalidSymbolError",
    "InvalidDateRangeError",
    "ProviderError",
    "ProviderUnavailableError",
    "ProviderSchemaError",
    "EmptyResultError",
    "PointInTimeUnavailableError",
    "StoreError",
    "StoreUnavailableError",
    "LookAheadError",
    "QualityGateError",
    "WarmerBusyError",
    "PortfolioInterrupted",
    "QuantdbWarning",
    "StaleDataWarning",
    "StoreUnavailableWarning",
    "SchemaDriftWarning",
    "SyntheticDataWarning",
    "CalendarBoundsWarning",
    "CacheRepairedWarning",
    "LegacyCacheWarning",
    "PartialDataWarning",
    "SymbolsSkippedWarning",
    "WaitWarning",
    "MarketClosedWarning",
    "QualityWarning",
]


def _fmt(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


class QuantdbError(Exception):
    """Base of every quantdb_lab error."""

    def __init__(
        self,
        reason: str,
        *,
        symbol: str | None = None,
        dataset: str | None = None,
        start: date | None = None,
        end: date | None = None,
        mode: str | None = None,
    ) -> None:
        self.reason = reason
        self.symbol = symbol
        self.dataset = dataset
        self.start = start
        self.end = end
        self.mode = mode
        super().__init__(self._message())

    def _context(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "dataset": self.dataset,
            "start": self.start,
            "end": self.end,
            "mode": self.mode,
        }

    def _message(self) -> str:
        parts = [f"{k}={_fmt(v)}" for k, v in self._context().items() if v is not None]
        return f"{self.reason} ({', '.join(parts)})" if parts else self.reason


class InvalidRequestError(QuantdbError, ValueError):
    """The caller asked for something that cannot be served as asked."""


class InvalidSymbolError(InvalidRequestError):
    """A symbol that is malformed or names no known security."""


class InvalidDateRangeError(InvalidRequestError):
    """A start after the end, an unparseable date, a range wholly in the future."""


class ProviderError(QuantdbError):
    """The upstream data source failed."""


class ProviderUnavailableError(ProviderError):
    """The upstream could not be reached or refused; ``retryable`` says whether trying again may help.

    ``kind`` says how it failed, for the breaker and for the user: ``"unreachable"`` (no connection could be
    made at all: name resolution, refused, no route; trying again at once will not help), ``"ban"`` (the upstream
    answered with a refusal: HTTP 403/429/456, a captcha page, a dropped connection; later, not now),
    ``"timeout"`` (no answer within the deadline), or ``""``. ``host`` names the host concerned, when known.
    """

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool = True,
        retry_at: datetime | None = None,
        kind: str = "",
        host: str | None = None,
        **context: Any,
    ) -> None:
        self.retryable = retryable
        self.retry_at = retry_at
        self.kind = kind
        self.host = host
        super().__init__(reason, **context)

    def _message(self) -> str:
        message = super()._message()
        if self.retry_at is not None:
            message += f"; next attempt allowed at {self.retry_at.isoformat(timespec='seconds')}"
        return message


class ProviderSchemaError(ProviderError):
    """The upstream answered with columns we do not recognise (akshare or the site changed)."""

    def __init__(self, reason: str, *, columns: list[str] | None = None, **context: Any) -> None:
        self.columns = columns or []
        super().__init__(reason, **context)

    def _message(self) -> str:
        message = super()._message()
        if self.columns:
            message += f"; columns received: {self.columns}"
        return message


class SourceMismatchError(ProviderError):
    """Two upstream sources disagree where they overlap, and no source agrees with the stored rows: the rows
    are not mixed. ``issues`` holds the quality issue rows (``quality.issues.ISSUES``) naming both sources."""

    def __init__(self, reason: str, *, issues: Any = None, **context: Any) -> None:
        self.issues = issues
        super().__init__(reason, **context)


class EmptyResultError(ProviderError):
    """No rows exist for what was asked (unknown symbol, before listing, a suspension covering the range)."""


class PointInTimeUnavailableError(EmptyResultError):
    """What was asked is unknown at that point in time: before the first captured snapshot (index members are
    served by the upstream only as of today, so history starts when the collector first stored a list)."""


class StoreError(QuantdbError):
    """The local or shared store could not be read or written."""


class StoreUnavailableError(StoreError):
    """The shared object store kept failing (throttling, timeouts, dropped connections) after the retries.

    ``retryable`` is True for faults that may pass (a 503 SlowDown, a timeout), False for refusals (bad
    credentials, a missing bucket, a store without conditional writes).
    """

    def __init__(self, reason: str, *, retryable: bool = True, **context: Any) -> None:
        self.retryable = retryable
        super().__init__(reason, **context)


class LookAheadError(QuantdbError):
    """A read reached past the point-in-time cutoff ``as_of`` of the active mode."""


class WarmerBusyError(QuantdbError):
    """Another cache warmer (this kernel's, another kernel's or cron's) runs on this cache directory; one at a
    time keeps warming within one share of the upstream's rate limit."""


class QualityGateError(QuantdbError):
    """Data scored below the active mode's quality threshold where the mode enforces it; ``report`` has why."""

    def __init__(self, reason: str, *, report: Any = None, score: float | None = None,
                 threshold: float | None = None, **context: Any) -> None:  # fmt: skip
        self.report = report
        self.score = score
        self.threshold = threshold
        super().__init__(reason, **context)

    def _message(self) -> str:
        message = super()._message()
        if self.score is not None and self.threshold is not None:
            message += f"; quality score {self.score:.5f} < threshold {self.threshold}"
        return message


class PortfolioInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a kernel interrupt) during ``lab.portfolio``: ``.result`` holds everything fetched so far.

    A KeyboardInterrupt, not a QuantdbError, so ``except Exception`` never swallows an interrupt; in a notebook
    the partial result is ``sys.last_value.result`` after the cell stops.
    """

    def __init__(self, result: Any) -> None:
        self.result = result
        super().__init__(f"interrupted: {result!r}; the partial result is this exception's .result")


class QuantdbWarning(UserWarning):
    """Base of every quantdb_lab warning."""


class StaleDataWarning(QuantdbWarning):
    """Cached data was served because the upstream failed and the mode allows stale data."""


class StoreUnavailableWarning(StaleDataWarning):
    """The shared (team) store could not be reached: the local cache was served, or a fetch was kept only
    locally; what the team's store holds beyond it was not seen. A StaleDataWarning, so filters on it apply."""


class SchemaDriftWarning(QuantdbWarning):
    """The upstream added columns we do not know; they were dropped."""


class SyntheticDataWarning(QuantdbWarning):
    """Data came from a simulated or synthesised source, not from the market."""


class CalendarBoundsWarning(QuantdbWarning):
    """A date lies past the bundled exchange calendar; the provider's trade dates were used instead."""


class CacheRepairedWarning(QuantdbWarning):
    """A cache file, a compacted segment or the catalog did not match what was written (checksum, row count,
    invariants) or could not be read: it was set aside and the data is fetched again or rebuilt from the files."""


class LegacyCacheWarning(QuantdbWarning):
    """An older cache layout without the data's source in its keys was found and set aside, never read: it
    could hold simulated rows that would be served as real."""


class PartialDataWarning(QuantdbWarning):
    """The upstream answered with fewer sessions than the calendar has in the range (or none at all): what came
    was served, and the missing sessions are asked for again on a later read until an answer confirms them."""


class SymbolsSkippedWarning(QuantdbWarning):
    """A many-symbol read returned what exists and left out symbols that were empty in the range, unknown or
    failed to fetch; ``skipped`` maps each to why (with a "did you mean" where one is near). ``strict=True``
    raises the first such error instead."""

    def __init__(self, message: str, skipped: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.skipped = dict(skipped or {})


class WaitWarning(QuantdbWarning):
    """A call has been waiting for a while on something another process holds (an upstream permit, a team-store
    lease): the message says what, who holds it and how long the wait can last at most."""


class MarketClosedWarning(QuantdbWarning):
    """Live quotes were asked for outside trading hours with no snapshot taken yet: an empty frame is returned
    and the message says when the next session opens (and that ``realtime.replay`` runs a simulated one now)."""


class CorrectedDataWarning(QuantdbWarning):
    """Rows a read serves were corrected as they entered the cache (a volume unit switch, ``loader.units``), said
    where the result has no provenance to list it in (``lab.scan``); ``symbols`` maps each series to the days."""

    def __init__(self, message: str, symbols: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.symbols = dict(symbols or {})


class QualityWarning(QuantdbWarning):
    """Data scored below the active mode's quality threshold where the mode only warns; ``report`` has why."""

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report

