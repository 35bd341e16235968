"""Failover between the sources of daily bars, and which source served which sessions of a series.

``fetch_first`` tries a symbol's sources (``providers.fetchers.SourceFetcher``, in the provider's order, or
with the one ``preferring`` names first) each through ``call(host_family, fetch, ...)``, i.e. under that
source's own rate limit, breaker and retries. It moves on to the next source when one fails as an upstream
(``ProviderUnavailableError``: a ban such as HTTP 403/456 or a captcha page, a body that is not the data,
repeated resets, an outage, a timeout, or its breaker refusing at once while open) or answers in a changed format
(``ProviderSchemaError``), or answers nothing where sessions were expected (then the next source confirms it);
an invalid request is raised at once. A source whose breaker is open costs nothing
(refused without a call) and comes back by itself: it is tried first again on the next fetch, and the breaker
lets its probe through once the cool-down ends.

Before rows of a source are merged next to stored rows another source served, the stored neighbours are
fetched again from the new source (``span`` widens its range) and compared (``check``): a disagreement
becomes a quality issue naming both sources and the next source is tried; if none agrees the fetch fails with
``SourceMismatchError``. Sources are never mixed unchecked.

``runs`` (stored in ``SeriesMeta.sources``) are ``(source, first day, last day)`` triples, day numbers, ordered
and disjoint: the series' provenance by session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from quantdb_lab.domain.calendar import from_day_number
from quantdb_lab.errors import ProviderSchemaError, ProviderUnavailableError, SourceMismatchError
from quantdb_lab.providers.fetchers import SourceFetcher

Run = tuple[str, int, int]
_preferred: ContextVar[str | None] = ContextVar("quantdb_preferred_source", default=None)


@contextmanager
def preferring(name: str | None) -> Iterator[None]:
    """Within the block (this thread or task), try the source called ``name`` first (the portfolio spreads
    its workers over the sources this way)."""
    token = _preferred.set(name)
    try:
        yield
    finally:
        _preferred.reset(token)


def ordered(sources: Sequence[SourceFetcher]) -> list[SourceFetcher]:
    name = _preferred.get()
    first = [s for s in sources if s.name == name]
    return first + [s for s in sources if s.name != name]


@dataclass(frozen=True, slots=True)
class Served:
    frame: pl.DataFrame
    source: SourceFetcher
    passed_over: tuple[tuple[str, str], ...]  # (source, why) of every source tried before it
    issues: pl.DataFrame | None = None  # cross-check disagreements met on the way


def moves_on(exc: BaseException) -> bool:
    """Whether another source may serve where this one failed."""
    return isinstance(exc, (ProviderUnavailableError, ProviderSchemaError))


def fetch_first(
    sources: Sequence[SourceFetcher],
    call: Callable[..., Any],
    symbol: Any,
    start: date,
    end: date,
    *,
    span: Callable[[SourceFetcher], tuple[date, date]] | None = None,
    check: Callable[[SourceFetcher, pl.DataFrame], pl.DataFrame | None] | None = None,
    expect_rows: bool = False,
) -> Served:
    """The first source's answer that is not a failure (see the module docstring). With ``expect_rows`` (the
    calendar has sessions in the range), an empty answer is checked with the next source once: an empty body
    where data is expected is how some refusals look; two empty answers mean there is nothing."""
    passed: list[tuple[str, str]] = []
    failures: list[BaseException] = []
    issues: list[pl.DataFrame] = []
    empty: Served | None = None
    for source in ordered(sources):
        first, last = span(source) if span is not None else (start, end)
        try:
            frame = call(source.host_family, source.fetch, symbol, first, last)
        except Exception as exc:
            if not moves_on(exc):
                raise
            failures.append(exc)
            passed.append((source.name, _short(exc)))
            continue
        if frame.is_empty() and expect_rows:
            if empty is not None:
                return empty  # a second source has nothing either
            empty = Served(frame, source, tuple(passed))
            passed.append((source.name, "an empty answer where sessions were expected"))
            continue
        found = check(source, frame) if check is not None else None
        if found is not None and found.height:
            issues.append(found)
            passed.append((source.name, f"disagrees with the stored rows on {found.height} sessions"))
            continue
        return Served(frame, source, tuple(passed), pl.concat(issues) if issues else None)
    if empty is not None:
        return empty
    if issues:  # some answered, none agreed: nothing is mixed
        raise SourceMismatchError(
            "no source agrees with the stored rows: " + "; ".join(f"{n}: {w}" for n, w in passed),
            issues=pl.concat(issues), symbol=getattr(symbol, "canonical", str(symbol)), dataset="daily_bars",
        )  # fmt: skip
    raise _best(failures, passed)


def serve(sources: Sequence[SourceFetcher], call: Callable[..., Any], symbol: Any, start: date, end: date, *,
          stats: Any, junctions: Any = None, expect_rows: bool = False) -> tuple[pl.DataFrame, str]:  # fmt: skip
    """``fetch_first`` for a loader: the rows and the name of the source that served them, counted in ``stats``
    with the cross-check disagreements met on the way. ``junctions``: a ``loader.crosscheck.CrossChecks``
    against the stored rows (None: nothing stored next to the fetch). One path for ``lab.bars`` and ``lab.read``."""
    served = fetch_first(sources, call, symbol, start, end,
                         span=None if junctions is None else junctions.span,
                         check=None if junctions is None else junctions.check, expect_rows=expect_rows)  # fmt: skip
    stats.count_served(served.source.name)
    if served.issues is not None:
        stats.record_source_issues(served.issues)
    return served.frame, served.source.name


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160]


def _best(failures: list[BaseException], passed: list[tuple[str, str]]) -> BaseException:
    """The error to report when every source failed: the one whose source comes back soonest (its
    ``retry_at``), else the first; it says what each source did."""
    timed = [e for e in failures if getattr(e, "retry_at", None) is not None]
    chosen = min(timed, key=lambda e: e.retry_at) if timed else failures[0]  # type: ignore[union-attr]
    chosen.add_note("every source failed: " + "; ".join(f"{n}: {w}" for n, w in passed))
    return chosen


# -- provenance by session ---------------------------------------------------------------------------------
def with_run(runs: Sequence[Run], name: str, first: int, last: int) -> tuple[Run, ...]:
    """``runs`` with ``[first, last]`` now served by ``name`` (later rows replace earlier ones), merged."""
    kept: list[Run] = []
    for source, a, b in runs:
        if b < first or a > last:
            kept.append((source, a, b))
            continue
        if a < first:
            kept.append((source, a, first - 1))
        if b > last:
            kept.append((source, last + 1, b))
    kept.append((name, first, last))
    kept.sort(key=lambda r: r[1])
    merged: list[Run] = []
    for run in kept:
        if merged and merged[-1][0] == run[0] and merged[-1][2] + 1 >= run[1]:
            merged[-1] = (run[0], merged[-1][1], max(merged[-1][2], run[2]))
        else:
            merged.append(run)
    return tuple(merged)


def source_at(runs: Sequence[Run], day: int, default: str) -> str:
    return next((name for name, a, b in runs if a <= day <= b), default)


def served_by(runs: Sequence[Run], start: date, end: date) -> tuple[tuple[str, date, date], ...]:
    """The runs overlapping ``[start, end]``, clipped to it, as dates."""
    from quantdb_lab.domain.calendar import day_number

    lo, hi = day_number(start), day_number(end)
    return tuple((n, from_day_number(max(a, lo)), from_day_number(min(b, hi))) for n, a, b in runs
                 if b >= lo and a <= hi)  # fmt: skip
