"""Adjustment on real data: baostock's unadjusted bars through the Lab (replay adapter), our qfq and hfq against
Tushare's multiplicative qfq, side by side with Eastmoney's own qfq; and the speed of the long-frame functions.

    python benchmarks/bench_adjust.py            # prints markdown tables, writes benchmarks/results/adjust.md

Needs ``../shared/data``. The symbols are those in baostock's CSI 300 set and Tushare's qfq set (2020-01-02 ..
2025-04-07); Eastmoney's qfq is the ``akshare_em_daily`` recording (qfq as of 2026-01-26) where it has them.

Method. Tushare's qfq is anchored months after baostock's last bar (more dividends since), so every series is
compared up to one scale (the median ratio over the common days). Tushare publishes to the cent: per row, ours
is rounded to the cent the same way before the relative error is taken (Eastmoney's is compared as it is). The
five-year cumulative return is measured with each endpoint as the median over 20 sessions (at 2.6 CNY a single
cent is 0.2 %), against Tushare and against the exchange's own daily returns (baostock's ``pctChg``, a column
the loader never reads). hfq: the largest difference between its daily return and ``close / preclose - 1``.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import markdown_table  # noqa: E402
from quantdb_lab.domain.adjustment import adjust_prices, factor_events  # noqa: E402
from quantdb_lab.domain.clock import FixedClock  # noqa: E402
from quantdb_lab.domain.symbols import parse_symbol  # noqa: E402
from quantdb_lab.lab import Lab  # noqa: E402
from quantdb_lab.providers.replay import ReplayProvider  # noqa: E402
from tests.support.sim import at, make_lab  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "adjust.md"
START, END = date(2020, 1, 2), date(2025, 4, 7)


def compare(series: pl.DataFrame, tushare: pl.DataFrame, *, round_to_cent: bool) -> dict[str, float]:
    both = series.select("date", "close").join(tushare.select("date", pl.col("close").alias("ts")), on="date")
    both = both.filter((pl.col("close") > 0) & (pl.col("ts") > 0))
    ratio = both["ts"] / both["close"]
    scaled = both["close"] * ratio.median()
    if round_to_cent:
        scaled = (scaled * 100 + 0.5).floor() / 100
    rel = (scaled / both["ts"] - 1).abs()
    cent = float(((both["close"] * ratio.median() - both["ts"]).abs() <= 0.0101).mean())
    cum = both["close"][-1] / both["close"][0]
    theirs = cum * ratio.tail(20).median() / ratio.head(20).median()
    return {"median": float(rel.median()), "max": float(rel.max()), "cent": cent, "cum": float(cum), "cum_err_ts": float(cum - theirs),
            "first": both["date"][0], "rows": both.height}  # fmt: skip


def run_real() -> tuple[pl.DataFrame, dict[str, float]]:
    baostock = ReplayProvider(SHARED / "baostock_csi300_daily", calendar_file=SHARED / "calendar" / "akshare_calendar.json")
    tushare = ReplayProvider(SHARED / "tushare_qfq_daily")
    eastmoney = ReplayProvider(SHARED / "akshare_em_daily")
    symbols = sorted(set(baostock.sets[0].files()) & set(tushare.sets[0].files()))
    lab = Lab(tempfile.mkdtemp(prefix="bench_adjust_"), provider=baostock, clock=FixedClock(at("2025-04-07 16:00")))
    rows = []
    for symbol in symbols:
        sym = parse_symbol(symbol)
        qfq = lab.bars(symbol, start=START, end=END, adjust="qfq").filter(pl.col("volume") > 0)
        hfq = lab.bars(symbol, start=START, end=END, adjust="hfq")
        raw = lab.bars(symbol, start=START, end=END, adjust="")
        ts = tushare.fetch_daily_bars(sym, START, END, adjust="qfq")
        ours = compare(qfq, ts, round_to_cent=True)
        exchange = float((1.0 + raw.filter(pl.col("date") > ours["first"])["pct_change"].fill_null(0.0)).product())
        closes = hfq["close"].to_numpy()
        total = (raw["close"] / (raw["close"] - raw["change"])).to_numpy()[1:] - 1.0
        row = {"symbol": symbol, "rows": ours["rows"], "events": factor_events(raw).height,
               "ours_median": ours["median"], "ours_max": ours["max"], "ours_cent": ours["cent"],
               "ours_cum_err_ts": ours["cum_err_ts"],
               "ours_cum_err_exchange": ours["cum"] - exchange,
               "hfq_vs_total_return": float(np.nanmax(np.abs(closes[1:] / closes[:-1] - 1.0 - total)))}  # fmt: skip
        if sym.canonical in eastmoney.sets[0].files():
            em = eastmoney.fetch_daily_bars(sym, START, END, adjust="qfq")
            if em.height > 250:
                theirs = compare(em, ts, round_to_cent=False)
                row |= {"em_median": theirs["median"], "em_max": theirs["max"], "em_cent": theirs["cent"],
                        "em_cum_err_ts": theirs["cum_err_ts"],
                        "em_negative": int((em["close"] <= 0).sum())}  # fmt: skip
        rows.append(row)
    fresh = Lab(tempfile.mkdtemp(prefix="bench_adjust_cold_"), provider=baostock, clock=FixedClock(at("2025-04-07 16:00")))
    cold = fresh.bars(symbols[0], start="2024-01-01", end="2024-12-31", adjust="qfq")
    return pl.DataFrame(rows, infer_schema_length=None), {"cold_qfq_calls": cold.quantdb.provenance.upstream_calls}


def run_speed() -> dict[str, float]:
    """The long-frame functions on 5,000 symbols x 10 years (synthetic closes, one event a year each)."""
    n_sym, n_days = 5000, 2440
    days = np.arange(n_days) + (date(2015, 1, 5) - date(1970, 1, 1)).days
    rng = np.random.default_rng(3)
    steps = rng.normal(0, 0.015, (n_sym, n_days))
    close = np.round(rng.uniform(3, 80, (n_sym, 1)) * np.exp(np.cumsum(steps, axis=1)), 2).ravel()
    previous = np.concatenate([[np.nan], close[:-1]])
    previous[:: n_days] = np.nan  # each symbol's first row has none
    reference = previous.copy()
    ex = (np.arange(n_sym)[:, None] * n_days + rng.integers(1, n_days, (n_sym, 10))).ravel()
    reference[ex] = np.round(previous[ex] * 0.97, 2)  # an ex-date: 3 % below the previous close
    change = np.round(close - reference, 2)
    bars = pl.DataFrame({
        "symbol": np.repeat(np.array([f"{i:06d}.SZ" for i in range(n_sym)]), n_days),
        "date": np.tile(days, n_sym).astype("datetime64[D]"), "open": close, "high": close, "low": close,
        "close": close, "change": change, "pct_change": change / close,
    })  # fmt: skip
    out: dict[str, float] = {"rows": bars.height}
    started = time.perf_counter()
    events = factor_events(bars, is_sorted=True)
    out["factor_events_s"] = time.perf_counter() - started
    out["events"] = events.height
    for how in ("qfq", "hfq"):
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            adjust_prices(bars, events, how, reference=date(2024, 12, 31))
            timings.append(time.perf_counter() - started)
        out[f"{how}_s"] = float(np.median(timings))
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab, _, _ = make_lab(Path(tmp))
        for adjust in ("", "qfq", "hfq"):
            lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust=adjust)
            times = []
            for _ in range(300):
                started = time.perf_counter()
                lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust=adjust)
                times.append(time.perf_counter() - started)
            out[f"warm_{adjust or 'raw'}_ms"] = float(np.median(times)) * 1000
    return out


def pct(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value * 100:.{digits}f}%"


def pp(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value * 100:+.2f} pp"


def main() -> None:
    if not (SHARED / "baostock_csi300_daily").is_dir():
        print("../shared/data is absent: nothing to measure")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table, extra = run_real()
    speed = run_speed()
    em = table.filter(pl.col("em_median").is_not_null()) if "em_median" in table.columns else table.head(0)
    worst_ts = table["ours_cum_err_ts"].abs().max()
    summary = [
        ("qfq vs Tushare, median relative error (per symbol, worst)", "<= 0.05%",
         pct(table["ours_median"].max()), pct(em["em_median"].max()) if em.height else "-"),
        ("qfq vs Tushare, median relative error (median symbol)", "<= 0.05%",
         pct(table["ours_median"].median()), pct(em["em_median"].median()) if em.height else "-"),
        ("qfq vs Tushare, max relative error per row (worst symbol)", "<= 0.5%",
         pct(table["ours_max"].max()), pct(em["em_max"].max()) if em.height else "-"),
        ("qfq vs Tushare, rows within one cent (all symbols)", "",
         pct((table["ours_cent"] * table["rows"]).sum() / table["rows"].sum(), 1),
         pct((em["em_cent"] * em["rows"]).sum() / em["rows"].sum(), 1) if em.height else "-"),
        ("five-year cumulative return vs Tushare, worst symbol", "<= 0.1 pp", pp(worst_ts),
         pp(em["em_cum_err_ts"].abs().max()) if em.height else "-"),
        ("  symbols within 0.1 pp of Tushare", "all", f"{int((table['ours_cum_err_ts'].abs() <= 0.001).sum())} of {table.height}",
         f"{int((em['em_cum_err_ts'].abs() <= 0.001).sum())} of {em.height}" if em.height else "-"),
        ("five-year cumulative return vs the exchange's pctChg, worst symbol", "<= 0.1 pp",
         pp(table["ours_cum_err_exchange"].abs().max()), "-"),
        ("hfq daily return vs close / preclose - 1, worst row", "rounding", f"{table['hfq_vs_total_return'].max():.1e}", "-"),
        ("Eastmoney qfq rows with close <= 0 (2020-2025)", "0", "0", str(int(em["em_negative"].sum())) if em.height else "-"),
        ("cold qfq, 1 symbol x 1 year: upstream calls", "1", str(extra["cold_qfq_calls"]), "-"),
    ]  # fmt: skip
    speed_rows = [
        ("factor_events, 5,000 symbols x 10 years", f"{speed['rows']:,.0f} rows", f"{speed['factor_events_s'] * 1000:.0f} ms"),
        ("adjust_prices qfq (as-of R), same frame", f"{speed['events']:,.0f} events", f"{speed['qfq_s'] * 1000:.0f} ms"),
        ("adjust_prices hfq, same frame", "", f"{speed['hfq_s'] * 1000:.0f} ms"),
        ("warm read 1 x 1 year, unadjusted (Lab, simulated)", "", f"{speed['warm_raw_ms']:.3f} ms"),
        ("warm read 1 x 1 year, qfq", "", f"{speed['warm_qfq_ms']:.3f} ms"),
        ("warm read 1 x 1 year, hfq (factors since the listing)", "", f"{speed['warm_hfq_ms']:.3f} ms"),
    ]  # fmt: skip
    per_symbol = [(r["symbol"], str(r["rows"]), str(r["events"]), pct(r["ours_median"]), pct(r["ours_max"]),
                   pp(r["ours_cum_err_ts"]), pp(r["ours_cum_err_exchange"]), pct(r.get("em_median")), pp(r.get("em_cum_err_ts")))
                  for r in table.sort("symbol").iter_rows(named=True)]  # fmt: skip
    text = "\n\n".join([
        f"# Adjustment on real data ({table.height} symbols, {START}..{END}; {date.today()})",
        markdown_table(["measure", "target", "ours (baostock bars via the Lab)", "Eastmoney's own qfq"], summary),
        markdown_table(["speed", "size", "median"], speed_rows),
        markdown_table(["symbol", "rows", "ex-dates", "ours median", "ours max", "ours 5y vs Tushare",
                        "ours 5y vs exchange", "EM median", "EM 5y vs Tushare"], per_symbol),  # fmt: skip
    ])
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
