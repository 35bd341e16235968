"""Data quality: pure checks of daily bars, a score, safe corrections and learning from feedback.

Frames in, reports out: nothing here reads or writes files or calls a provider (``store.feedback`` keeps the
decisions, ``Lab.quality`` wires it to the cache). One module per family of checks:

``bars``         OHLC invariants, positive prices
``limits``       daily price limits by board, date and ST status
``continuity``   reported change vs close-to-close: corporate actions, rows of another security, mismatches
``sessions``     missing sessions vs the calendar, told apart from suspensions
``volume``       unit switches, turnover vs volume, volume spikes, stale bars, rows without trades
``outliers``     robust (statsmodels MAD) outliers in returns and volume
``corrections``  pct_change vs change, and building ``.corrected``
``score``        the scoring formula; ``feedback`` decisions and adaptive thresholds; ``inject`` test faults
"""

from __future__ import annotations

from quantdb_lab.quality.feedback import adapt_thresholds, apply_decisions, decisions_frame
from quantdb_lab.quality.params import QualityParams
from quantdb_lab.quality.report import QualityReport, QualityScore, check_quality

__all__ = [
    "QualityParams",
    "QualityReport",
    "QualityScore",
    "adapt_thresholds",
    "apply_decisions",
    "check_quality",
    "decisions_frame",
]
