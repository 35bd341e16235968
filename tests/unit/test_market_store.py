"""Cross-sectional reads and compaction: the same rows as the series files hold, in (date, symbol) order,
whatever has been written, dropped or compacted, and nothing lost when a compaction dies half-way."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from quantdb_lab.errors import CacheRepairedWarning
from quantdb_lab.store.market import read_market
from quantdb_lab.store.series_store import SeriesKey, SeriesMeta, SeriesStore

DAYS = pl.date_range(date(2022, 12, 1), date(2025, 2, 28), eager=True).filter(
    pl.date_range(date(2022, 12, 1), date(2025, 2, 28), eager=True).dt.weekday() < 6
)  # 2022, 2023, 2024 and 2025: four yearly periods


def series(i: int, start: int = 0, stop: int | None = None, bump: float = 0.0) -> pl.DataFrame:
    days = DAYS[start:stop]
    rng = np.random.default_rng(i)
    return pl.DataFrame({"symbol": f"{600000 + i}.SH", "date": days,
                         "close": np.round(10 + rng.random(len(days)) + bump, 2)})  # fmt: skip


def put(store: SeriesStore, frame: pl.DataFrame) -> None:
    key = SeriesKey("bars", frame["symbol"][0])
    with store.lock(key):
        store.write(key, frame, SeriesMeta())


def market(store: SeriesStore, symbols=None, **span) -> pl.DataFrame:  # noqa: ANN001
    """The cross-sectional read without its internal series-number column."""
    return read_market(store, "bars", symbols, **span).frame.drop("__sid", strict=False)


def expected(store: SeriesStore, start=None, end=None, symbols=None) -> pl.DataFrame:
    """The truth: every series file read on its own, filtered and sorted here."""
    frames = [store.read_frame(k, store.read_meta(k)) for k in store.keys() if symbols is None or k.symbol in symbols]
    out = pl.concat(frames).sort("date", "symbol")
    if start is not None:
        out = out.filter(pl.col("date") >= start)
    if end is not None:
        out = out.filter(pl.col("date") <= end)
    return out


@pytest.fixture
def store(tmp_path):
    s = SeriesStore(tmp_path, source="test")
    for i in range(12):
        put(s, series(i, start=i * 7))  # ragged listing dates
    return s


def test_market_read_equals_the_series_before_and_after_compaction(store):
    before = market(store)
    assert before.equals(expected(store))
    report = store.compact("bars")
    assert report["periods"] == 4 and report["series"] == 12 and store.catalog.backlog("bars") == 0
    after = market(store)
    assert after.equals(expected(store)) and after["date"].is_sorted()


def test_appends_replacements_and_drops_after_compaction(store):
    store.compact("bars")
    put(store, series(3, start=3 * 7, bump=0.0).vstack(pl.DataFrame(
        {"symbol": "600003.SH", "date": [date(2025, 3, 3)], "close": [99.0]})))  # an append
    changed = series(5, start=5 * 7).with_columns(
        pl.when(pl.col("date") == date(2024, 6, 3)).then(1.0).otherwise(pl.col("close")).alias("close"))
    put(store, changed)  # one row in the middle replaced
    store.drop(SeriesKey("bars", "600007.SH"))
    got = market(store)
    assert got.equals(expected(store)) and "600007.SH" not in got["symbol"].to_list()
    store.compact("bars")
    assert market(store).equals(expected(store)) and store.catalog.backlog("bars") == 0


def test_date_ranges_and_symbol_subsets(store):
    store.compact("bars")
    lo, hi = date(2024, 11, 15), date(2024, 12, 6)
    got = market(store, ["600002.SH", "600009.SH"], start=lo, end=hi)
    assert got.equals(expected(store, lo, hi, {"600002.SH", "600009.SH"}))
    assert market(store, start=date(2024, 1, 1)).equals(expected(store, date(2024, 1, 1)))


def test_a_compaction_killed_before_its_commit_loses_nothing(store, monkeypatch):
    store.compact("bars")
    put(store, series(1, start=7, bump=5.0))  # history rewritten: dirty from its first day

    def dies(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(store.catalog, "register_segments", dies)
    with pytest.raises(KeyboardInterrupt):
        store.compact("bars")
    monkeypatch.undo()
    fresh = SeriesStore(store.root, source="test")  # another kernel, after the crash
    assert market(fresh).equals(expected(fresh))
    fresh.compact("bars")
    assert market(fresh).equals(expected(fresh))


def test_a_write_racing_a_compaction_keeps_its_rows(store, monkeypatch):
    store.compact("bars")
    put(store, series(2, start=14, bump=1.0))
    import quantdb_lab.store.compaction as compaction

    real, raced = compaction.write_segment, []

    def racing(*args, **kwargs):  # another kernel writes after the compaction read the series, before it commits
        if not raced:
            other = SeriesStore(store.root, source="test")
            put(other, series(2, start=14, bump=2.0))
            other.close()
            raced.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(compaction, "write_segment", racing)
    store.compact("bars")
    monkeypatch.undo()
    got = market(store, ["600002.SH"])
    assert got.equals(expected(store, symbols={"600002.SH"}))
    assert got["close"].to_list() == series(2, start=14, bump=2.0)["close"].to_list()
    assert store.catalog.backlog("bars") == 1  # the raced series stays out of date, read from its own file


def _compact_and_damage(store, *, segment: int, at: float):  # noqa: ANN001, ANN202
    """Compact ``bars``, flip a byte ``at`` through one segment's file, and drop what memory holds."""
    store.compact("bars")
    seg = store.catalog.snapshot("bars").segments[segment]
    path = store.base / seg.file
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0xFF
    path.write_bytes(bytes(data))
    store.memory.clear()
    return seg


def test_a_damaged_segment_is_set_aside_and_the_series_files_serve(store):
    _compact_and_damage(store, segment=1, at=1 / 2)
    with pytest.warns(CacheRepairedWarning):
        got = market(store)
    assert got.equals(expected(store))
    store.compact("bars")
    assert market(store).equals(expected(store))


def test_an_append_into_a_compacted_period_keeps_the_periods_older_rows(tmp_path):
    """Rows appended after a compaction, in the same period as rows already compacted, must not replace them."""
    store = SeriesStore(tmp_path, source="test")
    for i in range(3):
        put(store, series(i, stop=400))  # up to mid-2024
    store.compact("bars")
    for i in range(3):
        put(store, series(i))  # the rest of 2024 and 2025 appended
    store.compact("bars")
    assert market(store).equals(expected(store))


def test_segments_decoded_ahead_are_what_the_read_serves_and_a_damaged_one_is_still_reported(store):
    store.compact("bars")
    segments = store.catalog.snapshot("bars").segments
    store.memory.clear()
    store.preload_market("bars", start=None, end=None).result(timeout=30)
    assert all(store.memory.get(("segment", seg.file), seg.crc) is not None for seg in segments)
    assert market(store).equals(expected(store))

    seg = _compact_and_damage(store, segment=2, at=1 / 3)  # a fresh set of files, one of them damaged on disk
    store.preload_market("bars", start=None, end=None).result(timeout=30)  # the problem is left to the read
    assert store.memory.get(("segment", seg.file), seg.crc) is None
    with pytest.warns(CacheRepairedWarning):
        got = market(store)
    assert got.equals(expected(store))
