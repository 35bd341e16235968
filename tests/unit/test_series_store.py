import json
import sqlite3
from datetime import date

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
