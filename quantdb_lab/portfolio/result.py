"""``PortfolioResult``: the long frame, a status row per symbol, timings, weights, and ``retry()``."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from quantdb_lab.domain.schema import BARS
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.loader.plan import BarRequest
from quantdb_lab.loader.provenance import ResultProvenance, bind
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.portfolio.performance import compute_performance

FROM_CACHE = "from_cache"
FETCHED = "fetched"
FAILED = "failed"
STATUSES = (FROM_CACHE, FETCHED, FAILED)

STATUS_SCHEMA = {
    "symbol": pl.String,
    "status": pl.String,
    "rows": pl.Int64,
    "upstream_calls": pl.Int64,
    "error": pl.String,
    "seconds": pl.Float64,
}


@dataclass(frozen=True, slots=True)
class SymbolOutcome:
    """How one symbol of a portfolio ended. ``upstream_calls`` is None for a failure (the throttle's retries
    are counted in ``lab.stats()['throttle']``, not per symbol)."""

    symbol: str
    status: str
    rows: int = 0
    upstream_calls: int | None = None
    error: str | None = None
    seconds: float = 0.0
    retryable: bool = False  # a later attempt may succeed (transient failure, open breaker, interrupt)
    retry_at: datetime | None = None  # the breaker's earliest next attempt, when it refused


#: ``refetch(requests, progress=..., concurrency=...) -> PortfolioResult`` for the same Lab and mode.
Refetch = Callable[..., "PortfolioResult"]


class PortfolioResult:
    """What ``lab.portfolio`` returns; ``frame`` holds every symbol that succeeded, in the order asked."""

    def __init__(
        self,
        *,
        requests: Sequence[BarRequest],
        outcomes: Mapping[str, SymbolOutcome],
        frames: Mapping[str, pl.DataFrame],
        provenance: Mapping[str, Provenance],
        errors: Mapping[str, BaseException],
        timings: Mapping[str, float],
        weights: Mapping[str, float] | None = None,
        interrupted: bool = False,
        refetch: Refetch | None = None,
        dataset: str = "bars",
        notes: Sequence[str] = (),
    ) -> None:
        self.requests = tuple(requests)
        self.symbols = tuple(r.symbol.canonical for r in self.requests)
        self.outcomes = dict(outcomes)
        self.frames = dict(frames)
        self.provenance = dict(provenance)
        self.errors = dict(errors)
        self.timings = dict(timings)
        self.weights = dict(weights) if weights is not None else None
        self.interrupted = interrupted
        self.dataset = dataset  # the registered dataset read ("bars", or a minute length's)
        self.notes = list(notes)  # what the frame's provenance says besides failures (a quality warning)
        self._refetch = refetch
        self._frame: pl.DataFrame | None = None
        self.events: dict[str, pl.DataFrame] = {}  # lab.portfolio(events=...): the portfolio's event-list rows
        self.event_errors: dict[str, str] = {}

    # -- views -------------------------------------------------------------------------------------------
    @property
    def frame(self) -> pl.DataFrame:
        """The long frame of every symbol that succeeded (``symbol date open ...``), in the order asked; its
        ``frame.quantdb.provenance`` lists each symbol's series and the failed ones as left out."""
        if self._frame is None:
            parts = [self.frames[s] for s in self.symbols if s in self.frames and self.frames[s].height]
            frame = pl.concat(parts, how="vertical", rechunk=True) if parts else pl.DataFrame(schema=BARS)
            origins = tuple(self.provenance[s] for s in self.symbols if s in self.provenance)
            failed = {s: self.outcomes[s].error or "failed" for s in self.failed}
            said = ((f"{len(failed)} of {len(self.symbols)} symbols failed" if failed else "")
                    + ("; interrupted: .retry() fetches the rest" if self.interrupted else "")).lstrip("; ")
            said = ((said,) if said else ()) + tuple(self.notes)
            self._frame = bind(frame, ResultProvenance(self.dataset, origins, failed, said))
        return self._frame

    @property
    def status(self) -> pl.DataFrame:
        """One row per symbol: ``symbol status rows upstream_calls error seconds``."""
        rows = [self.outcomes[s] for s in self.symbols if s in self.outcomes]
        return pl.DataFrame(
            [{k: getattr(o, k) for k in STATUS_SCHEMA} for o in rows], schema=STATUS_SCHEMA, orient="row"
        )

    @property
    def failed(self) -> list[str]:
        return [s for s in self.symbols if self.outcomes.get(s, _MISSING).status == FAILED]

    @property
    def counts(self) -> dict[str, int]:
        found = {status: 0 for status in STATUSES}
        for symbol in self.symbols:
            found[self.outcomes.get(symbol, _MISSING).status] += 1
        return found

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted

    def performance(self) -> pl.DataFrame:
        """Normalised closes of the members and the weighted portfolio (``date, series, value``)."""
        return compute_performance({s: self.frames[s] for s in self.symbols if s in self.frames}, self.weights)

    def served_by(self) -> pl.DataFrame:
        """Which upstream source served which sessions of each symbol: ``symbol, source, first, last`` (a
        symbol served by two sources has two rows; rows stored before sources were recorded have none)."""
        rows = [(s, name, a, b) for s in self.symbols if s in self.provenance
                for name, a, b in self.provenance[s].served_by]  # fmt: skip
        return pl.DataFrame(rows, schema={"symbol": pl.String, "source": pl.String, "first": pl.Date, "last": pl.Date},
                            orient="row")  # fmt: skip

    def sources(self) -> dict[str, int]:
        """How many symbols each source served at least one session of."""
        found = self.served_by()
        return dict(sorted(found.group_by("source").agg(pl.col("symbol").n_unique()).iter_rows()))

    # -- actions -----------------------------------------------------------------------------------------
    def refuse(self, symbols: Sequence[str], error: BaseException) -> None:
        """Leave ``symbols`` out as failed for ``error`` (the quality gate's refusal): not retryable, since a
        refetch serves the same rows."""
        for symbol in symbols:
            if symbol not in self.outcomes:
                continue
            self.outcomes[symbol] = SymbolOutcome(symbol, FAILED, error=f"{type(error).__name__}: {error}",
                                                  seconds=self.outcomes[symbol].seconds)  # fmt: skip
            self.errors[symbol] = error
            self.frames.pop(symbol, None)
            self.provenance.pop(symbol, None)
        self._frame = None

    def retry(self, *, progress: Any = None, concurrency: int | Mapping[str, int] | None = None) -> PortfolioResult:
        """Fetch only the failed symbols again; a new result merging them with what already succeeded."""
        failed = set(self.failed)
        if not failed:
            return self
        if self._refetch is None:
            raise InvalidRequestError("this result was not made by a fetcher and cannot be retried")
        again = self._refetch([r for r in self.requests if r.symbol.canonical in failed], progress=progress, concurrency=concurrency)
        return self.merged_with(again)

    def merged_with(self, newer: PortfolioResult) -> PortfolioResult:
        """This result with ``newer``'s symbols replacing their rows (used by ``retry``)."""
        def take(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
            kept = {s: v for s, v in mine.items() if s not in newer.symbols}
            return {**kept, **theirs}

        timings = {f"retry_{k}": v for k, v in newer.timings.items()}
        return PortfolioResult(
            requests=self.requests,
            outcomes=take(self.outcomes, newer.outcomes),
            frames=take(self.frames, newer.frames),
            provenance=take(self.provenance, newer.provenance),
            errors=take(self.errors, newer.errors),
            timings={**self.timings, **timings},
            weights=self.weights,
            interrupted=newer.interrupted,
            refetch=self._refetch,
            dataset=self.dataset,
            notes=newer.notes,
        )

    # -- display -----------------------------------------------------------------------------------------
    def summary(self) -> str:
        counts = self.counts
        text = (
            f"{len(self.symbols)} symbols: {counts[FROM_CACHE]} from cache, {counts[FETCHED]} fetched, "
            f"{counts[FAILED]} failed; {self.frame.height} rows in {self.timings.get('total', 0.0):.2f} s"
        )
        served = self.sources()
        if len(served) > 1:
            text += "; served by " + ", ".join(f"{name} {n}" for name, n in served.items())
        return text + (" (interrupted: .retry() fetches the rest)" if self.interrupted else "")

    def failure_reasons(self, *, limit: int = 10) -> list[str]:
        """One line per distinct reason of failure, with the symbols it stopped: ``"600519.SH, 000001.SZ:
        ProviderUnavailableError: could not reach ..."`` (the ``limit`` commonest; a last line counts the rest)."""
        groups: dict[str, list[str]] = {}
        for symbol in self.failed:
            error = self.errors.get(symbol)
            if error is not None:
                why = f"{type(error).__name__}: {getattr(error, 'reason', None) or error}"
            else:
                why = self.outcomes.get(symbol, _MISSING).error or "failed"
            groups.setdefault(why, []).append(symbol)
        ranked = sorted(groups.items(), key=lambda item: -len(item[1]))
        lines = [f"{_symbols(symbols)}: {why}" for why, symbols in ranked[:limit]]
        if len(ranked) > limit:
            lines.append(f"... {len(ranked) - limit} more reasons for {sum(len(s) for _, s in ranked[limit:])} symbols")
        return lines

    def __repr__(self) -> str:
        text = f"PortfolioResult({self.summary()})"
        reasons = self.failure_reasons()
        if reasons:
            text += "\nfailed (.retry() fetches only these):\n" + "\n".join(f"  {line}" for line in reasons)
        return text

    def _repr_html_(self) -> str:
        failed = self.status.filter(pl.col("status") == FAILED)
        body = f"<p><b>PortfolioResult</b>: {html.escape(self.summary())}</p>"
        if failed.height:
            body += "<p>failed (<code>.retry()</code> fetches only these):</p>" + status_html(failed)
        return body


_MISSING = SymbolOutcome(symbol="", status=FAILED, error="not attempted", retryable=True)


def _symbols(symbols: Sequence[str], shown: int = 8) -> str:
    head = ", ".join(symbols[:shown])
    return head + (f" and {len(symbols) - shown} more" if len(symbols) > shown else "")


def status_html(status: pl.DataFrame, *, limit: int = 200) -> str:
    """A plain HTML table of a status frame (escaped; no styling that Voila or JupyterLab would strip)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in status.columns)
    rows = []
    for row in status.head(limit).iter_rows():
        cells = "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row)
        rows.append(f"<tr>{cells}</tr>")
    more = f"<p>... {status.height - limit} more rows</p>" if status.height > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
