"""Quality checks on the shared real akshare files (skipped when ../shared/data is absent), and the gate."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from quantdb_lab.errors import QualityGateError, QualityWarning
from quantdb_lab.quality import check_quality
from tests.support import akshare_files as af
from tests.support.sim import make_lab

real = pytest.mark.skipif(not af.available(), reason="../shared/data is not present")


@pytest.fixture(scope="module")
def report_338():
    return check_quality(af.read_raw(af.AKSHARE_DIR / "000338.csv"), sessions_list=af.sessions())


@real
def test_finds_the_volume_unit_switch_and_corrects_it(report_338):
    units = report_338.issues.filter(pl.col("check") == "volume_unit")
    assert units["date"].to_list() == [date(2026, 1, 27), date(2026, 1, 28)]
    corrected = report_338.corrected.filter(pl.col("date").is_between(date(2026, 1, 27), date(2026, 1, 28)))
    # the file says 151,076,675 on 2026-01-27: shares, where every other row is in lots
    assert corrected["volume"].to_list()[0] == pytest.approx(151_076_675.0)
    assert (corrected["turnover"] > 0).all()


@real
def test_finds_lost_leading_zeros_and_restores_them(report_338):
    issue = report_338.issues.filter(pl.col("check") == "symbol_code")
    assert issue.height == 1 and issue["date"][0] == date(2026, 1, 27) and "'338'" in issue["detail"][0]
    assert report_338.corrected["symbol"].unique().to_list() == ["000338.SZ"]


@real
def test_additive_qfq_history_is_flagged_not_the_limits(report_338):
    negative = report_338.issues.filter(pl.col("check") == "nonpositive_price")
    assert negative.height > 0 and negative["date"].max() < date(2026, 1, 1)
    assert report_338.issues.filter(pl.col("check") == "price_limit").height <= 3


@real
def test_rows_of_another_security_on_2026_03_20():
    frame = af.read_raw(af.AKSHARE_DIR / "000001.csv")
    report = check_quality(frame, sessions_list=af.sessions())
    foreign = report.issues.filter(pl.col("check") == "foreign_row")["date"].to_list()
    assert date(2026, 3, 20) in foreign
    assert date(2026, 3, 20) not in report.corrected["date"].to_list()
    assert report.issues.filter(pl.col("check") == "change_mismatch").height == 0  # explained by the foreign row


@real
def test_replay_provider_through_the_lab(tmp_path):
    from quantdb_lab.domain.clock import FixedClock
    from quantdb_lab.lab import Lab
    from quantdb_lab.providers.akshare.replay import ReplayProvider
    from tests.support.sim import at

    clock = FixedClock(at("2026-08-11 16:00"))
    replay = Lab(tmp_path / "replay", provider=ReplayProvider(af.AKSHARE_DIR.parent), mode="research", clock=clock)
    report = replay.quality("000001", start="2026-01-13", end="2026-04-30")
    assert date(2026, 3, 20) in report.issues.filter(pl.col("check") == "foreign_row")["date"].to_list()


def test_gate_warns_in_research_and_raises_in_backtesting(tmp_path, monkeypatch):
    lab, _, _ = make_lab(tmp_path)
    clean = lab.bars("600519", start="2024-01-02", end="2024-03-29", adjust="")  # simulated: passes
    assert lab.quality(clean).passed
    from quantdb_lab.lab import checks as lab_module

    real_check = lab_module.check_quality

    def broken(frame, **kwargs):  # the loader's frames, with every high below the close
        return real_check(frame.with_columns((pl.col("close") * 0.9).alias("high")), **kwargs)

    monkeypatch.setattr(lab_module, "check_quality", broken)
    # The gate judges series when new bars enter the cache: fresh symbols here.
    with pytest.warns(QualityWarning) as caught:
        lab.bars("000001", start="2024-01-02", end="2024-03-29", adjust="")
    gate = [w.message for w in caught if isinstance(w.message, QualityWarning)]
    assert gate and gate[0].report.score.overall < 0.99
    with pytest.raises(QualityGateError) as info:
        lab.using("backtesting").bars("601318", start="2024-01-02", end="2024-03-29", adjust="")
    assert info.value.report is not None and info.value.threshold == 0.95 and info.value.mode == "backtesting"
    quiet = lab.using(lab.mode.with_(on_quality_fail="ignore"))
    quiet.bars("000858", start="2024-01-02", end="2024-03-29", adjust="")  # no gate, no error
    import warnings as _warnings

    with _warnings.catch_warnings():
        _warnings.simplefilter("error", QualityWarning)
        lab.bars("600519", start="2024-01-02", end="2024-03-29", adjust="")  # warm: already judged, not again
