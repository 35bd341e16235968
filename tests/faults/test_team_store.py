"""Team-store faults against a real S3 API (moto's server on 127.0.0.1): garbage leases and heads, a lease
left by a killed process, a lease held by a live one. Expected rows come from the simulated market itself.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import uuid
import warnings

import pytest

pytest.importorskip("deltalake")
pytest.importorskip("moto")

from quantdb_lab.domain.clock import SystemClock  # noqa: E402
from quantdb_lab.domain.deadlines import deadline  # noqa: E402
from quantdb_lab.domain.symbols import parse_symbol  # noqa: E402
from quantdb_lab.errors import CacheRepairedWarning, StoreUnavailableError, WaitWarning  # noqa: E402
from quantdb_lab.providers.simulated import Faults, SimulatedProvider  # noqa: E402
from quantdb_lab.store.series_store import SeriesKey  # noqa: E402
from tests.support.s3 import CREDENTIALS, MotoServer  # noqa: E402
from tests.support.sim import MARKET, calls, d  # noqa: E402
from tests.support.team import BUCKET, shared, team_lab  # noqa: E402

START, END = "2024-01-01", "2024-06-28"
KEY = SeriesKey("bars", "600519.SH")

GARBAGE_LEASES = {
    "not JSON": b"<html>502 Bad Gateway</html>",
    "a JSON list": b"[1, 2, 3]",
    "expires soon": b'{"owner": "x", "expires_at": "soon"}',
    "no expiry": b'{"owner": "x"}',
    "expires in a century": f'{{"owner": "x", "expires_at": {time.time() + 3e9}}}'.encode(),
    "owner a number": f'{{"owner": 7, "expires_at": {time.time() + 600}}}'.encode(),
}
GARBAGE_HEADS = {
    "not JSON": b"\x00\x01garbage",
    "a JSON list": b"[]",
    "version a word": b'{"version": "latest", "files": [], "meta": {}}',
    "files a string": b'{"version": 0, "files": "part-0.parquet", "meta": {}}',
    "a file outside the table": b'{"version": 0, "files": ["../../other/secret.parquet"], "meta": {}}',
    "meta unreadable": b'{"version": 0, "files": [], "meta": {"rows": "many"}}',
}


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        server.create_bucket(BUCKET)
        yield server


@pytest.fixture
def url(moto, monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    return f"s3://{BUCKET}/{uuid.uuid4().hex}"


def truth(symbol: str = "600519.SH"):
    return SimulatedProvider(MARKET, faults=Faults()).fetch_daily_bars(parse_symbol(symbol), d(START), d(END))


def quarantined(store) -> list[str]:
    return list(store.objects.list_keys(store.config.key(store.namespace, "quarantine") + "/"))


@pytest.mark.parametrize("garbage", list(GARBAGE_LEASES), ids=list(GARBAGE_LEASES))
def test_a_garbage_lease_is_quarantined_and_the_series_still_fills(tmp_path, moto, url, fault, garbage):
    store = shared(moto.endpoint, url)
    store.objects.put_bytes(store._lease_key(KEY), GARBAGE_LEASES[garbage])
    fault.inject()
    lab, provider = team_lab(tmp_path, "a", store)
    with fault.wait("lease") as waited, pytest.warns(CacheRepairedWarning, match="leases"):
        frame = lab.bars("600519", start=START, end=END, adjust="")
    assert waited["seconds"] < 10 and calls(provider) == 1
    assert frame.select(truth().columns).equals(truth())  # nothing wrong, nothing lost
    assert len(quarantined(store)) == 1
    again, other = team_lab(tmp_path, "b", shared(moto.endpoint, url))
    assert again.bars("600519", start=START, end=END, adjust="").equals(frame) and calls(other) == 0


@pytest.mark.parametrize("garbage", list(GARBAGE_HEADS), ids=list(GARBAGE_HEADS))
def test_a_garbage_head_is_quarantined_and_rebuilt_from_the_table(tmp_path, moto, url, fault, garbage):
    first, _ = team_lab(tmp_path, "a", shared(moto.endpoint, url))
    frame = first.bars("600519", start=START, end=END, adjust="")
    store = shared(moto.endpoint, url)
    good_meta = store.read_meta(KEY)
    store.objects.put_bytes(store._head_key(KEY), GARBAGE_HEADS[garbage])
    fault.inject()
    reader_store = shared(moto.endpoint, url)
    lab, provider = team_lab(tmp_path, "b", reader_store)
    with pytest.warns(CacheRepairedWarning, match="heads"):
        again = lab.bars("600519", start=START, end=END, adjust="")
    assert again.equals(frame) and calls(provider) == 0  # rebuilt from the Delta log, not fetched again
    assert shared(moto.endpoint, url).read_meta(KEY).generation == good_meta.generation  # the head is whole again
    assert len(quarantined(reader_store)) == 1


def _hold_lease_and_die(endpoint: str, url: str) -> None:
    store = shared(endpoint, url)  # default ttl: 60 s
    held = store.lock(KEY)  # kept referenced: a dropped context manager would be closed, releasing the lease
    held.__enter__()
    os._exit(3)  # a kernel killed mid-fill: no release


def test_a_lease_left_by_a_killed_process_is_taken_at_once(tmp_path, moto, url, fault):
    child = mp.get_context("spawn").Process(target=_hold_lease_and_die, args=(moto.endpoint, url))
    child.start()
    child.join(60)
    store = shared(moto.endpoint, url)
    assert child.exitcode == 3 and store.objects.get_bytes(store._lease_key(KEY)) is not None  # it died holding it
    fault.inject()
    lab, provider = team_lab(tmp_path, "a", store)
    with fault.wait("lease") as waited:
        frame = lab.bars("600519", start=START, end=END, adjust="")
    # The issue measured 60.8 s, the lease's whole ttl; taken at once is a few seconds even on a loaded machine
    assert waited["seconds"] < 20
    assert frame.select(truth().columns).equals(truth()) and calls(provider) == 1


def test_a_lease_held_by_a_live_process_is_waited_for_with_a_warning_then_filled_locally(tmp_path, moto, url,
                                                                                           fault):  # fmt: skip
    holder = shared(moto.endpoint, url)
    with holder.lock(KEY):  # another researcher (this process's other store) is filling the series
        fault.inject()
        lab, provider = team_lab(tmp_path, "a", shared(moto.endpoint, url))
        with fault.wait("lease") as waited, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with deadline(4.0, clock=SystemClock(), what="a test read"):
                frame = lab.bars("600519", start=START, end=END, adjust="")
    assert 3.5 < waited["seconds"] < 8  # the deadline, not the 600 s lock timeout
    assert frame.select(truth().columns).equals(truth()) and calls(provider) == 1  # filled locally instead
    texts = [str(w.message) for w in caught]
    assert any(issubclass(w.category, WaitWarning) and f"pid {os.getpid()}" in str(w.message) for w in caught), texts
    assert any("4 s budget" in text for text in texts), texts


def test_a_lease_wait_past_the_timeout_is_a_store_unavailable_error(moto, url, fault):
    holder, waiter = shared(moto.endpoint, url), shared(moto.endpoint, url)
    with holder.lock(KEY):
        fault.inject()
        with fault.wait("lease"), pytest.raises(StoreUnavailableError, match="held by"):
            with waiter.lock(KEY, timeout=1.0):
                pass  # pragma: no cover
