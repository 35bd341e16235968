"""The quality gate judges fetched minute bars as it judges daily bars (issue 19): an upstream answer with a bar
whose open lies outside its range (Eastmoney's ``open == 0.0`` left unrepaired) or a bar stamped over lunch is
named in a ``QualityWarning`` (research) or refused with ``QualityGateError`` (a raising mode), instead of served
without a word. Damage is injected into the simulated upstream's own answer; clean answers stay silent."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from quantdb_lab.errors import QualityGateError, QualityWarning
from tests.support.sim import at, make_lab

pytestmark = pytest.mark.filterwarnings("ignore::quantdb_lab.errors.SyntheticDataWarning")


def damage(provider, how):
    real = provider.fetch_minute_bars

    def fetch(symbol, start, end, **options):
        return how(real(symbol, start, end, **options))

    provider.fetch_minute_bars = fetch  # fetchers() looks the method up on each call


def zero_open(frame: pl.DataFrame) -> pl.DataFrame:
    """The upstream's open == 0.0 on one mid-session bar of a range, not repaired (a provider that forgot)."""
    row = pl.int_range(pl.len()) == 100
    return frame.with_columns(pl.when(row).then(0.0).otherwise(pl.col("open")).alias("open"),
                              pl.when(row).then(False).otherwise(pl.col("open_estimated")).alias("open_estimated"))


def over_lunch(frame: pl.DataFrame) -> pl.DataFrame:
    """One bar restamped to 12:00 (over the lunch break): an upstream that shifted its clock."""
    row = pl.int_range(pl.len()) == 50
    noon = pl.col("time").dt.truncate("1d") + pl.duration(hours=12)
    return frame.with_columns(pl.when(row).then(noon).otherwise(pl.col("time")).alias("time")).sort("symbol", "time")


@pytest.mark.parametrize("how, check", [(zero_open, "minute_ohlc"), (over_lunch, "minute_off_grid")])
def test_damaged_minute_bars_are_named_in_a_quality_warning(tmp_path, how, check):
    lab, provider, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    damage(provider, how)
    with pytest.warns(QualityWarning, match=check) as caught:
        frame = lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")
    report = next(w.message for w in caught if isinstance(w.message, QualityWarning)).report
    assert check in report.issues["check"].to_list() and not report.passed
    assert frame.height  # research serves the bars, with the warning
    assert any(check in text for text in frame.quantdb.provenance.warnings)


def test_a_raising_mode_refuses_damaged_minute_bars(tmp_path):
    lab, provider, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    damage(provider, zero_open)
    strict = lab.using(lab.mode.with_(on_quality_fail="raise"))
    with pytest.raises(QualityGateError, match="minute_ohlc"):
        strict.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")


def test_clean_minute_bars_pass_the_gate_in_silence_and_the_open_session_is_not_judged_short(tmp_path):
    lab, _, clock = make_lab(tmp_path, now="2025-06-06 16:00")
    with warnings.catch_warnings():
        warnings.simplefilter("error", QualityWarning)
        lab.bars(["600519", "000001.SZ"], freq="5min", start="2025-06-03", end="2025-06-06")
        intraday, _, _ = make_lab(tmp_path / "open", now="2025-06-06 10:42")
        part = intraday.bars("600519", freq="1min", start="2025-06-05", end="2025-06-06")
    assert part["time"].max() <= at("2025-06-06 10:42")  # the open session is short, and not a defect


def test_a_refused_minute_series_is_not_served_silently_on_the_next_warm_read(tmp_path):
    """The rows are stored before the gate judges them (as daily bars are, ``store.gate_verdicts``): without a
    record of the refusal, the next read, warm, would serve them without a word."""
    lab, provider, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    damage(provider, zero_open)
    strict = lab.using(lab.mode.with_(on_quality_fail="raise"))
    for _ in range(2):  # the cold read, then the warm one: both refuse
        with pytest.raises(QualityGateError, match="minute_ohlc"):
            strict.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")
    with pytest.warns(QualityWarning, match="minute_ohlc"):  # research: served, with the warning, every time
        frame = lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")
    assert frame.quantdb.provenance.series[0].from_cache
    assert any("minute_ohlc" in text for text in frame.quantdb.provenance.warnings)
    with warnings.catch_warnings():  # a range without the damaged session: nothing to say
        warnings.simplefilter("error", QualityWarning)
        assert lab.bars("600519", freq="1min", start="2025-06-06", end="2025-06-06").height
    daily_unaffected = lab.bars("600519", start="2025-06-03", end="2025-06-06", adjust="")
    assert daily_unaffected.height  # the minute verdict is not the daily series'


def test_a_minute_refusal_is_cleared_by_a_clean_refetch(tmp_path):
    lab, provider, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    real = provider.fetch_minute_bars
    damage(provider, zero_open)
    with pytest.warns(QualityWarning):
        lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")
    provider.fetch_minute_bars = real
    lab.clear("600519", dataset="bars_1min")
    with warnings.catch_warnings():
        warnings.simplefilter("error", QualityWarning)
        lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")  # fetched again, clean: a pass
        lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")  # and the warm read is silent
