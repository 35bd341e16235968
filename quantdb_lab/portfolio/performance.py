"""Normalised performance of a portfolio and its members: pure, frames in, a frame out."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

PORTFOLIO = "portfolio"  # the series name of the weighted whole (no symbol can be spelt like this)
SCHEMA = {"date": pl.Date, "series": pl.String, "value": pl.Float64}


def compute_performance(frames: Mapping[str, pl.DataFrame], weights: Mapping[str, float] | None = None) -> pl.DataFrame:
    """Long frame ``date, series, value``: each member's close divided by its close on the first date on which
    every member has a price (so all start at 1.0), and the buy-and-hold portfolio with ``weights`` as initial
    weights (equal when None; renormalised over the members that have data). A suspended member carries its
    last close forward. Empty when no member has data.
    """
    members = [s for s, f in frames.items() if f.height and (weights is None or weights.get(s, 0.0) >= 0)]
    if not members:
        return pl.DataFrame(schema=SCHEMA)
    wide = None
    for symbol in members:
        closes = frames[symbol].select("date", pl.col("close").cast(pl.Float64).alias(symbol))
        wide = closes if wide is None else wide.join(closes, on="date", how="full", coalesce=True)
    wide = wide.sort("date").with_columns(pl.col(members).forward_fill())
    wide = wide.filter(pl.all_horizontal(pl.col(members).is_not_null()))
    if wide.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    base = wide.row(0, named=True)
    normalised = wide.select("date", *[(pl.col(s) / base[s]).alias(s) for s in members])
    raw = {s: (1.0 if weights is None else float(weights.get(s, 0.0))) for s in members}
    total = sum(raw.values())
    share = {s: (w / total if total > 0 else 1.0 / len(members)) for s, w in raw.items()}
    normalised = normalised.with_columns(pl.sum_horizontal([pl.col(s) * share[s] for s in members]).alias(PORTFOLIO))
    return (
        normalised.unpivot(index="date", on=[PORTFOLIO, *members], variable_name="series", value_name="value")
        .select(pl.col("date"), pl.col("series").cast(pl.String), pl.col("value").cast(pl.Float64))
    )
