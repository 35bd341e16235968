import json
import sqlite3
from datetime import date, timedelta

import polars as pl
import pytest

from quantdb_lab.errors import StoreError
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.series_store import SeriesKey, SeriesMeta, SeriesStore

KEY = SeriesKey("bars", "600519.SH")


def frame(n=3):
    return pl.DataFrame({"date": [date(2024, 1, 2 + i) for i in range(n)], "close": [1.0 + i for i in range(n)]})


def test_round_trip_and_generation(tmp_path):
    store = SeriesStore(tmp_path)
    meta = store.write(KEY, frame(), SeriesMeta(coverage=Coverage.from_pairs([[1, 5]]), fetched_at=1.0))
    assert (meta.rows, meta.generation) == (3, 1) and meta.bytes > 0
    again = SeriesStore(tmp_path)  # a second kernel: nothing in memory
    read = again.read_meta(KEY)
    assert read.coverage.to_pairs() == [[1, 5]] and read.generation == 1
    assert again.read_frame(KEY, read).equals(frame())
    assert store.write(KEY, frame(4), read).generation == 2


def test_index_holds_json_not_pickles(tmp_path):
    store = SeriesStore(tmp_path)
    store.write(KEY, frame(), SeriesMeta())
    store.close()
    con = sqlite3.connect(tmp_path / "v1" / "index" / "cache.db")
    rows = con.execute("select key, raw, mode, value from Cache").fetchall()
    assert rows, "the index has an entry"
    for key, raw, mode, value in rows:
        # diskcache stores JSONDisk values as (zlib-compressed) JSON bytes in MODE_BINARY; never MODE_PICKLE (4)
        assert mode != 4
        import zlib
        decoded = json.loads(zlib.decompress(value).decode()) if isinstance(value, bytes) else json.loads(value)
        assert decoded["rows"] == 3


def test_corrupt_file_is_detected(tmp_path):
    store = SeriesStore(tmp_path)
    meta = store.write(KEY, frame(), SeriesMeta())
    store.frame_path(KEY).write_bytes(b"not parquet at all")
    fresh = SeriesStore(tmp_path)
    with pytest.raises(StoreError):
        fresh.read_frame(KEY, meta)


def test_truncated_frame_is_detected_by_row_count(tmp_path):
    store = SeriesStore(tmp_path)
    meta = store.write(KEY, frame(3), SeriesMeta())
    frame(2).write_parquet(store.frame_path(KEY))
    with pytest.raises(StoreError):
        SeriesStore(tmp_path).read_frame(KEY, meta)


def test_unsafe_names_rejected(tmp_path):
    store = SeriesStore(tmp_path)
    with pytest.raises(StoreError):
        store.frame_path(SeriesKey("bars", "../../etc/passwd"))


def test_clear_and_usage(tmp_path):
    store = SeriesStore(tmp_path)
    store.write(KEY, frame(), SeriesMeta())
    store.write(SeriesKey("hfq", "600519.SH"), frame(2), SeriesMeta())
    store.write(SeriesKey("bars", "000001.SZ"), frame(1), SeriesMeta())
    usage = store.usage()
    assert usage["bars"]["series"] == 2 and usage["bars"]["rows"] == 4 and usage["hfq"]["rows"] == 2
    assert store.clear(symbols={"600519.SH"}) == 2
    assert [k.symbol for k in store.keys()] == ["000001.SZ"]


def test_old_schema_versions_are_not_read(tmp_path):
    (tmp_path / "v0" / "index").mkdir(parents=True)
    store = SeriesStore(tmp_path)
    assert store.keys() == []
    assert store.clear_other_versions() == ["v0"]


def long_frame(n: int) -> pl.DataFrame:
    return pl.DataFrame({"date": pl.date_range(date(2024, 1, 1), date(2024, 1, 1) + timedelta(days=n - 1), eager=True),
                         "close": [1.0 + i for i in range(n)]})  # fmt: skip


def test_memory_copy_is_bounded_and_least_recently_used_goes_first(tmp_path):
    one = long_frame(100).estimated_size()
    store = SeriesStore(tmp_path, memory_bytes=int(2.5 * one))  # room for two frames of 100 rows
    keys = [SeriesKey("bars", f"60000{i}.SH") for i in range(3)]
    metas = [store.write(key, long_frame(100), SeriesMeta()) for key in keys]
    # the third write pushed out the first: served from disk again (a changed file shows it), the others not
    assert len(store._memory) == 2 and store._memory.used <= store._memory.budget
    for key in keys:
        pl.DataFrame({"date": [date(2020, 1, 1)] * 100, "close": [0.0] * 100}).write_parquet(store.frame_path(key))
    def served(i: int) -> str:
        return "disk" if store.read_frame(keys[i], metas[i])["close"][0] == 0.0 else "memory"

    assert served(0) == "disk"  # pushed out by the third write; now back in, pushing out 1
    assert served(2) == "memory"  # and used again: the most recent
    assert served(1) == "disk"  # pushes out 0, the least recently used, not 2
    assert served(2) == "memory" and len(store._memory) == 2


def test_memory_budget_zero_reads_every_frame_from_disk(tmp_path):
    store = SeriesStore(tmp_path, memory_bytes=0)
    meta = store.write(KEY, frame(), SeriesMeta())
    assert len(store._memory) == 0 and store.read_frame(KEY, meta).equals(frame())


@pytest.mark.parametrize(("value", "expected"), [("", 1024 * 2**20), ("64", 64 * 2**20), ("0", 0), ("0.5", 2**19)])
def test_memory_budget_from_the_environment(monkeypatch, value, expected):
    from quantdb_lab.config import memory_budget_bytes

    monkeypatch.setenv("QUANTDB_LAB_MEMORY_MB", value)
    assert memory_budget_bytes() == expected


@pytest.mark.parametrize("value", ["lots", "-1", "nan", "inf"])
def test_bad_memory_budget_is_named(monkeypatch, value):
    from quantdb_lab.config import memory_budget_bytes

    monkeypatch.setenv("QUANTDB_LAB_MEMORY_MB", value)
    with pytest.raises(ValueError, match="QUANTDB_LAB_MEMORY_MB"):
        memory_budget_bytes()
