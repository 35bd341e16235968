"""Lazy scans, panels and the documented layout (issue 18 items 3-5): the same rows as per-series reads, never a
call to the upstream, and readable by DuckDB without quantdb_lab."""

from __future__ import annotations

import polars as pl
import pytest

from quantdb_lab.errors import InvalidRequestError
from tests.support.sim import MARKET, calls, d, make_lab

START, END = "2024-01-02", "2024-06-28"
SYMBOLS = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s) < d("2023-06-01")][:40]


@pytest.fixture
def lab(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    lab.bars(SYMBOLS, start=START, end=END, adjust="")
    lab.bars(SYMBOLS, start=START, end=END, adjust="")  # confirms what the first answers left open
    lab.provider_calls = calls(provider)
    lab.sim = provider
    return lab


def test_a_scan_is_lazy_equals_the_cached_rows_and_never_fetches(lab):
    lazy = lab.scan("bars", start=START, end=END)
    assert isinstance(lazy, pl.LazyFrame)
    expected = lab.bars(SYMBOLS, start=START, end=END, adjust="")
    assert lazy.collect().sort("date", "symbol").select(expected.columns).equals(expected)
    mean = lazy.group_by("date").agg(pl.col("close").mean()).sort("date").collect()
    assert mean.height == expected["date"].n_unique()
    assert lab.scan("bars", start="2030-01-01", end="2030-12-31").collect().is_empty()
    assert calls(lab.sim) == lab.provider_calls


def test_missing_lists_the_calls_a_read_would_make(lab):
    assert lab.missing(SYMBOLS[:3], start=START, end=END, adjust="").is_empty()
    plan = lab.missing(SYMBOLS[:2], start="2023-01-03", end=END, adjust="")
    assert set(plan["symbol"]) == set(SYMBOLS[:2]) and plan["end"].max() < d(START)
    assert calls(lab.sim) == lab.provider_calls


def test_panels_long_and_wide(lab):
    long = lab.panel(SYMBOLS[:5], ["close", "volume"], start=START, end=END, adjust="")
    assert long.columns == ["date", "symbol", "close", "volume"]
    wide = lab.panel(SYMBOLS[:5], "close", start=START, end=END, adjust="", shape="wide")
    assert wide.columns[0] == "date" and set(wide.columns[1:]) == set(SYMBOLS[:5])
    one = long.filter(pl.col("symbol") == SYMBOLS[0]).sort("date")
    assert wide.select("date", SYMBOLS[0]).drop_nulls().rename({SYMBOLS[0]: "close"}).equals(one.select("date", "close"))
    with pytest.raises(InvalidRequestError):
        lab.panel(SYMBOLS[:5], ["close", "volume"], shape="wide")
    with pytest.raises(InvalidRequestError, match="industry"):
        lab.panel("no such sector", start=START, end=END)


def test_a_sector_panel_uses_the_security_master(lab):
    master = lab.securities()
    industry = master.filter(pl.col("symbol").is_in(SYMBOLS))["industry"].drop_nulls()[0]
    members = set(master.filter(pl.col("industry") == industry)["symbol"])
    frame = lab.panel(industry, start=START, end=END, adjust="")
    assert set(frame["symbol"]) <= members and set(frame["symbol"]) & set(SYMBOLS)


def test_duckdb_reads_the_compacted_layout_without_quantdb_lab(lab):
    duckdb = pytest.importorskip("duckdb")
    lab.compact()
    root = lab.cache_dir / "v2" / lab._engine.store.source
    got = duckdb.sql(
        f"SELECT symbol, date, close FROM read_parquet('{root}/segments/bars/*.parquet') "
        f"WHERE date BETWEEN DATE '{START}' AND DATE '{END}' ORDER BY date, symbol"
    ).pl()
    expected = lab.bars(SYMBOLS, start=START, end=END, adjust="").select("symbol", "date", "close")
    assert got.equals(expected)


def test_an_adjusted_scan_equals_the_adjusted_read(lab):
    from polars.testing import assert_frame_equal

    expected = lab.bars(SYMBOLS, start=START, end=END, adjust="qfq")
    got = lab.scan("bars", start=START, end=END, adjust="qfq").collect()
    assert_frame_equal(got.select(expected.columns), expected, check_exact=False, rel_tol=1e-12)
    with pytest.raises(InvalidRequestError, match="from its listing"):  # a scan never fetches the history
        lab.scan("bars", SYMBOLS[:3], start=START, end=END, adjust="hfq")
    expected = lab.bars(SYMBOLS[:3], start=START, end=END, adjust="hfq")
    hfq = lab.scan("bars", SYMBOLS[:3], start=START, end=END, adjust="hfq").collect()
    assert_frame_equal(hfq.select(expected.columns), expected, check_exact=False, rel_tol=1e-12)


def test_a_cross_sectional_read_logs_each_symbol_once_as_one_question(lab, monkeypatch):
    """The whole-market path logs its use in one batch: every symbol served, once a day, with the call's size."""
    lab.bars(SYMBOLS, start=START, end=END, adjust="hfq")  # derives the factor events: the range is warm after
    tracker, batches = lab._engine.tracker, []
    served_many = tracker.served_many
    monkeypatch.setattr(tracker, "served_many", lambda pairs, *a, **k: (batches.append(len(pairs)), served_many(pairs, *a, **k)))
    for _ in range(2):  # the same question twice: logged once today
        lab.bars(SYMBOLS, start=START, end="2024-03-29", adjust="hfq")
    assert max(batches) >= 32  # the cross-section served most of them in one batch
    logged = lab.usage().filter((pl.col("adjust") == "hfq") & (pl.col("end") == "2024-03-29"))
    assert sorted(logged["symbol"]) == sorted(SYMBOLS)
    assert set(logged["batch"]) == {len(SYMBOLS)}
