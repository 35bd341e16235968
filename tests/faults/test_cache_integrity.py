"""The local cache under damage and bad answers (issue 17 items 1-4 and the provenance of issue 15): nothing
wrong, short or from another source is ever served as right, and nothing stored is lost.

Each scenario injects one fault and checks the result against the simulated market's own bars (the truth,
computed without the loader)."""

from __future__ import annotations

import os
import sqlite3
import warnings

import polars as pl
import pytest

from quantdb_lab.errors import CacheRepairedWarning, EmptyResultError, PartialDataWarning
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider
from tests.support.sim import MARKET, at, calls, d, make_lab

SYMBOL = "600519.SH"


def truth(symbol: str, start: str, end: str, *, market: SimulatedMarket = MARKET) -> pl.DataFrame:
    return market.bars(symbol, d(start), d(end), now=at("2025-06-06 16:00"))


class Flaky(SimulatedProvider):
    """Answers with nothing, or with only the first ``keep`` sessions, for the next ``times`` bar calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_next = 0
        self.cut_next: tuple[int, int] | None = None  # (times, keep)

    def fetch_daily_bars(self, symbol, start, end, *, adjust=""):
        frame = super().fetch_daily_bars(symbol, start, end, adjust=adjust)
        if self.empty_next:
            self.empty_next -= 1
            return frame.head(0)
        if self.cut_next and self.cut_next[0]:
            times, keep = self.cut_next
            self.cut_next = (times - 1, keep)
            return frame.head(keep)
        return frame


def flaky_lab(tmp_path, *, market: SimulatedMarket = MARKET):
    lab, _, clock = make_lab(tmp_path)
    provider = Flaky(market, faults=Faults(), clock=clock)
    return Lab(tmp_path / "cache", provider=provider, clock=clock), provider


# -- 17.1: a damaged file is refetched over the whole stored span -------------------------------------------
def test_a_damaged_file_is_refetched_over_the_whole_stored_span(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    lab.bars(SYMBOL, start="2023-01-01", end="2024-12-31", adjust="")
    (path,) = (tmp_path / "cache").rglob("600519.SH.*.parquet")
    path.write_bytes(path.read_bytes()[:-40] + os.urandom(40))
    fresh, provider2, _ = make_lab(tmp_path)
    with pytest.warns(CacheRepairedWarning, match="whole stored span"):
        recent = fresh.bars(SYMBOL, start="2024-01-01", end="2024-12-31", adjust="")
    assert recent.equals(truth(SYMBOL, "2024-01-01", "2024-12-31").select(recent.columns))
    assert fresh.stats()["corrupt_refetched"] == 1
    before = calls(provider2)
    older = fresh.bars(SYMBOL, start="2023-01-01", end="2024-12-31", adjust="")  # nothing was lost
    assert calls(provider2) == before and older.height == truth(SYMBOL, "2023-01-01", "2024-12-31").height


# -- 17.2: answers are judged before they are remembered -----------------------------------------------------
def test_one_transient_empty_answer_is_not_remembered_as_no_bars(tmp_path):
    lab, provider = flaky_lab(tmp_path)
    provider.empty_next = 2  # the call and its immediate retry both come back empty
    with pytest.raises(EmptyResultError, match="not yet confirmed"):
        lab.bars(SYMBOL, start="2024-01-01", end="2024-06-28", adjust="")
    frame = lab.bars(SYMBOL, start="2024-01-01", end="2024-06-28", adjust="")  # the upstream recovered
    assert frame.equals(truth(SYMBOL, "2024-01-01", "2024-06-28").select(frame.columns))


def test_a_single_empty_answer_is_asked_again_at_once(tmp_path):
    lab, provider = flaky_lab(tmp_path)
    provider.empty_next = 1
    frame = lab.bars(SYMBOL, start="2024-01-01", end="2024-06-28", adjust="")
    assert frame.height == truth(SYMBOL, "2024-01-01", "2024-06-28").height and calls(provider) == 2


def test_a_truncated_answer_is_served_with_a_warning_and_completed_on_the_next_read(tmp_path):
    lab, provider = flaky_lab(tmp_path)
    expected = truth(SYMBOL, "2024-06-03", "2024-06-14")
    provider.cut_next = (2, 3)  # 3 of the sessions, twice
    with pytest.warns(PartialDataWarning, match="asked for again"):
        short = lab.bars(SYMBOL, start="2024-06-03", end="2024-06-14", adjust="")
    assert short.height == 3
    full = lab.bars(SYMBOL, start="2024-06-03", end="2024-06-14", adjust="")
    assert full.equals(expected.select(full.columns))
    with warnings.catch_warnings():
        warnings.simplefilter("error", PartialDataWarning)
        again, before = lab.bars(SYMBOL, start="2024-06-03", end="2024-06-14", adjust=""), calls(provider)
    assert again.equals(full) and calls(provider) == before


# -- 17.4: a damaged catalog is rebuilt, never an untyped error ------------------------------------------------
def test_a_damaged_catalog_is_rebuilt_and_the_lab_still_serves_the_cache(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    first = lab.bars(SYMBOL, start="2024-01-01", end="2024-03-29", adjust="")
    (catalog,) = (tmp_path / "cache").rglob("catalog.sqlite")
    lab._engine.store.close()
    for suffix in ("-wal", "-shm"):
        (catalog.parent / (catalog.name + suffix)).unlink(missing_ok=True)
    catalog.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8192)
    with pytest.warns(CacheRepairedWarning):
        fresh, provider2, _ = make_lab(tmp_path)
    again = fresh.bars(SYMBOL, start="2024-01-01", end="2024-03-29", adjust="")
    assert again.equals(first) and calls(provider2) == 0
    with sqlite3.connect(catalog) as con:
        assert con.execute("PRAGMA quick_check").fetchone()[0] == "ok"


# -- 15.3: provenance is part of the key ----------------------------------------------------------------------
class OtherUpstream(SimulatedProvider):
    """Stands in for a real provider: not synthetic, its own source, and data unlike the simulated market's."""

    name = "akshare"
    synthetic = False

    @property
    def source(self) -> str:
        return "akshare"


def test_nothing_simulated_is_ever_served_by_a_real_lab_on_the_same_directory(tmp_path):
    simulated, _, clock = make_lab(tmp_path)
    fake = simulated.bars(SYMBOL, start="2024-01-01", end="2024-06-28", adjust="")
    with pytest.raises(EmptyResultError):
        simulated.bars("601398", start="2024-01-01", end="2024-06-28", adjust="")  # an empty-range memory
    other_market = SimulatedMarket(seed=11)
    real = Lab(tmp_path / "cache", provider=OtherUpstream(other_market, faults=Faults(), clock=clock), clock=clock)
    served = real.bars(SYMBOL, start="2024-01-01", end="2024-06-28", adjust="")
    assert calls(real.provider) == 1 and not served.equals(fake)
    assert served.equals(truth(SYMBOL, "2024-01-01", "2024-06-28", market=other_market).select(served.columns))
    assert not any(p.synthetic for p in served.quantdb.provenance.series)
    if other_market.profile("601398") is not None:  # the other upstream has it: the simulated miss is not reused
        assert real.bars("601398", start="2024-01-01", end="2024-06-28", adjust="").height > 0


def test_the_simulated_provider_has_its_own_default_cache_directory(monkeypatch):
    from quantdb_lab.config import default_cache_dir

    monkeypatch.delenv("QUANTDB_LAB_CACHE_DIR", raising=False)
    assert default_cache_dir(synthetic=True) != default_cache_dir(synthetic=False)


# -- 17.9: research mode serves what is cached when the upstream's columns changed --------------------------
def test_research_serves_the_cache_with_a_warning_when_the_upstream_schema_drifts(tmp_path):
    from quantdb_lab.errors import ProviderSchemaError, StaleDataWarning

    lab, provider, clock = make_lab(tmp_path, now="2025-06-06 16:00")
    cached = lab.bars(SYMBOL, start="2025-05-05", end="2025-06-06", adjust="")
    clock.current = at("2025-06-09 16:00")
    provider.faults.schema_drift = True
    with pytest.warns(StaleDataWarning, match="upstream unavailable"):
        served = lab.bars(SYMBOL, start="2025-05-05", end="2025-06-09", adjust="")
    assert served.equals(cached) and served.quantdb.provenance.series[0].stale
    with pytest.raises(ProviderSchemaError):  # trading mode raises instead
        lab.using("trading").bars(SYMBOL, start="2025-05-05", end="2025-06-09", adjust="")


def test_provenance_names_the_source_of_every_result(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    frame = lab.bars(SYMBOL, start="2024-01-01", end="2024-03-29", adjust="")
    (origin,) = frame.quantdb.provenance.series
    assert origin.source == lab.provider.source and origin.synthetic


def test_a_confirmed_suspension_read_every_day_costs_one_call_a_day(tmp_path):
    """Once the upstream confirmed a stock has no bars after its last one, each new day's empty answer
    continues that gap: one call, covered at once (not asked again, not kept pending). The confirmation is the
    second answer about the same sessions; the new session it also shows empty continues the gap then and
    there, so only the first short answer is pending (a suspended stock read in the morning and warmed that
    evening is warm the next morning)."""
    from tests.support.sim import MARKET

    lab, provider = flaky_lab(tmp_path)
    symbol = SYMBOL
    lab.bars(symbol, start="2024-06-03", end="2024-06-14", adjust="")
    provider.empty_next = 10**6  # from now on the upstream serves nothing for this stock (a suspension)
    with pytest.warns(PartialDataWarning):  # the first short answer: kept pending
        lab.bars(symbol, start="2024-06-03", end="2024-06-17", adjust="")
    before = calls(provider)
    days = MARKET.calendar.sessions(d("2024-06-18"), d("2024-06-28"))
    for day in days:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PartialDataWarning)
            lab.bars(symbol, start="2024-06-03", end=day.isoformat(), adjust="")
    assert calls(provider) - before == len(days)
    assert lab.plan(symbol, start="2024-06-03", end="2024-06-28", adjust="").is_warm
