"""Failover between Eastmoney, Sina and Tencent through the Lab, over akshare's functions answered by the
simulated upstream (its bans look like the real ones on the wire: HTTP 456 with an HTML page, dropped
connections, refused connections). Expected sources and sessions follow from the scenario, not the code."""

from __future__ import annotations

from unittest import mock

import akshare
import polars as pl
import pytest

from quantdb_lab.errors import SourceMismatchError
from quantdb_lab.lab import Lab
from quantdb_lab.throttle.policy import RateLimit
from tests.support.akshare_sim import akshare_lab, simulated_akshare
from tests.support.sim import MARKET, d

NOW = "2025-06-06 16:00"
LATER = "2024-03-29 16:00"  # the first read stores up to here; the clock then moves on a quarter
QUARTER = 91 * 86400.0
FAMILIES = ("eastmoney_push2his", "eastmoney_datacenter", "sina", "sina_kline", "tencent")
FAST = {family: RateLimit(per_second=1e9, burst=10**9) for family in FAMILIES}
SZ_MAIN = next(s for s in MARKET.symbols("stock") if s.startswith("000"))  # Tencent leaves its volume in lots


@pytest.fixture
def upstream(request):
    with simulated_akshare(getattr(request, "param", NOW)) as pair:
        yield pair


def lab_over(upstream, tmp_path) -> Lab:
    return akshare_lab(tmp_path / "cache", upstream[1], FAST)


def sources(frame: pl.DataFrame):
    return [(name, str(a), str(b)) for name, a, b in frame.quantdb.provenance.series[0].served_by]


def test_healthy_primary_serves_and_provenance_says_so(upstream, tmp_path):
    sim, _ = upstream
    lab = lab_over(upstream, tmp_path)
    frame = lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    assert sources(frame) == [("eastmoney", "2024-01-02", "2024-03-29")]
    assert sim.call_counts.get("stock_zh_a_daily", 0) == 0 and frame.height > 50


@pytest.mark.parametrize("kind", ["status", "reset", "down"])
def test_a_banned_primary_moves_work_to_sina_with_the_same_rows(upstream, tmp_path, kind):
    sim, _ = upstream
    reference = lab_over(upstream, tmp_path / "ref").bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    sim.bans.ban("eastmoney_push2his", kind=kind)
    lab = lab_over(upstream, tmp_path)
    frame = lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    assert sources(frame) == [("sina", "2024-01-02", "2024-03-29")]
    cols = ["date", "open", "high", "low", "close", "volume", "amount"]
    assert frame.select(cols).equals(reference.select(cols))  # same prices, volume in shares from both
    family = {row["host_family"]: row for row in lab.throttle.status()}["eastmoney_push2his"]
    if kind == "down":  # an outage counts towards the breaker's threshold; a ban opens it at once
        assert family["failures"] == 1 and family["breaker"] == "closed"
    else:
        assert family["breaker"] == "open"


def test_an_open_breaker_costs_no_call_and_the_primary_returns_when_it_closes(upstream, tmp_path):
    sim, clock = upstream
    sim.bans.ban("eastmoney_push2his", kind="status", seconds=300.0)
    lab = lab_over(upstream, tmp_path)
    symbols = [s for s in MARKET.symbols("stock")[:6]]
    lab.bars(symbols[0], start="2024-01-02", end="2024-03-29")
    refused = sim.bans.refused["eastmoney_push2his"]
    for symbol in symbols[1:4]:
        frame = lab.bars(symbol, start="2024-01-02", end="2024-03-29")
        assert sources(frame)[0][0] == "sina"
    assert sim.bans.refused["eastmoney_push2his"] == refused  # the breaker refused without calling the host
    clock.advance(700.0)  # the ban is over and the breaker lets a probe through
    frame = lab.bars(symbols[4], start="2024-01-02", end="2024-03-29")
    assert sources(frame) == [("eastmoney", "2024-01-02", "2024-03-29")]


def test_sina_and_eastmoney_both_banned_tencent_serves_in_shares(upstream, tmp_path):
    sim, _ = upstream
    reference = lab_over(upstream, tmp_path / "ref").bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    sim.bans.ban("eastmoney_push2his")
    sim.bans.ban("sina_kline", kind="reset")
    lab = lab_over(upstream, tmp_path)
    frame = lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    assert sources(frame) == [("tencent", "2024-01-02", "2024-03-29")]
    assert frame["volume"].to_list() == reference["volume"].to_list()  # lots corrected to shares


def test_every_source_down_raises_the_upstream_error_naming_each(upstream, tmp_path):
    sim, _ = upstream
    for family in ("eastmoney_push2his", "sina_kline", "tencent"):
        sim.bans.ban(family)
    lab = lab_over(upstream, tmp_path)
    with pytest.raises(Exception) as caught:
        lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    notes = " ".join(getattr(caught.value, "__notes__", []))
    assert all(name in notes for name in ("eastmoney", "sina", "tencent")), notes


@pytest.mark.parametrize("upstream", [LATER], indirect=True)
def test_a_later_range_from_another_source_is_checked_against_the_stored_rows(upstream, tmp_path):
    sim, clock = upstream
    lab = lab_over(upstream, tmp_path)
    lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")  # stored from Eastmoney
    sim.bans.ban("eastmoney_push2his")
    clock.advance(QUARTER)
    seen = []
    real = akshare.stock_zh_a_daily

    def spy(**kwargs):
        seen.append((kwargs["start_date"], kwargs["end_date"]))
        return real(**kwargs)

    with mock.patch.object(akshare, "stock_zh_a_daily", spy):
        frame = lab.bars(SZ_MAIN, start="2024-01-02", end="2024-06-28")
    assert seen and seen[0][0] < "20240329"  # asked for the stored neighbours too
    runs = sources(frame)
    assert [r[0] for r in runs] == ["eastmoney", "sina"]
    assert runs[0][1] == "2024-01-02" and d(runs[1][1]) > d("2024-03-29") and runs[1][2] == "2024-06-28"
    assert lab.stats()["source_issues"] == 0 and lab.source_issues().is_empty()


def off_by(factor: float):
    real = akshare.stock_zh_a_daily

    def wrong(**kwargs):
        frame = real(**kwargs)
        frame["close"] = (frame["close"] * factor).round(2)
        return frame

    return wrong


@pytest.mark.parametrize("upstream", [LATER], indirect=True)
def test_a_disagreeing_source_is_a_quality_issue_and_the_next_source_serves(upstream, tmp_path):
    sim, clock = upstream
    lab = lab_over(upstream, tmp_path)
    lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    sim.bans.ban("eastmoney_push2his")
    clock.advance(QUARTER)
    with mock.patch.object(akshare, "stock_zh_a_daily", off_by(1.05)):
        frame = lab.bars(SZ_MAIN, start="2024-01-02", end="2024-06-28")
    assert [r[0] for r in sources(frame)] == ["eastmoney", "tencent"]
    issues = lab.source_issues()
    assert issues.height and "sina and eastmoney disagree" in issues["detail"][0]
    assert set(issues["check"]) == {"source_mismatch"} and lab.stats()["source_issues"] == issues.height


@pytest.mark.parametrize("upstream", [LATER], indirect=True)
def test_no_agreeing_source_mixes_nothing(upstream, tmp_path):
    sim, clock = upstream
    lab = lab_over(upstream, tmp_path)
    lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    sim.bans.ban("eastmoney_push2his")
    clock.advance(QUARTER)
    real_tx = akshare.stock_zh_a_hist_tx

    def wrong_tx(**kwargs):
        frame = real_tx(**kwargs)
        frame["open"] = frame["open"] + 0.5
        return frame

    with mock.patch.object(akshare, "stock_zh_a_daily", off_by(0.9)), \
            mock.patch.object(akshare, "stock_zh_a_hist_tx", wrong_tx), pytest.raises(SourceMismatchError) as caught:
        lab.bars(SZ_MAIN, start="2024-01-02", end="2024-06-28", )
    assert "sina" in str(caught.value) and "tencent" in str(caught.value)
    assert caught.value.issues.height >= 2
    frame = lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")  # the stored rows are untouched
    assert sources(frame) == [("eastmoney", "2024-01-02", "2024-03-29")] and frame.height > 50


def cut_short(rows: int):
    real = akshare.stock_zh_a_hist

    def short(**kwargs):
        return real(**kwargs).iloc[:-rows]

    return short


@pytest.mark.parametrize("upstream", [LATER], indirect=True)
def test_a_second_ask_from_another_source_is_checked_against_the_first_answer(upstream, tmp_path):
    sim, _ = upstream
    sim.bans.ban("eastmoney_push2his", after=1)  # the first answer is cut short, then Eastmoney refuses
    lab = lab_over(upstream, tmp_path)
    with mock.patch.object(akshare, "stock_zh_a_hist", cut_short(10)), \
            mock.patch.object(akshare, "stock_zh_a_daily", off_by(1.05)):  # fmt: skip
        frame = lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    issues = lab.source_issues()
    assert issues.height and "sina and eastmoney disagree" in issues["detail"][0]
    assert [r[0] for r in sources(frame)] == ["eastmoney"]  # Sina's rows were not mixed in
    reference = lab_over(upstream, tmp_path / "ref")
    sim.bans.lift()
    full = reference.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29")
    assert frame.height == full.height - 10 and frame["close"].to_list() == full["close"].to_list()[:-10]


@pytest.mark.parametrize("kind", ["status", "reset"])
def test_the_generic_read_of_bars_fails_over_as_lab_bars_does(upstream, tmp_path, kind):
    sim, _ = upstream
    reference = lab_over(upstream, tmp_path / "ref").bars(SZ_MAIN, start="2024-01-02", end="2024-03-29", adjust="")
    sim.bans.ban("eastmoney_push2his", kind=kind)
    lab = lab_over(upstream, tmp_path)
    frame = lab.read("bars", SZ_MAIN, start="2024-01-02", end="2024-03-29")
    assert sources(frame) == [("sina", "2024-01-02", "2024-03-29")]
    assert sim.call_counts.get("stock_zh_a_daily", 0) >= 1
    assert frame["date"].n_unique() == frame.height == reference.height  # nothing duplicated, nothing lost
    cols = ["date", "open", "high", "low", "close", "volume"]
    assert frame.select(cols).equals(reference.select(cols))
    again = lab.bars(SZ_MAIN, start="2024-01-02", end="2024-03-29", adjust="")  # the same stored series, the same provenance
    assert sources(again) == [("sina", "2024-01-02", "2024-03-29")] and again.height == reference.height

