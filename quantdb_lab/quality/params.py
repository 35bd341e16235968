"""Thresholds of the checks, with per-security multipliers learnt from feedback (see ``quality.feedback``).

Every threshold below is a tolerance: a multiplier above 1 makes its check more lenient for that security.
Defaults were set on the shared akshare sample and the simulated market (``benchmarks/bench_quality.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

# Checks whose threshold feedback may widen, and the parameter each one scales.
TUNABLE: dict[str, str] = {
    "return_outlier": "return_z",
    "volume_outlier": "volume_z",
    "volume_spike": "spike_ratio",
    "change_mismatch": "break_tol",
    "price_limit": "limit_slack",
    "stale_bar": "stale_run",
}


@dataclass(frozen=True, slots=True)
class QualityParams:
    break_tol: float = 0.012  # |ref / previous close - 1| above this (plus one tick) is a break in the series
    limit_slack: float = 0.002  # relative slack over the exchange limit, on top of one tick of rounding
    first_free_sessions: int = 1  # sessions after listing without a limit when the board rule is not known
    foreign_max_run: int = 25  # longest run of rows of another security we look for
    float_tol: float = 0.12  # |log(volume / turnover) vs its rolling median| marking another security
    return_z: float = 7.0  # robust z of a one-day spike (that reverts) in log returns
    volume_z: float = 5.0  # robust z of log volume (both ways) against the security's own year
    spike_ratio: float = 10.0  # volume / its local level (centred 41-session median of log volume)
    spike_z: float = 5.0  # ... and robust sigmas (local MAD of log-volume residuals) above that level
    stale_run: int = 1  # identical bars in a row beyond the first that count as stale
    unit_band: tuple[float, float] = (0.003, 0.03)  # (amount/volume)/close vs its rolling median: x100 switch
    foreign: str = "drop"  # "drop" rows of another security from ``.corrected`` or only "flag" them
    multipliers: dict[tuple[str, str], float] = field(default_factory=dict)  # (symbol, check) -> widening

    def with_multipliers(self, multipliers: dict[tuple[str, str], float]) -> QualityParams:
        return replace(self, multipliers={**self.multipliers, **multipliers})

    def scale(self, check: str) -> pl.Expr:
        """Per-row multiplier of ``check``'s threshold (1.0 unless feedback widened it for the row's symbol)."""
        table = {symbol: m for (symbol, name), m in self.multipliers.items() if name == check}
        if not table:
            return pl.lit(1.0)
        return pl.col("symbol").replace_strict(table, default=1.0, return_dtype=pl.Float64)
