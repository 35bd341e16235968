"""The team store against a real S3 API: moto's server (a child process on 127.0.0.1) and a fault proxy.

Covers issue 11's "done when": many processes filling overlapping portfolios (each series fetched upstream
once, no row lost or duplicated), a crash mid-write, throttling, timeouts, dropped connections and a store
that goes down. Expected rows come from the simulated market directly, never from the store under test.
"""

from __future__ import annotations

import inspect
import json
import multiprocessing as mp
import os
import time
from datetime import timedelta
import uuid
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("deltalake")
pytest.importorskip("moto")

from quantdb_lab.domain.calendar import day_number  # noqa: E402
from quantdb_lab.domain.modes import resolve_mode  # noqa: E402
from quantdb_lab.errors import StoreUnavailableWarning  # noqa: E402
from quantdb_lab.lab import Lab  # noqa: E402
from quantdb_lab.providers.simulated import Faults, SimulatedProvider  # noqa: E402
from quantdb_lab.store.series_store import SeriesKey  # noqa: E402
from quantdb_lab.store.shared import SharedStore  # noqa: E402
from tests.support.s3 import CREDENTIALS, FaultProxyProcess, MotoServer  # noqa: E402
from tests.support.sim import MARKET, calls, d  # noqa: E402
from tests.support.team import BUCKET, NOW, SOURCE, shared, team_lab  # noqa: E402

# relative 1e-12, absolute 0: the keywords were renamed in polars 1.32 (rtol/atol -> rel_tol/abs_tol) and
# pyproject allows older ones
_RENAMED = "rel_tol" in inspect.signature(assert_frame_equal).parameters
TOLERANCE = {"rel_tol": 1e-12, "abs_tol": 0.0} if _RENAMED else {"rtol": 1e-12, "atol": 0.0}

START, END = "2023-01-01", "2024-12-31"


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        server.create_bucket(BUCKET)
        yield server


@pytest.fixture
def url(moto, monkeypatch):
    """A fresh prefix in the team bucket, reachable through the usual AWS environment variables."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    return f"s3://{BUCKET}/{uuid.uuid4().hex}"


def expected(symbol: str) -> pl.DataFrame:
    """The market's own bars for the range, straight from a fresh simulated provider."""
    from quantdb_lab.domain.symbols import parse_symbols

    provider = SimulatedProvider(MARKET, faults=Faults())
    (parsed,) = parse_symbols(symbol)
    return provider.fetch_daily_bars(parsed, d(START), d(END), adjust="")


# -- one researcher after another ---------------------------------------------------------------------------
def test_a_second_researcher_reads_the_first_ones_fetch_without_the_upstream(tmp_path, url):
    first, _ = team_lab(tmp_path, "a", url)
    frame = first.bars("600519", start=START, end=END, adjust="qfq")
    lab, provider = team_lab(tmp_path, "b", SharedStore.from_url(url, source=SOURCE))
    again = lab.bars("600519", start=START, end=END, adjust="qfq")
    assert calls(provider) == 0 and again.equals(frame)
    assert lab.stats()["store"] == url


def test_a_warm_read_makes_no_request_to_the_object_store(tmp_path, moto, url):
    store = shared(moto.endpoint, url)
    lab, _ = team_lab(tmp_path, "a", store)
    lab.bars("000001.SZ", start=START, end=END)
    before = store.objects.requests
    for _ in range(5):
        lab.bars("000001.SZ", start="2024-03-01", end="2024-06-30")
    assert store.objects.requests == before


def test_the_store_is_chosen_by_the_environment_and_the_cli(tmp_path, url, monkeypatch, capsys):
    from quantdb_lab.cli import main

    assert main(["--cache-dir", str(tmp_path / "c"), "--provider", "simulated", "--store", url, "stats"]) == 0
    assert json.loads(capsys.readouterr().out)["store"] == url
    monkeypatch.setenv("QUANTDB_LAB_STORE", url)
    assert Lab(tmp_path / "d", provider="simulated").stats()["store"] == url


# -- many processes -------------------------------------------------------------------------------------------
def _researcher(cache_dir: str, url: str, symbols: list[str], out: str, go) -> None:
    warnings.simplefilter("ignore")
    from quantdb_lab.domain.clock import FixedClock
    from quantdb_lab.lab import Lab
    from quantdb_lab.providers.simulated import Faults, SimulatedProvider
    from tests.support.sim import MARKET, at

    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, latency=0.1, faults=Faults(), clock=clock)
    # A patient researcher: research mode's 20 s budget would, on a loaded machine, give up waiting for another
    # process's fill and fill locally (by design), which is not what this test is about.
    mode = resolve_mode("research").with_(retry_budget=timedelta(minutes=2))
    lab = Lab(cache_dir, provider=provider, clock=clock, store=url, mode=mode)
    go.wait(60)
    result = lab.portfolio(symbols, start=START, end=END, adjust="", progress=False)
    report = {
        "fetched": {s: p.upstream_calls for s, p in result.provenance.items()},
        "rows": {s: f.height for s, f in result.frames.items()},
        "errors": {s: repr(e) for s, e in result.errors.items()},
    }
    Path(out).write_text(json.dumps(report))


@pytest.mark.slow
def test_four_processes_fill_overlapping_portfolios_each_series_fetched_once(tmp_path, url):
    universe = [s for s in MARKET.symbols("stock") if s.endswith((".SH", ".SZ"))][:7]
    portfolios = [universe[i : i + 4] for i in (0, 1, 2, 3)]  # every symbol wanted by 1 to 4 processes
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    outs = [tmp_path / f"out{i}.json" for i in range(len(portfolios))]
    procs = [
        ctx.Process(target=_researcher, args=(str(tmp_path / f"r{i}"), url, symbols, str(out), go))
        for i, (symbols, out) in enumerate(zip(portfolios, outs))
    ]
    for p in procs:
        p.start()
    time.sleep(1.5)  # let every child import and open its store before the race starts
    go.set()
    for p in procs:
        p.join(timeout=90)
    assert all(p.exitcode == 0 for p in procs)
    reports = [json.loads(out.read_text()) for out in outs]
    assert all(not r["errors"] for r in reports), [r["errors"] for r in reports]
    fetched: dict[str, int] = {}
    for report in reports:
        for symbol, n in report["fetched"].items():
            fetched[symbol] = fetched.get(symbol, 0) + n
    wanted = sorted({s for p in portfolios for s in p})
    assert fetched == {s: 1 for s in wanted}  # each series came from upstream exactly once
    store = SharedStore.from_url(url, source=SOURCE)
    for symbol in wanted:
        meta = store.read_meta(SeriesKey("bars", symbol))
        stored = store.read_frame(SeriesKey("bars", symbol), meta)
        truth = expected(symbol)
        assert stored["date"].n_unique() == stored.height  # nothing duplicated
        assert stored.select(truth.columns).equals(truth.sort("date"))  # nothing lost
        assert all(r["rows"].get(symbol, truth.height) == truth.height for r in reports)


# -- crashes ------------------------------------------------------------------------------------------------
def _crash_holding_the_lease(endpoint: str, url: str) -> None:
    store = shared(endpoint, url, lease_ttl=1.5)
    held = store.lock(SeriesKey("bars", "600000.SH"))  # referenced: a dropped one would be closed (released)
    held.__enter__()
    os._exit(1)  # dies mid-fill: no release, no commit


def test_a_crashed_writer_leaves_the_store_readable_and_its_lease_lapses(tmp_path, moto, url):
    store = shared(moto.endpoint, url, lease_ttl=1.5)
    lab, provider = team_lab(tmp_path, "a", store)
    before = lab.bars("600000.SH", start="2024-01-01", end="2024-06-30", adjust="")
    key = SeriesKey("bars", "600000.SH")
    committed = shared(moto.endpoint, url).read_frame(key, shared(moto.endpoint, url).read_meta(key))
    # A writer that crashes between its Delta commit and its head update: the commit is the truth.
    original = store._publish_head

    def crash_after_commit(key, head):
        if head["version"] > 0:  # the new commit is in the Delta log; the process dies before the head moves
            raise RuntimeError("crash after commit")
        original(key, head)

    store._publish_head = crash_after_commit
    with pytest.raises(RuntimeError):
        lab.bars("600000.SH", start="2023-01-01", end="2024-06-30", adjust="")
    store._publish_head = original
    reader = shared(moto.endpoint, url)
    stale_head = reader.read_meta(key)  # the head still names the version before the crash: consistent
    assert reader.read_frame(key, stale_head).equals(committed)
    # A writer that dies holding the lease: the next one waits out the ttl, then takes over.
    child = mp.get_context("spawn").Process(target=_crash_holding_the_lease, args=(moto.endpoint, url))
    child.start()
    child.join(30)
    other, other_provider = team_lab(tmp_path, "b", shared(moto.endpoint, url, lease_ttl=1.5))
    started = time.monotonic()
    frame = other.bars("600000.SH", start="2023-01-01", end="2024-06-30", adjust="")
    assert time.monotonic() - started < 20
    assert calls(other_provider) == 0  # the crashed commit was found under the lease: nothing refetched
    assert frame.height > before.height and frame["date"].n_unique() == frame.height
    assert reader.read_meta(key).generation > stale_head.generation  # the head was repaired


def test_an_orphan_data_file_from_a_crashed_upload_is_ignored(tmp_path, moto, url):
    store = shared(moto.endpoint, url)
    lab, _ = team_lab(tmp_path, "a", store)
    first = lab.bars("600519.SH", start="2024-01-01", end="2024-03-31")
    table = store.config.key("v2", SOURCE, "tables", "bars", "600519.SH")
    store.objects.put_bytes(f"{table}/part-00000-orphan.snappy.parquet", b"half a parquet file")
    again, provider = team_lab(tmp_path, "b", shared(moto.endpoint, url))
    assert again.bars("600519.SH", start="2024-01-01", end="2024-03-31").equals(first) and calls(provider) == 0


# -- faults -------------------------------------------------------------------------------------------------
@pytest.fixture
def proxy(moto):
    server = FaultProxyProcess(moto.port).start()
    yield server
    server.stop()


@pytest.mark.parametrize("fault", ["slowdown", "drop", "stall"])
def test_throttling_timeouts_and_dropped_connections_are_retried(tmp_path, proxy, url, fault):
    store = shared(proxy.endpoint, url)
    lab, _ = team_lab(tmp_path, "a", store)
    getattr(proxy, fault)(*((2, 1.5) if fault == "stall" else (3,)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", StoreUnavailableWarning)
        frame = lab.bars("601318.SH", start="2024-01-01", end="2024-06-30")
    assert frame.height > 100 and store.retrier.retries >= (2 if fault == "stall" else 3)
    reader, provider = team_lab(tmp_path, "b", shared(proxy.endpoint, url))
    proxy.slowdown(2)
    assert reader.bars("601318.SH", start="2024-01-01", end="2024-06-30").equals(frame) and calls(provider) == 0


def test_a_store_that_stays_down_falls_back_to_the_local_cache(tmp_path, proxy, url):
    store = shared(proxy.endpoint, url)
    lab, provider = team_lab(tmp_path, "a", store)
    cached = lab.bars("600519", start="2024-01-01", end="2024-06-30", adjust="")
    proxy.down()
    assert lab.bars("600519", start="2024-02-01", end="2024-05-31", adjust="").height > 50  # warm: the store is not asked
    with pytest.warns(StoreUnavailableWarning):
        wider = lab.bars("600519", start="2023-07-01", end="2024-06-30", adjust="")  # a gap: the store is asked, and is down
    assert wider.height > cached.height and calls(provider) == 2
    started = time.monotonic()
    with pytest.warns(StoreUnavailableWarning):
        lab.bars("000001.SZ", start="2024-01-01", end="2024-03-31", adjust="")
    assert time.monotonic() - started < 2.0  # the breaker is open: no more waiting on retries
    proxy.up()
    store.retrier.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("error", StoreUnavailableWarning)
        lab.bars("600519", start="2023-01-01", end="2024-06-30", adjust="")  # back up: the offline fetch is published too
    meta = SharedStore.from_url(url, source=SOURCE).read_meta(SeriesKey("bars", "600519.SH"))
    assert meta.coverage.covered(np.array([day_number(d("2023-07-03"))])).all()  # fetched while it was down


def test_a_server_stopped_mid_test_is_survived(tmp_path):
    with MotoServer() as server:
        server.create_bucket(BUCKET)
        store = shared(server.endpoint, f"s3://{BUCKET}/stopped")
        lab, provider = team_lab(tmp_path, "a", store)
        frame = lab.bars("600000.SH", start="2024-01-01", end="2024-03-31")
    with pytest.warns(StoreUnavailableWarning):
        again = lab.bars("600000.SH", start="2023-10-01", end="2024-03-31")
    assert again.height > frame.height and again.tail(frame.height).equals(frame)


# -- the cross-sectional layout, published for many readers --------------------------------------------------
def test_duckdb_reads_the_team_stores_cross_section_without_quantdb_lab(tmp_path, moto, url):
    duckdb = pytest.importorskip("duckdb")
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    from quantdb_lab.loader import batch
    from quantdb_lab.store.shared.publish import published_files

    store = shared(moto.endpoint, url)
    lab, _ = team_lab(tmp_path, "a", store)
    symbols = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s) < d("2022-06-01")][: batch.MARKET_READ_MIN]
    lab.bars(symbols, start=START, end=END, adjust="")
    lab.bars(symbols, start=START, end=END, adjust="")  # confirmations
    report = lab.compact()
    assert report["team"]["segments"] >= 2 and not report["team"].get("skipped")
    files = published_files(store)
    s3 = pafs.S3FileSystem(endpoint_override=moto.endpoint, scheme="http", access_key="testing", secret_key="testing",
                           region="us-east-1")  # fmt: skip
    dataset = ds.dataset([f.removeprefix("s3://") for f in files], filesystem=s3, format="parquet")  # noqa: F841
    got = duckdb.sql(f"SELECT symbol, date, close FROM dataset WHERE date BETWEEN DATE '{START}' AND DATE '{END}' "
                     "ORDER BY date, symbol").pl()  # fmt: skip
    expected = lab.bars(symbols, start=START, end=END, adjust="").select("symbol", "date", "close")
    assert got.equals(expected)


# -- a new member's cold whole-market read, from the published cross-section ---------------------------------
def _published_market(tmp_path, moto, url, n=32):
    """A publisher who read ``n`` symbols (raw and qfq), compacted and published; its own frames are the truth."""
    store = shared(moto.endpoint, url)
    lab, _ = team_lab(tmp_path, "pub", store)
    symbols = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s) < d("2022-06-01")][:n]
    lab.bars(symbols, start=START, end=END, adjust="")
    lab.bars(symbols, start=START, end=END, adjust="")  # confirmations
    report = lab.compact()
    assert report["team"]["segments"] >= 2 and not report["team"].get("skipped")
    truth = {adjust: lab.bars(symbols, start=START, end=END, adjust=adjust) for adjust in ("", "qfq")}
    return symbols, truth


def test_a_new_members_cold_market_read_uses_the_published_segments(tmp_path, moto, url):
    from quantdb_lab.store.shared.publish import published_files

    symbols, truth = _published_market(tmp_path, moto, url)
    files = published_files(shared(moto.endpoint, url))
    store = shared(moto.endpoint, url)
    lab, provider = team_lab(tmp_path, "new", store)
    raw = lab.bars(symbols, start=START, end=END, adjust="")
    cold = store.objects.requests
    assert raw.equals(truth[""]) and calls(provider) == 0
    # manifest, metas, a listing of the heads and the files: O(files), not two requests per series
    assert cold <= len(files) + 4 < 2 * len(symbols), cold
    qfq = lab.bars(symbols, start=START, end=END, adjust="qfq")
    # qfq to the last bit of a float: the publisher's own two qfq paths (a compacted store's series numbers, a
    # store with files not yet compacted) differ there (multiplication order), whatever the store holds
    assert_frame_equal(qfq, truth["qfq"], check_exact=False, **TOLERANCE)
    assert store.objects.requests == cold  # warm now: the local store serves
    one = lab.bars(symbols[3], start=START, end=END, adjust="qfq")
    assert_frame_equal(one, truth["qfq"].filter(pl.col("symbol") == symbols[3]), check_exact=False, **TOLERANCE)


def test_a_series_committed_after_publishing_is_pulled_at_its_newer_generation(tmp_path, moto, url):
    symbols, truth = _published_market(tmp_path, moto, url)
    changed = symbols[5]
    other, _ = team_lab(tmp_path, "other", shared(moto.endpoint, url))
    wider = other.bars(changed, start="2022-07-01", end=END, adjust="")  # a commit after the manifest
    key = SeriesKey("bars", changed)
    team = SharedStore.from_url(url, source=SOURCE)
    newest = team.read_meta(key)
    committed = team.read_frame(key, newest)
    from quantdb_lab.store.shared.publish import published_files

    files = published_files(shared(moto.endpoint, url))
    store = shared(moto.endpoint, url)
    lab, provider = team_lab(tmp_path, "new", store)
    assert lab.bars(symbols, start=START, end=END, adjust="").equals(truth[""]) and calls(provider) == 0
    assert store.objects.requests <= len(files) + 4 + 2, store.objects.requests  # the changed one on its own
    layered = lab._engine.store
    local = layered.local
    meta = local.read_meta(key)
    assert meta.rows == committed.height and committed["date"].min() < d(START)
    assert local.read_frame(key, meta).equals(committed)  # the newer version, not the published one
    assert layered._synced.get(layered._sync_key(key)) == newest.generation
    assert lab.bars(changed, start="2022-07-01", end=END, adjust="").equals(wider)  # (sessions before its first
    # row are asked for again until a second answer confirms them: the pending rule, not the team store)


def test_a_damaged_published_file_falls_back_to_per_series_pulls(tmp_path, moto, url):
    from quantdb_lab.errors import CacheRepairedWarning
    from quantdb_lab.store.shared.publish import manifest_key

    symbols, truth = _published_market(tmp_path, moto, url)
    store = shared(moto.endpoint, url)
    manifest = json.loads(store.objects.get_bytes(manifest_key(store, "bars"))[0])
    victim = store.config.key(store.namespace, manifest["segments"][0]["file"])
    store.objects.put_bytes(victim, store.objects.get_bytes(victim)[0][:-100] + b"x" * 100)
    lab, provider = team_lab(tmp_path, "new", store)
    with pytest.warns(CacheRepairedWarning, match="published"):
        raw = lab.bars(symbols, start=START, end=END, adjust="")
    assert raw.equals(truth[""]) and calls(provider) == 0
    assert store.objects.requests >= 2 * len(symbols)  # every series pulled on its own


def test_an_install_killed_midway_leaves_the_local_store_consistent(tmp_path, moto, url, monkeypatch):
    from quantdb_lab.store.series_store import SeriesStore

    symbols, truth = _published_market(tmp_path, moto, url)
    store = shared(moto.endpoint, url)
    lab, provider = team_lab(tmp_path, "new", store)
    import quantdb_lab.store.frame_files as frame_files

    original, written = frame_files.atomic_write, []

    def dies_after_some(path, data):
        if len(written) == 10:
            raise KeyboardInterrupt("killed mid-install")
        written.append(path)
        return original(path, data)

    monkeypatch.setattr(frame_files, "atomic_write", dies_after_some)
    with pytest.raises(KeyboardInterrupt):
        lab.bars(symbols, start=START, end=END, adjust="")
    monkeypatch.setattr(frame_files, "atomic_write", original)
    reopened = SeriesStore(tmp_path / "new", source=SOURCE)
    for key in reopened.keys():  # whatever is in the catalog is whole and verifies
        reopened.read_frame(key, reopened.read_meta(key))
    again, provider = team_lab(tmp_path, "new", shared(moto.endpoint, url))
    assert again.bars(symbols, start=START, end=END, adjust="").equals(truth[""]) and calls(provider) == 0


def test_two_kernels_on_one_cache_install_the_cross_section_once(tmp_path, moto, url):
    from concurrent.futures import ThreadPoolExecutor

    from quantdb_lab.store.layered import LayeredStore
    from quantdb_lab.store.series_store import SeriesStore

    symbols, truth = _published_market(tmp_path, moto, url)
    keys = [SeriesKey("bars", s) for s in symbols]
    kernels = [LayeredStore(SeriesStore(tmp_path / "new", source=SOURCE), shared(moto.endpoint, url)) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda kernel: kernel.prefetch(keys), kernels))
    local = SeriesStore(tmp_path / "new", source=SOURCE)
    assert sorted(k.symbol for k in local.keys()) == sorted(symbols)
    files = list(local.frames_dir("bars").glob("*.parquet"))
    assert len(files) == len(symbols)  # the kernel that lost a series' race left no file of it behind
    lab, provider = team_lab(tmp_path, "new", shared(moto.endpoint, url))
    assert lab.bars(symbols, start=START, end=END, adjust="").equals(truth[""]) and calls(provider) == 0
