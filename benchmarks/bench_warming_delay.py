"""The foreground delay warming adds, on a scripted multi-day research workflow, with and without warming.
(The value of warming over several workflows is ``bench_warming.py``.)

    python benchmarks/bench_warming_delay.py [--days 15] [--latency 0.1]

The researcher (seeded, deterministic) works each morning before the open on the simulated market:
* a watchlist of 8 stocks, every day (qfq from 2024-01-01 to now);
* 3 pairs studied together on about 70% of days (one cell per pair);
* a sector study from day 6: half the members one day, the whole sector for the next days;
* one new symbol a day, looked at once.
``warm`` runs after each close (what ``quantdb-lab warm`` does from cron), and during the morning session a
background ``Warmer`` runs in the kernel (co-requests). Five days of usage precede the measured days in both
runs, so the figures are a steady state; the cold first week is reported apart.

Time is a ``ShiftedClock`` (real time, jumped day by day): the throttle and the simulated latency (a real
sleep of L per upstream call) cost wall time, so the foreground delay caused by warming is measured, not
modelled: for each foreground load, its time minus L per upstream call it made itself (waits for the rate
limit included), and the wait warming added = that figure with warming minus the same request's without. The upstream is limited
like Eastmoney's kline host: one call in flight, 1/L calls a second, a burst of 2.

Targets (issue 7): >= 80% of each day's first requests warm; <= 30% of warming calls unused; no foreground
request delayed by more than one upstream latency L. Prints a markdown table and writes results/warming_delay.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import EXCHANGE_TZ, RESULTS_DIR, ShiftedClock, markdown_table

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.lab import Lab
from quantdb_lab.prefetch import Warmer
from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider
from quantdb_lab.throttle import RateLimit

FIRST_DAY = date(2025, 3, 3)
WARMUP_DAYS = 5
START = "2024-01-01"
CELL_PAUSE = 0.15  # real seconds between notebook cells: the background warmer's window


class Researcher:
    def __init__(self, market: SimulatedMarket, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        listed = [s for s in market.symbols("stock") if market.listing_date(s) < date(2023, 1, 1)]
        securities = market.securities(now=datetime(2025, 1, 6, 16, tzinfo=EXCHANGE_TZ))
        sectors: dict[str, list[str]] = {}
        for symbol, industry in zip(securities["symbol"], securities["industry"], strict=True):
            if symbol in listed:
                sectors.setdefault(industry, []).append(symbol)
        name, members = min(((k, v) for k, v in sectors.items() if len(v) >= 8), key=lambda kv: len(kv[1]))
        self.sector_name = name
        self.sector = sorted(members)
        others = [s for s in listed if s not in self.sector]
        self.rng.shuffle(others)
        self.watchlist = others[:8]
        self.pairs = [tuple(others[8 + 2 * i : 10 + 2 * i]) for i in range(3)]
        self.novel = others[14:]

    def universe(self) -> list[str]:
        return [*self.watchlist, *(s for pair in self.pairs for s in pair), *self.sector, *self.novel[:40]]

    def cells(self, day_index: int) -> list[list[str]]:
        """The notebook cells of one morning, each a list of symbols read together."""
        cells = [list(self.watchlist)]
        cells += [list(pair) for pair in self.pairs if self.rng.random() < 0.7]
        if day_index == 5:
            cells.append(self.sector[: len(self.sector) // 2])
        elif day_index > 5:
            cells.append(list(self.sector))
        cells.append([self.novel.pop(0)])
        return cells


def run(days: int, latency: float, *, warming: bool) -> dict:
    market = SimulatedMarket(seed=7)
    calendar = TradingCalendar.xshg()
    sessions = calendar.sessions(FIRST_DAY, FIRST_DAY + timedelta(days=3 * (days + WARMUP_DAYS)))[: days + WARMUP_DAYS]
    clock = ShiftedClock(datetime.combine(sessions[0], datetime.min.time()).replace(hour=8, minute=40, tzinfo=EXCHANGE_TZ))
    provider = SimulatedProvider(market, latency=latency, faults=Faults(), clock=clock)
    limits = {"local": RateLimit(per_second=1 / latency, burst=2, max_concurrency=1)}
    cache = Path(tempfile.mkdtemp(prefix="bench-warming-"))
    lab = Lab(cache, provider=provider, clock=clock, limits=limits)
    researcher = Researcher(market)
    for symbol in researcher.universe():  # generate histories now: the upstream should cost only its latency L
        market.history(symbol)
    per_day, cold_week = [], []
    delays: dict[tuple[int, str], float] = {}
    for i, session in enumerate(sessions):
        clock.jump(datetime.combine(session, datetime.min.time()).replace(hour=8, minute=40, tzinfo=EXCHANGE_TZ))
        background = Warmer(lab, quiet=0.05).start(interval=CELL_PAUSE / 3) if warming else None
        firsts = []
        for cell in researcher.cells(i):
            for origin in lab.bars(cell, start=START).quantdb.provenance.series:
                firsts.append(origin.from_cache)
                if i >= WARMUP_DAYS:  # keyed so the two runs pair up request by request
                    delays[(i, origin.symbol)] = origin.seconds - origin.upstream_calls * latency
            time.sleep(CELL_PAUSE)
        if background is not None:
            background.stop()
        share = sum(firsts) / len(firsts)
        (per_day if i >= WARMUP_DAYS else cold_week).append(share)
        if i == WARMUP_DAYS - 1:
            lab.tracking.ledger.flush()
            baseline = lab.tracking.ledger.summary()  # warming of the first week is not measured
        if warming and i < len(sessions) - 1:  # cron after the close; none after the last measured day
            clock.jump(datetime.combine(session, datetime.min.time()).replace(hour=16, tzinfo=EXCHANGE_TZ))
            Warmer(lab).run_once()
    lab.tracking.ledger.flush()
    summary = lab.tracking.ledger.summary()
    calls = summary["warming_calls"] - baseline["warming_calls"]
    unused = summary["warming_calls_unused"] - baseline["warming_calls_unused"]
    return {
        "warm_mean": sum(per_day) / len(per_day),
        "warm_min": min(per_day),
        "cold_week": sum(cold_week) / len(cold_week),
        "warming_calls": calls,
        "unused": unused,
        "wasted": (unused / calls) if calls else None,
        "max_delay": max(delays.values()),
        "delays": delays,
        "foreground_calls": lab.stats()["upstream_calls_total"],
        "sector": f"{researcher.sector_name} ({len(researcher.sector)} stocks)",
    }


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=15)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    without = run(args.days, args.latency, warming=False)
    with_ = run(args.days, args.latency, warming=True)
    ms = 1000 * args.latency
    paired = sorted(with_["delays"][key] - without["delays"][key] for key in with_["delays"])
    added, p95 = paired[-1], paired[int(0.95 * (len(paired) - 1))]
    over = sum(1 for value in paired if value > args.latency)
    rows = [
        ["first requests of the day served warm (mean over days)", pct(with_["warm_mean"]), pct(without["warm_mean"]), ">= 80%"],
        ["... worst day", pct(with_["warm_min"]), pct(without["warm_min"]), ""],
        ["... first (cold) week, not in the mean", pct(with_["cold_week"]), pct(without["cold_week"]), ""],
        ["warming calls (measured days)", str(with_["warming_calls"]), "0", ""],
        ["warming calls never used", f"{with_['unused']} ({pct(with_['wasted'])})", "n/a", "<= 30%"],
        ["foreground upstream calls (whole run)", str(with_["foreground_calls"]), str(without["foreground_calls"]), ""],
        ["max foreground wait beyond its own calls", f"{1000 * with_['max_delay']:.1f} ms",
         f"{1000 * without['max_delay']:.1f} ms", ""],
        ["max wait added by warming (same request, paired)", f"{1000 * added:.1f} ms", "", f"<= L = {ms:.0f} ms"],
        ["... 95th percentile", f"{1000 * p95:.1f} ms", "", ""],
        ["... requests delayed by more than L", f"{over} of {len(paired)}", "", "0"],
    ]  # fmt: skip
    table = markdown_table(["measure", "with warming", "without", "target"], rows)
    text = (
        f"# Predictive cache warming: foreground delay\n\n`python benchmarks/bench_warming_delay.py --days {args.days} --latency {args.latency}`: "
        f"{args.days} measured research mornings after {WARMUP_DAYS} days of usage, simulated market, upstream latency "
        f"L = {ms:.0f} ms, one call in flight, {1 / args.latency:.0f} calls/s, burst 2. Sector studied: "
        f"{with_['sector']}.\n\n{table}\n"
    )
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "warming_delay.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
