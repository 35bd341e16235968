"""The last warm results of single-series loads, kept while nothing they were computed from can have changed.

A warm read plans, slices and (for qfq or hfq) adjusts frames already in memory: tens of microseconds of small
steps on every repeat of the same cell. A result is reused only for the same request and mode, the same
session state (the latest session and whether it is final) and the same catalog version (which changes with
any write to the namespace, from any process). So what is kept is only a result with nothing open: no fetch,
no provisional bar (its freshness depends on the clock), not stale, and adjusted, if at all, by the factor
events the series' metadata carries (a dividend table read at load time is outside the catalog's version).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from quantdb_lab.loader.stats import Provenance

# kept per (request, mode), least recently used out (store.memory.MemoryLayer, the bound in bytes): a notebook's
# working set of repeated cells; a whole-market pass goes through the batch, not here
BUDGET_BYTES = 64 * 2**20


@dataclass(frozen=True, slots=True)
class WarmResult:
    frame: pl.DataFrame
    provenance: Provenance
    warn_partial: str  # the PartialDataWarning the load raised ("" none), raised again on each reuse
