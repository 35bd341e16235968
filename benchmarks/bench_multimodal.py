"""lab.view warm: a 5-year daily view of one stock with news, two macro series and one commodity.

    python benchmarks/bench_multimodal.py [--repeat 30]

The first call fills the cache (bars, news, CPI, PMI, SC0 through ReferenceData); then ``--repeat`` warm calls
are timed against the target of 100 ms. Simulated provider, fixed clock, no latency. Prints a markdown table
and writes benchmarks/results/multimodal.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS_DIR, fmt_ms, markdown_table

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import SimulatedMarket, SimulatedProvider

TARGET_MS = 100.0
NOW = datetime(2025, 6, 6, 16, 0, tzinfo=EXCHANGE_TZ)
SYMBOL, START, END = "600000.SH", "2020-06-01", "2025-05-30"
INCLUDE = ["news", "cpi", "pmi", "SC0"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    clock = FixedClock(NOW)
    provider = SimulatedProvider(SimulatedMarket(seed=7), clock=clock)
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(Path(tmp) / "cache", provider=provider, clock=clock)
        began = time.perf_counter()
        frame = lab.view(SYMBOL, start=START, end=END, include=INCLUDE)
        cold = (time.perf_counter() - began) * 1000
        calls = provider.calls["total"]
        warm = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            lab.view(SYMBOL, start=START, end=END, include=INCLUDE)
            warm.append((time.perf_counter() - began) * 1000)
        upstream = provider.calls["total"] - calls
    median = statistics.median(warm)
    news_rows = int((frame["news_count"] > 0).sum())
    rows = [[f"{SYMBOL} {START}..{END}", f"{frame.height} x {frame.width}", str(news_rows), fmt_ms(cold),
             fmt_ms(median), fmt_ms(max(warm)), str(upstream), fmt_ms(TARGET_MS),
             "yes" if median < TARGET_MS else "NO"]]  # fmt: skip
    table = markdown_table(["view", "rows x cols", "sessions with news", "cold ms", "warm median ms", "warm worst ms",
                            "warm upstream calls", "target ms", "met"], rows)  # fmt: skip
    text = (f"# lab.view warm benchmark\n\nSimulated provider (seed 7), clock {NOW.isoformat()}, include={INCLUDE}, "
            f"{args.repeat} warm runs.\n\n{table}\n")  # fmt: skip
    print(text)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "multimodal.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
