"""The portfolio fetch passes the mode's quality gate as ``lab.bars`` does: an upstream answer with rows whose
high lies below their low (daily) or an open of 0.0 (minute) was served by ``lab.portfolio`` without a word,
in every mode. A raising mode now leaves the failing symbol out as failed (a portfolio reports, never raises),
a warning mode serves it with a ``QualityWarning`` and says so in the frame's provenance; clean symbols are
untouched, and a refused symbol stays refused on the next (warm) fetch."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from quantdb_lab.errors import QualityGateError, QualityWarning
from tests.integration.test_gate_remembered import RANGE, break_ohlc, strict
from tests.integration.test_minute_gate import damage, zero_open
from tests.support.sim import make_lab

pytestmark = pytest.mark.filterwarnings("ignore::quantdb_lab.errors.SyntheticDataWarning")
SYMBOLS = ["600519", "000001.SZ", "600000"]


def test_a_raising_mode_leaves_a_failing_symbol_out_as_failed_and_keeps_the_others(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    break_ohlc(provider)
    for _ in range(2):  # the cold fetch, then the warm one: refused both times
        result = strict(lab).portfolio(SYMBOLS, progress=False, **RANGE)
        assert result.failed == ["600519.SH"]
        assert "QualityGateError" in result.status.filter(pl.col("symbol") == "600519.SH")["error"][0]
        assert isinstance(result.errors["600519.SH"], QualityGateError)
        assert set(result.frame["symbol"]) == {"000001.SZ", "600000.SH"}
        assert result.frame.filter(pl.col("high") < pl.col("low")).is_empty()  # nothing damaged is served
        assert "600519.SH" in result.frame.quantdb.provenance.skipped
    clean = lab.bars(["000001.SZ", "600000"], adjust="qfq", **RANGE)
    assert result.frame.sort("symbol", "date").select(clean.columns).equals(clean.sort("symbol", "date"))


def test_a_warning_mode_serves_the_rows_and_says_so(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    break_ohlc(provider)
    with pytest.warns(QualityWarning, match="600519"):
        result = lab.portfolio(SYMBOLS, progress=False, **RANGE)
    assert result.ok and set(result.frame["symbol"]) == {"600519.SH", "000001.SZ", "600000.SH"}
    assert any("600519" in text for text in result.frame.quantdb.provenance.warnings)


def test_clean_symbols_pass_in_silence(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", QualityWarning)
        result = strict(lab).portfolio(SYMBOLS, progress=False, **RANGE)
    assert result.ok and not result.failed


def test_minute_bars_of_a_portfolio_pass_the_minute_gate(tmp_path):
    lab, provider, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    damage(provider, zero_open)
    result = strict(lab).portfolio(["600519"], freq="1min", progress=False, start="2025-06-03", end="2025-06-06")
    assert result.failed == ["600519.SH"] and "minute_ohlc" in str(result.errors["600519.SH"])
