"""The collector: 300 symbols for one closed session, at the shared rate limit, with simulated latency.

    python benchmarks/bench_collect.py [--symbols 300] [--rate 50] [--latency 0.005] [--repeats 3]

What is collected, for the session that just closed (Monday 2025-06-09, 16:00):

* a per-symbol dataset whose upstream forgets: the 1-minute bars of 300 stocks. The registry's own minute-bar
  entry is used when there is one the simulated provider serves; until then a stand-in registered here
  (1-minute bars off the simulated market's intraday paths, 5 sessions kept upstream, one call per session, an
  empty answer taken as the session's: a suspended stock);
* the two market-wide event lists (limit-up pool, dragon-tiger list): one call each for the session.

The upstream is limited like one Eastmoney host: one call in flight, ``rate`` calls a second, a burst of 1;
each call sleeps ``latency`` (real time, a ``ShiftedClock``). Every run starts from an empty cache. Rows:

* ``collect``: the first pass; calls per dataset (target: one per symbol per dataset), seconds, and the ratio
  to the rate limit's floor ``(calls - 1) / rate + latency`` (1.0 = exactly at the limit);
* ``again``: the same pass right after (everything present: target 0 calls);
* ``killed + resumed``: a pass stopped after half its calls, then a second pass; calls in total (target: the
  same as one pass, nothing fetched twice).

Prints a markdown table of medians over ``repeats`` runs and writes results/collect.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import EXCHANGE_TZ, RESULTS_DIR, ShiftedClock, markdown_table

import polars as pl

from quantdb_lab.domain.datasets import Dataset, datasets, register
from quantdb_lab.errors import SyntheticDataWarning
from quantdb_lab.lab import Lab
from quantdb_lab.prefetch.collector import Collector, Target
from quantdb_lab.providers.fetchers import Fetcher
from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider
from quantdb_lab.throttle import RateLimit

SESSION = date(2025, 6, 9)
NOW = datetime(2025, 6, 9, 16, 0, tzinfo=EXCHANGE_TZ)
STAND_IN = Dataset(
    name="bench_minutes_1", title="1-minute bars (benchmark stand-in)", index="timestamp", index_column="time",
    schema={"symbol": pl.String(), "time": pl.Datetime("us", "Asia/Shanghai"), "open": pl.Float64(),
            "high": pl.Float64(), "low": pl.Float64(), "close": pl.Float64(), "volume": pl.Float64(),
            "amount": pl.Float64()},
    fetch_unit="session", upstream_sessions=5, capability="bench_minutes_1", empty_is_answer=True,
)  # fmt: skip  empty_is_answer: a suspended stock's closed session has no bars, said once


class WithMinutes(SimulatedProvider):
    """The simulated provider, plus the stand-in minute bars (one session per call, the last 5 kept)."""

    def fetchers(self):  # noqa: ANN201
        table = super().fetchers()
        table.setdefault("bench_minutes_1", Fetcher(self._minutes, self.host_family))
        return table

    def _minutes(self, symbol, start, end, **_params):  # noqa: ANN001, ANN202
        self._enter("fetch_daily_bars", dataset="bench_minutes_1", symbol=symbol.canonical)
        now = self._now()
        days = self.market.calendar.sessions(start, end)
        frames = [self.market.intraday_path(symbol, day, now=now) for day in days]
        return pl.concat(frames) if frames else pl.DataFrame(schema=STAND_IN.schema)


def minute_dataset(provider: SimulatedProvider) -> Dataset:
    """The registry's per-symbol forgetful dataset the simulated provider serves (minute bars), else the stand-in."""
    served = provider.fetchers()
    for record in datasets().values():
        if record.per_symbol and record.forgets and record.fetch_unit == "session" and record.capability in served \
                and record.name != STAND_IN.name and record.index == "timestamp":  # fmt: skip
            return record
    return register(STAND_IN)


def run_once(market: SimulatedMarket, symbols: list[str], rate: float, latency: float) -> dict[str, float]:
    clock = ShiftedClock(NOW)
    provider = WithMinutes(market, latency=latency, faults=Faults(), clock=None)
    limits = {"local": RateLimit(per_second=rate, burst=1, max_concurrency=1)}
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(Path(tmp) / "cache", provider=provider, clock=clock, limits=limits, usage_log=False)
        minutes = minute_dataset(provider)
        lists = [datasets()["limit_up_pool"], datasets()["dragon_tiger"]]

        def targets() -> list[Target]:
            from quantdb_lab.domain.symbols import parse_symbol

            return [*(Target(minutes, parse_symbol(s), SESSION) for s in symbols),
                    *(Target(record, None, SESSION) for record in lists)]  # fmt: skip

        started = time.perf_counter()
        first = Collector(lab, targets()).run()
        seconds = time.perf_counter() - started
        by_dataset = {row["dataset"]: 0 for row in first.rows}
        for row in first.rows:
            by_dataset[row["dataset"]] += row["calls"]
        started = time.perf_counter()
        again = Collector(lab, targets()).run()
        again_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(Path(tmp) / "cache", provider=provider, clock=clock, limits=limits, usage_log=False)
        half = Collector(lab, targets(), max_calls=first.calls // 2).run()
        rest = Collector(lab, targets()).run()
    floor = (first.calls - 1) / rate + latency
    return {"minutes": by_dataset.get(minutes.name, 0), "limit_up_pool": by_dataset.get("limit_up_pool", 0),
            "dragon_tiger": by_dataset.get("dragon_tiger", 0), "calls": first.calls, "seconds": seconds,
            "floor": floor, "ratio": seconds / floor, "again_calls": again.calls, "again_seconds": again_seconds,
            "resumed_calls": half.calls + rest.calls, "captured": first.captured, "name": minutes.name}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0, help="calls per second the shared limit allows")
    parser.add_argument("--latency", type=float, default=0.005, help="simulated seconds per upstream call")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", SyntheticDataWarning)
    market = SimulatedMarket(seed=7)
    symbols = market.symbols("stock")[: args.symbols]
    for symbol in symbols:  # generate every history once, outside the timings
        market.history(symbol)
    runs = [run_once(market, symbols, args.rate, args.latency) for _ in range(args.repeats)]

    def med(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    name = runs[0]["name"]
    rows = [
        ("collect", f"{med('minutes'):.0f}", f"{med('limit_up_pool'):.0f}", f"{med('dragon_tiger'):.0f}",
         f"{med('calls'):.0f}", f"{med('seconds'):.2f}", f"{med('floor'):.2f}", f"{med('ratio'):.2f}"),
        ("again (all present)", "", "", "", f"{med('again_calls'):.0f}", f"{med('again_seconds'):.3f}", "", ""),
        ("killed at half + resumed", "", "", "", f"{med('resumed_calls'):.0f}", "", "", ""),
    ]  # fmt: skip
    header = ("pass", f"{name} calls", "limit_up_pool calls", "dragon_tiger calls", "calls", "median s",
              "rate floor s", "ratio to floor")  # fmt: skip
    table = markdown_table(header, rows)
    text = (f"{args.symbols} symbols, session {SESSION}, rate {args.rate:g}/s (1 in flight), latency "
            f"{args.latency * 1000:g} ms, medians of {args.repeats} runs\n\n{table}\n")  # fmt: skip
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "collect.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
