import json
import os
import random
import sqlite3
import warnings
from datetime import date, timedelta

import polars as pl
import pytest

from quantdb_lab.errors import CacheRepairedWarning, LegacyCacheWarning, StoreError
from quantdb_lab.store.coverage import Coverage
from quantdb_lab.store.series_store import SeriesKey, SeriesMeta, SeriesStore

KEY = SeriesKey("bars", "600519.SH")


def frame(n=3):
    return pl.DataFrame({"date": [date(2024, 1, 2) + timedelta(days=i) for i in range(n)], "close": [1.0 + i for i in range(n)],
                         "amount": [1.77e9 + i for i in range(n)]})  # fmt: skip


def put(store, key, data, meta=None):
    with store.lock(key):
        return store.write(key, data, meta or SeriesMeta())


def test_round_trip_and_generation(tmp_path):
    store = SeriesStore(tmp_path, source="akshare")
    meta = put(store, KEY, frame(), SeriesMeta(coverage=Coverage.from_pairs([[1, 5]]), fetched_at=1.0))
    assert meta.rows == 3 and meta.generation >= 1 and meta.bytes > 0
    again = SeriesStore(tmp_path, source="akshare")  # a second kernel: nothing in memory
    read = again.read_meta(KEY)
    assert read.coverage.to_pairs() == [[1, 5]] and read.generation == meta.generation
    assert again.read_frame(KEY, read).equals(frame())
    assert put(store, KEY, frame(4), read).generation > meta.generation


def test_catalog_holds_json_not_pickles(tmp_path):
    store = SeriesStore(tmp_path, source="akshare")
    put(store, KEY, frame())
    store.close()
    con = sqlite3.connect(tmp_path / "v2" / "akshare" / "catalog.sqlite")
    rows = con.execute("select meta from series").fetchall()
    assert rows and all(json.loads(meta)["rows"] == 3 for (meta,) in rows)


def test_sources_are_separate_namespaces(tmp_path):
    simulated = SeriesStore(tmp_path, source="simulated-7-300")
    put(simulated, KEY, frame(), SeriesMeta(coverage=Coverage.from_pairs([[19724, 19726]])))
    real = SeriesStore(tmp_path, source="akshare")
    assert real.read_meta(KEY) is None and real.keys() == []
    assert simulated.keys() == [KEY]


def test_a_source_name_cannot_escape_the_cache(tmp_path):
    for bad in ("../etc", "a/b", "", "common", ".hidden"):
        with pytest.raises(StoreError):
            SeriesStore(tmp_path, source=bad)


def test_a_v1_cache_is_set_aside_with_one_warning_and_never_read(tmp_path):
    (tmp_path / "v1" / "index").mkdir(parents=True)
    (tmp_path / "v1" / "frames" / "bars").mkdir(parents=True)
    frame().write_parquet(tmp_path / "v1" / "frames" / "bars" / "600519.SH.parquet")
    with pytest.warns(LegacyCacheWarning, match="set aside"):
        store = SeriesStore(tmp_path, source="akshare")
    assert store.keys() == [] and not (tmp_path / "v1").exists() and (tmp_path / "v1-set-aside").is_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SeriesStore(tmp_path, source="akshare")  # once only
    assert "v1-set-aside" in store.clear_other_versions()


def test_corrupt_file_is_detected(tmp_path):
    store = SeriesStore(tmp_path)
    meta = put(store, KEY, frame())
    store.frame_path(KEY).write_bytes(b"not parquet at all")
    with pytest.raises(StoreError, match="cannot be trusted"):
        SeriesStore(tmp_path).read_frame(KEY, meta)


@pytest.mark.parametrize("seed", range(8))
def test_a_garbled_file_that_still_decodes_is_never_served(tmp_path, seed):
    store = SeriesStore(tmp_path)
    meta = put(store, KEY, frame(60))
    path = store.frame_path(KEY)
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    start = rng.randrange(4, len(data) - 80)
    for i in range(start, start + rng.randrange(8, 64)):
        data[i] = rng.randrange(256)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        SeriesStore(tmp_path).read_frame(KEY, meta)


@pytest.mark.parametrize(
    "damage",
    [
        lambda f: f.head(2),  # truncated
        lambda f: f.drop("amount"),  # a column missing
        lambda f: pl.concat([f, f.tail(1)]),  # a duplicated date
        lambda f: f.with_columns(pl.col("close").cast(pl.String)),  # close as text
    ],
)
def test_a_replaced_file_is_detected(tmp_path, damage):
    store = SeriesStore(tmp_path)
    meta = put(store, KEY, frame(5))
    damage(frame(5)).write_parquet(store.frame_path(KEY))
    with pytest.raises(StoreError):
        SeriesStore(tmp_path).read_frame(KEY, meta)


def test_a_damaged_catalog_is_rebuilt_from_the_files(tmp_path):
    store = SeriesStore(tmp_path, source="akshare")
    put(store, KEY, frame(), SeriesMeta(coverage=Coverage.from_pairs([[19724, 19726]]), fetched_at=5.0))
    other = SeriesKey("bars", "000001.SZ")
    put(store, other, frame(2))
    store.close()
    path = tmp_path / "v2" / "akshare" / "catalog.sqlite"
    for suffix in ("-wal", "-shm"):
        (path.parent / (path.name + suffix)).unlink(missing_ok=True)
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    with pytest.warns(CacheRepairedWarning, match="rebuilt"):
        fresh = SeriesStore(tmp_path, source="akshare")
    meta = fresh.read_meta(KEY)
    assert meta.coverage.to_pairs() == [[19724, 19726]] and meta.fetched_at == 5.0
    assert fresh.read_frame(KEY, meta).equals(frame())
    assert fresh.read_frame(other, fresh.read_meta(other)).equals(frame(2))
    # generations keep rising after a rebuild (no in-memory copy elsewhere can be mistaken for a new write)
    assert put(fresh, KEY, frame(4), meta).generation > meta.generation


def test_generations_are_never_reused_after_a_drop(tmp_path):
    store = SeriesStore(tmp_path)
    first = put(store, KEY, frame())
    store.drop(KEY)
    assert put(store, KEY, frame(2)).generation > first.generation


def test_unsafe_names_rejected(tmp_path):
    store = SeriesStore(tmp_path)
    with pytest.raises(StoreError):
        put(store, SeriesKey("bars", "../../etc/passwd"), frame())


def test_clear_and_usage(tmp_path):
    store = SeriesStore(tmp_path)
    put(store, KEY, frame())
    put(store, SeriesKey("minute", "600519.SH"), frame(2))
    put(store, SeriesKey("bars", "000001.SZ"), frame(1))
    usage = store.usage()
    assert usage["bars"]["series"] == 2 and usage["bars"]["rows"] == 4 and usage["minute"]["rows"] == 2
    assert store.clear(symbols={"600519.SH"}) == 2
    assert [k.symbol for k in store.keys()] == ["000001.SZ"]


def long_frame(n: int) -> pl.DataFrame:
    return pl.DataFrame({"date": pl.date_range(date(2024, 1, 1), date(2024, 1, 1) + timedelta(days=n - 1), eager=True),
                         "close": [1.0 + i for i in range(n)]})  # fmt: skip


def test_memory_copy_is_bounded_and_least_recently_used_goes_first(tmp_path):
    one = long_frame(100).estimated_size()
    store = SeriesStore(tmp_path, memory_bytes=int(2.5 * one))  # room for two frames of 100 rows
    keys = [SeriesKey("bars", f"60000{i}.SH") for i in range(3)]
    metas = [put(store, key, long_frame(100)) for key in keys]
    # the third write pushed out the first: read from disk again (a damaged file shows it), the others not
    assert len(store.memory) == 2 and store.memory.used <= store.memory.budget
    for key in keys:
        store.frame_path(key).write_bytes(b"damaged")

    def served(i: int) -> str:
        try:
            store.read_frame(keys[i], metas[i])
        except StoreError:
            return "disk"
        return "memory"

    assert served(0) == "disk"
    assert served(2) == "memory" and served(1) == "memory"


def test_a_batch_read_under_a_small_memory_budget_reads_each_file_once(tmp_path, monkeypatch):
    """Issue 17.10: a batched preload into a memory layer too small for the batch pushed its own frames out,
    so every file was read again, one by one."""
    from pathlib import Path

    one = long_frame(100).estimated_size()
    writer = SeriesStore(tmp_path)
    keys = [SeriesKey("bars", f"60000{i}.SH") for i in range(6)]
    metas = [put(writer, key, long_frame(100)) for key in keys]
    store = SeriesStore(tmp_path, memory_bytes=int(1.5 * one))  # a new kernel with room for one frame
    reads: list[str] = []
    real_read_bytes = Path.read_bytes  # every frame file is read through it (preload and read_verified)
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or real_read_bytes(self))
    store.preload(keys)
    frames = [store.read_frame(key, meta) for key, meta in zip(keys, metas)]
    assert all(f.equals(long_frame(100)) for f in frames)
    assert len(reads) == len(set(reads)) == len(keys)  # each file once


def test_memory_budget_zero_reads_every_frame_from_disk(tmp_path):
    store = SeriesStore(tmp_path, memory_bytes=0)
    meta = put(store, KEY, frame())
    assert len(store.memory) == 0 and store.read_frame(KEY, meta).equals(frame())


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


def test_files_are_created_with_one_mode(tmp_path):
    store = SeriesStore(tmp_path)
    put(store, KEY, frame())
    from quantdb_lab.config import file_mode

    assert store.frame_path(KEY).stat().st_mode & 0o777 == file_mode()
    assert store.catalog_path.stat().st_mode & 0o777 == file_mode()


def test_stale_files_are_cleaned_and_live_ones_kept(tmp_path):
    from quantdb_lab.store.repair import clean_stale, stale_files

    store = SeriesStore(tmp_path)
    put(store, KEY, frame())
    folder = store.frame_path(KEY).parent
    leftover = folder / ".600519.SH.7.parquet.abc.tmp"  # what a writer killed mid-write leaves
    leftover.write_bytes(b"x" * 100)
    orphan = folder / "600519.SH.1.parquet"
    if orphan == store.frame_path(KEY):
        orphan = folder / "600519.SH.0.parquet"
    frame().write_parquet(orphan)
    past = 1_000_000_000
    os.utime(leftover, (past, past))
    os.utime(orphan, (past, past))
    assert set(stale_files(store)) == {leftover, orphan}
    report = clean_stale(store)
    assert report["files"] == 2 and not leftover.exists() and not orphan.exists()
    assert store.read_frame(KEY, store.read_meta(KEY)).equals(frame())
