"""QuantDB's warm reads slow down with table size (no index). Ours touch only the series asked for:
the work per warm read is the same with 1 or 300 series stored. Checked by counting store operations,
not by timing (timings live in benchmarks/)."""

from __future__ import annotations

from quantdb_lab.store.series_store import SeriesStore
from tests.support.sim import MARKET, make_lab


def _count_store_ops(lab, monkeypatch):
    counts = {"meta": 0, "frame": 0}
    real_meta, real_stored = SeriesStore.read_meta, SeriesStore.read_stored

    def meta(self, key):
        counts["meta"] += 1
        return real_meta(self, key)

    def stored(self, key, m):
        counts["frame"] += 1
        return real_stored(self, key, m)

    monkeypatch.setattr(SeriesStore, "read_meta", meta)
    monkeypatch.setattr(SeriesStore, "read_stored", stored)
    lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="qfq")
    monkeypatch.undo()
    return counts


def test_warm_read_work_does_not_grow_with_the_store(tmp_path, monkeypatch):
    small, _, _ = make_lab(tmp_path / "small")
    small.bars("600519", start="2024-01-01", end="2024-12-31", adjust="qfq")
    big, _, _ = make_lab(tmp_path / "big")
    from datetime import date

    suspended = set(MARKET.symbols_with_suspension_between(date(2024, 1, 1), date(2024, 12, 31)))
    listed = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s) < date(2023, 1, 1)]
    others = [s for s in listed if s != "600519.SH" and s not in suspended][:150]
    big.bars(others, start="2024-01-01", end="2024-12-31", adjust="")
    big.bars("600519", start="2024-01-01", end="2024-12-31", adjust="qfq")
    assert big.stats()["series"] > 150
    assert _count_store_ops(small, monkeypatch) == _count_store_ops(big, monkeypatch) == {"meta": 1, "frame": 1}
