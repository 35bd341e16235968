"""A read the quality gate refused stays refused (integrity): the rows are cached when the gate judges them, and
a later warm read of them (in the same Lab, or a new one on the same cache directory, as another kernel would
be) must not serve them without a word. Feedback dismissing the issues lifts the refusal."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from quantdb_lab.errors import QualityGateError, QualityWarning
from quantdb_lab.lab import Lab
from tests.support.sim import make_lab

pytestmark = pytest.mark.filterwarnings("ignore::quantdb_lab.errors.SyntheticDataWarning")
RANGE = {"start": "2025-03-03", "end": "2025-05-30"}


def break_ohlc(provider, day: str = "2025-04-10") -> None:
    """The upstream's answer for 600519 carries rows whose high lies below their low."""
    real = provider.fetch_daily_bars

    def fetch(symbol, start, end, **options):
        frame = real(symbol, start, end, **options)
        if symbol.code != "600519":
            return frame
        bad = pl.col("date") >= pl.lit(day).str.to_date()
        return frame.with_columns(pl.when(bad).then(pl.col("low") * 0.9).otherwise(pl.col("high")).alias("high"))

    provider.fetch_daily_bars = fetch


def strict(lab: Lab) -> Lab:
    return lab.using(lab.mode.with_(on_quality_fail="raise"))


def test_a_refused_series_is_refused_again_when_read_warm(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    break_ohlc(provider)
    with pytest.raises(QualityGateError, match="ohlc_invariant"):
        strict(lab).bars("600519", **RANGE)
    calls = provider.calls["fetch_daily_bars"]
    with pytest.raises(QualityGateError, match="ohlc_invariant"):
        strict(lab).bars("600519", **RANGE)
    assert provider.calls["fetch_daily_bars"] == calls  # judged from the cache, not fetched again
    with pytest.raises(QualityGateError, match="ohlc_invariant"):  # another kernel on the same cache
        strict(Lab(lab.cache_dir, provider=provider, clock=lab.clock)).bars(["600519", "000001.SZ"], **RANGE)


def test_a_warning_mode_warns_again_and_clean_series_stay_silent(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    break_ohlc(provider)
    with pytest.warns(QualityWarning):
        lab.bars(["600519", "000001.SZ"], **RANGE)
    with pytest.warns(QualityWarning, match="600519"):
        lab.bars("600519", **RANGE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", QualityWarning)
        lab.bars("000001.SZ", **RANGE)  # judged clean when fetched: no re-judging, no warning
        lab.bars("600519", start="2025-03-03", end="2025-04-09")  # the refused rows lie outside this range


def test_feedback_dismissing_the_issues_lifts_the_refusal(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    break_ohlc(provider)
    with pytest.raises(QualityGateError):
        strict(lab).bars("600519", **RANGE)
    lab.feedback("600519", "ohlc_invariant", verdict="false_positive")
    frame = strict(lab).bars("600519", **RANGE)
    assert frame.filter(pl.col("high") < pl.col("low")).height > 0  # served as the user accepted it
