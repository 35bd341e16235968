"""lab.synthesize and the gap policy of lab.bars on the simulated market: references through the cache, real rows
unchanged, synthetic rows flagged and never stored, refusals typed."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from quantdb_lab.domain.modes import RESEARCH
from quantdb_lab.errors import InvalidRequestError, ProviderUnavailableError, QualityWarning, SyntheticDataWarning
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from tests.support.sim import MARKET, d, make_lab

pytestmark = pytest.mark.filterwarnings("ignore::quantdb_lab.errors.QualityWarning")  # gaps lower the score

OUTAGE = {d("2024-03-05"), d("2024-03-06"), d("2024-05-20")}


class OutageProvider(SimulatedProvider):
    """The simulated upstream with some bars of one symbol missing: real gaps, not suspensions."""

    def __init__(self, *args, missing: set[date], symbol: str = "600519.SH", **kwargs):
        super().__init__(*args, **kwargs)
        self.missing, self.symbol = missing, symbol

    def fetch_daily_bars(self, symbol, start, end, *, adjust=""):
        frame = super().fetch_daily_bars(symbol, start, end, adjust=adjust)
        if getattr(symbol, "canonical", symbol) == self.symbol:
            frame = frame.filter(~pl.col("date").is_in(sorted(self.missing)))
        return frame


def outage_lab(tmp_path, missing=OUTAGE, mode=RESEARCH):
    _lab, _provider, clock = make_lab(tmp_path / "unused")
    provider = OutageProvider(MARKET, faults=Faults(), clock=clock, missing=missing)
    return Lab(tmp_path / "cache", provider=provider, mode=mode, clock=clock), provider


def stored_frames(cache, code: str) -> list[pl.DataFrame]:
    """Every Parquet frame the store holds for ``code``, read straight from disk."""
    return [pl.read_parquet(p) for p in sorted(cache.rglob(f"*{code}*.parquet"))]


def test_synthesize_a_frame_uses_the_index_and_sector_through_the_cache(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    frame = lab.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    held = frame.filter(~pl.col("date").is_in(sorted(OUTAGE)))
    first = lab.synthesize(held)  # no security master cached: the indices alone, the costly master not fetched
    assert provider.calls["fetch_securities"] == 0
    for report in first.quantdb.provenance.synthesis:
        assert report.notes[-1].startswith("reference: 000300.SH + no sector (security master not cached")
        # the simulated market has no CSI 1000: its CSI 500 is the small-cap index
        assert report.notes[-1].endswith("fetches it) + 000905.SH") and len(report.beta) == 2
    lab.reference.securities()  # cached now (ask, peers and "sector" fetch it too)
    with pytest.warns(SyntheticDataWarning, match="synthetic row"):
        out = lab.synthesize(held)
    assert out.filter(~pl.col("is_synthetic")).select(held.columns).equals(held)
    assert sorted(out.filter(pl.col("is_synthetic"))["date"].to_list()) == sorted(OUTAGE)
    securities = MARKET.securities()
    industry = securities.filter(pl.col("symbol") == "600519.SH")["industry"][0]
    peers = sorted(s for s in securities.filter(pl.col("industry") == industry)["symbol"] if s != "600519.SH")[:10]
    for report in out.quantdb.provenance.synthesis:
        assert f"reference: 000300.SH + sector {industry} ({len(peers)} members, equal weight) + 000905.SH" in report.notes
        assert len(report.beta) == 3  # one loading per reference
    index = lab.bars("000300.SH", start="2024-01-02", end="2024-06-28", adjust="")
    assert index.height > 100 and index.quantdb.provenance.from_cache  # loaded through the cache by synthesize
    members = lab.bars(peers, start="2024-01-02", end="2024-06-28", adjust="hfq")
    assert members.quantdb.provenance.from_cache  # and so were the sector's members
    truth = frame.filter(pl.col("date").is_in(sorted(OUTAGE))).sort("date")["close"].to_numpy()
    fill = out.filter(pl.col("is_synthetic")).sort("date")
    assert (abs(fill["close"].to_numpy() / truth - 1) < 0.08).all()


class FailingMemberProvider(SimulatedProvider):
    """The simulated upstream, failing every load of one stock."""

    def __init__(self, *args, failing: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.failing = failing

    def fetch_daily_bars(self, symbol, start, end, *, adjust=""):
        if getattr(symbol, "canonical", symbol) == self.failing:
            raise ProviderUnavailableError("upstream down for this symbol", retryable=False, symbol=self.failing)
        return super().fetch_daily_bars(symbol, start, end, adjust=adjust)


def test_a_sector_member_that_cannot_be_loaded_is_skipped_not_the_sector(tmp_path):
    securities = MARKET.securities()
    industry = securities.filter(pl.col("symbol") == "600519.SH")["industry"][0]
    peers = sorted(s for s in securities.filter(pl.col("industry") == industry)["symbol"] if s != "600519.SH")
    _lab, _provider, clock = make_lab(tmp_path / "unused")
    provider = FailingMemberProvider(MARKET, faults=Faults(), clock=clock, failing=peers[0])
    lab = Lab(tmp_path / "cache", provider=provider, mode=RESEARCH, clock=clock)
    lab.reference.securities()
    frame = lab.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    out = lab.synthesize(frame.filter(~pl.col("date").is_in(sorted(OUTAGE))))
    members = min(len(peers) - 1, 10)  # the failing one skipped, the next one taken
    for report in out.quantdb.provenance.synthesis:
        assert f"reference: 000300.SH + sector {industry} ({members} members, equal weight) + 000905.SH" in report.notes


def test_synthesize_a_symbol_fills_suspensions_only_on_request(tmp_path):
    lab, _provider, _ = make_lab(tmp_path)
    plain = lab.synthesize("000187.SZ", start="2024-11-01", end="2024-12-31", adjust="")
    assert not plain["is_synthetic"].any() and plain.quantdb.provenance.synthesis == ()
    filled = lab.synthesize("000187.SZ", start="2024-11-01", end="2024-12-31", adjust="", fill_suspensions=True,
                            method="bridge", draw="sample", seed=3)  # fmt: skip
    days = filled.filter(pl.col("is_synthetic"))["date"].to_list()
    assert days == MARKET.calendar.sessions(d("2024-11-22"), d("2024-11-29"))
    assert filled["date"].min() >= d("2024-11-01") and filled["date"].max() <= d("2024-12-31")
    again = lab.synthesize("000187.SZ", start="2024-11-01", end="2024-12-31", adjust="", fill_suspensions=True,
                           method="bridge", draw="sample", seed=3)  # fmt: skip
    assert again.equals(filled)


def test_reference_choices(tmp_path):
    lab, _provider, _ = make_lab(tmp_path)
    frame = lab.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    held = frame.filter(~pl.col("date").is_in(sorted(OUTAGE)))
    out = lab.synthesize(held, reference="none")
    assert all("reference: none" in r.notes for r in out.quantdb.provenance.synthesis)
    out = lab.synthesize(held, reference="000905.SH")
    assert all("reference: 000905.SH" in r.notes for r in out.quantdb.provenance.synthesis)
    out = lab.synthesize(held, reference="sector")
    assert all(any(n.startswith("reference: sector") for n in r.notes) for r in out.quantdb.provenance.synthesis)
    index = lab.bars("000905.SH", start="2024-01-02", end="2024-06-28", adjust="")
    out = lab.synthesize(held, reference=[index, "000300.SH"])
    assert all("reference: given frame + 000300.SH" in r.notes and len(r.beta) == 2 for r in out.quantdb.provenance.synthesis)
    for bad in (3, [], ["000300.SH", 3]):
        with pytest.raises(InvalidRequestError):
            lab.synthesize(held, reference=bad)


def test_references_are_loaded_only_for_series_with_gaps(tmp_path):
    lab, _provider, _ = make_lab(tmp_path)
    frame = lab.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    calls = lab.stats()["upstream_calls_total"]
    out = lab.synthesize(frame)
    assert out.select(frame.columns).equals(frame) and not out["is_synthetic"].any()
    assert lab.stats()["upstream_calls_total"] == calls  # no index, no sector members fetched


def test_gap_policy_synthesize_in_bars_never_reaches_the_store(tmp_path):
    lab, _provider = outage_lab(tmp_path)
    kept = lab.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    assert not set(kept["date"].to_list()) & OUTAGE and "is_synthetic" not in kept.columns
    filling = lab.using(RESEARCH.with_(gap_policy="synthesize"))
    with pytest.warns(SyntheticDataWarning, match="synthetic row"):
        filled = filling.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    assert sorted(filled.filter(pl.col("is_synthetic"))["date"].to_list()) == sorted(OUTAGE)
    assert filled.filter(~pl.col("is_synthetic")).select(kept.columns).equals(kept)
    assert filled["date"].min() == kept["date"].min() and filled["date"].max() == kept["date"].max()
    stored = stored_frames(lab.cache_dir, "600519")
    assert stored and all(frame.height > 100 for frame in stored)
    for frame in stored:
        assert "is_synthetic" not in frame.columns and not set(frame["date"].to_list()) & OUTAGE
    again = lab.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    assert again.equals(kept)  # the "keep" mode still sees only real rows


def test_gap_policy_flag_and_weekly_bars(tmp_path):
    lab, _provider = outage_lab(tmp_path)
    flagged = lab.using(RESEARCH.with_(gap_policy="flag")).bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    holes = flagged.filter(pl.col("is_gap"))
    assert sorted(holes["date"].to_list()) == sorted(OUTAGE) and holes["close"].null_count() == 3
    weekly = lab.using(RESEARCH.with_(gap_policy="synthesize")).bars("600519", start="2024-01-02", end="2024-06-28",
                                                                      adjust="", freq="weekly")  # fmt: skip
    assert "is_synthetic" not in weekly.columns  # weekly bars aggregate the real days only


def test_a_refused_gap_leaves_the_series_other_gaps_filled_in_bars_and_synthesize(tmp_path):
    """Refusal is per gap, never per series: the long outage stays missing with its reason named in a
    QualityWarning, the two short gaps around it are filled."""
    long = set(MARKET.calendar.sessions(d("2024-04-01"), d("2024-04-19")))
    short = {d("2024-03-05"), d("2024-05-20")}
    lab, _provider = outage_lab(tmp_path, missing=long | short)
    filling = lab.using(RESEARCH.with_(gap_policy="synthesize"))
    with pytest.warns(QualityWarning, match=r"1 of 3 gap\(s\) left unfilled: 2024-04-01..2024-04-19: too long") as info:
        filled = filling.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    assert sorted(filled.filter(pl.col("is_synthetic"))["date"].to_list()) == sorted(short)
    assert not set(filled["date"].to_list()) & long
    (warning,) = [w.message for w in info if "left unfilled" in str(w.message)]
    assert [r.accepted for r in warning.report] == [True, False, True]
    with pytest.warns(QualityWarning, match="too long: 13 sessions missing in a row"):
        out = lab.synthesize("600519", start="2024-01-02", end="2024-06-28", adjust="")
    assert sorted(out.filter(pl.col("is_synthetic"))["date"].to_list()) == sorted(short)
    assert [r.cause for r in out.quantdb.provenance.synthesis] == ["", "too long", ""]
    generous = lab.using(RESEARCH.with_(gap_policy="synthesize", max_gap_sessions=20))
    assert generous.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")["is_synthetic"].sum() == 15


def test_mode_fields_are_validated():
    with pytest.raises(InvalidRequestError):
        RESEARCH.with_(gap_policy="fill")
    with pytest.raises(InvalidRequestError):
        RESEARCH.with_(synthesis_threshold=1.5)
    assert RESEARCH.gap_policy == "keep" and RESEARCH.synthesis_threshold == 0.9 and RESEARCH.max_gap_sessions == 10
