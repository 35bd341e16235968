"""Point-in-time reads (issue 21): warm fundamentals and the whole-market valuation panel from the cache.

    python benchmarks/bench_pit.py [--stocks 5000] [--reps 7]

The data: a simulated market of ``--stocks`` A-shares (``SimulatedMarket(seed=7)``) at 2025-01-10 (2024 closed),
its statements and one year of raw daily bars fetched once into a cache kept in ``benchmarks/.pit/``. Timed in
this process after one warm-up read, medians of ``--reps``:

* fundamentals, 300 stocks: every report period (at least 5 years of reports each) as known on 2024-12-31,
  with the derived indicators (``lab.fundamentals(..., history=True)``), and the latest report per stock;
* the valuation panel of the whole market over 2024 (``lab.valuation("market", ...)``): PE TTM, PB, PS TTM and
  market caps per session from raw closes and point-in-time statements.

Targets: fundamentals 300 x 5 years < 50 ms; valuation whole market x 1 year < 1 s.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_DIR, RESULTS_DIR, markdown_table, median  # noqa: E402

NOW = "2025-01-10 16:00"
DAY = date(2024, 12, 31)


def _lab(cache: Path, stocks: int):  # noqa: ANN202
    from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
    from quantdb_lab.lab import Lab
    from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider

    clock = FixedClock(datetime.fromisoformat(NOW).replace(tzinfo=EXCHANGE_TZ))
    market = SimulatedMarket(seed=7, n_stocks=stocks, clock=clock)
    return Lab(cache, provider=SimulatedProvider(market, faults=Faults(), clock=clock), clock=clock), market


def timed(fn, reps: int) -> list[float]:  # noqa: ANN001
    fn()  # warm-up: fills the cache on the first run, then the store's memory
    out = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stocks", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    lab, market = _lab(BENCH_DIR / ".pit" / f"cache-{args.stocks}", args.stocks)
    old = [s for s in market.symbols("stock") if market.listing_date(s) <= date(2019, 1, 1)][:300]
    started = time.perf_counter()
    lab.valuation("market", start="2024-01-01", end="2024-12-31")  # fills bars and statements once
    print(f"cache ready in {time.perf_counter() - started:.1f} s ({args.stocks} stocks)", file=sys.stderr)
    history = timed(lambda: lab.fundamentals(old, history=True, as_of=DAY), args.reps)
    latest = timed(lambda: lab.fundamentals(old, as_of=DAY), args.reps)
    panel = timed(lambda: lab.valuation("market", start="2024-01-01", end="2024-12-31"), args.reps)
    rows_h = lab.fundamentals(old, history=True, as_of=DAY).height
    rows_p = lab.valuation("market", start="2024-01-01", end="2024-12-31").height
    table = markdown_table(
        ["read", "rows", "median ms", "min ms", "target ms", "median / target"],
        [["fundamentals, 300 stocks, every report (history)", rows_h, f"{median(history) * 1e3:.1f}",
          f"{min(history) * 1e3:.1f}", "50", f"{median(history) / 0.05:.2f}"],
         ["fundamentals, 300 stocks, latest report", len(old), f"{median(latest) * 1e3:.1f}",
          f"{min(latest) * 1e3:.1f}", "50", f"{median(latest) / 0.05:.2f}"],
         [f"valuation panel, whole market ({args.stocks}) x 2024", rows_p, f"{median(panel) * 1e3:.0f}",
          f"{min(panel) * 1e3:.0f}", "1000", f"{median(panel) / 1.0:.2f}"]],
    )  # fmt: skip
    print(table)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "pit.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
