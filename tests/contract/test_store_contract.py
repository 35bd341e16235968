"""One store suite, run against every backend (DESIGN.md section 9): the local directory, the shared store on a
real S3 API (moto's server on 127.0.0.1), and the local layer in front of that shared store.

The contract is the one drawn in ``quantdb_lab.store.base``; expected frames are built here, never read back
from the code under test.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date

import polars as pl
import pytest

pytest.importorskip("deltalake")
pytest.importorskip("moto")

from quantdb_lab.errors import StoreError  # noqa: E402
from quantdb_lab.store.base import SeriesBackend  # noqa: E402
from quantdb_lab.store.coverage import Coverage  # noqa: E402
from quantdb_lab.store.layered import LayeredStore  # noqa: E402
from quantdb_lab.store.series_store import SeriesKey, SeriesMeta, SeriesStore  # noqa: E402
from quantdb_lab.store.shared import SharedConfig, SharedStore  # noqa: E402
from quantdb_lab.store.shared.retry import RetryPolicy  # noqa: E402
from tests.support.s3 import MotoServer  # noqa: E402

KEY = SeriesKey("bars", "600519.SH")
BUCKET = "contract"


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        server.create_bucket(BUCKET)
        yield server


def shared_store(moto: MotoServer, prefix: str) -> SharedStore:
    config = SharedConfig(
        bucket=BUCKET, prefix=prefix, endpoint=moto.endpoint, region="us-east-1", access_key="testing",
        secret_key="testing", session_token=None, virtual_hosted=False,
    )  # fmt: skip
    return SharedStore(config, retry=RetryPolicy(attempts=3, base=0.01, cooldown=1.0), lease_ttl=10.0)


@pytest.fixture(params=["local", "shared", "layered"])
def make(request, tmp_path, moto):
    """``make()`` opens the backend; calling it again opens a second view of the same data (another kernel)."""
    prefix = uuid.uuid4().hex
    counter = iter(range(100))

    def open_backend():
        if request.param == "local":
            return SeriesStore(tmp_path / "cache")
        if request.param == "shared":
            return shared_store(moto, prefix)
        return LayeredStore(SeriesStore(tmp_path / f"cache{next(counter)}"), shared_store(moto, prefix))

    open_backend.kind = request.param
    return open_backend


def frame(first_day: int, n: int) -> pl.DataFrame:
    days = pl.date_range(date(2024, 1, first_day), date(2024, 1, first_day + n - 1), eager=True)
    return pl.DataFrame({"date": days, "close": [10.0 + i for i in range(n)], "symbol": ["600519.SH"] * n})


def meta(*pairs: tuple[int, int], fetched_at: float = 1.0) -> SeriesMeta:
    return SeriesMeta(coverage=Coverage.from_pairs([list(p) for p in pairs]), fetched_at=fetched_at)


def write(store, key, data, info):
    with store.lock(key):
        return store.write(key, data, info)


def test_every_backend_satisfies_the_protocol(make):
    assert isinstance(make(), SeriesBackend)


def test_unknown_key_has_no_meta(make):
    assert make().read_meta(SeriesKey("bars", "000001.SZ")) is None


def test_round_trip_in_a_second_view(make):
    store = make()
    stored = write(store, KEY, frame(2, 5), meta((19724, 19728), fetched_at=123.5))
    assert stored.rows == 5 and stored.generation >= 1
    other = make()  # another kernel, or another researcher
    read = other.read_meta(KEY)
    assert read.coverage.to_pairs() == [[19724, 19728]]
    assert read.fetched_at == 123.5 and read.rows == 5
    assert other.read_frame(KEY, read).equals(frame(2, 5))
    assert other.read_stored(KEY, read).days.tolist() == list(range(19724, 19729))


def test_preload_reads_many_series_into_a_second_view(make):
    store = make()
    keys = [SeriesKey("bars", f"60000{i}.SH") for i in range(4)]
    written = {key: write(store, key, frame(2 + i, 3 + i), meta((19724, 19730))) for i, key in enumerate(keys)}
    other = make()
    assert other.preload([*keys, SeriesKey("bars", "000001.SZ")]) == len(keys)  # an unknown key is skipped
    assert other.preload(keys) == len(keys)  # all in memory already: nothing more to read
    for i, key in enumerate(keys):
        info = other.read_meta(key)
        assert other.read_frame(key, info).equals(frame(2 + i, 3 + i)) and info.rows == written[key].rows


def test_a_write_replaces_the_series_and_raises_the_generation(make):
    store = make()
    first = write(store, KEY, frame(2, 3), meta((19724, 19726)))
    second = write(store, KEY, frame(2, 6), meta((19724, 19729), fetched_at=2.0))
    assert second.generation > first.generation
    again = make()
    read = again.read_meta(KEY)
    assert read.rows == 6 and read.coverage.to_pairs() == [[19724, 19729]]
    assert again.read_frame(KEY, read).equals(frame(2, 6))


def test_empty_ranges_and_the_provisional_bar_are_remembered(make):
    store = make()
    info = SeriesMeta(coverage=Coverage.from_pairs([[19000, 19100]]), provisional_day=19101, provisional_at=9.0)
    write(store, KEY, frame(2, 0), info)
    read = make().read_meta(KEY)
    assert read.rows == 0 and read.coverage.to_pairs() == [[19000, 19100]]
    assert (read.provisional_day, read.provisional_at) == (19101, 9.0)


def test_keys_usage_drop_and_clear(make):
    store = make()
    other = SeriesKey("hfq", "000001.SZ")
    write(store, KEY, frame(2, 4), meta((19724, 19727)))
    write(store, other, frame(2, 2), meta((19724, 19725)))
    assert set(store.keys()) == {KEY, other}
    usage = store.usage()
    assert usage["bars"]["series"] == 1 and usage["bars"]["rows"] == 4 and usage["bars"]["bytes"] > 0
    with store.lock(other):
        store.drop(other)
    assert set(store.keys()) == {KEY}
    assert store.clear(symbols={"600519.SH"}) == 1
    assert store.keys() == []
    if make.kind != "layered":  # the layered store forgets its local copy only: the team's stays
        assert make().read_meta(KEY) is None


def test_the_lock_excludes_a_second_holder(make):
    store, other = make(), make()
    order: list[str] = []
    held = threading.Event()

    def first():
        with store.lock(KEY):
            held.set()
            time.sleep(0.4)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(10)
    with other.lock(KEY):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]


def test_unsafe_names_are_refused(make):
    with pytest.raises(StoreError):
        write(make(), SeriesKey("bars", "../../etc"), frame(2, 1), meta())
