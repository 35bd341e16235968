"""Real-time benchmark: processors on a whole-market snapshot, snapshot-to-widget latency, upstream calls
against the freshness window with several kernels.

    python benchmarks/bench_realtime.py            # prints a markdown table, writes results/realtime.md
    python benchmarks/bench_realtime.py --quick    # fewer repetitions

1. ``Pipeline.process`` on a 5,500-row snapshot (the simulated market's 300 stocks tiled under 5,500 distinct
   codes, consecutive minutes of a replayed session, so prices change, limits are hit and released), every
   processor on, with a volume baseline. Targets: median < 1 ms, p99 < 5 ms.
2. Arrival to widget model update: ``bus.publish(PriceUpdate)`` until ``LiveWatchWidget`` has set its table,
   rows and chart (measured on the publishing thread, the handler running on its bus thread). Target < 50 ms.
3. Upstream calls with K processes ("kernels") each calling ``lab.quotes`` every 0.1 s on one cache directory,
   under a clock running at 60x (one simulated minute per real second, so the 1-minute freshness expires once
   a second): the upstream should see about one call per freshness window in total, not one per poll.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import common

SESSION = date(2024, 3, 5)
ROWS = 5_500


def _snapshots(minutes: int):
    import polars as pl

    from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
    from quantdb_lab.providers.simulated import SimulatedProvider

    clock = FixedClock(datetime(2024, 3, 5, 9, 45, tzinfo=EXCHANGE_TZ))
    provider = SimulatedProvider(clock=clock)
    frames = []
    for _ in range(minutes):
        base = provider.fetch_quotes(None)
        copies = -(-ROWS // base.height)
        tiled = pl.concat([base.with_columns(pl.format("{}-{}", pl.col("symbol"), pl.lit(k)).alias("symbol"))
                           for k in range(copies)]).head(ROWS)  # fmt: skip
        frames.append(tiled)
        clock.advance(60)
    return frames


def bench_processors(repeat: int) -> dict:
    import polars as pl

    from quantdb_lab.realtime import Pipeline

    frames = _snapshots(30)
    baseline = frames[0].select("symbol", (pl.col("volume") * 2.0).alias("baseline_volume"))
    pipeline = Pipeline(baseline=baseline, spike_ratio=1.5, min_minutes=0)
    for frame in frames[:5]:
        pipeline.process(frame)  # warm-up
    gc.collect()
    times, events = [], 0
    for i in range(repeat):
        frame = frames[i % len(frames)]
        started = time.perf_counter()
        events += len(pipeline.process(frame))
        times.append(time.perf_counter() - started)
    times.sort()
    return {"median_ms": statistics.median(times) * 1e3, "p99_ms": times[int(len(times) * 0.99) - 1] * 1e3,
            "events_per_snapshot": events / repeat, "rows": frames[0].height}  # fmt: skip


def bench_widget(repeat: int, rows: int) -> dict:
    from quantdb_lab.realtime import EventBus, PriceUpdate, Watcher
    from quantdb_lab.ui.widgets.live_watch import LiveWatchWidget

    frames = [f.head(rows) for f in _snapshots(10)]
    bus = EventBus()
    watcher = Watcher(lambda: frames[0], interval=60.0, bus=bus)
    widget = LiveWatchWidget(watcher)
    times = []
    for i in range(repeat):
        frame = frames[i % len(frames)]
        before = widget.updates
        started = time.perf_counter()
        bus.publish(PriceUpdate(frame["time"][0], frame))
        while widget.updates == before:
            time.sleep(0.0002)
        times.append(time.perf_counter() - started)
    bus.close()
    times.sort()
    return {"rows": rows, "median_ms": statistics.median(times) * 1e3, "p99_ms": times[int(len(times) * 0.99) - 1] * 1e3}


WORKER = """
import json, sys, time, warnings
from datetime import datetime, timedelta
warnings.simplefilter("ignore")
from quantdb_lab import Lab
from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.providers.simulated import SimulatedProvider

class FastClock:
    def __init__(self, start, t0, speed):
        self.start, self.t0, self.speed = start, t0, speed
    def now(self):
        return self.start + timedelta(seconds=(time.time() - self.t0) * self.speed)
    def monotonic(self):
        return time.monotonic()
    def sleep(self, seconds):
        time.sleep(max(seconds, 0) / self.speed)

cache, t0, seconds, speed, symbols = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
clock = FastClock(datetime(2024, 3, 5, 10, 0, tzinfo=EXCHANGE_TZ), t0, speed)
provider = SimulatedProvider(clock=clock)
lab = Lab(cache, provider, mode="trading", clock=clock, usage_log=False)
wanted = None if symbols == "all" else symbols.split(",")
polls = 0
while time.time() < t0:
    time.sleep(0.01)
while time.time() < t0 + seconds:
    lab.quotes(wanted)
    polls += 1
    time.sleep(0.1)
print(json.dumps({"polls": polls, "upstream": provider.calls["fetch_quotes"]}))
"""


def bench_kernels(kernels: int, seconds: float, speed: float = 60.0) -> dict:
    with tempfile.TemporaryDirectory(prefix="qdb-bench-rt-") as cache:
        t0 = time.time() + 4.0  # every worker imported and waiting before the clock starts
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, cache, str(t0), str(seconds), str(speed),
                                   "000001.SZ,600519.SH,600000.SH"], stdout=subprocess.PIPE, text=True)
                 for _ in range(kernels)]  # fmt: skip
        results = [json.loads(p.communicate(timeout=seconds + 60)[0].strip().splitlines()[-1]) for p in procs]
    simulated = timedelta(seconds=seconds * speed)
    return {"kernels": kernels, "polls": sum(r["polls"] for r in results),
            "upstream": sum(r["upstream"] for r in results),
            "windows": int(simulated / timedelta(minutes=1)) + 1}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 300 if args.quick else 2000
    processors = bench_processors(repeat)
    widget_small = bench_widget(50 if args.quick else 300, 50)
    widget_market = bench_widget(20 if args.quick else 100, ROWS)
    kernels = bench_kernels(3, 4.0 if args.quick else 8.0)
    rows = [
        ["process 5,500-row snapshot, all processors", (f"median {processors['median_ms']:.3f} ms, p99 "
         f"{processors['p99_ms']:.3f} ms ({processors['events_per_snapshot']:.0f} events/snapshot)"),
         "median < 1 ms, p99 < 5 ms",
         "yes" if processors["median_ms"] < 1 and processors["p99_ms"] < 5 else "NO"],
        ["snapshot arrival -> widget model (50 symbols)", (f"median {widget_small['median_ms']:.2f} ms, p99 "
         f"{widget_small['p99_ms']:.2f} ms"), "< 50 ms", "yes" if widget_small["p99_ms"] < 50 else "NO"],
        ["snapshot arrival -> widget model (5,500 symbols)", (f"median {widget_market['median_ms']:.2f} ms, p99 "
         f"{widget_market['p99_ms']:.2f} ms"), "< 50 ms", "yes" if widget_market["p99_ms"] < 50 else "NO"],
        [f"upstream calls, {kernels['kernels']} kernels polling every 0.1 s",
         f"{kernels['upstream']} calls for {kernels['polls']} polls over {kernels['windows']} freshness windows",
         "<= one per window", "yes" if kernels["upstream"] <= kernels["windows"] else "NO"],
    ]  # fmt: skip
    table = common.markdown_table(["measure", "result", "target", "met"], rows)
    print(table)
    header = (f"# Real-time benchmark\n\n`python benchmarks/bench_realtime.py{' --quick' if args.quick else ''}`, "
              f"{datetime.now():%Y-%m-%d}; simulated market, replayed session {SESSION}; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f} at the end.\n\n")  # fmt: skip
    (common.RESULTS_DIR / "realtime.md").write_text(header + table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
