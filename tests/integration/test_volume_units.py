"""Volume units at ingest: a unit switch is corrected as bars enter the cache, listed in the provenance of every
read of those rows, reversible, and still reported by the quality check; on the simulated Eastmoney quirk
(expected values: the market's own volumes) and on the shared real files (2026-01-27/28 in shares)."""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl
import pytest

from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.lab import Lab
from quantdb_lab.providers.replay import ReplayProvider
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from quantdb_lab.quality.units import revert
from tests.support.sim import MARKET, at, d

QUIRK = (d("2025-05-07"), d("2025-05-08"))
EM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "akshare_em_daily"


def quirk_lab(tmp_path: Path) -> tuple[Lab, SimulatedProvider]:
    """A Lab over the simulated Eastmoney that sends the QUIRK days' volume in shares."""
    clock = FixedClock(at("2025-06-06 16:00"))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock, unit_quirk_days=QUIRK)
    return Lab(tmp_path, provider=provider, clock=clock), provider


def test_a_unit_switch_is_corrected_at_ingest_and_listed_on_every_read(tmp_path):
    lab, provider = quirk_lab(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = lab.bars("600519", start="2025-04-01", end="2025-05-30", adjust="")
        truth = MARKET.bars("600519.SH", d("2025-04-01"), d("2025-05-30"), now=at("2025-06-06 16:00"))
        assert frame["volume"].to_list() == truth["volume"].to_list()  # 100x too large as served, corrected
        assert frame.filter(pl.col("date").is_in(QUIRK))["turnover"].null_count() == 2  # 0 was impossible
        for _ in range(2):  # the cold read and a warm one
            (note,) = [n for n in frame.quantdb.provenance.series[0].notes if "volume of" in n]
            assert "2025-05-07, 2025-05-08" in note and "x100" in note
            frame = lab.bars("600519", start="2025-04-01", end="2025-05-30", adjust="")
        april = lab.bars("600519", start="2025-04-01", end="2025-04-30", adjust="")
        assert not any("volume of" in n for n in april.quantdb.provenance.series[0].notes)  # rows outside: no note
        received = revert(frame, lab._engine.loader.units.corrections("600519.SH"))
        served = provider.fetch_daily_bars(parse_symbol("600519"), d("2025-04-01"), d("2025-05-30"))
        assert received.equals(served)
        report = lab.quality("600519", start="2025-04-01", end="2025-05-30")
    units = report.issues.filter(pl.col("check") == "volume_unit")
    assert units["date"].to_list() == list(QUIRK) and set(units["status"]) == {"corrected"}


@pytest.mark.skipif(not EM.is_dir(), reason="../shared/data is absent")
def test_the_real_switch_of_2026_01_27_is_corrected(tmp_path):
    clock = FixedClock(at("2026-08-11 16:00"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path, provider=ReplayProvider(EM), clock=clock, mode="research")
        frame = lab.bars("601398", start="2026-01-27", end="2026-02-27", adjust="")
    # the file's volumes 469808053 and 273552037 are shares, not lots (2026-01-29: 4380996 lots): kept as shares
    rows = frame.filter(pl.col("date").is_in([d("2026-01-27"), d("2026-01-28")]))
    assert rows["volume"].to_list() == [469808053.0, 273552037.0]
    assert (frame["volume"] / frame["amount"] * frame["close"]).is_between(0.9, 1.1).all()


def test_the_public_accessors_list_the_corrections_and_give_the_rows_back_as_received(tmp_path):
    lab, provider = quirk_lab(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = lab.bars(["600519", "000001"], start="2025-04-01", end="2025-05-30", adjust="")
    listed = lab.unit_corrections(["600519", "000001.SZ"])
    assert listed.columns[0] == "symbol" and set(listed["symbol"]) <= {"600519.SH", "000001.SZ"}
    mine = listed.filter(pl.col("symbol") == "600519.SH")
    assert mine["date"].to_list() == list(QUIRK) and set(mine["factor"]) == {0.01}
    received = lab.as_received(frame).filter(pl.col("symbol") == "600519.SH")
    assert received.equals(provider.fetch_daily_bars(parse_symbol("600519"), d("2025-04-01"), d("2025-05-30")))
    assert lab.unit_corrections("600000").is_empty()
