"""Quality checks on real akshare bars: injected-fault precision and recall per check, flags on the data as
it is, and the time of a full report on 200 symbols x 5 years.

    python benchmarks/bench_quality.py            # prints a markdown table, writes benchmarks/results/quality.md

Needs ``../shared/data`` (skipped with a message otherwise). Method: the real series from 2021 on (canonical
symbols) are the baseline; ``quality.inject`` damages a copy with every fault kind; issues found on the copy
but not on the baseline are *new*. Recall: share of injected rows whose expected check appears among the new
issues. Precision of a check: share of its new issues on rows where an injected fault allows it.
"""

from __future__ import annotations

import sys
import time
import warnings
from datetime import date
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.simulated import SimulatedMarket
from quantdb_lab.quality import check_quality
from quantdb_lab.quality.inject import KINDS, inject_faults
from tests.support import akshare_files as af

RESULTS = ROOT / "benchmarks" / "results" / "quality.md"
PER_KIND, SEED = 80, 11


def accuracy(base: pl.DataFrame, sessions: list[date]) -> tuple[pl.DataFrame, pl.DataFrame]:
    damaged, truth = inject_faults(base, per_kind=PER_KIND, seed=SEED)
    before = check_quality(base, sessions_list=sessions).issues
    after = check_quality(damaged, sessions_list=sessions).issues
    new = after.join(before.select("symbol", "date", "check"), on=["symbol", "date", "check"], how="anti")
    hits = new.select("symbol", "date", pl.col("check").alias("expect"), pl.lit(True).alias("hit")).unique()
    expected = truth.filter(pl.col("expect").is_not_null())
    recall = (
        expected.join(hits, on=["symbol", "date", "expect"], how="left")
        .group_by(pl.col("expect").alias("check"))
        .agg(pl.len().alias("injected"), pl.col("hit").fill_null(False).mean().alias("recall"))
    )
    allowed = truth.explode("allowed").select("symbol", "date", pl.col("allowed").alias("check")).unique()
    precision = (
        new.join(allowed.with_columns(pl.lit(True).alias("ok")), on=["symbol", "date", "check"], how="left")
        .group_by("check")
        .agg(pl.len().alias("new_flags"), pl.col("ok").fill_null(False).mean().alias("precision"))
    )
    table = recall.join(precision, on="check", how="full", coalesce=True).sort("check")
    return table, new


def as_is(raw: pl.DataFrame, sessions: list[date]) -> tuple[pl.DataFrame, int, float]:
    started = time.perf_counter()
    report = check_quality(raw, sessions_list=sessions)
    seconds = time.perf_counter() - started
    rows = report.issues.filter(~pl.col("check").is_in(["suspension", "missing_session"]))  # not rows of the file
    known = _known_mess()
    by_check = (
        rows.with_columns(known.alias("explained"))
        .group_by("check", "severity")
        .agg(pl.len().alias("flags"), pl.col("explained").mean().alias("known_mess"))
        .sort("flags", descending=True)
    )
    return by_check, raw.height, seconds


def _known_mess() -> pl.Expr:
    """Flags a person reading ``../shared/data/README.md`` would also raise (the documented mess)."""
    day = pl.col("date")
    check = pl.col("check")
    documented_days = day.is_in([date(2026, 1, 27), date(2026, 1, 28), date(2026, 3, 20), date(2026, 6, 9),
                                 date(2026, 6, 10)]) | day.is_between(date(2026, 7, 16), date(2026, 7, 31))
    return (
        check.is_in(["nonpositive_price", "symbol_code", "volume_unit", "foreign_row", "not_a_session",
                     "suspended_row", "stale_bar", "corporate_action"])
        | documented_days
    )  # fmt: skip


def timing() -> tuple[int, int, float]:
    market = SimulatedMarket(seed=7, n_stocks=500)
    symbols = [s for s in market.symbols("stock") if market.listing_date(s) < date(2019, 1, 1)][:200]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pl.concat([market.bars(s, date(2020, 1, 1), date(2024, 12, 31)) for s in symbols])
    sessions = market.calendar.sessions(date(2020, 1, 1), date(2024, 12, 31))
    check_quality(frame.head(5000), sessions_list=sessions)  # warm imports (statsmodels) once
    best = min(_timed(frame, sessions) for _ in range(3))
    return len(symbols), frame.height, best


def _timed(frame: pl.DataFrame, sessions: list[date]) -> float:
    started = time.perf_counter()
    check_quality(frame, sessions_list=sessions)
    return time.perf_counter() - started


def main() -> int:
    if not af.available():
        print("../shared/data is absent: nothing to measure")
        return 0
    raw = af.read_all()
    sessions = af.sessions()
    canonical = {c: parse_symbol(c.zfill(6)).canonical for c in raw["symbol"].unique().to_list()}
    base = raw.with_columns(pl.col("symbol").replace_strict(canonical)).filter(pl.col("date") >= date(2021, 1, 1))
    base = base.unique(["symbol", "date"], keep="last").sort("symbol", "date")
    table, _ = accuracy(base, sessions)
    flags, rows, seconds_real = as_is(raw, sessions)
    n_symbols, n_rows, seconds = timing()
    unexplained = float((flags["flags"] * (1 - flags["known_mess"])).sum())
    lines = [
        "# Quality checks: benchmark",
        "",
        (f"Injected faults: {PER_KIND} per kind (seed {SEED}) into {base['symbol'].n_unique()} real akshare series "
        f"from 2021 ({base.height:,} rows); kinds: {', '.join(KINDS)}."),
        "",
        "| check | injected rows | recall | new flags | precision |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {r['check']} | {r['injected'] or 0} | {_pct(r['recall'])} | {r['new_flags'] or 0} | {_pct(r['precision'])} |"
            for r in table.iter_rows(named=True)
        ),
        "",
        f"Real data as it is: {rows:,} rows of {len(af.files())} files, report in {seconds_real:.2f} s.",
        "",
        "| check | severity | flags | share of rows | documented mess |",
        "|---|---|---:|---:|---:|",
        *(
            f"| {r['check']} | {r['severity']} | {r['flags']:,} | {r['flags'] / rows:.3%} | {_pct(r['known_mess'])} |"
            for r in flags.iter_rows(named=True)
        ),
        "",
        f"Flags outside the documented mess: {unexplained:,.0f} rows = {unexplained / rows:.3%} of rows.",
        "",
        f"Timing: full report on {n_symbols} symbols x 5 years ({n_rows:,} rows): {seconds:.2f} s (best of 3).",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n" + NOTES, encoding="utf-8")
    return 0


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


NOTES = """
## Reading the numbers

* Recall is per injected row; precision counts only flags that are new after injection, so the real data's
  own mess (second table) does not count against it. Rows without an expected check (`-`) are consequences
  of other faults that no fault allows for: they count against precision.
* Injector (``quality.inject``): an ex-rights event scales every later row of the series *exactly* (one
  reference price rounded to the cent on the ex-date, as the exchange publishes it; no second rounding), so
  later rows keep their own change / pct_change relation and genuine later ex-dates keep their ratio. Donor
  symbols are drawn in a fixed order, so a seed reproduces the same faults. `return_outlier` faults are a
  10-sigma one-day print (sigma of the symbol's year) that must stay inside the price limit: only calm
  symbol-years qualify, hence fewer injected rows than the other kinds.
* All checks now meet the target (>= 0.95). Closest calls:
  * `missing_session`: every fault now sits on consecutive market sessions (the union of the frame's dates)
    with bars on the sessions either side, so a "lost sessions" fault is a run of sessions and no fault
    touches a genuine suspension (before: a loss straddling 000425.SZ's 2021-04-07..20 suspension, and a stale
    bar on the edge of 600372.SH's 2022-05-27..06-10 one, made genuine suspensions read as lost sessions).
  * `price_limit` recall 0.95 (4 of 80 missed): violations on series whose Eastmoney qfq is partly
    multiplicative (bonus shares) are judged at an additive traded level, which understates a 13 % move as
    ~10 %. `pct_change` in these files is recomputed from the adjusted prices, so it cannot decide. A local
    affine fit (VWAP = slope x typical price + shift, offset = shift / slope) and a binary additive/ratio
    choice from that slope were tried and reverted: on the clean 2021+ baseline they raised 306 and 139 false
    flags on genuine 10 % limit days (the slope is not precise to the 0.2 % slack the check needs).
  * `volume_spike` (1.000 / 1.000 before the redraw, 0.963 recall after it: 3 of 80 missed, not yet looked at): judged against the local level (centred 41-session rolling median of
    log volume, as `volume_outlier`) and the local MAD of the residuals: a spike is >= 10x that level *and*
    >= 5 robust sigmas above it, not on a listing day nor the first bar after a no-trade row or a gap of more
    than 14 calendar days. Before, a 20-session trailing median missed three 25x spikes after a busy stretch
    and flagged three days of a genuine rally (000617.SZ 2024-10) once a donor run shifted the trailing
    window. On the data as it is, spike flags fell from 633 to the count in the table above.
  * `suspension` (3 flags, no fault expects it): short injected losses where the next bar reports the pre-gap
    close (the price did not move), indistinguishable from a suspension by the bars alone.
* `change_mismatch` is injected as a reported change implying a previous close *above* the real one: a wrong
  change that mimics an ex-rights drop cannot be told from a dividend without adjustment data (pass
  `adjustment=` with the hfq factor; covered by the unit tests).
* `missing_session` misses are lost rows whose next bar reports a previous close equal to the close before
  the gap (the price did not move that day): indistinguishable from a one-day suspension by the bars alone
  (pass `suspensions=` to decide).
* On the data as it is, most flags are documented mess: additive qfq prices at or below zero
  (`nonpositive_price`, 15% of rows, all before 2026), the 2026-01-27/28 unit switch with zero turnover, rows
  of other securities on 2026-03-20, 06-09/10 and 07-16..31, codes without leading zeros, weekend bars in
  1992-93. `suspension` (sessions without a bar) is not counted: those are not rows. The rest (0.22% of rows)
  are mostly statistical notes of info severity with no score penalty (`volume_outlier`, `volume_spike`,
  `return_outlier`: real events, such as 2025-04-07), a float change at the end of some series
  (`turnover_mismatch`, 2026-08: Eastmoney's turnover basis changed), `price_limit` on 2005-2007 resumption
  days of the split-share reform (no limit applied on those days) and change mismatches around Eastmoney's
  2025-11 glitches.
* Timing is wall time on a shared machine (load average ~8 during this run). The robust scale is computed
  for all (symbol, year) groups at once in polars (statsmodels' MAD definition, imported lazily once), stale
  runs without a per-run window, and duplicate handling only when there are duplicates.
* Volume outliers are judged against a local level (41-session rolling median) with the year's MAD of the
  residuals: recall on cuts to 1/60 rose from 0.90 to 1.00; on the data as it is they flag more real days
  (info severity, no score penalty), still within the 0.5 % budget.
"""

if __name__ == "__main__":
    raise SystemExit(main())
