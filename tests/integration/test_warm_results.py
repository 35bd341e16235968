"""Repeated warm reads reuse their result (``loader.warm_results``) only while nothing it came from changed."""

from __future__ import annotations

import warnings

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantdb_lab.errors import SyntheticDataWarning
from quantdb_lab.lab import Lab
from quantdb_lab.store.series_store import SeriesKey
from tests.support.sim import calls, make_lab

YEAR = {"start": "2024-01-01", "end": "2024-12-31", "adjust": ""}


@pytest.mark.parametrize("adjust", ["", "qfq", "hfq"])
def test_a_repeated_warm_read_serves_the_same_rows_with_the_same_warnings(tmp_path, adjust):
    lab, provider, _ = make_lab(tmp_path)
    with pytest.warns(SyntheticDataWarning):
        first = lab.bars("600519", **{**YEAR, "adjust": adjust})
    hits = lab.stats()["hits"]
    for _ in range(3):
        with pytest.warns(SyntheticDataWarning):  # the simulator's data is labelled on every read, reused or not
            again = lab.bars("600519", **{**YEAR, "adjust": adjust})
        assert_frame_equal(again, first)
        (series,) = again.quantdb.provenance.series
        assert series.from_cache and series.upstream_calls == 0 and series.rows == first.height
    assert lab.stats()["hits"] == hits + 3 and calls(provider) == 1


def test_a_caller_changing_its_frame_in_place_changes_no_later_read(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = lab.bars("600519", **YEAR).clone()
        for _ in range(2):
            served = lab.bars("600519", **YEAR)
            served.drop_in_place("close")
            served.insert_column(0, pl.Series("mine", range(served.height)))
        assert_frame_equal(lab.bars("600519", **YEAR), expected)


def test_rows_another_lab_writes_to_the_same_cache_are_seen_by_the_next_warm_read(tmp_path):
    """Another kernel on the cache (a repair, a re-fetch after a revision) replaces a series' rows: the first
    kernel's next warm read serves the new rows, not the result it read before."""
    lab, provider, clock = make_lab(tmp_path)
    other = Lab(tmp_path / "cache", provider=provider, clock=clock)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = lab.bars("600519", **YEAR)
        lab.bars("600519", **YEAR)
        key = SeriesKey("bars", "600519.SH")
        store = other._engine.store
        meta = store.read_meta(key)
        stored = store.read_frame(key, meta)
        revised = stored.with_columns(pl.col("close") + 1.0)
        store.write(key, revised, meta)
        after = lab.bars("600519", **YEAR)
    assert after["close"].to_list() == pytest.approx((before["close"] + 1.0).to_list())
