"""Portfolio fetch against its bounds: cold at the rate/concurrency limit, warm 1,000 x 1 year, failures.

    python benchmarks/bench_portfolio.py [--repeat 3] [--quick]
    python benchmarks/bench_portfolio.py --sources [--symbols 5000] [--ban-symbols 1000] [--scale 1.5]

``--sources`` runs the many-upstreams scenarios instead (``sources_bench``: Eastmoney, Sina and Tencent at
their combined safe rates, and a ban of the primary mid-portfolio) and writes benchmarks/results/sources.md.

Everything runs on the SimulatedProvider with a real sleep of L seconds per upstream call and the real
throttle (real clock, explicit RateLimit), so the wall times are what the limiter and the pool achieve.
The QuantDB column is computed, not run: its sequential loop makes 8 upstream calls per symbol-year
(measured, ../shared/docs/quantdb-anchor.md), so N symbols cost N*8*L; its measured 50-symbol run (143.25 s at
L=0.3, with one extra asset-info call per symbol) scales to N*2.865 s. Prints a markdown table and writes it
to benchmarks/results/portfolio.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from datetime import date, datetime
from pathlib import Path

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider
from quantdb_lab.throttle import RateLimit

START, END = "2024-01-01", "2024-12-31"
MARKET_NOW = datetime(2025, 6, 6, 16, 0, tzinfo=EXCHANGE_TZ)  # the market's visibility; the throttle runs on real time
QDB_CALLS_PER_SYMBOL_YEAR = 8
QDB_MEASURED_50 = 143.25  # s, 50 symbols x 1 year at L=0.3 (anchor doc)
RESULTS = Path(__file__).resolve().parent / "results" / "portfolio.md"


def listed_symbols(market: SimulatedMarket, n: int) -> list[str]:
    found = [s for s in market.symbols("stock") if market.listing_date(s) < date(2023, 1, 1)]
    if len(found) < n:
        raise SystemExit(f"the simulated market has only {len(found)} stocks listed before 2023; need {n}")
    return found[:n]


def make_lab(market: SimulatedMarket, *, latency: float, rate: float, concurrency: int, faults: Faults | None = None):
    provider = SimulatedProvider(market, latency=latency, faults=faults or Faults(), clock=None)
    limits = {"local": RateLimit(per_second=rate, burst=1, max_concurrency=concurrency)}
    return Lab(tempfile.mkdtemp(prefix="qdb_bench_"), provider=provider, limits=limits), provider


def cold(market, symbols, *, latency, rate, concurrency, repeat):
    times = []
    for _ in range(repeat):
        lab, provider = make_lab(market, latency=latency, rate=rate, concurrency=concurrency)
        started = time.perf_counter()
        result = lab.portfolio(symbols, start=START, end=END, adjust="", progress=False)
        times.append(time.perf_counter() - started)
        assert result.counts["fetched"] == len(symbols), result.summary()
        calls = provider.calls["fetch_daily_bars"] / len(symbols)
    n = len(symbols)
    bound = max(n * calls * latency / concurrency, n * calls / rate)
    median = statistics.median(times)
    qdb = n * QDB_CALLS_PER_SYMBOL_YEAR * latency
    return {
        "scenario": f"cold {n} x 1y, C={concurrency}, R={rate:g}/s, L={latency:g}s",
        "median_s": median,
        "bound_s": bound,
        "ratio": median / bound,
        "qdb_s": qdb,
        "qdb_measured_s": n * QDB_MEASURED_50 / 50 if latency == 0.3 else None,
        "speedup": qdb / median,
        "runs": len(times),
    }


def warm(n: int, repeat: int):
    market = SimulatedMarket(seed=7, n_stocks=int(n * 1.4), clock=FixedClock(MARKET_NOW), cache_size=64)
    symbols = listed_symbols(market, n)
    lab, _ = make_lab(market, latency=0.0, rate=1e5, concurrency=8)
    lab.portfolio(symbols, start=START, end=END, adjust="qfq", progress=False)  # fill the cache
    same, fresh = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        result = lab.portfolio(symbols, start=START, end=END, adjust="qfq", progress=False)
        frame = result.frame
        same.append(time.perf_counter() - started)
        assert result.counts["from_cache"] == n and frame.height > 200 * n
    for _ in range(repeat):  # a new Lab (a new kernel): every frame is read from Parquet once
        other = Lab(lab.cache_dir, provider=lab.provider)
        started = time.perf_counter()
        result = other.portfolio(symbols, start=START, end=END, adjust="qfq", progress=False)
        frame = result.frame
        fresh.append(time.perf_counter() - started)
        assert result.counts["from_cache"] == n
    return [
        {"scenario": f"warm {n} x 1y qfq into one frame ({frame.height:,} rows), same Lab", "median_s": statistics.median(same),
         "target_s": 1.0, "runs": repeat},
        {"scenario": f"warm {n} x 1y qfq, new Lab (Parquet reads)", "median_s": statistics.median(fresh),
         "target_s": 1.0, "runs": repeat},
    ]


def failures(market, symbols, *, latency, rate, concurrency):
    faults = Faults()
    n = len(symbols)
    permanent = set(symbols[7::20])  # 5%, spread through the list
    transient = {s: 1 + i % 4 for i, s in enumerate(s for s in symbols[3::10] if s not in permanent)}  # 10%
    faults.permanent_symbols = set(permanent)
    for symbol, times in transient.items():
        faults.fail_n_times(symbol, times)
    lab, provider = make_lab(market, latency=latency, rate=rate, concurrency=concurrency, faults=faults)
    started = time.perf_counter()
    result = lab.portfolio(symbols, start=START, end=END, adjust="", progress=False)
    elapsed = time.perf_counter() - started
    recovered = sum(result.outcomes[s].status == "fetched" for s in transient)
    reported = all("permanent refusal" in (result.outcomes[s].error or "") for s in permanent)
    lost = [s for s in symbols if s not in permanent and result.outcomes[s].status != "fetched"]
    family = lab.throttle.status()[0]
    return {
        "scenario": f"failures: {len(permanent)} permanent (5%), {len(transient)} transient (10%) of {n}",
        "median_s": elapsed,
        "runs": 1,
        "detail": (
            f"transient recovered {recovered}/{len(transient)}; permanent reported {sorted(result.failed) == sorted(permanent)}"
            f" with errors {reported}; other symbols lost {len(lost)}; upstream calls {provider.calls['fetch_daily_bars']}"
            f" (expected {n + sum(transient.values())}); throttle retries {family['retries']}, breaker refusals"
            f" {family['refusals']}; waited {result.timings.get('waited', 0):.1f} s"
        ),
        "ok": recovered == len(transient) and sorted(result.failed) == sorted(permanent) and not lost,
    }


def table(rows) -> str:
    lines = [
        "| scenario | runs | median s | bound / target s | ratio | QuantDB sequential s (computed) | speed-up vs QuantDB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        bound = r.get("bound_s", r.get("target_s"))
        ratio = r["median_s"] / bound if bound else None
        qdb = speedup = ""
        if "qdb_s" in r:
            qdb = f"{r['qdb_s']:,.0f}"
            if r.get("qdb_measured_s"):
                qdb += f" (at its measured rate: {r['qdb_measured_s']:,.0f})"
            speedup = f"{r['speedup']:.0f}x"
        bound_text = "" if bound is None else f"{bound:.2f}"
        ratio_text = "" if ratio is None else f"{ratio:.2f}x"
        lines.append(
            f"| {r['scenario']} | {r['runs']} | {r['median_s']:.3f} | {bound_text} | {ratio_text} | {qdb} | {speedup} |"
        )
    notes = [f"- {r['scenario']}: {r['detail']}" for r in rows if "detail" in r]
    return "\n".join(lines + [""] + notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="N=40 and 200 warm symbols, one run each")
    parser.add_argument("--sources", action="store_true", help="the many-upstreams scenarios (issue 20)")
    parser.add_argument("--symbols", type=int, default=5000, help="--sources: symbols of the cold run")
    parser.add_argument("--ban-symbols", type=int, default=1000, help="--sources: symbols of the ban run")
    parser.add_argument("--scale", type=float, default=1.5, help="--sources: rates x scale, latencies / scale")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.sources:
        import sources_bench

        rows = sources_bench.run(args.symbols, scale=args.scale, repeat=1 if args.quick else args.repeat,
                                 ban_n=args.ban_symbols)  # fmt: skip
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        text = f"# Many upstreams\n\n{sources_bench.table(rows)}\n\nLoad average at the end ({os.cpu_count()} CPUs): {load}\n"
        print(text)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        (RESULTS.parent / "sources.md").write_text(text, encoding="utf-8")
        return
    n, n_warm, repeat = (40, 200, 1) if args.quick else (200, 1000, args.repeat)
    market = SimulatedMarket(seed=7, clock=FixedClock(MARKET_NOW))
    symbols = listed_symbols(market, n)
    rows = [
        cold(market, symbols, latency=0.3, rate=10.0, concurrency=8, repeat=repeat),  # rate-bound: N/R
        cold(market, symbols, latency=0.3, rate=50.0, concurrency=8, repeat=repeat),  # concurrency-bound: N*L/C
        *warm(n_warm, max(repeat, 3)),
        failures(market, symbols, latency=0.3, rate=10.0, concurrency=8),
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text = f"# Portfolio benchmark\n\n{table(rows)}\n\nLoad average at the end ({os.cpu_count()} CPUs): {load}\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
