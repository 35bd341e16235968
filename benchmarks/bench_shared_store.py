"""The team store (issue 11): warm reads through the local layer, cold reads from the shared store, and eight
processes filling overlapping portfolios into one store.

The shared store is moto's S3 server on 127.0.0.1 (a child process, stopped at the end); the upstream is the
simulated market. Prints a markdown table and writes ``benchmarks/results/shared_store.md``.

    python benchmarks/bench_shared_store.py [--symbols 50] [--processes 8] [--repeat 20] [--market 500]

``--market N``: a cold whole-market read of N symbols x 5 years by a new member, through the published
cross-section (``store.shared.cold_market``) and through per-series pulls, in the same run (0: skipped).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, evening, fmt_ms, markdown_table, median, reference_friday, years_before  # noqa: E402

BUCKET = "bench"
TARGETS = {"cold1": 50.0, "cold50": 1000.0}


SOURCE = "simulated-7-300"  # the store namespace of SimulatedMarket(seed=7): SimulatedProvider(...).source


def _lab(cache: Path, store, *, latency: float = 0.0):
    from quantdb_lab.domain.clock import FixedClock
    from quantdb_lab.lab import Lab
    from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider

    clock = FixedClock(evening(reference_friday()))
    provider = SimulatedProvider(SimulatedMarket(seed=7), latency=latency, faults=Faults(), clock=clock)
    return Lab(cache, provider=provider, clock=clock, store=store), provider


def _symbols(n: int) -> list[str]:
    from quantdb_lab.providers.simulated import SimulatedMarket

    market = SimulatedMarket(seed=7)
    start = years_before(reference_friday(), 5)
    out = [s for s in market.symbols("stock") if s.endswith((".SH", ".SZ")) and market.profile(s).list_date < start]
    return out[:n]


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000.0


def _researcher(cache: str, url: str, symbols: list[str], start: str, end: str, out: str, go) -> None:
    warnings.simplefilter("ignore")
    lab, provider = _lab(Path(cache), url, latency=0.05)
    go.wait(120)
    result = lab.portfolio(symbols, start=start, end=end, adjust="", progress=False)
    fetched = {s: p.upstream_calls for s, p in result.provenance.items()}
    Path(out).write_text(json.dumps({"fetched": fetched, "errors": {s: repr(e) for s, e in result.errors.items()}}))


def _market_rows(tmp: Path, n: int, start: str, end: str) -> list[list[str]]:
    """A publisher fills ``n`` symbols x 5 years into a fresh prefix, compacts and publishes; new members then
    read them all cold, through the manifest and through per-series pulls (store layer, and ``lab.bars``)."""
    from quantdb_lab.domain.clock import FixedClock
    from quantdb_lab.lab import Lab
    from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider
    from quantdb_lab.store.layered import LayeredStore
    from quantdb_lab.store.series_store import SeriesKey, SeriesStore
    from quantdb_lab.store.shared import SharedStore
    from quantdb_lab.store.shared import cold_market

    market = SimulatedMarket(seed=7, n_stocks=int(n * 1.6) + 50)
    clock = FixedClock(evening(reference_friday()))
    source = SimulatedProvider(market).source
    first = years_before(reference_friday(), 5)
    symbols = [s for s in market.symbols("stock") if s.endswith((".SH", ".SZ")) and market.profile(s).list_date < first][:n]
    url = f"s3://{BUCKET}/{uuid.uuid4().hex}"

    def member(name: str):
        store = SharedStore.from_url(url, source=source)
        layered = LayeredStore(SeriesStore(tmp / name, source=source), store)
        lab = Lab(tmp / name, provider=SimulatedProvider(market, faults=Faults(), clock=clock), clock=clock, store=layered)
        return lab, layered, store

    publisher, _, _ = member("market-publisher")
    started = time.perf_counter()
    publisher.bars(symbols, start=start, end=end, adjust="")
    fill_s = time.perf_counter() - started
    publisher.bars(symbols, start=start, end=end, adjust="")  # confirms the sessions answered empty once
    report = publisher.compact()["team"]
    truth = publisher.bars(symbols, start=start, end=end, adjust="")
    keys = [SeriesKey("bars", s) for s in symbols]
    rows, saved = [], cold_market.MANIFEST_READ_MIN
    for label, threshold in (("through the published segments", saved), ("per-series pulls (today's path)", 10**9)):
        cold_market.MANIFEST_READ_MIN = threshold
        try:
            _, layered, store = member(f"market-{threshold}-store")
            ms = _timed(lambda: layered.prefetch(keys))
            store_requests = store.objects.requests
            lab, _, store2 = member(f"market-{threshold}-lab")
            frame = None

            def read() -> None:
                nonlocal frame
                frame = lab.bars(symbols, start=start, end=end, adjust="")

            lab_ms = _timed(read)
            same = "same frame as the publisher's" if frame.equals(truth) else "DIFFERENT FRAME"
            same += f", {lab._engine.provider.calls['fetch_daily_bars']} upstream calls"
        finally:
            cold_market.MANIFEST_READ_MIN = saved
        rows.append([f"cold whole-market read, {n} x 5y, {label}: store layer / lab.bars",
                     f"{fmt_ms(ms)} / {fmt_ms(lab_ms)}", f"{store_requests} / {store2.objects.requests}", same])  # fmt: skip
    rows.append([f"(publisher: {n} x 5y filled in {fill_s:.0f} s, {report.get('segments')} segments, "
                 f"{report.get('series')} series in the metas file)", "-", "-", "-"])  # fmt: skip
    return rows


def run(n_symbols: int, processes: int, repeat: int, market: int = 500) -> str:
    from quantdb_lab.store.layered import LayeredStore
    from quantdb_lab.store.series_store import SeriesKey, SeriesStore
    from quantdb_lab.store.shared import SharedStore
    from tests.support.s3 import CREDENTIALS, MotoServer

    warnings.simplefilter("ignore")
    today = reference_friday()
    start, end = years_before(today, 5).isoformat(), today.isoformat()
    symbols = _symbols(max(n_symbols, 12))
    one = symbols[0]
    rows: list[list[str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="qdb-bench-shared-"))
    with MotoServer() as moto:
        moto.create_bucket(BUCKET)
        os.environ.update(CREDENTIALS)
        os.environ["AWS_ENDPOINT_URL"] = moto.endpoint
        url = f"s3://{BUCKET}/{uuid.uuid4().hex}"

        # Warm reads: the local store alone, and the local layer in front of the shared store.
        local, _ = _lab(tmp / "local", None)
        local.bars(one, start=start, end=end, adjust="qfq")
        local_ms = [_timed(lambda: local.bars(one, start=start, end=end, adjust="qfq")) for _ in range(repeat)]
        shared = SharedStore.from_url(url, source=SOURCE)
        team, _ = _lab(tmp / "team", LayeredStore(SeriesStore(tmp / "team", source=SOURCE), shared))
        team.bars(one, start=start, end=end, adjust="qfq")
        before = shared.objects.requests
        warm_ms = [_timed(lambda: team.bars(one, start=start, end=end, adjust="qfq")) for _ in range(repeat)]
        per_warm = (shared.objects.requests - before) / repeat
        rows.append(["warm read, local store alone (1 x 5y, qfq)", fmt_ms(median(local_ms)), "0", "-"])
        rows.append(["warm read through the local layer (1 x 5y, qfq)", fmt_ms(median(warm_ms)), f"{per_warm:g}", "same as local"])

        # Cold reads: a researcher whose cache is empty, the series already in the team store.
        fill, _ = _lab(tmp / "filler", url)
        fill.bars(symbols[:n_symbols], start=start, end=end, adjust="")
        fill.bars(symbols[:n_symbols], start=start, end=end, adjust="")  # confirms the sessions answered empty once
        cold_ms, cold_requests, bars_ms = [], [], []
        for i in range(repeat):
            store = SharedStore.from_url(url, source=SOURCE)
            lab, provider = _lab(tmp / f"cold{i}", LayeredStore(SeriesStore(tmp / f"cold{i}", source=SOURCE), store))
            request = lab.request(one, start=start, end=end, adjust="")
            cold_ms.append(_timed(lambda: lab.load(request)))  # the cache path: what the store decides
            cold_requests.append(store.objects.requests)
            assert provider.calls["fetch_daily_bars"] == 0
            lab2, _ = _lab(tmp / f"coldb{i}", LayeredStore(SeriesStore(tmp / f"coldb{i}", source=SOURCE), SharedStore.from_url(url, source=SOURCE)))
            bars_ms.append(_timed(lambda: lab2.bars(one, start=start, end=end, adjust="")))
        rows.append(["cold read from the shared store (1 x 5y, lab.load)", fmt_ms(median(cold_ms)),
                     f"{median(cold_requests):g}", f"< {TARGETS['cold1']:.0f} ms"])  # fmt: skip
        rows.append(["same through lab.bars (adds the quality checks)", fmt_ms(median(bars_ms)), "2", "-"])
        many_ms, pull_ms, pull_requests = [], [], []
        keys = [SeriesKey("bars", s) for s in symbols[:n_symbols]]
        for i in range(max(3, repeat // 5)):
            layered = LayeredStore(SeriesStore(tmp / f"pull{i}", source=SOURCE), SharedStore.from_url(url, source=SOURCE))
            pull_ms.append(_timed(lambda: layered.prefetch(keys)))  # the store layer alone
            pull_requests.append(layered.shared.objects.requests)
            store = SharedStore.from_url(url, source=SOURCE)
            lab, provider = _lab(tmp / f"many{i}", LayeredStore(SeriesStore(tmp / f"many{i}", source=SOURCE), store))
            many_ms.append(_timed(lambda: lab.bars(symbols[:n_symbols], start=start, end=end, adjust="")))
            assert provider.calls["fetch_daily_bars"] == 0
        via = "the published segments" if n_symbols >= 32 else "per-series pulls"  # cold_market.MANIFEST_READ_MIN
        rows.append([f"cold read from the shared store ({n_symbols} x 5y, store layer, {via})", fmt_ms(median(pull_ms)),
                     f"{median(pull_requests):g}", f"< {TARGETS['cold50']:.0f} ms"])  # fmt: skip
        rows.append(["same through lab.bars (adds quality checks, gap policy)", fmt_ms(median(many_ms)),
                     f"{store.objects.requests}", "-"])  # fmt: skip
        if market:
            rows.extend(_market_rows(tmp, market, start, end))
        usage = shared.usage()["bars"]
        years = usage["rows"] / 243.0
        per_year = usage["bytes"] / years if years else 0.0

        # Eight researchers at once, overlapping portfolios, into a fresh prefix.
        race_url = f"s3://{BUCKET}/{uuid.uuid4().hex}"
        pool = symbols[:12]
        portfolios = [[pool[(i + j) % len(pool)] for j in range(6)] for i in range(processes)]
        ctx = mp.get_context("spawn")
        go = ctx.Event()
        outs = [tmp / f"race{i}.json" for i in range(processes)]
        procs = [ctx.Process(target=_researcher, args=(str(tmp / f"r{i}"), race_url, p, start, end, str(o), go))
                 for i, (p, o) in enumerate(zip(portfolios, outs))]  # fmt: skip
        for p in procs:
            p.start()
        time.sleep(3.0)  # let every child import and open its store first
        started = time.perf_counter()
        go.set()
        for p in procs:
            p.join(timeout=300)
        race_ms = (time.perf_counter() - started) * 1000.0
        fetched: dict[str, int] = {}
        for out in outs:
            for s, n in json.loads(out.read_text())["fetched"].items():
                fetched[s] = fetched.get(s, 0) + n
        checker = SharedStore.from_url(race_url, source=SOURCE)
        lost_or_dup = 0
        for s in sorted(fetched):
            frame = checker.read_frame(SeriesKey("bars", s), checker.read_meta(SeriesKey("bars", s)))
            lost_or_dup += frame.height - frame["date"].n_unique()
        once = all(n == 1 for n in fetched.values())
        rows.append([f"{processes} processes, overlapping portfolios ({len(fetched)} series, 6 each)", fmt_ms(race_ms),
                     f"upstream calls per series: {'1 each' if once else fetched}",
                     f"duplicated rows: {lost_or_dup}"])  # fmt: skip
    table = markdown_table(["scenario", "median ms", "S3 requests", "target / check"], rows)
    cost = (f"Bytes per symbol-year in the shared store (unadjusted daily bars, Parquet in Delta): "
            f"{per_year / 1024:.1f} KiB; a warm read makes {per_warm:g} requests; a cold read of one series "
            f"makes {median(cold_requests):g} (two heads and two data files when qfq needs bars and hfq).")  # fmt: skip
    return f"{table}\n\n{cost}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--market", type=int, default=500, help="symbols of the cold whole-market read (0: skip)")
    args = parser.parse_args()
    report = run(args.symbols, args.processes, args.repeat, args.market)
    print(report)
    RESULTS_DIR.mkdir(exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    header = (
        "# Shared (team) store benchmark\n\nmoto S3 server on 127.0.0.1, simulated upstream; see docs/team-store.md.\n"
        f"Machine: {os.cpu_count()} CPUs, load average {load:.1f} at the end of the run (moto is a Python server:\n"
        "its per-request latency, not the store's work, dominates the cold reads).\n\n"
    )
    (RESULTS_DIR / "shared_store.md").write_text(header + report)


if __name__ == "__main__":
    main()
