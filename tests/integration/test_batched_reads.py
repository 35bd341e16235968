"""A new kernel's first read of many cached series: frames come off disk in batched Parquet reads, the same
frames as one read per series would give, and nothing is fetched."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

import quantdb_lab.store.series_store as series_store
from quantdb_lab.lab import Lab
from quantdb_lab.loader.bar_loader import series_keys
from tests.support.sim import MARKET, calls, make_lab

SYMBOLS = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s) < date(2023, 1, 1)][:6]


@pytest.fixture
def parquet_reads(monkeypatch):
    """Counts the store's Parquet read calls (one per file, or one per batch)."""
    counter = {"calls": 0}
    real = pl.read_parquet

    def counting(*args, **kwargs):
        counter["calls"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(series_store.pl, "read_parquet", counting)
    return counter


def fresh_lab(lab: Lab, provider) -> Lab:
    return Lab(lab.cache_dir, provider=provider, clock=lab.clock)


@pytest.mark.parametrize("how", ["bars", "portfolio"])
def test_cached_series_are_read_in_one_batch_by_a_new_lab(tmp_path, parquet_reads, how):
    lab, provider, _ = make_lab(tmp_path)
    first = lab.bars(SYMBOLS, start="2024-01-02", end="2024-12-31", adjust="qfq")  # bars + hfq of each
    fetched = calls(provider)
    other = fresh_lab(lab, provider)
    parquet_reads["calls"] = 0
    if how == "bars":
        again = other.bars(SYMBOLS, start="2024-01-02", end="2024-12-31", adjust="qfq")
    else:
        again = other.portfolio(SYMBOLS, start="2024-01-02", end="2024-12-31", adjust="qfq", progress=False).frame
    datasets = len(series_keys(other.request(SYMBOLS[0], adjust="qfq")))
    assert parquet_reads["calls"] == datasets  # one batched read per stored dataset, whatever the symbol count
    assert calls(provider) == fetched  # all from the cache
    key = ["symbol", "date"]
    assert again.sort(key).equals(first.sort(key))


def test_a_file_the_batch_cannot_trust_is_left_to_the_single_read(tmp_path, parquet_reads):
    lab, provider, _ = make_lab(tmp_path)
    lab.bars(SYMBOLS[:3], start="2024-01-02", end="2024-06-28", adjust="")
    path = next((tmp_path / "cache").rglob(f"{SYMBOLS[0]}.*.parquet"))
    pl.read_parquet(path).head(5).write_parquet(path)  # truncated behind the index's back
    other = fresh_lab(lab, provider)
    fetched, parquet_reads["calls"] = calls(provider), 0
    again = other.bars(SYMBOLS[:3], start="2024-01-02", end="2024-06-28", adjust="")
    # the truncated file was detected by its checksum before any decode, dropped and fetched again; the others
    # came from the batch
    assert again.filter(pl.col("symbol") == SYMBOLS[0]).height > 100
    assert parquet_reads["calls"] == 1  # the batch of the two good files only
    assert calls(provider) == fetched + 1
