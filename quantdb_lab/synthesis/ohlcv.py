"""Open, high, low, volume (and amount, turnover, changes) around synthetic closes, from the series' own days.

The shape of a day comes from the real context rows: the overnight move ``log(open / previous close)``, the
upper shadow ``log(high / max(open, close))`` and the lower shadow ``log(min(open, close) / low)``. With
``draw="mean"`` their medians are used, with ``draw="sample"`` one real day's triple is drawn (kept together
so the shape stays realistic). Shadows are clipped at zero, so high >= max(open, close) >= min(open, close)
>= low > 0 holds by construction whatever the context contains. Volume is the context median or a draw from
the context's volumes; amount and turnover follow from the context's own ratios, so units stay the series'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True, slots=True)
class DayShapes:
    overnight: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    volume: np.ndarray
    amount_ratio: float | None  # amount / (volume * close)
    turnover_ratio: float | None  # turnover / volume


def _ratio(context: pl.DataFrame, numerator: str, denominator: pl.Expr) -> float | None:
    if numerator not in context.columns or "volume" not in context.columns:
        return None
    values = context.select((pl.col(numerator) / denominator).alias("r"))["r"]
    values = values.filter(values.is_finite() & (values > 0)) if values.len() else values
    return float(values.median()) if values.len() else None


def day_shapes(context: pl.DataFrame) -> DayShapes:
    """Shapes of the real days in ``context`` (sorted by date, consecutive rows are consecutive bars)."""
    frame = context.drop_nulls(["open", "high", "low", "close"]).filter(pl.col("close") > 0)
    prev = frame["close"].shift(1)
    top = pl.max_horizontal("open", "close")
    bottom = pl.min_horizontal("open", "close")
    shapes = frame.select(
        (pl.col("open") / prev).log().alias("overnight"),
        (pl.col("high") / top).log().clip(lower_bound=0.0).alias("upper"),
        (bottom / pl.col("low")).log().clip(lower_bound=0.0).alias("lower"),
    ).slice(1)
    shapes = shapes.filter(pl.all_horizontal(pl.all().is_finite()))
    volume = np.array([])
    if "volume" in context.columns:
        v = context["volume"].drop_nulls()
        volume = v.filter(v > 0).to_numpy().astype(float)
    return DayShapes(
        overnight=shapes["overnight"].to_numpy(),
        upper=shapes["upper"].to_numpy(),
        lower=shapes["lower"].to_numpy(),
        volume=volume,
        amount_ratio=_ratio(context, "amount", pl.col("volume") * pl.col("close")),
        turnover_ratio=_ratio(context, "turnover", pl.col("volume")),
    )


def _pick(values: np.ndarray, draw: str, rng: np.random.Generator | None, count: int) -> np.ndarray:
    if not len(values):
        return np.zeros(count)
    if draw == "sample" and rng is not None:
        return values[rng.integers(0, len(values), size=count)]
    return np.full(count, float(np.median(values)))


def build_bars(
    closes: np.ndarray,
    prev_closes: np.ndarray,
    shapes: DayShapes,
    *,
    draw: str,
    rng: np.random.Generator | None,
) -> dict[str, np.ndarray]:
    """Columns of synthetic bars with the given closes; ``prev_closes`` are each day's previous close."""
    n = len(closes)
    if draw == "sample" and rng is not None and len(shapes.overnight):
        days = rng.integers(0, len(shapes.overnight), size=n)  # one real day's shape, kept together
        overnight, upper, lower = shapes.overnight[days], shapes.upper[days], shapes.lower[days]
    else:
        overnight, upper, lower = (_pick(a, "mean", None, n) for a in (shapes.overnight, shapes.upper, shapes.lower))
    opens = prev_closes * np.exp(overnight)
    highs = np.maximum(opens, closes) * np.exp(np.maximum(upper, 0.0))
    lows = np.minimum(opens, closes) * np.exp(-np.maximum(lower, 0.0))
    volume = _pick(shapes.volume, draw, rng, n) if len(shapes.volume) else np.full(n, np.nan)
    columns = {"open": opens, "high": highs, "low": lows, "close": closes, "volume": volume}
    columns["amount"] = volume * closes * shapes.amount_ratio if shapes.amount_ratio else np.full(n, np.nan)
    columns["turnover"] = volume * shapes.turnover_ratio if shapes.turnover_ratio else np.full(n, np.nan)
    columns["pct_change"] = closes / prev_closes - 1.0
    columns["change"] = closes - prev_closes
    return columns


def invariants_hold(columns: dict[str, np.ndarray]) -> bool:
    """low <= open, close <= high; prices positive and finite; volume non-negative where known."""
    o, h, l, c = (columns[k] for k in ("open", "high", "low", "close"))
    prices = np.stack([o, h, l, c])
    volume = columns.get("volume", np.array([]))
    return bool(
        np.all(np.isfinite(prices))
        and np.all(prices > 0)
        and np.all(l <= np.minimum(o, c))
        and np.all(np.maximum(o, c) <= h)
        and np.all(volume[np.isfinite(volume)] >= 0)
    )
