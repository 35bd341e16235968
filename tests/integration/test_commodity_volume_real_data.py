"""Why futures bars are not judged for a volume unit switch (``Dataset.volume_units`` off for commodity_daily),
on Sina's real continuous-contract bars in ../shared/data: the A-share rule needs ``amount`` (the day's average
price per unit against the close) and futures bars carry none, and volume alone cannot tell a unit switch from a
real session: continuous-contract volume leaves 30x of its recent median on real days (contract rolls, thin
sessions), so a volume-only rule would "correct" real rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from quantdb_lab.domain.datasets import dataset
from quantdb_lab.domain.schema import COMMODITY_BARS

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "futures_macro" / "sina_futures_main"
pytestmark = pytest.mark.skipif(not (DATA / "SC0.csv").is_file(), reason="no shared data")


@pytest.mark.parametrize("code", ["SC0", "FU0", "BU0"])
def test_real_futures_volume_swings_past_any_unit_rule(code):
    bars = pl.read_csv(DATA / f"{code}.csv", try_parse_dates=True).sort("date")
    assert "amount" not in bars.columns and "amount" not in COMMODITY_BARS  # nothing to judge a unit by
    volume = bars["volume"].cast(pl.Float64)
    recent = volume.rolling_median(21, min_samples=5).shift(1)
    traded = (volume > 0) & (recent > 0)
    ratio = (volume / recent).filter(traded).to_numpy()
    # real sessions a shares-vs-lots rule (100x, or its inverse) would take for a unit switch
    assert int(np.sum((ratio > 30) | (ratio < 1 / 30))) >= 1
    assert not dataset("commodity_daily").volume_units
