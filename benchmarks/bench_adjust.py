"""Adjustment on real data: baostock's unadjusted bars through the Lab (replay adapter), our qfq and hfq against
Tushare's multiplicative qfq, side by side with Eastmoney's own qfq; and the speed of the long-frame functions.

    python benchmarks/bench_adjust.py            # prints markdown tables, writes benchmarks/results/adjust.md

Needs ``../shared/data``. The symbols are those in baostock's CSI 300 set and Tushare's qfq set (2020-01-02 ..
2025-04-07); Eastmoney's qfq is the ``akshare_em_daily`` recording (qfq as of 2026-01-26) where it has them.

Method. Tushare's qfq is anchored months after baostock's last bar (more dividends since), so every series is
compared up to one scale (the median ratio over the common days). Tushare publishes to the cent (half up: the
rows where half up and half even differ say which reproduces it). Per row the relative error is printed for our
qfq as the Lab serves it (unrounded; the target is judged on this) and rounded to the cent like Tushare's: two
roundings of values a hair apart can land a whole cent apart, 0.6 % at 1.67 CNY (Eastmoney's is compared as
it is).

The five-year cumulative return (2020-01-02 to 2025-04-07) is compared with Tushare's with Tushare's own cent
rounding taken out (``tests.support.tushare``: at 1.86 CNY one published cent is 0.5 %, so a return read off
Tushare's first and last prices is uncertain by about 0.4 pp, four times the target; the scale Tushare applied
on each end day is pinned by the run of rows next to it that one scale fits, which bounds its unrounded return).
Judged: ours minus the interval's midpoint. Printed beside it: whether ours lies inside, the earlier estimator
(each end the median over 20 sessions of Tushare / ours), and the comparison with the exchange's own daily returns (baostock's ``pctChg``, a column the loader never
reads). Eastmoney's five-year error is read with the 20-session estimator: its qfq is affine, not one scale
per segment, and its errors are whole points. hfq: the largest difference between its daily return and
``close / preclose - 1``.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import markdown_table  # noqa: E402
from quantdb_lab.domain.actions import events_from_actions  # noqa: E402
from quantdb_lab.domain.adjustment import adjust_prices, factor_events  # noqa: E402
from quantdb_lab.domain.clock import FixedClock  # noqa: E402
from quantdb_lab.domain.symbols import parse_symbol  # noqa: E402
from quantdb_lab.lab import Lab  # noqa: E402
from quantdb_lab.providers.replay import ReplayProvider  # noqa: E402
from tests.support.sim import at, make_lab  # noqa: E402
from tests.support.tushare import pinned_return  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "adjust.md"
START, END = date(2020, 1, 2), date(2025, 4, 7)


def cents(values: np.ndarray, mode: str) -> np.ndarray:
    """Prices rounded to the cent from their shortest decimal form, half up or half to even."""
    how = ROUND_HALF_UP if mode == "up" else ROUND_HALF_EVEN
    return np.array([float(Decimal(repr(float(v))).quantize(Decimal("0.01"), rounding=how)) for v in values])


def compare(series: pl.DataFrame, tushare: pl.DataFrame, *, round_to_cent: bool) -> dict[str, float]:
    both = series.select("date", "close").join(tushare.select("date", pl.col("close").alias("ts")), on="date")
    both = both.filter((pl.col("close") > 0) & (pl.col("ts") > 0))
    ratio = both["ts"] / both["close"]
    scaled = (both["close"] * ratio.median()).to_numpy()
    ts = both["ts"].to_numpy()
    raw_rel = np.abs(scaled / ts - 1)
    out = {"median_unrounded": float(np.median(raw_rel)), "max_unrounded": float(raw_rel.max())}
    if round_to_cent:
        up, even = cents(scaled, "up"), cents(scaled, "even")
        rel = np.abs(up / ts - 1)
        tie = up != even
        out |= {"exact": float((np.abs(up - ts) < 1e-9).mean()), "ties": int(tie.sum()),
                "ties_up": int((tie & (np.abs(up - ts) < 1e-9)).sum()),
                "ties_even": int((tie & (np.abs(even - ts) < 1e-9)).sum())}  # fmt: skip
    else:
        rel = raw_rel
    cent = float((np.abs(scaled - ts) <= 0.0101).mean())
    cum = both["close"][-1] / both["close"][0]
    theirs = cum * ratio.tail(20).median() / ratio.head(20).median()
    return out | {"median": float(np.median(rel)), "max": float(rel.max()), "cent": cent, "cum": float(cum),
                  "cum_err_ts": float(cum - theirs), "first": both["date"][0], "rows": both.height}  # fmt: skip


def pinned_five_year(raw: pl.DataFrame, ours: pl.DataFrame, tushare: pl.DataFrame) -> dict[str, float]:
    """Our five-year return against Tushare's with its cent rounding taken out (``tests.support.tushare``)."""
    pinned = pinned_return(raw, tushare)
    closes = ours.filter(pl.col("date").is_in([pinned.first, pinned.last])).sort("date")["close"]
    our_cum = closes[-1] / closes[0]
    return {"err": float(our_cum - pinned.middle), "inside": bool(pinned.low <= our_cum <= pinned.high),
            "width": pinned.high - pinned.low}  # fmt: skip


def cold_akshare_calls() -> dict[str, int]:
    """Upstream calls of cold qfq reads (1 symbol x 1 year) over the simulated akshare upstream, which behaves
    like Eastmoney (changes close to close: factors from the dividend tables): a new Lab, then a second symbol."""
    from tests.support.akshare_sim import akshare_lab, simulated_akshare
    from tests.support.sim import MARKET
    from quantdb_lab.throttle.policy import RateLimit

    fast = {f: RateLimit(per_second=1e9, burst=10**9) for f in ("eastmoney_push2his", "eastmoney_datacenter", "sina")}
    first, second = MARKET.symbols("stock")[:2]
    with simulated_akshare("2025-06-06 16:00") as (sim, clock):
        lab = akshare_lab(Path(tempfile.mkdtemp(prefix="bench_adjust_ak_")), clock, fast)
        lab.bars(first, start="2024-01-01", end="2024-12-31", adjust="qfq")
        cold = sum(sim.call_counts.values())
        sim.reset_counts()
        lab.bars(second, start="2024-01-01", end="2024-12-31", adjust="qfq")
        return {"akshare_cold_lab": cold, "akshare_cold_symbol": sum(sim.call_counts.values())}


def run_real() -> tuple[pl.DataFrame, dict]:
    baostock = ReplayProvider(SHARED / "baostock_csi300_daily", calendar_file=SHARED / "calendar" / "akshare_calendar.json")
    tushare = ReplayProvider(SHARED / "tushare_qfq_daily")
    eastmoney = ReplayProvider(SHARED / "akshare_em_daily")
    symbols = sorted(set(baostock.sets[0].files()) & set(tushare.sets[0].files()))
    lab = Lab(tempfile.mkdtemp(prefix="bench_adjust_"), provider=baostock, clock=FixedClock(at("2025-04-07 16:00")))
    rows, diagnosis = [], []
    for symbol in symbols:
        sym = parse_symbol(symbol)
        qfq = lab.bars(symbol, start=START, end=END, adjust="qfq").filter(pl.col("volume") > 0)
        hfq = lab.bars(symbol, start=START, end=END, adjust="hfq")
        raw = lab.bars(symbol, start=START, end=END, adjust="")
        ts = tushare.fetch_daily_bars(sym, START, END, adjust="qfq")
        ours = compare(qfq, ts, round_to_cent=True)
        pinned = pinned_five_year(raw, qfq, ts)
        exchange = float((1.0 + raw.filter(pl.col("date") > ours["first"])["pct_change"].fill_null(0.0)).product())
        closes = hfq["close"].to_numpy()
        total = (raw["close"] / (raw["close"] - raw["change"])).to_numpy()[1:] - 1.0
        row = {"symbol": symbol, "rows": ours["rows"], "events": factor_events(raw).height,
               "ours_median": ours["median"], "ours_max": ours["max"], "ours_cent": ours["cent"],
               "ours_median_unrounded": ours["median_unrounded"], "ours_max_unrounded": ours["max_unrounded"],
               "ours_exact": ours["exact"], "ties": ours["ties"], "ties_up": ours["ties_up"], "ties_even": ours["ties_even"],
               "ours_cum_err_ts": pinned["err"], "ours_cum_inside_ts": pinned["inside"],
               "ours_cum_width_ts": pinned["width"], "ours_cum_err_ts_ends": ours["cum_err_ts"],
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
        if max(abs(row["ours_cum_err_ts"]), abs(row["ours_cum_err_ts_ends"])) > 0.001 or exact_dividends(symbol, raw, ts) is not None:
            bounds = tushare_factor_bounds(raw, ts)
            outside = bounds.filter((pl.col("factor") < pl.col("ts_low") - 1e-9) | (pl.col("factor") > pl.col("ts_high") + 1e-9))
            refined = exact_dividends(symbol, raw, ts)
            diagnosis.append({"symbol": symbol, "cum": row["ours_cum_err_ts"], "cum_ends": row["ours_cum_err_ts_ends"],
                              "events": bounds.height,
                              "n_outside": outside.height,
                              "empty": int((bounds["ts_low"] > bounds["ts_high"]).sum()),
                              "off_cent": int((~outside["ts_reference_on_cent"]).sum()),
                              "outside": "; ".join(f"{d:%Y-%m-%d} {f:.5f} vs [{a:.5f}, {b:.5f}]" for d, f, a, b in
                                                   outside.select("date", "factor", "ts_low", "ts_high").iter_rows()),
                              "refined": refined})  # fmt: skip
    fresh = Lab(tempfile.mkdtemp(prefix="bench_adjust_cold_"), provider=baostock, clock=FixedClock(at("2025-04-07 16:00")))
    cold = fresh.bars(symbols[0], start="2024-01-01", end="2024-12-31", adjust="qfq")
    return pl.DataFrame(rows, infer_schema_length=None), {"cold_qfq_calls": cold.quantdb.provenance.upstream_calls,
                                                          **cold_akshare_calls(), "diagnosis": diagnosis}


def tushare_factor_bounds(raw: pl.DataFrame, tushare: pl.DataFrame) -> pl.DataFrame:
    """Per ex-date: our factor (previous close / the exchange's reference) and the interval Tushare's factor must
    lie in for its published cents to hold (each segment's scale bounded by every row's half-cent)."""
    events = factor_events(raw)
    both = raw.select("date", "close").join(tushare.select("date", pl.col("close").alias("ts")), on="date")
    seg = np.searchsorted(events["date"].to_physical().to_numpy(), both["date"].to_physical().to_numpy(), side="right")
    close, ts = both["close"].to_numpy(), both["ts"].to_numpy()
    lo = np.array([((ts[seg == k] - 0.005) / close[seg == k]).max() if (seg == k).any() else np.nan for k in range(events.height + 1)])
    hi = np.array([((ts[seg == k] + 0.005) / close[seg == k]).min() if (seg == k).any() else np.nan for k in range(events.height + 1)])
    bounds = events.with_columns(pl.Series("ts_low", lo[1:] / hi[:-1]), pl.Series("ts_high", hi[1:] / lo[:-1]))
    # The reference price Tushare's factor implies (previous close / factor): the exchange publishes it to the
    # cent, so an interval holding no cent is a factor no exchange reference can give.
    previous_close = pl.col("reference") * pl.col("factor")
    return bounds.with_columns(
        ((previous_close / pl.col("ts_low") * 100 + 1e-6).floor() >= (previous_close / pl.col("ts_high") * 100 - 1e-6).ceil())
        .alias("ts_reference_on_cent"))  # fmt: skip


def exact_dividends(symbol: str, raw: pl.DataFrame, tushare: pl.DataFrame) -> dict[str, float] | None:
    """The factors refined with the exact cash of a recorded dividend table (the project's fixtures hold the real
    tables of 601398 and 002459), where the table's reference rounded to the cent equals the exchange's; the
    five-year return vs Tushare before and after."""
    from tests.contract.test_akshare_actions_replay import FIXTURES
    from quantdb_lab.providers.akshare.actions import transform_fhps_detail_em
    import json
    import pandas as pd

    path = FIXTURES / f"em_sharebonus_{symbol[:6]}.json"
    if not path.is_file():
        return None
    rows = json.loads(path.read_text(encoding="utf-8"))["result"]["data"]
    wire = pd.DataFrame([{"报告期": r["REPORT_DATE"], "业绩披露日期": r["PLAN_NOTICE_DATE"], "送转股份-送转总比例": r["BONUS_IT_RATIO"],
                          "送转股份-送股比例": r["BONUS_RATIO"], "送转股份-转股比例": r["IT_RATIO"], "现金分红-现金分红比例": r["PRETAX_BONUS_RMB"],
                          "预案公告日": r["PUBLISH_DATE"], "股权登记日": r["EQUITY_RECORD_DATE"], "除权除息日": r["EX_DIVIDEND_DATE"],
                          "方案进度": r["ASSIGN_PROGRESS"], "最新公告日期": r["NOTICE_DATE"]} for r in rows])  # fmt: skip
    table = transform_fhps_detail_em(wire, parse_symbol(symbol), context={})
    bars = raw.select("symbol", "date", "close")
    ours = factor_events(raw)
    rounded = events_from_actions(table, bars).select("date", pl.col("reference").alias("table_reference"))
    exact = events_from_actions(table, bars, tick=None).select("date", pl.col("factor").alias("exact"))
    joined = ours.join(rounded, on="date", how="left").join(exact, on="date", how="left")
    agree = (joined["table_reference"] - joined["reference"]).abs() <= 1e-6
    refined = joined.with_columns(pl.when(agree).then(pl.col("exact")).otherwise(pl.col("factor")).alias("factor"))
    out = {"events": ours.height, "agree": int(agree.fill_null(False).sum())}
    for name, events in (("before", ours), ("after", refined.select(list(ours.columns)))):
        series = adjust_prices(raw.select("symbol", "date", "close"), events, "qfq")
        out[name] = pinned_five_year(raw, series, tushare)["err"]  # type: ignore[arg-type]
    return out


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
        ("qfq vs Tushare, max relative error per row (worst symbol), as served (judged)", "<= 0.5%",
         pct(table["ours_max_unrounded"].max()), pct(em["em_max"].max()) if em.height else "-"),
        ("  the same, ours rounded to the cent half up as Tushare publishes", "",
         pct(table["ours_max"].max()), "-"),
        ("  median relative error as served (median symbol)", "",
         pct(table["ours_median_unrounded"].median()), "-"),
        ("qfq vs Tushare, rows equal to the cent (ours rounded half up)", "",
         pct((table["ours_exact"] * table["rows"]).sum() / table["rows"].sum(), 1), "-"),
        ("  rows where half up and half even differ: Tushare matches up / even", "",
         f"{int(table['ties'].sum())}: {int(table['ties_up'].sum())} / {int(table['ties_even'].sum())}", "-"),
        ("qfq vs Tushare, rows within one cent (all symbols)", "",
         pct((table["ours_cent"] * table["rows"]).sum() / table["rows"].sum(), 1),
         pct((em["em_cent"] * em["rows"]).sum() / em["rows"].sum(), 1) if em.height else "-"),
        ("five-year cumulative return vs Tushare, worst symbol (Tushare's cent rounding taken out; judged)",
         "<= 0.1 pp", pp(worst_ts), "-"),
        ("  symbols within 0.1 pp of Tushare", "all", f"{int((table['ours_cum_err_ts'].abs() <= 0.001).sum())} of {table.height}", "-"),
        ("  symbols whose return lies inside the interval Tushare's cents allow (widest interval)", "",
         f"{int(table['ours_cum_inside_ts'].sum())} of {table.height} ({table['ours_cum_width_ts'].max() * 100:.2f} pp)", "-"),
        ("  the same, each end a 20-session median of Tushare / ours (a cent is 0.5% at 1.86 CNY), worst symbol",
         "", pp(table["ours_cum_err_ts_ends"].abs().max()), pp(em["em_cum_err_ts"].abs().max()) if em.height else "-"),
        ("    symbols within 0.1 pp that way", "", f"{int((table['ours_cum_err_ts_ends'].abs() <= 0.001).sum())} of {table.height}",
         f"{int((em['em_cum_err_ts'].abs() <= 0.001).sum())} of {em.height}" if em.height else "-"),
        ("five-year cumulative return vs the exchange's pctChg, worst symbol", "<= 0.1 pp",
         pp(table["ours_cum_err_exchange"].abs().max()), "-"),
        ("hfq daily return vs close / preclose - 1, worst row", "rounding", f"{table['hfq_vs_total_return'].max():.1e}", "-"),
        ("Eastmoney qfq rows with close <= 0 (2020-2025)", "0", "0", str(int(em["em_negative"].sum())) if em.height else "-"),
        ("cold qfq, 1 symbol x 1 year: upstream calls (baostock bars, preclose)", "1", str(extra["cold_qfq_calls"]), "-"),
        ("  over akshare (simulated Eastmoney): a new Lab / a further symbol", "1",
         f"{extra['akshare_cold_lab']} / {extra['akshare_cold_symbol']}", "-"),
    ]  # fmt: skip
    speed_rows = [
        ("factor_events, 5,000 symbols x 10 years", f"{speed['rows']:,.0f} rows", f"{speed['factor_events_s'] * 1000:.0f} ms"),
        ("adjust_prices qfq (as-of R), same frame", f"{speed['events']:,.0f} events", f"{speed['qfq_s'] * 1000:.0f} ms"),
        ("adjust_prices hfq, same frame", "", f"{speed['hfq_s'] * 1000:.0f} ms"),
        ("warm read 1 x 1 year, unadjusted (Lab, simulated)", "", f"{speed['warm_raw_ms']:.3f} ms"),
        ("warm read 1 x 1 year, qfq", "", f"{speed['warm_qfq_ms']:.3f} ms"),
        ("warm read 1 x 1 year, hfq (factors since the listing)", "", f"{speed['warm_hfq_ms']:.3f} ms"),
    ]  # fmt: skip
    per_symbol = [(r["symbol"], str(r["rows"]), str(r["events"]), pct(r["ours_median"]), pct(r["ours_max_unrounded"]), pct(r["ours_max"]),
                   pp(r["ours_cum_err_ts"]), "yes" if r["ours_cum_inside_ts"] else "no", pp(r["ours_cum_err_ts_ends"]),
                   pp(r["ours_cum_err_exchange"]), pct(r.get("em_median")), pp(r.get("em_cum_err_ts")))
                  for r in table.sort("symbol").iter_rows(named=True)]  # fmt: skip
    diagnosis = [(d["symbol"], f"{pp(d['cum'])} ({pp(d['cum_ends'])})", f"{d['n_outside']} of {d['events']} ({d['empty']} empty)", str(d["off_cent"]),
                  d["outside"] or "-",
                  "-" if d["refined"] is None else f"{d['refined']['agree']} of {d['refined']['events']} refined: "
                  f"{pp(d['refined']['before'])} -> {pp(d['refined']['after'])}") for d in extra["diagnosis"]]  # fmt: skip
    text = "\n\n".join([
        f"# Adjustment on real data ({table.height} symbols, {START}..{END}; {date.today()})",
        markdown_table(["measure", "target", "ours (baostock bars via the Lab)", "Eastmoney's own qfq"], summary),
        markdown_table(["speed", "size", "median"], speed_rows),
        markdown_table(["symbol", "rows", "ex-dates", "ours median (cent)", "ours max (served)", "ours max (cent)", "ours 5y vs Tushare",
                        "inside Tushare's interval", "ours 5y vs Tushare (20-session ends)", "ours 5y vs exchange", "EM median", "EM 5y vs Tushare"], per_symbol),  # fmt: skip
        "Per ex-date: where our factor (previous close / the exchange's reference) lies outside the interval "
        "Tushare's published cents allow for its factor, for the symbols the 20-session estimator put past 0.1 pp "
        "and those with a recorded dividend table (the project's fixtures: the factors refined with its exact "
        "cash where its reference rounds to the exchange's).",
        "An empty interval (low > high): no single scale between two ex-dates reproduces Tushare's cents, so its "
        "factor is not constant there (a factor kept to a few decimals, or one changing between ex-dates). "
        "'Off the cent': ex-dates outside where the reference price Tushare's factor implies (previous close / "
        "factor) holds no whole cent, so no reference the exchange can publish gives Tushare's factor. These "
        "differences cancel over the window: the five-year return depends only on the scales at its two ends.",
        markdown_table(["symbol", "5y vs Tushare (20-session ends)", "ex-dates outside", "off the cent", "our factor vs Tushare's interval",
                        "exact dividends"], diagnosis),  # fmt: skip
    ])
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
