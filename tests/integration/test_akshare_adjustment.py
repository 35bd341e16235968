"""qfq and hfq through the Lab over akshare's functions, answered by a simulated upstream that behaves like
Eastmoney: affine adjusted klines, changes close to close in the unadjusted ones, a dividend table, the volume
unit quirk. Expected values are SimulatedMarket's exact truth (its actions and multipliers), independent of the
loader. The old derivation (``hfq_close / close`` of Eastmoney's hfq) fails these: its ratio drifts."""

from __future__ import annotations


import numpy as np
import polars as pl
import pytest

from quantdb_lab.lab import Lab
from quantdb_lab.throttle.policy import RateLimit
from tests.support.akshare_sim import akshare_lab, simulated_akshare
from tests.support.sim import MARKET, at, d

NOW = "2025-06-06 16:00"
FAST = {family: RateLimit(per_second=1e9, burst=10**9) for family in ("eastmoney_push2his", "eastmoney_datacenter", "sina")}


@pytest.fixture
def upstream():
    with simulated_akshare(NOW) as pair:
        yield pair


def lab_over(upstream, tmp_path) -> Lab:
    return akshare_lab(tmp_path / "cache", upstream[1], FAST)


def truth(symbol: str, start: str, end: str, how: str) -> np.ndarray:
    now = at(NOW)
    raw = MARKET.bars(symbol, d(start), d(end), now=now)
    actions = MARKET.actions(symbol, now=now)  # factor = reference / previous close, exact
    out = []
    for day, close in raw.select("date", "close").iter_rows():
        if how == "qfq":
            out.append(close * float(actions.filter(pl.col("ex_date") > day)["factor"].product() or 1.0))
        else:
            out.append(close / float(actions.filter(pl.col("ex_date") <= day)["factor"].product() or 1.0))
    return np.array(out)


def symbol_with_actions(n: int = 3) -> str:
    return next(s for s in MARKET.symbols("stock")
                if sum(d("2020-01-01") <= e <= d("2025-06-06") for e in MARKET.ex_dates(s)) >= n)  # fmt: skip


def test_qfq_and_hfq_equal_the_exact_multiplicative_truth(upstream, tmp_path):
    sim, _ = upstream
    lab = lab_over(upstream, tmp_path)
    symbol = symbol_with_actions()
    qfq = lab.bars(symbol, start="2020-01-01", end="2024-12-31", adjust="qfq")
    assert qfq["close"].to_numpy() == pytest.approx(truth(symbol, "2020-01-01", "2024-12-31", "qfq"), rel=1e-9)
    hfq = lab.bars(symbol, start="2020-01-01", end="2024-12-31", adjust="hfq")
    assert hfq["close"].to_numpy() == pytest.approx(truth(symbol, "2020-01-01", "2024-12-31", "hfq"), rel=1e-9)
    assert sim.call_counts["stock_zh_a_hist"] == 2  # qfq: one call for the bars; hfq: the rest of the history
    # what Eastmoney serves is not that: its qfq / our qfq drifts between ex-dates
    import akshare

    em = akshare.stock_zh_a_hist(symbol=symbol[:6], start_date="20200101", end_date="20241231", adjust="qfq")
    drift = em["收盘"].to_numpy() / qfq["close"].to_numpy()
    assert drift.max() - drift.min() > 0.01


def test_cold_qfq_is_one_call_once_the_market_tables_are_cached(upstream, tmp_path):
    """The dividend tables a qfq read needs are market-wide (one per reporting period, and the rights issues):
    the first read pays for them once, every further symbol's cold qfq read is its one kline call."""
    sim, _ = upstream
    lab = lab_over(upstream, tmp_path)
    first, second = [s for s in MARKET.symbols("stock")
                     if sum(d("2024-01-01") <= e <= d("2025-06-06") for e in MARKET.ex_dates(s)) >= 1][:2]  # fmt: skip
    lab.bars(first, start="2024-01-01", end="2024-12-31", adjust="qfq")
    counts = sim.call_counts
    assert counts["stock_zh_a_hist"] == 1 and counts["stock_pg_em"] == 1
    assert 1 <= counts["stock_fhps_em"] <= 12  # the quarter ends from 18 months before the span to its end
    assert "stock_fhps_detail_em" not in counts and "stock_history_dividend_detail" not in counts
    sim.reset_counts()
    qfq = lab.bars(second, start="2024-01-01", end="2024-12-31", adjust="qfq")
    assert sim.call_counts == {"stock_zh_a_hist": 1}
    assert qfq["close"].to_numpy() == pytest.approx(truth(second, "2024-01-01", "2024-12-31", "qfq"), rel=1e-9)
    lab.bars(second, start="2024-01-01", end="2024-12-31", adjust="qfq")  # warm: nothing at all
    assert sim.call_counts == {"stock_zh_a_hist": 1}


def test_cold_qfq_is_one_call_when_the_klines_carry_the_reference_price(tmp_path):
    """Should Eastmoney's change be against the ex-rights reference (the live canary decides), the factors are
    in the bars: ``AkshareProvider(change_basis="reference")`` reads a cold qfq with the kline call alone."""
    from quantdb_lab.providers.akshare import AkshareProvider

    with simulated_akshare(NOW, change_basis="reference") as (sim, clock):
        lab = Lab(tmp_path / "cache", provider=AkshareProvider(timeout=10, change_basis="reference"), clock=clock,
                  limits=dict(FAST))  # fmt: skip
        symbol = symbol_with_actions()
        qfq = lab.bars(symbol, start="2024-01-01", end="2024-12-31", adjust="qfq")
        assert sim.call_counts == {"stock_zh_a_hist": 1}
        assert qfq["close"].to_numpy() == pytest.approx(truth(symbol, "2024-01-01", "2024-12-31", "qfq"), rel=1e-6)


def test_hfq_from_the_listing_takes_the_symbols_own_table(upstream, tmp_path):
    """A span of decades would cost one market-wide call per reporting period: the symbol's own table (two calls)
    is cheaper, and gives the same factors."""
    sim, _ = upstream
    lab = lab_over(upstream, tmp_path)
    symbol = symbol_with_actions()
    hfq = lab.bars(symbol, start="2020-01-01", end="2024-12-31", adjust="hfq")
    counts = sim.call_counts
    assert (counts["stock_fhps_detail_em"], counts["stock_history_dividend_detail"]) == (1, 1)
    assert "stock_fhps_em" not in counts
    assert hfq["close"].to_numpy() == pytest.approx(truth(symbol, "2020-01-01", "2024-12-31", "hfq"), rel=1e-9)


def test_ex_date_change_is_against_the_reference_in_adjusted_reads(upstream, tmp_path):
    lab = lab_over(upstream, tmp_path)
    symbol = symbol_with_actions()
    ex = next(e for e in MARKET.ex_dates(symbol) if d("2024-01-01") <= e <= d("2024-12-31"))
    raw = lab.bars(symbol, start="2024-01-01", end="2024-12-31", adjust="")
    qfq = lab.bars(symbol, start="2024-01-01", end="2024-12-31", adjust="qfq")
    row = raw.with_row_index().filter(pl.col("date") == ex).row(0, named=True)
    previous = raw["close"][row["index"] - 1]
    assert row["change"] == pytest.approx(row["close"] - previous)  # Eastmoney's unadjusted change: close to close
    closes = qfq["close"].to_numpy()
    i = row["index"]
    assert qfq["pct_change"][i] == pytest.approx(closes[i] / closes[i - 1] - 1, rel=1e-9)  # the total return


def test_a_cross_section_over_akshare_is_adjusted_from_the_dividend_tables(upstream, tmp_path, monkeypatch):
    """Factors from the tables, derived by a first qfq read, are kept with each series: a new kernel's
    market read adjusts the whole cross-section from them, equal to the exact truth."""
    from quantdb_lab.loader import batch

    start, end = "2024-01-02", "2024-12-31"
    symbols = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s) < d("2023-06-01")][: batch.MARKET_READ_MIN + 4]
    first = lab_over(upstream, tmp_path)
    first.bars(symbols, start=start, end=end, adjust="qfq")
    first.bars(symbols, start=start, end=end, adjust="qfq")  # confirmations
    metas = first._engine.store.read_metas("bars", symbols)
    assert all(metas[s].events is not None for s in symbols)  # derived from the tables, and kept
    reads = []
    real = batch._market_read
    monkeypatch.setattr(batch, "_market_read", lambda *a: reads.append(1) or real(*a))
    again = lab_over(upstream, tmp_path).bars(symbols, start=start, end=end, adjust="qfq")
    assert reads and len(again["symbol"].unique()) == len(symbols)
    for symbol in symbols[::9]:
        mine = again.filter(pl.col("symbol") == symbol)["close"].to_numpy()
        assert mine == pytest.approx(truth(symbol, start, end, "qfq"), rel=1e-9)


def test_a_cold_qfq_portfolio_reads_the_market_tables_once_not_two_tables_per_symbol(upstream, tmp_path):
    """Ten years of qfq for 40 symbols: one symbol at a time, the span's ~46 missing reporting periods make each
    symbol take its own table (two calls each, 80 here, 10,000 for the market); a portfolio reads each period's
    market-wide table once, so every symbol costs its kline call alone, with the same exact factors."""
    sim, _ = upstream
    sim.warm_market_tables()  # the simulator's own first build (seconds on a loaded machine) is not the subject
    lab = lab_over(upstream, tmp_path)
    symbols = [s for s in MARKET.symbols("stock") if not s.endswith(".BJ") and MARKET.listing_date(s) < d("2014-06-01")][:40]
    result = lab.portfolio(symbols, start="2015-01-05", end="2024-12-31", adjust="qfq", progress=False)
    assert result.ok
    counts = sim.call_counts
    assert "stock_fhps_detail_em" not in counts and "stock_history_dividend_detail" not in counts
    quarters = sum(1 for y in range(2013, 2025) for m in (3, 6, 9, 12) if (y, m) >= (2013, 9))  # 550 days before
    # each quarter end's table once; the last year's, not final on 2025-06-06, may be asked once more
    assert counts["stock_fhps_em"] <= quarters + 4 and counts.get("stock_pg_em", 0) <= 2
    assert sum(counts.get(f, 0) for f in ("stock_zh_a_hist", "stock_zh_a_daily", "stock_zh_a_hist_tx")) <= len(symbols) + 2
    symbol = next(s for s in symbols if sum(d("2015-01-05") <= e <= d("2024-12-31") for e in MARKET.ex_dates(s)) >= 3)
    frame = result.frame.filter(pl.col("symbol") == symbol)
    assert frame["close"].to_numpy() == pytest.approx(truth(symbol, "2015-01-05", "2024-12-31", "qfq"), rel=1e-6)


def test_readers_racing_for_one_market_table_make_one_upstream_call(upstream, tmp_path, monkeypatch):
    """Symbols read in parallel (a portfolio's workers, a background warmer) that all miss one reporting period's
    market-wide table: one of them fetches it and the others wait for its answer, instead of every thread asking
    Eastmoney for the same table (seen in CI as a cold portfolio's 53 table calls for 46 periods)."""
    import threading
    import time

    import akshare

    sim, _ = upstream
    lab = lab_over(upstream, tmp_path)
    answer = akshare.stock_fhps_em

    def slow(*args, **kwargs):  # noqa: ANN002, ANN003
        time.sleep(0.3)  # a real call takes a second or more: long enough for the other readers to miss too
        return answer(*args, **kwargs)

    monkeypatch.setattr(akshare, "stock_fhps_em", slow)
    start = threading.Barrier(6)
    tables: list[pl.DataFrame] = []

    def read() -> None:
        start.wait()
        tables.append(lab.reference.dividend_period(d("2023-12-31")))

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sim.call_counts["stock_fhps_em"] == 1
    assert len(tables) == 6 and all(t.equals(tables[0]) for t in tables) and tables[0].height > 0
