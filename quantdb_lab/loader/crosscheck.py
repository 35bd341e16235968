"""Cross-checks where a fetch from one source meets stored rows another source served.

For one planned fetch, ``CrossChecks`` finds the stored sessions right before and right after it (up to
``OVERLAP`` each) and which source served them (``SeriesMeta.sources``; rows stored before sources were
recorded count as the provider's first source). A source other than those is asked for the neighbours too
(``span``), and its rows must agree with them (``check``, ``quality.sources.compare_sources``) before anything
of it is merged: sources are never mixed inside a series unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

import polars as pl

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.loader.failover import source_at
from quantdb_lab.providers.fetchers import SourceFetcher
from quantdb_lab.quality.sources import compare_sources
from quantdb_lab.store.series_store import SeriesMeta

OVERLAP: Final = 5  # stored sessions on each side compared with a new source


class CrossChecks:
    def __init__(self, sources: Sequence[SourceFetcher], meta: SeriesMeta, old: pl.DataFrame | None,
                 start: date, end: date) -> None:  # fmt: skip
        self.start, self.end = start, end
        self.decimals = {s.name: s.upstream.price_decimals for s in sources}
        self.neighbours: list[tuple[str, pl.DataFrame]] = []
        if old is None or old.is_empty():
            return
        primary = sources[0].name
        for part, edge in ((old.filter(pl.col("date") < start).tail(OVERLAP), -1),
                           (old.filter(pl.col("date") > end).head(OVERLAP), 0)):  # fmt: skip
            if part.is_empty():
                continue
            name = source_at(meta.sources, day_number(part["date"][edge]), primary)
            days = part["date"].map_elements(day_number, return_dtype=pl.Int64)
            same = pl.Series([source_at(meta.sources, int(d), primary) == name for d in days])
            self.neighbours.append((name, part.filter(same)))

    def others(self, source: SourceFetcher) -> list[tuple[str, pl.DataFrame]]:
        return [(n, f) for n, f in self.neighbours if n != source.name]

    def span(self, source: SourceFetcher) -> tuple[date, date]:
        """The range to ask ``source`` for: the fetch, widened over neighbours another source served."""
        frames = [f for _, f in self.others(source)]
        first = min([self.start, *(f["date"].min() for f in frames)])
        last = max([self.end, *(f["date"].max() for f in frames)])
        return first, last

    def check(self, source: SourceFetcher, frame: pl.DataFrame) -> pl.DataFrame | None:
        """Issue rows where ``frame`` disagrees with neighbours of another source (None: nothing to compare)."""
        found = [compare_sources(f, frame, ours_name=n, theirs_name=source.name,
                                 decimals=min(self.decimals.get(n, 2), self.decimals.get(source.name, 2)))
                 for n, f in self.others(source)]  # fmt: skip
        return pl.concat(found) if found else None
