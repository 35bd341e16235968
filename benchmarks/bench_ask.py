"""lab.ask on a warm cache: the four seed questions of issue 6 over a 300-stock simulated universe.

    python benchmarks/bench_ask.py [--repeat 15] [--stocks 300]

Each question is asked once cold (fills the cache: bars, the security master, the crude oil series), then
``--repeat`` times warm; the table has the cold time, the warm median and worst run, the warm cache hit rate and
upstream calls, against the target of 300 ms. Prints a markdown table and writes benchmarks/results/ask.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import warnings
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS_DIR, fmt_ms, markdown_table

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import SimulatedMarket, SimulatedProvider

SEEDS = (
    "Show me the top 10 performing stocks in the tech sector over the last month",
    "Compare the volatility of 600519 and 000858 during earnings seasons",
    "Find stocks with unusual volume spikes in the last 3 days",
    "Analyze the correlation between oil prices and energy sector performance",
)
TARGET_MS = 300.0
NOW = datetime(2025, 6, 6, 16, 0, tzinfo=EXCHANGE_TZ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--stocks", type=int, default=300)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    clock = FixedClock(NOW)
    market = SimulatedMarket(seed=7, n_stocks=args.stocks, clock=clock)
    lab = Lab(tempfile.mkdtemp(prefix="qdb_bench_ask_"), provider=SimulatedProvider(market, clock=clock), clock=clock)
    rows, results = [], []
    for question in SEEDS:
        cold = lab.ask(question, planner="rules")
        warm = [lab.ask(question, planner="rules") for _ in range(args.repeat)]
        times = [a.execution_time * 1000 for a in warm]
        median = statistics.median(times)
        last = warm[-1]
        results.append(median <= TARGET_MS)
        rows.append([
            question, last.plan.intent if last.plan else "declined", str(last.data.height), fmt_ms(cold.execution_time * 1000),
            fmt_ms(median), fmt_ms(max(times)), f"{last.cache_hit_rate:.0%}" if last.cache_hit_rate is not None else "n/a",
            str(last.upstream_calls), "PASS" if median <= TARGET_MS else "MISS",
        ])  # fmt: skip
    header = ["question", "intent", "rows", "cold ms", "warm median ms", "warm max ms", "warm hit rate",
              "warm upstream calls", f"< {TARGET_MS:.0f} ms"]  # fmt: skip
    table = markdown_table(header, rows)
    text = (f"# lab.ask, warm cache, {args.stocks}-stock simulated universe ({args.repeat} warm runs each)\n\n"
            f"{table}\n\nSimulated market seed 7 at {NOW.isoformat()}; latency 0; rule-based planner. Cold runs "
            "include fetching the bars, the security master and (for the correlation) the crude oil series.\n")  # fmt: skip
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "ask.md").write_text(text)
    if not all(results):
        sys.exit(1)


if __name__ == "__main__":
    main()
