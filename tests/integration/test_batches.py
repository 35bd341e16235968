"""Many symbols in one call (issue 15 item 5, issue 18 item 1): what exists is returned, every symbol left out is
named with why, and a large warm read goes through the cross-sectional path with the same rows as one read per
series."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from quantdb_lab.cli import main
from quantdb_lab.errors import EmptyResultError, InvalidRequestError, InvalidSymbolError, SymbolsSkippedWarning
from quantdb_lab.loader import batch
from tests.support.sim import MARKET, calls, d, make_lab

START, END = "2024-01-02", "2024-06-28"
LISTED = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s) < d("2023-06-01")]
LATE = next(s for s in MARKET.symbols("stock") if MARKET.listing_date(s) > d(END))


def truth(symbol: str) -> pl.DataFrame:
    return MARKET.bars(symbol, d(START), d(END), now=MARKET.clock.now().replace(year=2025, month=6, day=6))


def test_one_bad_symbol_no_longer_aborts_the_batch(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    asked = [LISTED[0], "600999", LATE, "60O519", LISTED[1]]
    with pytest.warns(SymbolsSkippedWarning) as caught:
        frame = lab.bars(asked, start=START, end=END, adjust="")
    skipped = next(w.message for w in caught if w.category is SymbolsSkippedWarning).skipped
    assert set(skipped) == {"600999.SH", LATE, "60O519"}
    assert skipped["60O519"].startswith("invalid") and skipped["600999.SH"].startswith("empty")
    assert set(frame["symbol"].unique()) == {LISTED[0], LISTED[1]}
    assert frame.filter(pl.col("symbol") == LISTED[0]).height == truth(LISTED[0]).height
    assert frame["date"].is_sorted() and frame.quantdb.provenance.skipped == skipped


def test_strict_raises_the_first_error(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    with pytest.raises(InvalidSymbolError):
        lab.bars([LISTED[0], "60O519"], start=START, end=END, adjust="", strict=True)
    with pytest.raises(EmptyResultError):
        lab.bars([LISTED[0], "600999"], start=START, end=END, adjust="", strict=True)


def test_nothing_at_all_is_an_error_never_an_empty_frame(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    with pytest.raises(EmptyResultError, match="none of the 2 symbols"):
        lab.bars(["600999", "60O519"], start=START, end=END, adjust="")


@pytest.mark.parametrize("bad", [None, 123, [["600519"]], [600519], b"600519"])
def test_wrong_types_name_the_argument(tmp_path, bad):
    lab, _, _ = make_lab(tmp_path)
    with pytest.raises(InvalidRequestError, match="symbol"):
        lab.bars(bad, start=START, end=END)


def test_did_you_mean_uses_the_stored_security_master(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    lab.securities()  # stored once; a suggestion never fetches it
    before = provider.calls["fetch_securities"]
    near = LISTED[0][:5] + str((int(LISTED[0][5]) + 1) % 10) + LISTED[0][6:]  # one digit off
    if MARKET.profile(near) is not None:
        pytest.skip("the neighbouring code exists in this market")
    with pytest.warns(SymbolsSkippedWarning) as caught:
        lab.bars([LISTED[1], near], start=START, end=END, adjust="")
    warning = next(w.message for w in caught if w.category is SymbolsSkippedWarning)
    assert "did you mean" in warning.skipped[near]
    assert provider.calls["fetch_securities"] == before


def test_the_cli_fetches_what_exists_and_names_the_rest(tmp_path, capsys):
    base = ["--cache-dir", str(tmp_path / "c"), "--provider", "simulated"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main([*base, "fetch", LISTED[0], "600999", "--start", START, "--end", END, "--adjust", ""])
    out = capsys.readouterr()
    assert status == 1 and LISTED[0] in out.out and "left out 600999.SH" in out.err


def test_a_large_warm_read_is_one_cross_section_with_the_same_rows(tmp_path, monkeypatch):
    lab, provider, _ = make_lab(tmp_path)
    symbols = LISTED[: batch.MARKET_READ_MIN + 8]
    cold = lab.bars(symbols, start=START, end=END, adjust="")
    assert lab.stats()["compaction_backlog"] == 0  # many series written: the segments were brought up to date
    # a second read confirms what the first answers left unconfirmed (sessions before or after a stock's bars)
    assert lab.bars(symbols, start=START, end=END, adjust="").equals(cold)
    fetched = calls(provider)
    reads = []
    real = batch._market_read
    monkeypatch.setattr(batch, "_market_read", lambda *a: reads.append(1) or real(*a))
    other, provider2, _ = make_lab(tmp_path)  # a new kernel
    warm = other.bars(symbols, start=START, end=END, adjust="")
    assert reads and calls(provider2) == 0 and calls(provider) == fetched
    assert warm.equals(cold) and warm["date"].is_sorted()
    expected = pl.concat([truth(s) for s in symbols]).sort("date", "symbol")
    assert warm.select(expected.columns).equals(expected)
    assert all(p.from_cache for p in warm.quantdb.provenance.series) and len(warm.quantdb.provenance.series) == len(symbols)


@pytest.mark.parametrize("adjust", ["qfq", "hfq"])
def test_the_cross_section_is_adjusted_exactly(tmp_path, monkeypatch, adjust):
    """qfq and hfq of a large warm read equal the simulated market's exact multiplicative adjustment."""
    from tests.support.sim import at

    lab, provider, _ = make_lab(tmp_path)
    symbols = LISTED[: batch.MARKET_READ_MIN + 8]
    lab.bars(symbols, start=START, end=END, adjust=adjust)
    lab.bars(symbols, start=START, end=END, adjust=adjust)  # confirmations
    reads = []
    real = batch._market_read
    monkeypatch.setattr(batch, "_market_read", lambda *a: reads.append(1) or real(*a))
    other, provider2, _ = make_lab(tmp_path)
    got = other.bars(symbols, start=START, end=END, adjust=adjust)
    assert reads and calls(provider2) == 0
    now = at("2025-06-06 16:00")
    for symbol in symbols[:: len(symbols) // 6]:
        hfq = MARKET.hfq(symbol, now=now)
        if adjust == "qfq":  # anchored at the latest session: the traded price there
            raw = MARKET.bars(symbol, now=now)
            exact = hfq.with_columns(pl.col("close") * (raw["close"][-1] / hfq["close"][-1]))
        else:
            exact = hfq
        exact = exact.filter(pl.col("date").is_between(d(START), d(END)))
        mine = got.filter(pl.col("symbol") == symbol).select("date", "close")
        joined = mine.join(exact.select("date", pl.col("close").alias("exact")), on="date")
        assert joined.height == mine.height == exact.height
        assert ((joined["close"] / joined["exact"] - 1).abs().max() or 0.0) < 1e-9
