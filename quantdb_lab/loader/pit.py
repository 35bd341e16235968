"""Versions of a versioned dataset (``Dataset.version_key``): restatements are kept, never overwritten.

The upstream serves each report as it stands today, with its first announcement date and its last revision
(``update_date``). On the first fetch of a series a row is known from its announcement, or from its revision
when the upstream revised it (the original figures are gone upstream: the revised ones are never shown before
the revision, docs/point-in-time.md). On every later fetch a row whose key
is already stored with the same figures is dropped, and a row that is new or differs from the stored latest
version becomes a new version known from the later of its announcement (or the upstream's ``update_date``)
and the first session this fetch is about: what a backtest saw before that day never changes.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from quantdb_lab.domain.datasets import Dataset


def new_versions(dataset: Dataset, fresh: pl.DataFrame, old: pl.DataFrame | None, start: date) -> pl.DataFrame:
    """The rows of ``fresh`` (a whole answer, ``known_at`` = announcement) to store beside ``old``."""
    keys = list(dataset.version_key)
    revised = pl.when(pl.col("update_date") > pl.col("announcement_date")).then(pl.col("update_date"))
    if old is None or old.is_empty() or fresh.is_empty():
        return fresh.with_columns(pl.max_horizontal("announcement_date", revised).alias("known_at"))
    values = [c for c in fresh.columns if c not in (*keys, "symbol", "known_at", "update_date")]
    latest = old.sort("known_at").group_by(keys, maintain_order=True).last()
    joined = fresh.join(latest.select(*keys, *values), on=keys, how="left", suffix="__stored", nulls_equal=True)
    stored = pl.col(f"{values[0]}__stored").is_not_null() | pl.any_horizontal(
        pl.col(f"{v}__stored").is_not_null() for v in values)  # fmt: skip
    same = pl.all_horizontal(_equal(v) for v in values)
    changed = joined.filter(~(stored & same))
    since = pl.max_horizontal(pl.col("announcement_date"), revised, pl.lit(start))
    return changed.with_columns(since.alias("known_at")).select(fresh.columns)


def _equal(column: str) -> pl.Expr:
    a, b = pl.col(column), pl.col(f"{column}__stored")
    if column.endswith("_date") or column in ("report_period",):
        return a.eq_missing(b)
    return a.eq_missing(b) | ((a - b).abs() <= 1e-9 * pl.max_horizontal(a.abs(), b.abs()))
