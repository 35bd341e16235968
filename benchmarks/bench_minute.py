"""Minute bars (issue 19 item 2): warm reads of a month of 1-minute bars captured session by session, bars
derived from them, and daily bars from minutes against the daily series.

    PYTHONPATH=. python benchmarks/bench_minute.py      # prints markdown tables, writes benchmarks/results/minute.md

The simulated Eastmoney keeps 5 sessions of 1-minute bars, so a month is captured the way the collector does it:
the clock steps through 21 closed sessions and each evening reads the day (one call per symbol per session).
Targets: warm 1 symbol x 1 month of 1-minute (about 5,000 rows) < 1 ms in process; daily from minutes equal to
the daily series (OHLC exact, volume within the auction bars). With ``../shared/data`` present, the real check:
Eastmoney's 5-minute bars against those derived from its 1-minute bars (600519, 2026-03-23..27).
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from datetime import date
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import markdown_table, median, time_many  # noqa: E402
from quantdb_lab.domain.minute import daily_from_minutes, repair_opens, resample_minutes  # noqa: E402
from tests.support.sim import MARKET, at, make_lab  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "minute.md"
FIRST, LAST = date(2025, 5, 6), date(2025, 6, 6)
SYMBOLS = ("600519", "000001.SZ", "300750.SZ", "000300.SH", "510300")


def main() -> None:
    warnings.simplefilter("ignore")
    out: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench_minute_"))
    lab, provider, clock = make_lab(tmp, now=f"{FIRST.isoformat()} 16:00")
    days = MARKET.calendar.sessions(FIRST, LAST)
    for day in days:  # one evening per session
        clock.advance((at(f"{day.isoformat()} 16:00") - clock.now()).total_seconds())
        for symbol in SYMBOLS:
            lab.bars(symbol, freq="1min", start=day, end=day)
    calls = provider.calls["fetch_minute_bars"]

    def read(freq: str, symbol: str = "600519"):  # noqa: ANN202
        return lambda: lab.bars(symbol, freq=freq, start=FIRST, end=LAST)

    month = read("1min")()
    rows = [["1min (stored)", f"{month.height:,}", f"{median(time_many(read('1min'), 200)):.3f}", "< 1 ms"]]
    for freq in ("5min", "15min", "60min"):
        frame = read(freq)()
        rows.append([f"{freq} (from stored 1min)", f"{frame.height:,}", f"{median(time_many(read(freq), 50)):.3f}", ""])
    assert provider.calls["fetch_minute_bars"] == calls, "warm reads must not call the upstream"
    out.append(f"## Warm reads, 1 symbol x {len(days)} sessions ({FIRST} .. {LAST}), in process\n")
    out.append(markdown_table(["read", "rows", "median ms", "target"], rows))
    out.append(f"\nCapture: {len(days)} sessions x {len(SYMBOLS)} symbols = {calls} upstream calls "
               f"(one per symbol per session).\n")

    agree = []
    for symbol in SYMBOLS:
        minutes = lab.bars(symbol, freq="1min", start=FIRST, end=LAST)
        daily = lab.bars(symbol, start=FIRST, end=LAST, adjust="")  # minute bars are unadjusted
        both = daily_from_minutes(minutes).join(daily, on=["symbol", "date"], suffix="_d")
        exact = both.filter(pl.all_horizontal((pl.col(c) == pl.col(f"{c}_d")) for c in ("open", "high", "low", "close")))
        within = both.filter((pl.col("volume") - pl.col("volume_d")).abs() <= pl.col("auction_volume"))
        agree.append([symbol, str(both.height), f"{exact.height / both.height:.0%}", f"{within.height / both.height:.0%}"])
    out.append("## Daily bars from stored 1-minute bars against the daily series (simulated Eastmoney)\n")
    out.append(markdown_table(["symbol", "sessions", "OHLC exact", "volume within the auction"], agree))

    real = ROOT.parent / "shared" / "data" / "minute_bars" / "akshare_em_lixiaodog"
    if (real / "600519_1min.csv").exists():
        from tests.support.minute_files import eastmoney

        ones = repair_opens(eastmoney("600519_1min.csv", "600519.SH"))
        fives = eastmoney("600519_5min.csv", "600519.SH").filter(pl.col("time").dt.date() >= date(2026, 3, 23))
        both = resample_minutes(ones, 5).join(fives, on="time", suffix="_em")
        share = {c: float((both[c] == both[f"{c}_em"]).mean()) for c in ("open", "high", "low", "close", "amount")}
        lots = float(((both["volume"] - both["volume_em"]).abs() <= 100).mean())
        out.append("\n## Real: Eastmoney's 5-minute bars against those derived from its 1-minute bars (600519)\n")
        out.append(markdown_table(["bars", "open equal", "high", "low", "close", "amount", "volume within a lot"],
                                  [[str(both.height), f"{share['open']:.0%} (opens not sent on 4 of 5 days)",
                                    f"{share['high']:.0%}", f"{share['low']:.0%}", f"{share['close']:.0%}",
                                    f"{share['amount']:.0%}", f"{lots:.0%}"]]))  # fmt: skip
    text = "\n".join(out) + "\n"
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("# Minute bars (benchmarks/bench_minute.py)\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
