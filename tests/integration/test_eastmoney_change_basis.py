"""Settled offline on the shared real data: in Eastmoney's unadjusted klines the change (and percent change) is
against the previous close, not against the ex-rights reference price, so ``close - change`` carries no factor
and ``AkshareProvider`` takes its factors from the dividend table (``factor_source = "actions"``).

Evidence: symbols that went ex-dividend between May and August in each of 2020-2024 (baostock's unadjusted bars,
where the exchange's preclose shows every ex-date) show no break at all in the unadjusted 2026 rows of
``akshare_em_daily`` (February to August) outside the rows of other securities and the 2026-01-27/28 quirk rows,
where a reference-based change would break once per ex-date. The live canary (tests/network) re-checks it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from quantdb_lab.domain.adjustment import factor_events
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider
from quantdb_lab.providers.replay import ReplayProvider
from quantdb_lab.quality import check_quality

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
pytestmark = pytest.mark.skipif(not (SHARED / "akshare_em_daily").is_dir() or not (SHARED / "baostock_csi300_daily").is_dir(),
                                reason="../shared/data is absent")  # fmt: skip


def summer_payers() -> list[str]:
    baostock = ReplayProvider(SHARED / "baostock_csi300_daily")
    payers = []
    for symbol in sorted(baostock.sets[0].files()):
        events = factor_events(baostock.fetch_daily_bars(parse_symbol(symbol), date(2020, 1, 1), date(2025, 4, 7)))
        years = {d.year for d in events["date"] if 5 <= d.month <= 8}
        if years >= {2020, 2021, 2022, 2023, 2024}:
            payers.append(symbol)
    return payers


def test_eastmoneys_unadjusted_change_is_against_the_previous_close():
    em = ReplayProvider(SHARED / "akshare_em_daily")
    payers = [s for s in summer_payers() if s in em.sets[0].files()]
    assert len(payers) >= 10
    breaks = 0
    for symbol in payers:
        bars = em.fetch_daily_bars(parse_symbol(symbol), date(2026, 2, 1), date(2026, 8, 31))
        foreign = check_quality(bars).issues.filter(pl.col("check") == "foreign_row")["date"]
        clean = bars.filter(~pl.col("date").is_in(foreign.implode()))
        rows = clean.with_columns(clean["close"].shift(1).alias("prev"), (clean["close"] - clean["change"]).alias("pre"))
        # the first row after rows of another security reports the lost day's close: not judged
        judged = rows.filter(~pl.col("date").is_in(_after(foreign, bars).implode()))
        breaks += judged.filter((pl.col("pre") - pl.col("prev")).abs() > 0.0051).height
    assert breaks == 0
    assert AkshareProvider.factor_source == "actions"


def _after(foreign: pl.Series, bars: pl.DataFrame) -> pl.Series:
    """The first row after each run of foreign rows (its reference is the lost day's close)."""
    marked = bars.with_columns(pl.col("date").is_in(foreign.implode()).alias("f"))
    return marked.filter(~pl.col("f") & pl.col("f").shift(1).fill_null(False))["date"]
